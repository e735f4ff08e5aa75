/**
 * Headless rendering: vega-lite spec → SVG (vega, no browser, no canvas) → PNG (resvg with the
 * shipped DejaVu Sans fonts only). Same spec ⇒ byte-identical SVG and PNG on any machine.
 *
 * The font trap (STACK.md): resvg draws no text at all when it finds no font, silently. So the
 * fonts are the two files shipped by the npm package `dejavu-fonts-ttf`, system fonts are off,
 * and every family (including generic `sans-serif`) maps to "DejaVu Sans".
 */
import { createRequire } from "node:module";
import type * as ResvgModule from "@resvg/resvg-js";
import type { ResvgRenderOptions } from "@resvg/resvg-js";
import type * as Vega from "vega";
import type * as VegaLite from "vega-lite";
import type { TopLevelSpec } from "vega-lite";
import { FONT } from "./theme.js";

const require = createRequire(import.meta.url);

// vega, vega-lite and resvg load on the first figure rendered, never when the library is imported
// (they are most of a cold `import("softcal")`).
let libraries: Promise<{ vega: typeof Vega; vegaLite: typeof VegaLite }> | undefined;
function renderers(): Promise<{ vega: typeof Vega; vegaLite: typeof VegaLite }> {
  libraries ??= Promise.all([import("vega"), import("vega-lite")]).then(([vega, vegaLite]) => ({
    vega,
    vegaLite,
  }));
  return libraries;
}
let resvg: typeof ResvgModule | undefined;

/** Absolute paths of the two shipped fonts (regular and bold DejaVu Sans). */
export const FONT_FILES: readonly string[] = [
  require.resolve("dejavu-fonts-ttf/ttf/DejaVuSans.ttf"),
  require.resolve("dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf"),
];

/** Options of {@link renderSvg}. */
export interface RenderOptions {
  /** Called with each vega-lite compile warning and vega runtime warning (default: ignored). */
  onWarning?: (message: string) => void;
}

/** A vega logger that forwards warnings and errors as one string each. */
function captureLogger(vega: typeof Vega, onWarning: (message: string) => void) {
  return vega.logger(vega.Warn, undefined, (_method, level, args) => {
    onWarning(`${level} ${args.map((a) => (a instanceof Error ? a.message : String(a))).join(" ")}`);
  });
}

/**
 * Compiles a vega-lite spec to a vega spec, collecting compile warnings instead of printing them.
 *
 * @returns `{ spec, warnings }`: the vega spec and every warning vega-lite raised (empty when clean).
 * @throws Whatever vega-lite throws for a malformed spec (an Error naming the problem).
 * Cost: proportional to the spec size (data values are copied into the vega spec).
 * @example
 * (await compileSpec({ mark: "point", data: { values: [] }, encoding: {} })).warnings; // []
 */
export async function compileSpec(spec: TopLevelSpec): Promise<{ spec: Vega.Spec; warnings: string[] }> {
  const { vega, vegaLite } = await renderers();
  const warnings: string[] = [];
  const compiled = vegaLite.compile(spec, { logger: captureLogger(vega, (m) => warnings.push(m)) }).spec;
  return { spec: compiled, warnings };
}

/**
 * Renumbers vega's SVG definition ids (`clipN`, `gradient_N`, `p_gradient_N`) in order of first
 * appearance. vega draws them from process-wide counters, so without this the second rendering of
 * the same spec in one process differs from the first (`clip1` vs `clip3`).
 */
