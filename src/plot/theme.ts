/**
 * The look shared by every softcal figure: DejaVu Sans (the font shipped for PNG rendering, see
 * `render.ts`), a white background, colorblind-safe `tableau10` colors, 420×320 panels.
 */
import type { Config } from "vega-lite";

/** Font family of every text mark; `render.ts` ships exactly this font to resvg. */
export const FONT = "DejaVu Sans";

/**
 * The CSS font list in specs: DejaVu Sans first (the only font resvg sees), then Verdana (near
 * identical metrics) and the generic family, for browsers without DejaVu (`softcal show`).
 */
export const FONT_STACK = `${FONT}, Verdana, sans-serif`;

/** Inner width and height of one panel in pixels (a two-column figure fits a page). */
export const PANEL_WIDTH = 420;
export const PANEL_HEIGHT = 320;

/** Colors of the reliability diagram (tableau10 blue, red and gray). */
export const ACCURACY_COLOR = "#4c78a8";
export const GAP_COLOR = "#e45756";
export const NEUTRAL_COLOR = "#79706e";

/** vega's "tableau10" scheme, in order (used where a color must be computed, not scaled). */
export const TABLEAU10: readonly string[] = [
  "#4c78a8",
  "#f58518",
  "#e45756",
  "#72b7b2",
  "#54a24b",
  "#eeca3b",
  "#b279a2",
  "#ff9da6",
  "#9d755d",
  "#bab0ac",
];

/**
 * `color` mixed with white: weight `alpha` on the color, `1 − alpha` on white, as `#rrggbb`
 * (the opaque equivalent of drawing `color` at opacity `alpha` on white).
 * @example tint("#4c78a8", 0.5); // "#a6bcd4"
 */
export function tint(color: string, alpha: number): string {
  const hex = (i: number) => {
    const c = Number.parseInt(color.slice(1 + 2 * i, 3 + 2 * i), 16);
    const v = Math.round(alpha * c + (1 - alpha) * 255);
    return v.toString(16).padStart(2, "0");
  };
  return `#${hex(0)}${hex(1)}${hex(2)}`;
}

/** The vega-lite schema URL; it is metadata only (vega never fetches it). */
export const SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";

/** The shared vega-lite config. */
export const CONFIG: Config = {
  font: FONT_STACK,
  background: "white",
  padding: 8,
  view: { stroke: "#bbbbbb" },
  range: { category: { scheme: "tableau10" } },
  title: { fontSize: 15, subtitleFontSize: 12, anchor: "start", offset: 10, subtitleColor: "#555555" },
  axis: {
    labelFontSize: 11,
    titleFontSize: 12,
    titleFontWeight: "bold",
    gridColor: "#e6e6e6",
    domainColor: "#888888",
    tickColor: "#888888",
  },
  legend: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: "bold" },
  header: { labelFontSize: 12, titleFontSize: 13 },
  concat: { spacing: 24 },
};

/** Throws a RangeError unless `v` is a finite number. */
export function requireFinite(fn: string, what: string, v: unknown): asserts v is number {
  if (typeof v !== "number" || !Number.isFinite(v)) {
    throw new RangeError(`${fn}: ${what} must be a finite number; got ${String(v)}`);
  }
}
