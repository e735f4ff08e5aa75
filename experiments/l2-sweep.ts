/**
 * `l2-sweep` — exercise 1 of the lesson: how L2 regularization trades accuracy for calibration.
 * λ over a log grid including 0 × data sets × seeds; softmax regression fitted to its exact
 * optimum (L-BFGS) on the training split; everything measured on the held-out test split.
 * At λ = 0 on separable data the optimum is at infinity: the fit stops at its iteration cap and
 * `converged` is 0 — those models are the over-confident end of the sweep.
 */
import type { Experiment, Figure } from "../src/experiment/types.js";
import { predictProba } from "../src/model/predict.js";
import { metricSweepSpec } from "../src/plot/metricSweep.js";
import { sideBySideReliabilitySpec } from "../src/plot/reliability.js";
import {
  DATASETS,
  fitOn,
  HELD_OUT_METRICS,
  heldOutMetrics,
  runData,
  sweepRows,
  weightNorm,
} from "./_shared.js";

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

export const l2Sweep: Experiment = {
  name: "l2-sweep",
  description: "exercise 1: test accuracy, NLL, Brier, ECE (bootstrap CI), MCE, confidence and ‖W‖ against λ",
  grid: ({ quick }) =>
    DATASETS.flatMap((data) => (quick ? QUICK_LAMBDAS : LAMBDAS).map((l2) => ({ data, l2 }))),
  metrics: [...HELD_OUT_METRICS, "weight_norm", "train_objective", "converged", "iterations"],
  run(point, ctx) {
    const d = runData(String(point.data), ctx.seed);
    const model = fitOn(d.train, { l2: Number(point.l2), maxIter: ctx.quick ? 300 : 1000 });
    const held = heldOutMetrics(predictProba(model, d.test.X), d.test.y, ctx.seed);
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
  figures({ runs }) {
    const figures: Figure[] = PLOTTED.map(([metric, label]) => ({
      name: `${metric.replace(/_/g, "-")}-vs-l2`,
      spec: metricSweepSpec(
        sweepRows(runs, metric, "l2", "data", () => true),
        {
          metric: label,
          param: "λ (L2 strength)",
          logX: true,
          title: `${label} against λ (mean, 95% CI over seeds)`,
        },
      ),
    }));
    for (const data of DATASETS) {
      const panels = SHOWN.flatMap((l2) => {
        const r = runs.find((u) => u.seedIndex === 0 && u.point.data === data && u.point.l2 === l2);
        const rel = r?.result.reliability?.[0];
        return r && rel ? [{ title: `λ = ${l2}`, bins: rel.bins, ece: Number(r.result.metrics.ece) }] : [];
      });
      if (panels.length > 0) {
        figures.push({
          name: `reliability-${data}`,
          spec: sideBySideReliabilitySpec(panels, {
            title: `Reliability on ${data} (test split, seed 0) as λ grows`,
          }),
        });
      }
    }
    return figures;
  },
};
