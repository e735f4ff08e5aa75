/**
 * `ovr-vs-softmax` — exercise 3 of the lesson: one-vs-rest logistic regression against softmax
 * regression, both fitted to their exact optimum on the same training split with the same λ, and
 * measured on the same test split. Each run records both models and their paired differences
 * (one-vs-rest − softmax); across seeds the differences get a mean, a 95% interval and a
 * sign-flip permutation-test p-value (`paired.csv`; exact up to 30 seeds, Monte Carlo beyond).
 * The softmax model is `baseModel`, the one `l2-sweep` fits at the same λ on the same split.
 */
import {
  axisValues,
  baseModel,
  bootstrapSeed,
  DATASETS,
  dataAxis,
  dataSlugs,
  decisionGrid,
  describeRuns,
  type Experiment,
  type Figure,
  HELD_OUT_RANGES,
  LeftOut,
  l2Axis,
  modelMetrics,
  PAIRED_EFFECT_COLUMNS,
  pairedEffect,
  pairedEffectCells,
  product,
  STREAMS,
  scatterPoints,
  unitData,
} from "../src/experiment/index.js";
import {
  type BarRow,
  barSpec,
  type Dataset,
  decisionRegionsSpec,
  type FitResult,
  type GridCell,
  type ScatterPoint,
  sideBySideReliabilitySpec,
} from "../src/index.js";

const MODELS = ["softmax", "ovr"] as const;
const COMPARED = ["accuracy", "nll", "brier", "ece", "mce", "classwise_ece"] as const;
const LAMBDAS = [1e-3, 1e-1];

export const ovrVsSoftmax: Experiment = {
  name: "ovr-vs-softmax",
  description:
    "exercise 3: one-vs-rest vs softmax on the same splits — calibration side by side, paired differences, permutation-test p-values",
  axes: { data: dataAxis(DATASETS), l2: l2Axis(LAMBDAS, [1e-1]) },
  grid: (opts) => product(axisValues(ovrVsSoftmax, opts), ["data", "l2"]),
  metrics: [...MODELS.flatMap((m) => COMPARED.map((c) => `${m}_${c}`)), ...COMPARED.map((c) => `diff_${c}`)],
  metricRanges: Object.fromEntries(
    COMPARED.flatMap((c) => {
      const { min = 0, max = Number.POSITIVE_INFINITY } = HELD_OUT_RANGES[c];
      const diff = Number.isFinite(max) ? { min: min - max, max: max - min } : {};
      return [...MODELS.map((m) => [`${m}_${c}`, HELD_OUT_RANGES[c]]), [`diff_${c}`, diff]];
    }),
  ),
  streams: STREAMS,
  run(point, ctx) {
    const data = String(point.data);
    const d = unitData(data, ctx);
    const fitted: Record<string, FitResult> = {};
    const metrics: Record<string, number> = {};
    const reliability = [];
    for (const model of MODELS) {
      const m = baseModel(d.train, { model, l2: Number(point.l2), quick: ctx.quick });
      fitted[model] = m;
      const held = modelMetrics(m, d.test, bootstrapSeed(data, ctx));
      for (const c of COMPARED) metrics[`${model}_${c}`] = held.metrics[c];
      reliability.push({ view: model, bins: held.bins });
    }
    for (const c of COMPARED) metrics[`diff_${c}`] = metrics[`ovr_${c}`] - metrics[`softmax_${c}`];
    const extras: Record<string, unknown> = {};
    if (ctx.seedIndex === 0 && d.test.X.cols === 2) extras.regions = regions(fitted, d.test);
    return { metrics, reliability, extras };
  },
  tables({ points, runs }) {
    const rows: (string | number | null)[][] = [];
    for (const p of points) {
      const mine = runs.filter((r) => r.point.data === p.data && r.point.l2 === p.l2);
      for (const c of COMPARED) {
        // The per-unit difference diff_<c> = ovr − softmax, as pairedEffect forms it.
        const effect = pairedEffect(
          mine.map((r) => r.result.metrics[`ovr_${c}`] ?? null),
          mine.map((r) => r.result.metrics[`softmax_${c}`] ?? null),
        );
        rows.push([String(p.data), Number(p.l2), c, ...pairedEffectCells(effect)]);
      }
    }
    return [{ name: "paired", columns: ["data", "l2", "metric", ...PAIRED_EFFECT_COLUMNS], rows }];
  },
  figures({ points, runs }) {
    const figures: Figure[] = [];
    // The figures' λ: 0.1 when the grid has it, else its largest.
    const lambdas = [...new Set(points.map((p) => Number(p.l2)))];
    const shown = lambdas.includes(1e-1) ? 1e-1 : Math.max(...lambdas);
    const slugs = dataSlugs(points);
    for (const r of runs.filter((u) => u.seedIndex === 0 && u.point.l2 === shown)) {
      const rel = r.result.reliability ?? [];
      figures.push({
        name: `reliability-${slugs.get(String(r.point.data))}`,
        spec: sideBySideReliabilitySpec(
          rel.map((v) => ({
            title: v.view === "ovr" ? "one-vs-rest" : "softmax",
            bins: v.bins,
            ece: Number(r.result.metrics[`${v.view}_ece`]),
          })),
          { title: `${r.point.data}: test reliability, λ = 0.1 (seed 0)` },
        ),
      });
      const regions = r.result.extras?.regions as
        | { points: ScatterPoint[]; grids: Record<string, { cells: GridCell[]; step: [number, number] }> }
        | undefined;
      if (regions) {
        for (const model of MODELS) {
          const g = regions.grids[model];
          figures.push({
            name: `decision-regions-${slugs.get(String(r.point.data))}-${model}`,
            spec: decisionRegionsSpec(g.cells, regions.points, {
              step: g.step,
              title: `${model === "ovr" ? "One-vs-rest" : "Softmax"} decision regions (${r.point.data}, λ = 0.1)`,
            }),
          });
        }
      }
    }
    const rows: BarRow[] = [];
    const left = new LeftOut();
    for (const data of new Set(points.map((p) => String(p.data)))) {
      for (const model of MODELS) {
        const s = describeRuns(
          runs.filter((u) => u.point.data === data && u.point.l2 === shown),
          `${model}_ece`,
          HELD_OUT_RANGES.ece,
        );
        left.add(s);
        if (s.mean === null) continue;
        rows.push({
          category: data,
          value: s.mean,
          ...(s.ci95Lo !== null && s.ci95Hi !== null ? { lo: s.ci95Lo, hi: s.ci95Hi } : {}),
          series: model === "ovr" ? "one-vs-rest" : "softmax",
        });
      }
    }
    if (rows.length > 0) {
      figures.push({
        name: "ece-by-model",
        spec: barSpec(rows, {
          title: "Test ECE, λ = 0.1 (mean, 95% CI over seeds)",
          yTitle: "ECE",
          notes: left.notes("ECE"),
        }),
      });
    }
    return figures;
  },
};

function regions(fitted: Record<string, FitResult>, test: Dataset) {
  const grids: Record<string, ReturnType<typeof decisionGrid>> = {};
  for (const model of MODELS) grids[model] = decisionGrid(fitted[model], test);
  return { points: scatterPoints(test), grids };
}
