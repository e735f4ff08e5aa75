/**
 * Reliability diagrams (Guo et al. 2017, Fig. 1; DeGroot & Fienberg 1983): per confidence bin,
 * the accuracy as a bar spanning the bin's edges, the gap to the bin's mean confidence shaded, the
 * diagonal of perfect calibration, and the confidence histogram beneath.
 *
 * References: C. Guo, G. Pleiss, Y. Sun, K. Q. Weinberger, "On Calibration of Modern Neural
 * Networks", ICML 2017, §2 and Fig. 1. M. H. DeGroot, S. E. Fienberg, "The Comparison and
 * Evaluation of Forecasters", The Statistician 32 (1983).
 */
import type { TopLevelSpec } from "vega-lite";
import type { NonNormalizedSpec } from "vega-lite/types_unstable/spec/index.js";
import type { ReliabilityBin } from "../calibration/bins.js";
import {
  ACCURACY_COLOR,
  CONFIG,
  GAP_COLOR,
  NEUTRAL_COLOR,
  PANEL_HEIGHT,
  PANEL_WIDTH,
  requireFinite,
  SCHEMA,
} from "./theme.js";
import type { ReliabilityPanel } from "./types.js";

/**
 * Narrowest drawn bin, in confidence units. An equal-mass bin whose confidences are all equal has
 * `lower === upper`; it is drawn this wide, centred on its edge, so that it stays visible
 * (2.5 px in a 420 px panel). Its true edges stay in the data and the tooltip.
 */
export const MIN_DRAWN_BIN_WIDTH = 0.006;

/** Fill opacity of the gap rectangles (and of their legend symbol); their red outline is opaque. */
const GAP_OPACITY = 0.35;

/** Height in pixels of the confidence histogram under a reliability diagram. */
const HISTOGRAM_HEIGHT = 90;

/** Options of {@link reliabilityDiagramSpec}. */
export interface ReliabilityOptions {
  /** Figure title; ECE is appended to it. */
  title: string;
  /** Expected calibration error of the bins (shown in the title with 4 decimals). */
  ece: number;
  /** Subtitle; default `n = <total count>, <B> bins (<k> empty)`. */
  subtitle?: string;
}

/** A bin row as drawn: the bin plus its drawn edges `x0`, `x1` and its gap. */
interface DrawnBin {
  lower: number;
  upper: number;
  x0: number;
  x1: number;
  count: number;
  meanPredicted: number;
  observed: number;
  gap: number;
}

/** Formats the ECE shown in a title: `ECE = 0.0423`. */
export function formatEce(ece: number): string {
  return `ECE = ${ece.toFixed(4)}`;
}

/** Validates bins and keeps the non-empty ones, with their drawn edges. */
function drawnBins(fn: string, bins: readonly ReliabilityBin[]): DrawnBin[] {
  if (!Array.isArray(bins) || bins.length === 0) {
    throw new RangeError(`${fn}: expected at least one bin; got ${Array.isArray(bins) ? 0 : typeof bins}`);
  }
  const out: DrawnBin[] = [];
  bins.forEach((b, i) => {
    const at = `bins[${i}]`;
    requireFinite(fn, `${at}.lower`, b.lower);
    requireFinite(fn, `${at}.upper`, b.upper);
    if (!(b.lower >= 0 && b.upper <= 1 && b.lower <= b.upper)) {
      throw new RangeError(
        `${fn}: ${at} must satisfy 0 <= lower <= upper <= 1; got [${b.lower}, ${b.upper}]`,
      );
    }
    if (!(Number.isInteger(b.count) && b.count >= 0)) {
      throw new RangeError(`${fn}: ${at}.count must be a non-negative integer; got ${b.count}`);
    }
    if (b.count === 0) return; // empty bins are never drawn (not as accuracy 0)
    for (const key of ["meanPredicted", "observed"] as const) {
      const v = b[key];
      if (!(typeof v === "number" && v >= 0 && v <= 1)) {
        throw new RangeError(`${fn}: ${at}.${key} must be in [0, 1] for a non-empty bin; got ${String(v)}`);
      }
    }
    const meanPredicted = b.meanPredicted as number;
    const observed = b.observed as number;
    let x0 = b.lower;
    let x1 = b.upper;
    if (x1 - x0 < MIN_DRAWN_BIN_WIDTH) {
      const mid = (x0 + x1) / 2;
      x0 = Math.max(0, Math.min(mid - MIN_DRAWN_BIN_WIDTH / 2, 1 - MIN_DRAWN_BIN_WIDTH));
      x1 = x0 + MIN_DRAWN_BIN_WIDTH;
    }
    out.push({
      lower: b.lower,
      upper: b.upper,
      x0,
      x1,
      count: b.count,
      meanPredicted,
      observed,
      gap: meanPredicted - observed,
    });
  });
  return out;
}

