/** Bar charts of one value per category (and series), with optional interval error bars. */
import type { TopLevelSpec } from "vega-lite";
import { CONFIG, PANEL_HEIGHT, PANEL_WIDTH, requireFinite, SCHEMA } from "./theme.js";
import type { BarRow } from "./types.js";

/** Options of {@link barSpec}. */
export interface BarOptions {
  /** Figure title. */
  title: string;
  /** y-axis title (the value's name, e.g. "ECE"). */
  yTitle: string;
  /** x-axis title (default none: the categories speak for themselves). */
  xTitle?: string;
  /** Subtitle lines, e.g. what the figure leaves out and why (default none). */
  notes?: readonly string[];
}

/**
 * Bars of `value` per `category` (in first-appearance order), grouped side by side by `series`
 * when given, with an error bar from `lo` to `hi` where both are given (e.g. a 95% CI over seeds).
 *
 * @param rows `{ category, value, lo?, hi?, series? }`.
 * @param options `title`, `yTitle`, optional `xTitle`, `notes` (subtitle lines).
 * @returns A 420×320 vega-lite spec (legend only with several series).
 * @throws RangeError for an empty `rows`, a non-finite value or bound, only one of lo/hi, or lo > hi.
 * Cost: O(rows).
 * @example
 * barSpec(
 *   [{ category: "softmax", value: 0.031, lo: 0.02, hi: 0.04 },
 *    { category: "one-vs-rest", value: 0.058, lo: 0.045, hi: 0.07 }],
 *   { title: "Test ECE", yTitle: "ECE" },
 * );
 */
export function barSpec(rows: readonly BarRow[], options: BarOptions): TopLevelSpec {
  const fn = "barSpec";
  if (!Array.isArray(rows) || rows.length === 0)
    throw new RangeError(`${fn}: expected at least one row; got 0`);
  rows.forEach((r, i) => {
    requireFinite(fn, `rows[${i}].value`, r.value);
    if ((r.lo === undefined) !== (r.hi === undefined)) {
      throw new RangeError(
        `${fn}: rows[${i}] must give both lo and hi or neither; got lo ${r.lo}, hi ${r.hi}`,
      );
    }
    if (r.lo !== undefined && r.hi !== undefined) {
      requireFinite(fn, `rows[${i}].lo`, r.lo);
      requireFinite(fn, `rows[${i}].hi`, r.hi);
      if (!(r.lo <= r.hi))
        throw new RangeError(`${fn}: rows[${i}] must have lo <= hi; got [${r.lo}, ${r.hi}]`);
    }
  });
  const categories = [...new Set(rows.map((r) => r.category))];
  const withSeries = rows.some((r) => r.series !== undefined);
  const series = [...new Set(rows.map((r) => r.series ?? ""))];
  const values = rows.map((r) => ({
    category: r.category,
    value: r.value,
    series: r.series ?? "",
    ...(r.lo === undefined ? {} : { lo: r.lo, hi: r.hi }),
  }));
  const hasBars = values.some((v) => "lo" in v);
  const x = {
    field: "category",
    type: "nominal" as const,
    sort: categories,
    title: options.xTitle ?? null,
    axis: { labelAngle: 0, labelLimit: 140 },
  };
  const xOffset = withSeries ? { xOffset: { field: "series", type: "nominal" as const, sort: series } } : {};
  const color = withSeries
    ? { color: { field: "series", type: "nominal" as const, title: null, sort: series } }
    : {};
  return {
    $schema: SCHEMA,
    config: CONFIG,
    title: { text: options.title, ...(options.notes?.length ? { subtitle: [...options.notes] } : {}) },
    width: PANEL_WIDTH,
    height: PANEL_HEIGHT,
    data: { values },
    encoding: { x, ...xOffset },
    layer: [
      {
        name: "bars",
        mark: { type: "bar", ...(withSeries ? {} : { color: "#4c78a8" }) },
        encoding: {
          y: { field: "value", type: "quantitative", title: options.yTitle },
          ...color,
          tooltip: [
            { field: "category", type: "nominal" },
            ...(withSeries ? [{ field: "series", type: "nominal" as const }] : []),
            { field: "value", type: "quantitative", format: ".4g" },
          ],
        },
      },
      ...(hasBars
        ? [
            {
              name: "errorbars",
              transform: [{ filter: "isValid(datum.lo)" }],
              mark: { type: "rule" as const, color: "#222222", strokeWidth: 1.5 },
              encoding: {
                y: { field: "lo", type: "quantitative" as const },
                y2: { field: "hi" },
              },
            },
          ]
        : []),
    ],
  };
}
