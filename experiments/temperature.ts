/**
 * `temperature` — exercise 2 of the lesson: learn a temperature T on a calibration split and
 * measure the test split before and after, beside the other recalibrators (vector scaling,
 * histogram binning, isotonic regression). The grid includes a deliberately over-confident model
 * (λ = 0 fitted for up to 1000 L-BFGS iterations: on separable data its logits keep growing).
 *
 * A recalibrator that cannot be fitted (temperature scaling on a calibration split the model
 * classifies perfectly: T → 0) is recorded with `failed` = 1 and its metrics empty — an outcome,
 * not a crash.
 */

import { createRecalibrator } from "../src/calibration/recalibrators/registry.js";
import { SoftcalError } from "../src/errors.js";
import { summarize } from "../src/experiment/stats.js";
import type { Experiment, Figure, GridPoint } from "../src/experiment/types.js";
import { decisionFunction } from "../src/model/predict.js";
import { barSpec } from "../src/plot/bar.js";
import { metricSweepSpec } from "../src/plot/metricSweep.js";
import { sideBySideReliabilitySpec } from "../src/plot/reliability.js";
import type { BarRow } from "../src/plot/types.js";
import { DATASETS, fitOn, HELD_OUT_METRICS, heldOutMetrics, runData, sweepRows } from "./_shared.js";

const METHODS = ["none", "temperature", "vector", "histogram", "isotonic"] as const;
const LAMBDAS = [0, 1e-3, 1e-1];
const QUICK_LAMBDAS = [0, 1e-1];

export const temperature: Experiment = {
  name: "temperature",
  description:
    "exercise 2: temperature scaling (and vector scaling, histogram binning, isotonic) fitted on a calibration split, measured on the test split",
  grid: ({ quick }) =>
    DATASETS.flatMap((data) =>
      (quick ? QUICK_LAMBDAS : LAMBDAS).flatMap((l2) => METHODS.map((method) => ({ data, l2, method }))),
    ),
  metrics: [...HELD_OUT_METRICS, "temperature", "failed"],
  run(point, ctx) {
    const d = runData(String(point.data), ctx.seed);
    const model = fitOn(d.train, { l2: Number(point.l2), maxIter: ctx.quick ? 300 : 1000 });
    const Zcal = decisionFunction(model, d.calibration.X);
    const Ztest = decisionFunction(model, d.test.X);
    const method = String(point.method);
    // Scores on the test split: logits where the method has them (none, temperature, vector), so
    // the NLL is computed by log-softmax; probabilities otherwise.
    let scores = Ztest;
    let logits = true;
    let T: number | null = null;
    if (method !== "none") {
      try {
        const r = createRecalibrator(method).fit(Zcal, d.calibration.y, { logits: true });
        if (r.transformLogits) {
          scores = r.transformLogits(Ztest, { logits: true });
        } else {
          scores = r.transform(Ztest, { logits: true });
          logits = false;
        }
        if (method === "temperature") T = Number(r.toJSON().temperature);
      } catch (e) {
        if (!(e instanceof SoftcalError)) throw e;
        const empty = Object.fromEntries(temperature.metrics.map((m) => [m, null]));
        return { metrics: { ...empty, failed: 1 }, extras: { failure: e.message } };
      }
    }
    const held = heldOutMetrics(scores, d.test.y, ctx.seed, { logits });
    return {
      metrics: { ...held.metrics, temperature: T, failed: 0 },
      reliability: [{ view: "test", bins: held.bins }],
    };
  },
  figures({ runs }) {
    const figures: Figure[] = [];
    const at = (data: string, seedIndex: number, method: string) =>
      runs.find((u) => u.seedIndex === seedIndex && matches(u.point, data, 0, method));
    for (const data of DATASETS) {
      // The first seed whose temperature fit succeeded (on a calibration split the over-confident
      // model classifies perfectly, T → 0 and the fit is reported as failed).
      const seeds = [...new Set(runs.map((u) => u.seedIndex))].sort((a, b) => a - b);
      const seed = seeds.find((s) => at(data, s, "temperature")?.result.reliability?.[0] !== undefined);
      if (seed === undefined) continue;
      const panels = (["none", "temperature"] as const).flatMap((method) => {
        const r = at(data, seed, method);
        const rel = r?.result.reliability?.[0];
        if (!r || !rel) return [];
        const T = r.result.metrics.temperature;
        const title =
          method === "none" ? "before (λ = 0)" : `after temperature scaling (T = ${Number(T).toFixed(2)})`;
        return [{ title, bins: rel.bins, ece: Number(r.result.metrics.ece) }];
      });
      if (panels.length === 2) {
        figures.push({
          name: `reliability-before-after-${data}`,
          spec: sideBySideReliabilitySpec(panels, {
            title: `Temperature scaling on ${data} (test split, seed ${seed})`,
          }),
        });
      }
    }
    for (const [metric, label] of [
      ["nll", "test NLL"],
      ["ece", "test ECE"],
    ] as const) {
      const rows: BarRow[] = [];
      for (const data of DATASETS) {
        for (const method of METHODS) {
          const s = summarize(
            runs.filter((u) => matches(u.point, data, 0, method)).map((u) => u.result.metrics[metric]),
          );
          if (s.mean === null || !Number.isFinite(s.mean)) continue;
          rows.push({
            category: method,
            value: s.mean,
            ...(s.ci95Lo !== null && s.ci95Hi !== null ? { lo: s.ci95Lo, hi: s.ci95Hi } : {}),
            series: data,
          });
        }
      }
      if (rows.length > 0) {
        figures.push({
          name: `${metric}-by-method`,
          spec: barSpec(rows, {
            title: `${label} by recalibration method (λ = 0; mean, 95% CI over seeds)`,
            yTitle: label,
          }),
        });
      }
    }
    const tRows = sweepRows(runs, "temperature", "l2", "data", (p) => p.method === "temperature");
    if (tRows.length > 0) {
      figures.push({
        name: "temperature-vs-l2",
        spec: metricSweepSpec(tRows, {
          metric: "fitted temperature T",
          param: "λ (L2 strength)",
          logX: true,
          title: "Fitted temperature against λ (mean, 95% CI over seeds)",
        }),
      });
    }
    return figures;
  },
};

function matches(p: GridPoint, data: string, l2: number, method: string): boolean {
  return p.data === data && p.l2 === l2 && p.method === method;
}
