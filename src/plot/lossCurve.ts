/** Training-loss curves: the objective J(Θ_t) per iteration, one line per series. */
import type { TopLevelSpec } from "vega-lite";
import { CONFIG, PANEL_HEIGHT, PANEL_WIDTH, requireFinite, SCHEMA } from "./theme.js";
import type { LossRow } from "./types.js";

/** Options of {@link lossCurveSpec}. */
export interface LossCurveOptions {
  /** Figure title (default "Training loss"). */
  title?: string;
  /** y-axis title (default "Loss J(Θ)"). */
  yTitle?: string;
  /** Log-scale y axis (default false); every loss must then be > 0. */
  logY?: boolean;
}

/**
 * Training loss against iteration, one colored line per `series` (rows without a series form one
 * line named "loss"), e.g. gradient descent's `lossHistory` for several λ.
 *
 * @param rows `{ iteration, loss, series? }`, in any order (lines are drawn in iteration order).
 * @param options Optional `title`, `yTitle`, `logY`.
 * @returns A 420×320 vega-lite spec (a legend only when there are several series).
 * @throws RangeError for an empty `rows`, a non-finite iteration or loss, or a loss ≤ 0 with logY.
 * Cost: O(rows).
 * @example
 * lossCurveSpec(history.map((loss, iteration) => ({ iteration, loss })));
 */
export function lossCurveSpec(rows: readonly LossRow[], options: LossCurveOptions = {}): TopLevelSpec {
  const fn = "lossCurveSpec";
  if (!Array.isArray(rows) || rows.length === 0)
    throw new RangeError(`${fn}: expected at least one row; got 0`);
  rows.forEach((r, i) => {
    requireFinite(fn, `rows[${i}].iteration`, r.iteration);
    requireFinite(fn, `rows[${i}].loss`, r.loss);
    if (options.logY && !(r.loss > 0)) {
      throw new RangeError(`${fn}: rows[${i}].loss must be > 0 with logY; got ${r.loss}`);
    }
  });
  const values = rows.map((r) => ({ iteration: r.iteration, loss: r.loss, series: r.series ?? "loss" }));
  const nSeries = new Set(values.map((v) => v.series)).size;
  return {
    $schema: SCHEMA,
    config: CONFIG,
    title: { text: options.title ?? "Training loss" },
    width: PANEL_WIDTH,
    height: PANEL_HEIGHT,
    data: { values },
    mark: { type: "line", strokeWidth: 2, clip: true },
    encoding: {
      x: { field: "iteration", type: "quantitative", title: "Iteration", scale: { nice: false } },
      y: {
        field: "loss",
        type: "quantitative",
        title: options.yTitle ?? "Loss J(Θ)",
        scale: options.logY ? { type: "log", nice: false } : { zero: false },
      },
      color: {
        field: "series",
        type: "nominal",
        title: null,
        sort: null,
        legend: nSeries > 1 ? { orient: "top-right", fillColor: "white", padding: 4 } : null,
      },
      order: { field: "iteration", type: "quantitative" },
      tooltip: [
        { field: "series", type: "nominal" },
        { field: "iteration", type: "quantitative" },
        { field: "loss", type: "quantitative", format: ".6g" },
      ],
    },
  };
}
