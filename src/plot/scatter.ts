/**
 * Data scatter and decision regions of a 2-feature classifier (the lesson's figures 1 and 3).
 * Classes get tableau10 colors and distinct point shapes (readable without color), assigned in
 * {@link classOrder}, so one class has the same color in every figure.
 */
import type { TopLevelSpec } from "vega-lite";
import { CONFIG, PANEL_HEIGHT, PANEL_WIDTH, requireFinite, SCHEMA, TABLEAU10, tint } from "./theme.js";
import type { GridCell, ScatterPoint } from "./types.js";

/**
 * The order in which classes get colors: labels that are numbers first, ascending numerically
 * ("2" before "10"), then the others by UTF-16 code units; duplicates removed. A total order, so
 * the result does not depend on the input order. Cost: O(n + K log K).
 * @example classOrder(["b", "10", "2", "b"]); // ["2", "10", "b"]
 */
export function classOrder(labels: Iterable<string>): string[] {
  const num = (s: string) => (s.trim() !== "" && Number.isFinite(Number(s)) ? Number(s) : null);
  const byCodeUnits = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return [...new Set(labels)].sort((a, b) => {
    const na = num(a);
    const nb = num(b);
    if (na !== null && nb !== null) return na - nb || byCodeUnits(a, b);
    if (na !== null) return -1;
    if (nb !== null) return 1;
    return byCodeUnits(a, b);
  });
}

function checkPoints(fn: string, points: readonly ScatterPoint[]): void {
  if (!Array.isArray(points)) throw new TypeError(`${fn}: points must be an array; got ${typeof points}`);
  points.forEach((p, i) => {
    requireFinite(fn, `points[${i}].x1`, p.x1);
    requireFinite(fn, `points[${i}].x2`, p.x2);
    if (typeof p.label !== "string") {
      throw new TypeError(`${fn}: points[${i}].label must be a string; got ${typeof p.label}`);
    }
  });
}

/** Axis titles of a 2-feature plot. */
export interface FeatureAxes {
  /** Title of the x axis (default "x1"). */
  x1Title?: string;
  /** Title of the y axis (default "x2"). */
  x2Title?: string;
  /** Figure title (default "Data" / "Decision regions"). */
  title?: string;
}

/** The data layer; `scaled` adds the axis titles and nice padded scales (scatter alone). */
function pointsLayer(
  points: readonly ScatterPoint[],
  domain: string[],
  xt: string,
  yt: string,
  scaled: boolean,
) {
  const scale = scaled ? { scale: { zero: false, nice: true } } : {};
  return {
    name: "points",
    data: { values: points.map((p) => ({ x1: p.x1, x2: p.x2, class: p.label })) },
    mark: {
      type: "point" as const,
      filled: true,
      size: 48,
      stroke: "white",
      strokeWidth: 0.8,
      opacity: 0.95,
    },
    encoding: {
      x: { field: "x1", type: "quantitative" as const, title: xt, ...scale },
      y: { field: "x2", type: "quantitative" as const, title: yt, ...scale },
      color: { field: "class", type: "nominal" as const, title: "Class", scale: { domain } },
      shape: { field: "class", type: "nominal" as const, title: "Class", scale: { domain } },
      tooltip: [
        { field: "class", type: "nominal" as const, title: "class" },
        { field: "x1", type: "quantitative" as const, title: xt, format: ".3f" },
        { field: "x2", type: "quantitative" as const, title: yt, format: ".3f" },
      ],
    },
  };
}

/**
 * A scatter of 2-feature data colored (and shaped) by class.
 *
 * @param points `{ x1, x2, label }` per sample (any number, possibly 0).
 * @param axes Optional axis and figure titles.
 * @returns A 420×320 vega-lite spec with a "Class" legend.
 * @throws RangeError for a non-finite coordinate; TypeError for a non-string label.
 * Cost: O(n).
 * @example
 * scatterSpec([{ x1: -2, x2: 0, label: "0" }, { x1: 2, x2: 0, label: "1" }]);
 */
export function scatterSpec(points: readonly ScatterPoint[], axes: FeatureAxes = {}): TopLevelSpec {
  checkPoints("scatterSpec", points);
  const domain = classOrder(points.map((p) => p.label));
  const layer = pointsLayer(points, domain, axes.x1Title ?? "x1", axes.x2Title ?? "x2", true);
  return {
    $schema: SCHEMA,
    config: CONFIG,
    title: { text: axes.title ?? "Data", subtitle: `n = ${points.length}, ${domain.length} classes` },
    width: PANEL_WIDTH,
    height: PANEL_HEIGHT,
    ...layer,
  };
}

/** Options of {@link decisionRegionsSpec}. */
export interface DecisionRegionOptions extends FeatureAxes {
  /** Grid spacing: one number for both axes, or `[x1 step, x2 step]`. Each cell is drawn
   * step wide, centred on its grid point. */
  step: number | readonly [number, number];
}

