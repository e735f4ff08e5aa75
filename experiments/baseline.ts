/**
 * `baseline` — the lesson notebook reproduced: three Gaussian clusters, softmax regression by
 * gradient descent (Θ₀ = 0, α = 0.1, 300 iterations), and its four figures — data, training loss,
 * decision regions, reliability diagram (with the notebook's two bugs fixed: a confidence of 1.0
 * is kept in the last bin, and empty bins are not drawn as accuracy 0).
 *
 * Grid: `lesson` (the notebook's exact 180 points, trained and evaluated on all of them, as the
 * notebook did — deterministic, so every seed gives the same numbers) and, with a held-out
 * 60/20/20 split (metrics on data the model never saw), fresh seeded draws of the clusters, iris
 * and penguins (features standardized on the training part).
 */
import {
  axisValues,
  bootstrapSeed,
  type CompletedRun,
  dataAxis,
  dataSlugs,
  decisionGrid,
  type Experiment,
  type Figure,
  fitOn,
  HELD_OUT_METRICS,
  HELD_OUT_RANGES,
  MODEL_RANGES,
  modelMetrics,
  product,
  STREAMS,
  scatterPoints,
  unitData,
} from "../src/experiment/index.js";
import {
  accuracy,
  decisionRegionsSpec,
  type GridCell,
  loadBuiltin,
  lossCurveSpec,
  predictProba,
  reliabilityDiagramSpec,
  type ScatterPoint,
  scatterSpec,
} from "../src/index.js";

/** The lesson's gradient descent. */
export const LESSON_GD = { optimizer: "gd" as const, alpha: 0.1, maxIter: 300 };

export const baseline: Experiment = {
  name: "baseline",
  description:
    "the lesson notebook: gradient descent (α = 0.1, 300 iterations); lesson = the notebook's exact data evaluated on itself, the others on a held-out test split",
  axes: { data: dataAxis(["lesson", "clusters", "iris", "penguins"]) },
  // The lesson's exact data is trained and evaluated on all of it, as the notebook did; every
  // other data set gets a held-out split.
  grid: (opts) =>
    product(axisValues(baseline, opts), ["data"]).map((p) => ({
      data: p.data,
      split: p.data === "lesson" ? "none" : "holdout",
    })),
  metrics: ["final_loss", "train_accuracy", ...HELD_OUT_METRICS],
  metricRanges: { ...HELD_OUT_RANGES, ...MODEL_RANGES },
  streams: STREAMS,
  run(point, ctx) {
    const data = String(point.data);
    const whole = point.split === "none";
    const parts = whole ? null : unitData(data, ctx);
    const train = parts ? parts.train : loadBuiltin(data);
    const evalSet = parts ? parts.test : train;
    const model = fitOn(train, LESSON_GD);
    const held = modelMetrics(model, evalSet, bootstrapSeed(data, ctx));
    const extras: Record<string, unknown> = {};
    if (ctx.seedIndex === 0) {
      extras.lossHistory = model.lossHistory;
      if (train.X.cols === 2) {
        extras.points = scatterPoints(evalSet);
        extras.grid = decisionGrid(model, evalSet);
      }
    }
    return {
      metrics: {
        final_loss: model.objective,
        train_accuracy: accuracy(predictProba(model, train.X), train.y),
        ...held.metrics,
      },
      reliability: [{ view: whole ? "train" : "test", bins: held.bins }],
      extras,
    };
  },
  figures({ points, runs }) {
    const slugs = dataSlugs(points);
    const first = runs.filter((r) => r.seedIndex === 0);
    const figures: Figure[] = [];
    for (const r of first)
      figures.push(...twoDimensionalFigures(r, slugs.get(String(r.point.data)) ?? "data"));
    figures.push({
      name: "training-loss",
      spec: lossCurveSpec(
        first.flatMap((r) =>
          ((r.result.extras?.lossHistory as number[] | undefined) ?? []).map((loss, iteration) => ({
            iteration,
            loss,
            series: String(r.point.data),
          })),
        ),
        { title: "Training loss J(Θ): gradient descent, α = 0.1" },
      ),
    });
    for (const r of first) {
      const rel = r.result.reliability?.[0];
      if (!rel) continue;
      figures.push({
        name: `reliability-${slugs.get(String(r.point.data))}`,
        spec: reliabilityDiagramSpec(rel.bins, {
          title: `Reliability: ${r.point.data} (${rel.view} set)`,
          ece: Number(r.result.metrics.ece),
        }),
      });
    }
    return figures;
  },
};

/** Data scatter and decision regions of a 2-D run (seed 0). */
function twoDimensionalFigures(run: CompletedRun, slug: string): Figure[] {
  const points = run.result.extras?.points as ScatterPoint[] | undefined;
  const grid = run.result.extras?.grid as { cells: GridCell[]; step: [number, number] } | undefined;
  if (!points || !grid) return [];
  const name = String(run.point.data);
  const what = run.point.split === "none" ? "the notebook's data" : "test split, standardized";
  return [
    { name: `data-${slug}`, spec: scatterSpec(points, { title: `Data: ${name} (${what})` }) },
    {
      name: `decision-regions-${slug}`,
      spec: decisionRegionsSpec(grid.cells, points, { step: grid.step, title: `Decision regions: ${name}` }),
    },
  ];
}
