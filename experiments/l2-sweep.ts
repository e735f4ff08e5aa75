/**
 * `l2-sweep` — exercise 1 of the lesson: how L2 regularization trades accuracy for calibration.
 * λ over a log grid including 0 × data sets × seeds; softmax regression fitted to its exact
 * optimum (L-BFGS) on the training split; everything measured on the held-out test split.
 * At λ = 0 on separable data the optimum is at infinity: the fit stops at its iteration cap and
 * `converged` is 0 — those models are the over-confident end of the sweep.
 *
 * Paired: at one seed index every λ sees the same split and the same bootstrap resamples (the
 * `data` and `bootstrap` streams), so paired.csv's differences against the reference λ (the
 * smallest λ > 0) carry no split-to-split noise.
 */
import {
  axisValues,
  baseModel,
  bootstrapSeed,
  DATASETS,
  dataAxis,
  dataSlugs,
  type Experiment,
  effectRows,
  type Figure,
  HELD_OUT_METRICS,
  HELD_OUT_RANGES,
  l2Axis,
  MODEL_RANGES,
  modelMetrics,
  type ParamValue,
  product,
  STREAMS,
  sweepRows,
  unitData,
  weightNorm,
} from "../src/experiment/index.js";
import { metricSweepSpec, sideBySideReliabilitySpec } from "../src/index.js";

const LAMBDAS = [0, 1e-4, 1e-3, 1e-2, 1e-1, 1];
const QUICK_LAMBDAS = [0, 1e-2, 1];
/** λ values whose reliability diagrams are drawn side by side. */
const SHOWN = [0, 1e-2, 1];

/** Metrics plotted against λ, with their axis names. */
const PLOTTED: [string, string][] = [
  ["accuracy", "test accuracy"],
  ["nll", "test NLL"],
  ["brier", "test Brier score"],
  ["ece", "test ECE (15 bins)"],
  ["mce", "test MCE"],
  ["mean_confidence", "mean confidence"],
  ["weight_norm", "‖W‖"],
];
/** Metrics whose paired effect against the reference λ is drawn. */
const EFFECTS: [string, string][] = [
  ["nll", "test NLL"],
  ["ece", "test ECE"],
];

/** The reference λ of the paired effects: the smallest λ > 0 of the grid (λ = 0 is the odd one out). */
export function referenceL2(levels: readonly ParamValue[]): ParamValue {
  const positive = levels.map(Number).filter((l) => l > 0);
  return positive.length > 0 ? Math.min(...positive) : levels[0];
}

export const l2Sweep: Experiment = {
  name: "l2-sweep",
  description: "exercise 1: test accuracy, NLL, Brier, ECE (bootstrap CI), MCE, confidence and ‖W‖ against λ",
  axes: { data: dataAxis(DATASETS), l2: l2Axis(LAMBDAS, QUICK_LAMBDAS) },
  grid: (opts) => product(axisValues(l2Sweep, opts), ["data", "l2"]),
  metrics: [...HELD_OUT_METRICS, "weight_norm", "train_objective", "converged", "iterations"],
  metricRanges: { ...HELD_OUT_RANGES, ...MODEL_RANGES },
  streams: STREAMS,
  comparisons: [
    {
      axis: "l2",
      reference: referenceL2,
      metrics: ["accuracy", "nll", "brier", "ece", "mce", "classwise_ece", "mean_confidence"],
    },
  ],
  run(point, ctx) {
    const data = String(point.data);
    const d = unitData(data, ctx);
    const model = baseModel(d.train, { l2: Number(point.l2), quick: ctx.quick });
    const held = modelMetrics(model, d.test, bootstrapSeed(data, ctx));
    return {
      metrics: {
        ...held.metrics,
        weight_norm: weightNorm(model),
        train_objective: model.objective,
        converged: model.converged ? 1 : 0,
        iterations: model.iterations,
      },
      reliability: [{ view: "test", bins: held.bins }],
    };
  },
  figures({ points, runs }) {
    const figures: Figure[] = PLOTTED.flatMap(([metric, label]) => {
      const { rows, notes } = sweepRows(runs, metric, "l2", "data", () => true);
      if (rows.length === 0) return [];
      return [
        {
          name: `${metric.replace(/_/g, "-")}-vs-l2`,
          spec: metricSweepSpec(rows, {
            metric: label,
            param: "λ (L2 strength)",
            logX: true,
            title: `${label} against λ (mean, 95% CI over seeds)`,
            notes,
          }),
        },
      ];
    });
    const reference = referenceL2([...new Set(points.map((p) => p.l2))]);
    for (const [metric, label] of EFFECTS) {
      const { rows, notes } = effectRows(runs, {
        metric,
        axis: "l2",
        reference,
        series: "data",
        where: () => true,
      });
      const shown = rows.flatMap((r) =>
        r.effect.meanDiff === null
          ? []
          : [
              {
                param: Number(r.level),
                series: r.series,
                mean: r.effect.meanDiff,
                lo: r.effect.ci95Lo ?? r.effect.meanDiff,
                hi: r.effect.ci95Hi ?? r.effect.meanDiff,
              },
            ],
      );
      if (shown.length === 0) continue;
      figures.push({
        name: `${metric}-effect-vs-l2`,
        spec: metricSweepSpec(shown, {
          metric: `${label} − ${label} at λ = ${reference}`,
          param: "λ (L2 strength)",
          logX: true,
          title: `Paired effect of λ on ${label}, against λ = ${reference} (same splits; mean, 95% CI)`,
          notes,
        }),
      });
    }
    for (const data of new Set(points.map((p) => String(p.data)))) {
      const panels = SHOWN.flatMap((l2) => {
        const r = runs.find((u) => u.seedIndex === 0 && u.point.data === data && u.point.l2 === l2);
        const rel = r?.result.reliability?.[0];
        return r && rel ? [{ title: `λ = ${l2}`, bins: rel.bins, ece: Number(r.result.metrics.ece) }] : [];
      });
      if (panels.length > 0) {
        figures.push({
          name: `reliability-${dataSlugs(points).get(data)}`,
          spec: sideBySideReliabilitySpec(panels, {
            title: `Reliability on ${data} (test split, seed 0) as λ grows`,
          }),
        });
      }
    }
    return figures;
  },
};