/**
 * Decision regions: a grid of cells filled with the predicted class's color, opacity rising with
 * the top-label confidence (so the soft boundary shows), and the data on top.
 *
 * Cell at grid point (x1, x2) spans `[x1 − s1/2, x1 + s1/2] × [x2 − s2/2, x2 + s2/2]`; its fill is
 * the class color mixed with white at weight `0.1 + 0.55·confidence` (confidence ≥ 1/K for K
 * classes). Fills are computed opaque colors rather than an opacity channel, so that neighbouring
 * cells leave no anti-aliasing seams in the PNG.
 *
 * @param grid One `{ x1, x2, predicted, confidence }` per grid point (e.g. 80×80 = 6400 points;
 *   the SVG holds one rect per cell, ~100 bytes each).
 * @param points The data drawn on top (may be empty).
 * @param options `step` (required), optional axis and figure titles.
 * @returns A 420×320 vega-lite spec with a "Class" legend (from the points' colors and shapes).
 * @throws RangeError for a non-finite coordinate, a confidence outside [0, 1] or a step ≤ 0;
 *   TypeError for a non-string class.
 * Cost: O(grid + n).
 * @example
 * decisionRegionsSpec(grid, points, { step: 0.1 });
 */
export function decisionRegionsSpec(
  grid: readonly GridCell[],
  points: readonly ScatterPoint[],
  options: DecisionRegionOptions,
): TopLevelSpec {
  const fn = "decisionRegionsSpec";
  const [s1, s2] = typeof options.step === "number" ? [options.step, options.step] : options.step;
  for (const s of [s1, s2]) {
    if (!(typeof s === "number" && s > 0 && Number.isFinite(s))) {
      throw new RangeError(`${fn}: step must be a finite number > 0; got ${String(s)}`);
    }
  }
  if (!Array.isArray(grid) || grid.length === 0) {
    throw new RangeError(`${fn}: expected at least one grid cell; got 0`);
  }
  grid.forEach((c, i) => {
    requireFinite(fn, `grid[${i}].x1`, c.x1);
    requireFinite(fn, `grid[${i}].x2`, c.x2);
    if (!(c.confidence >= 0 && c.confidence <= 1)) {
      throw new RangeError(`${fn}: grid[${i}].confidence must be in [0, 1]; got ${String(c.confidence)}`);
    }
    if (typeof c.predicted !== "string") {
      throw new TypeError(`${fn}: grid[${i}].predicted must be a string; got ${typeof c.predicted}`);
    }
  });
  checkPoints(fn, points);
  const domain = classOrder([...grid.map((c) => c.predicted), ...points.map((p) => p.label)]);
  const xt = options.x1Title ?? "x1";
  const yt = options.x2Title ?? "x2";
  let lo1 = Infinity;
  let hi1 = -Infinity;
  let lo2 = Infinity;
  let hi2 = -Infinity;
  const cells = grid.map((c) => {
    const a = c.x1 - s1 / 2;
    const b = c.x1 + s1 / 2;
    const d = c.x2 - s2 / 2;
    const e = c.x2 + s2 / 2;
    lo1 = Math.min(lo1, a);
    hi1 = Math.max(hi1, b);
    lo2 = Math.min(lo2, d);
    hi2 = Math.max(hi2, e);
    const color = TABLEAU10[domain.indexOf(c.predicted) % TABLEAU10.length];
    return {
      a,
      b,
      d,
      e,
      class: c.predicted,
      confidence: c.confidence,
      fill: tint(color, 0.1 + 0.55 * c.confidence),
    };
  });
  for (const p of points) {
    lo1 = Math.min(lo1, p.x1);
    hi1 = Math.max(hi1, p.x1);
    lo2 = Math.min(lo2, p.x2);
    hi2 = Math.max(hi2, p.x2);
  }
  const pl = pointsLayer(points, domain, xt, yt, false);
  return {
    $schema: SCHEMA,
    config: CONFIG,
    title: {
      text: options.title ?? "Decision regions",
      subtitle: `shading: predicted class, paler = less confident; ${points.length} points`,
    },
    width: PANEL_WIDTH,
    height: PANEL_HEIGHT,
    layer: [
      {
        name: "regions",
        data: { values: cells },
        mark: { type: "rect", strokeWidth: 0.5 },
        encoding: {
          x: {
            field: "a",
            type: "quantitative",
            title: xt,
            scale: { domain: [lo1, hi1], nice: false, zero: false },
          },
          x2: { field: "b" },
          y: {
            field: "d",
            type: "quantitative",
            title: yt,
            scale: { domain: [lo2, hi2], nice: false, zero: false },
          },
          y2: { field: "e" },
          fill: { field: "fill", type: "nominal", scale: null, legend: null },
          stroke: { field: "fill", type: "nominal", scale: null, legend: null },
          tooltip: [
            { field: "class", type: "nominal", title: "predicted" },
            { field: "confidence", type: "quantitative", format: ".3f" },
          ],
        },
      },
      pl,
    ],
  };
}
