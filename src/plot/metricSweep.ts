/**
 * Metric-versus-parameter sweeps (e.g. ECE against λ): the mean over seeds as a line with points,
 * and its 95% confidence interval as a band, one color per series.
 */
import type { TopLevelSpec } from "vega-lite";
import { CONFIG, PANEL_HEIGHT, PANEL_WIDTH, requireFinite, SCHEMA } from "./theme.js";
import type { SweepRow } from "./types.js";

/** Options of {@link metricSweepSpec}. */
export interface MetricSweepOptions {
  /** Name of the metric: the y-axis title (e.g. "ECE"). */
  metric: string;
  /** Name of the swept parameter: the x-axis title (e.g. "λ (L2)"). */
  param: string;
  /** Log-scale x axis (default false). A parameter value 0 is then drawn at a stand-in, see
   * {@link zeroStandIn}. */
  logX?: boolean;
  /** Figure title (default "<metric> vs <param>"). */
  title?: string;
  /** Lines added under the subtitle, e.g. what the figure leaves out and why. */
  notes?: readonly string[];
}

/**
 * Where a parameter value of 0 is drawn on a log x axis: one decade below the smallest positive
 * value, `min{p > 0} / 10`; its tick is labeled "0" and the subtitle says so. (A symlog scale was
 * the alternative; its ticks crowd at one end, while this keeps clean decade ticks.)
 * Returns null when no value is positive. Cost: O(n).
 * @example zeroStandIn([0, 0.001, 0.1]); // 0.0001
 */
export function zeroStandIn(params: readonly number[]): number | null {
  let minPos = Infinity;
  for (const p of params) if (p > 0 && p < minPos) minPos = p;
  return minPos === Infinity ? null : minPos / 10;
}

/**
 * A sweep plot: for each series, the line of `mean` against `param` with points, over a band
 * from `lo` to `hi` (the 95% interval across seeds).
 *
 * With `logX`, the x axis is logarithmic; a grid point at `param` = 0 (λ = 0) is drawn at
 * {@link zeroStandIn} (one decade below the smallest positive value) and labeled "0". Ticks are
 * the grid values when there are at most 8 distinct ones, else the decades they span. If no value
 * is positive, the axis falls back to linear.
 *
 * @param rows `{ param, mean, lo, hi, series }` per grid point and series.
 * @param options `metric`, `param`, optional `logX`, `title`, `notes` (extra subtitle lines).
 * @returns A 420×320 vega-lite spec.
 * @throws RangeError for an empty `rows`, a non-finite value, `lo > hi`, or a negative param with
 *   logX.
 * Cost: O(rows).
 * @example
 * metricSweepSpec(
 *   [{ param: 0, mean: 0.08, lo: 0.06, hi: 0.1, series: "synthetic" },
 *    { param: 0.01, mean: 0.05, lo: 0.04, hi: 0.06, series: "synthetic" }],
 *   { metric: "ECE", param: "λ", logX: true },
 * ); // λ = 0 drawn at 0.001, labeled "0"
 */
export function metricSweepSpec(rows: readonly SweepRow[], options: MetricSweepOptions): TopLevelSpec {
  const fn = "metricSweepSpec";
  if (!Array.isArray(rows) || rows.length === 0)
    throw new RangeError(`${fn}: expected at least one row; got 0`);
  rows.forEach((r, i) => {
    for (const k of ["param", "mean", "lo", "hi"] as const) requireFinite(fn, `rows[${i}].${k}`, r[k]);
    if (!(r.lo <= r.hi)) throw new RangeError(`${fn}: rows[${i}] must have lo <= hi; got [${r.lo}, ${r.hi}]`);
    if (options.logX && r.param < 0) {
      throw new RangeError(`${fn}: rows[${i}].param must be >= 0 with logX; got ${r.param}`);
    }
  });
  const params = rows.map((r) => r.param);
  const standIn = options.logX ? zeroStandIn(params) : null;
  const log = standIn !== null;
  const values = rows.map((r) => ({ ...r, x: log && r.param === 0 ? standIn : r.param }));
  const hasZero = params.includes(0);

  let xScale: Record<string, unknown> = { zero: false, nice: false };
  let xAxis: Record<string, unknown> = {};
  let subtitle = "mean over seeds, band: 95% CI";
  if (log) {
    const positive = [...new Set(params.filter((p) => p > 0))].sort((a, b) => a - b);
    const lo = positive[0];
    const hi = positive[positive.length - 1];
    let ticks: number[];
    if (positive.length <= 8) {
      ticks = positive;
    } else {
      ticks = [];
      for (let k = Math.ceil(Math.log10(lo)); k <= Math.floor(Math.log10(hi)); k++) ticks.push(10 ** k);
      if (ticks.length < 2) ticks = [lo, hi];
    }
    if (hasZero) ticks = [standIn, ...ticks];
    // Geometric midpoint between the stand-in and the smallest positive value: below it means 0.
    const zeroBelow = hasZero ? Math.sqrt(standIn * lo) : 0;
    xScale = { type: "log", nice: false, domain: [hasZero ? standIn : lo, hi], padding: 12 };
    xAxis = {
      values: ticks,
      labelExpr: `datum.value < ${zeroBelow} ? "0" : (datum.value < 0.001 || datum.value >= 10000 ? format(datum.value, "~e") : format(datum.value, "~g"))`,
      labelOverlap: true,
    };
    if (hasZero)
      subtitle += `; log axis, ${options.param} = 0 drawn at ${Number(standIn.toPrecision(6))} (labeled 0)`;
  }
  const x = {
    field: "x",
    type: "quantitative" as const,
    title: options.param,
    scale: xScale,
    axis: xAxis,
  };
  const color = { field: "series", type: "nominal" as const, title: null, sort: null };
  const tooltip = [
    { field: "series", type: "nominal" as const },
    { field: "param", type: "quantitative" as const, title: options.param },
    { field: "mean", type: "quantitative" as const, format: ".4g" },
    { field: "lo", type: "quantitative" as const, title: "95% CI low", format: ".4g" },
    { field: "hi", type: "quantitative" as const, title: "95% CI high", format: ".4g" },
  ];
  return {
    $schema: SCHEMA,
    config: CONFIG,
    title: {
      text: options.title ?? `${options.metric} vs ${options.param}`,
      subtitle: [subtitle, ...(options.notes ?? [])],
    },
    width: PANEL_WIDTH,
    height: PANEL_HEIGHT,
    data: { values },
    encoding: { x },
    layer: [
      {
        name: "band",
        mark: { type: "area", opacity: 0.2, orient: "vertical" },
        encoding: {
          y: { field: "lo", type: "quantitative", title: options.metric, scale: { zero: false } },
          y2: { field: "hi" },
          color,
        },
      },
      {
        name: "mean",
        mark: { type: "line", strokeWidth: 2, point: { filled: true, size: 36 } },
        encoding: {
          y: { field: "mean", type: "quantitative" },
          color,
          tooltip,
        },
      },
    ],
  };
}