/** The [0, 1] probability scale, exactly (no nicing). */
const unitScale = () => ({ domain: [0, 1], nice: false, zero: true });

/**
 * One reliability panel (accuracy bars, gap, diagonal, histogram) as a vconcat, no config. Its marks
 * are named `<prefix>accuracy`, `<prefix>gap`, `<prefix>diagonal`, `<prefix>histogram` (vega mark
 * names must be unique within a figure; tests find the bars by these names).
 */
function panel(
  fn: string,
  prefix: string,
  bins: readonly ReliabilityBin[],
  title: string,
  ece: number,
  subtitle?: string,
) {
  requireFinite(fn, "ece", ece);
  if (ece < 0) throw new RangeError(`${fn}: ece must be >= 0; got ${ece}`);
  const drawn = drawnBins(fn, bins);
  const n = drawn.reduce((s, b) => s + b.count, 0);
  const empty = bins.length - drawn.length;
  const sub = subtitle ?? `n = ${n}, ${bins.length} bins (${empty} empty)`;
  const tooltip = [
    { field: "lower", type: "quantitative", title: "lower edge", format: ".4f" },
    { field: "upper", type: "quantitative", title: "upper edge", format: ".4f" },
    { field: "count", type: "quantitative", title: "count" },
    { field: "meanPredicted", type: "quantitative", title: "mean confidence", format: ".4f" },
    { field: "observed", type: "quantitative", title: "accuracy", format: ".4f" },
  ] as const;
  const legendScale = {
    domain: ["Accuracy", "Gap", "Perfect calibration"],
    range: [ACCURACY_COLOR, GAP_COLOR, NEUTRAL_COLOR],
  };
  const spec: NonNormalizedSpec = {
    title: { text: `${title} — ${formatEce(ece)}`, subtitle: sub },
    spacing: 6,
    resolve: { scale: { x: "shared" } },
    vconcat: [
      {
        width: PANEL_WIDTH,
        height: PANEL_HEIGHT,
        layer: [
          {
            name: `${prefix}accuracy`,
            data: { values: drawn },
            mark: { type: "rect", stroke: "#1f3b57", strokeWidth: 0.6 },
            encoding: {
              x: {
                field: "x0",
                type: "quantitative",
                scale: unitScale(),
                axis: { title: null, tickCount: 10 },
              },
              x2: { field: "x1" },
              y: { field: "observed", type: "quantitative", scale: unitScale(), axis: { title: "Accuracy" } },
              y2: { datum: 0 },
              color: {
                datum: "Accuracy",
                scale: legendScale,
                legend: {
                  title: null,
                  orient: "top-left",
                  fillColor: "white",
                  padding: 4,
                  labelLimit: 220,
                  symbolOpacity: { expr: `datum.value === "Gap" ? ${GAP_OPACITY} : 1` },
                  symbolType: { expr: `datum.value === "Perfect calibration" ? "stroke" : "square"` },
                  symbolStrokeColor: { expr: `datum.value === "Gap" ? "${GAP_COLOR}" : null` },
                },
              },
              tooltip: [...tooltip],
            },
          },
          {
            name: `${prefix}gap`,
            data: { values: drawn },
            mark: { type: "rect", fillOpacity: GAP_OPACITY, stroke: GAP_COLOR, strokeWidth: 1.2 },
            encoding: {
              x: { field: "x0", type: "quantitative" },
              x2: { field: "x1" },
              y: { field: "observed", type: "quantitative" },
              y2: { field: "meanPredicted" },
              color: { datum: "Gap" },
              tooltip: [
                ...tooltip,
                { field: "gap", type: "quantitative", title: "confidence − accuracy", format: "+.4f" },
              ],
            },
          },
          {
            name: `${prefix}diagonal`,
            data: {
              values: [
                { x: 0, y: 0 },
                { x: 1, y: 1 },
              ],
            },
            mark: { type: "line", strokeDash: [5, 4], strokeWidth: 1.5 },
            encoding: {
              x: { field: "x", type: "quantitative" },
              y: { field: "y", type: "quantitative" },
              color: { datum: "Perfect calibration" },
            },
          },
        ],
      },
      {
        name: `${prefix}histogram`,
        width: PANEL_WIDTH,
        height: HISTOGRAM_HEIGHT,
        data: { values: drawn },
        mark: { type: "rect", color: NEUTRAL_COLOR, stroke: "white", strokeWidth: 0.5 },
        encoding: {
          x: {
            field: "x0",
            type: "quantitative",
            scale: unitScale(),
            axis: { title: "Confidence (top-label probability)", tickCount: 10 },
          },
          x2: { field: "x1" },
          y: { field: "count", type: "quantitative", axis: { title: "Count", tickCount: 4 } },
          y2: { datum: 0 },
          tooltip: [...tooltip],
        },
      },
    ],
  };
  return spec;
}