export function normalizeSvgIds(svg: string): string {
  const next = new Map<string, number>();
  const seen = new Map<string, number>();
  return svg.replace(
    /(id="|url\(#|href="#)(p_)?(clip|gradient_)(\d+)/g,
    (_m, ctx: string, pattern: string | undefined, kind: string, n: string) => {
      const key = `${kind}${n}`;
      let id = seen.get(key);
      if (id === undefined) {
        id = (next.get(kind) ?? 0) + 1;
        next.set(kind, id);
        seen.set(key, id);
      }
      return `${ctx}${pattern ?? ""}${kind}${id}`;
    },
  );
}

/**
 * Renders a vega-lite spec to an SVG string, headlessly:
 * `vl.compile` → `vega.parse` → `new vega.View(…, { renderer: "none" }).toSVG()`; the view is
 * finalized afterwards, and clip/gradient ids are renumbered ({@link normalizeSvgIds}) so the
 * same spec gives the same bytes however many figures the process drew before. Text widths are
 * vega's estimates (no canvas), so layout is the same on every machine.
 *
 * @param spec A vega-lite spec (e.g. from `reliabilityDiagramSpec`); data must be inline.
 * @param options `onWarning` receives compile and runtime warnings (default: ignored).
 * @returns The SVG document (starts with `<svg`), with explicit `width`/`height` in pixels.
 * @throws Error when vega-lite or vega reject the spec.
 * Cost: O(marks).
 * @example
 * const svg = await renderSvg(reliabilityDiagramSpec(bins, { title: "test", ece: 0.03 }));
 */
export async function renderSvg(spec: TopLevelSpec, options: RenderOptions = {}): Promise<string> {
  const onWarning = options.onWarning ?? (() => {});
  const { vega, vegaLite } = await renderers();
  const logger = captureLogger(vega, onWarning);
  const compiled = vegaLite.compile(spec, { logger }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none", logger, logLevel: vega.Warn });
  try {
    return normalizeSvgIds(await view.toSVG());
  } finally {
    view.finalize();
  }
}

/** Options of {@link svgToPng}. */
export interface PngOptions {
  /** Zoom factor: the PNG is `round(scale·width)` × `round(scale·height)` pixels (default 2). */
  scale?: number;
}

/** The resvg options: shipped fonts only, every family → DejaVu Sans. */
function resvgOptions(scale: number): ResvgRenderOptions {
  return {
    font: {
      fontFiles: [...FONT_FILES],
      loadSystemFonts: false,
      defaultFontFamily: FONT,
      sansSerifFamily: FONT,
      serifFamily: FONT,
      monospaceFamily: FONT,
      cursiveFamily: FONT,
      fantasyFamily: FONT,
    },
    fitTo: { mode: "zoom", value: scale },
    shapeRendering: 2,
    textRendering: 1,
    logLevel: "off",
  };
}

function checkScale(scale: number): void {
  if (!(typeof scale === "number" && scale > 0 && Number.isFinite(scale))) {
    throw new RangeError(`svgToPng: scale must be a finite number > 0; got ${String(scale)}`);
  }
}

/**
 * Rasterizes an SVG with resvg to raw RGBA pixels and PNG bytes (the PNG of {@link svgToPng}).
 * Internal helper for tests that inspect pixels; not part of the public API.
 */
export function svgToImage(
  svg: string,
  { scale = 2 }: PngOptions = {},
): { width: number; height: number; pixels: Uint8Array; png: Uint8Array } {
  checkScale(scale);
  resvg ??= require("@resvg/resvg-js") as typeof ResvgModule;
  const image = new resvg.Resvg(svg, resvgOptions(scale)).render();
  return {
    width: image.width,
    height: image.height,
    pixels: new Uint8Array(image.pixels),
    png: new Uint8Array(image.asPng()),
  };
}

/**
 * Rasterizes an SVG to PNG bytes with resvg, using only the shipped DejaVu Sans fonts
 * (`loadSystemFonts: false`), so the bytes do not depend on the machine.
 *
 * @param svg An SVG document (e.g. from {@link renderSvg}).
 * @param options `scale` (default 2: a 420-px-wide panel becomes 840 px, crisp in print).
 * @returns PNG bytes (signature `89 50 4E 47 0D 0A 1A 0A`).
 * @throws RangeError for a non-positive scale; Error when resvg cannot parse the SVG.
 * Cost: O(output pixels).
 * @example
 * const png = svgToPng(await renderSvg(spec), { scale: 1 });
 */
export function svgToPng(svg: string, { scale = 2 }: PngOptions = {}): Uint8Array {
  checkScale(scale);
  resvg ??= require("@resvg/resvg-js") as typeof ResvgModule;
  // The PNG only: no copy of the raw pixels (a few MB per figure).
  return new Uint8Array(new resvg.Resvg(svg, resvgOptions(scale)).render().asPng());
}

/**
 * Renders a vega-lite spec to both SVG and PNG (`renderSvg`, then `svgToPng` at scale 2).
 *
 * @returns `{ svg, png }`, deterministic for a given spec.
 * @throws As {@link renderSvg} and {@link svgToPng}.
 * Cost: O(marks + output pixels).
 * @example
 * const { svg, png } = await renderFigure(lossCurveSpec(rows));
 */
export async function renderFigure(
  spec: TopLevelSpec,
  options: RenderOptions & PngOptions = {},
): Promise<{ svg: string; png: Uint8Array }> {
  const svg = await renderSvg(spec, options);
  return { svg, png: svgToPng(svg, options) };
}
