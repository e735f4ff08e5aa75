/** Writing figures to disk: SVG and/or PNG, atomically (temp file in the same folder, then rename). */
import { extname } from "node:path";
import type { TopLevelSpec } from "vega-lite";
import { InputError } from "../errors.js";
import { writeFileAtomic } from "../io/atomic.js";
import { type PngOptions, renderSvg, svgToPng } from "./render.js";

/**
 * Renders a spec and writes it to `file` as SVG or PNG, chosen by the extension (`.svg`/`.png`,
 * any case), atomically (`writeFileAtomic`: a reader never sees half a file). For
 * `softcal evaluate --plot FILE.svg|FILE.png`.
 *
 * @param spec A vega-lite spec (e.g. `reliabilityDiagramSpec(...)`).
 * @param file Target path; its folder must exist.
 * @param options `scale` of the PNG (default 2); `flag` names the option in the error (default "--plot").
 * @throws InputError (exit 2) when the extension is neither .svg nor .png — checked before any
 *   rendering or writing; file-system errors unchanged.
 * Cost: O(marks) for SVG, plus O(pixels) for PNG.
 * @example
 * await writeFigureFile(reliabilityDiagramSpec(bins, { title: "test", ece }), "reliability.png");
 */
export async function writeFigureFile(
  spec: TopLevelSpec,
  file: string,
  options: PngOptions & { flag?: string } = {},
): Promise<void> {
  const ext = extname(file).toLowerCase();
  if (ext !== ".svg" && ext !== ".png") {
    throw new InputError(
      `${options.flag ?? "--plot"}: expected a file name ending in .svg or .png; got ${JSON.stringify(file)}`,
    );
  }
  const svg = await renderSvg(spec);
  writeFileAtomic(file, ext === ".svg" ? svg : svgToPng(svg, options));
}

/**
 * Renders a spec once and writes `<base>.svg` and `<base>.png` atomically (a run directory's plots).
 *
 * @param spec A vega-lite spec.
 * @param base Path without extension, e.g. `results/baseline/reliability`; its folder must exist.
 * @param options `scale` of the PNG (default 2).
 * @returns The two paths written, `{ svg, png }`.
 * @throws File-system errors unchanged; Error when vega rejects the spec.
 * Cost: O(marks + pixels).
 * @example
 * await writeFigureFiles(lossCurveSpec(rows), join(runDir, "loss")); // loss.svg, loss.png
 */
export async function writeFigureFiles(
  spec: TopLevelSpec,
  base: string,
  options: PngOptions = {},
): Promise<{ svg: string; png: string }> {
  const svg = await renderSvg(spec);
  const png = svgToPng(svg, options);
  const paths = { svg: `${base}.svg`, png: `${base}.png` };
  writeFileAtomic(paths.svg, svg);
  writeFileAtomic(paths.png, png);
  return paths;
}