/**
 * A reliability diagram as a vega-lite spec: accuracy per non-empty bin, the gap to its mean
 * confidence, the diagonal, and the confidence histogram (shared x axis), ECE in the title.
 *
 * Each non-empty bin b is one rectangle spanning `[lower_b, upper_b]` in x and `[0, acc_b]` in y
 * (`acc_b` = `observed`); a translucent red rectangle spans `[acc_b, conf_b]` (`conf_b` =
 * `meanPredicted`), so its area shows |acc_b − conf_b|, the summand of
 * `ECE = Σ_b (n_b/n)·|acc_b − conf_b|`. Empty bins (count 0) are not drawn — never as accuracy 0.
 * Works for equal-width and equal-mass bins; a zero-width bin (`lower === upper`) is drawn
 * {@link MIN_DRAWN_BIN_WIDTH} wide. Size: 420×320 panel plus a 90 px histogram.
 *
 * @param bins The calibration layer's bins, in any order; `count` 0 marks an empty bin.
 * @param options `title`, `ece` (shown as `ECE = 0.0423`), optional `subtitle`.
 * @returns A vega-lite `vconcat` spec (render with `renderSvg` / `renderFigure`).
 * @throws RangeError when there is no bin, an edge is outside [0, 1] or reversed, a count is not a
 *   non-negative integer, a non-empty bin's `observed`/`meanPredicted` is not in [0, 1], or `ece`
 *   is negative or not finite.
 * Cost: O(B).
 * @example
 * reliabilityDiagramSpec(
 *   [{ lower: 0, upper: 0.5, count: 0, meanPredicted: null, observed: null },
 *    { lower: 0.5, upper: 1, count: 4, meanPredicted: 0.8, observed: 0.75 }],
 *   { title: "Softmax, test set", ece: 0.05 },
 * ); // title "Softmax, test set — ECE = 0.0500"; one accuracy rectangle over [0.5, 1]
 */
export function reliabilityDiagramSpec(
  bins: readonly ReliabilityBin[],
  options: ReliabilityOptions,
): TopLevelSpec {
  const p = panel("reliabilityDiagramSpec", "", bins, options.title, options.ece, options.subtitle);
  return { $schema: SCHEMA, config: CONFIG, ...p } as TopLevelSpec;
}

/**
 * Reliability diagrams side by side (e.g. before/after temperature scaling, or one-vs-rest vs
 * softmax), each as in {@link reliabilityDiagramSpec} with its own ECE in its title.
 *
 * @param panels One `{ title, bins, ece }` per panel, left to right (at least one).
 * @param options Optional overall `title`, and `notes`: subtitle lines under it (e.g. why the
 *   test split is too small to tell).
 * @returns A vega-lite `hconcat` spec; width ≈ 470 px per panel.
 * @throws RangeError when `panels` is empty or a panel is invalid (see reliabilityDiagramSpec).
 * Cost: O(total bins).
 * @example
 * sideBySideReliabilitySpec([
 *   { title: "before", bins: before, ece: 0.081 },
 *   { title: "after (T = 1.7)", bins: after, ece: 0.019 },
 * ]);
 */
export function sideBySideReliabilitySpec(
  panels: readonly ReliabilityPanel[],
  options: { title?: string; notes?: readonly string[] } = {},
): TopLevelSpec {
  const fn = "sideBySideReliabilitySpec";
  if (!Array.isArray(panels) || panels.length === 0) {
    throw new RangeError(`${fn}: expected at least one panel; got 0`);
  }
  const notes = options.notes ?? [];
  return {
    $schema: SCHEMA,
    config: CONFIG,
    ...(options.title === undefined
      ? {}
      : { title: notes.length > 0 ? { text: options.title, subtitle: [...notes] } : options.title }),
    hconcat: panels.map((p, i) => panel(fn, `panel${i}_`, p.bins, p.title, p.ece)),
  } as TopLevelSpec;
}
