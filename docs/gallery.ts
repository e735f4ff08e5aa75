/**
 * `npm run gallery`: runs every experiment (default seeds; `all`, then `recalibration` on its demo
 * outputs) into a temporary folder and copies the
 * README's figures to docs/gallery/ as PNG (scale 1, to keep the repository small). The images are
 * regenerated, never edited by hand; the same seeds give the same pictures.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TopLevelSpec } from "vega-lite";
import { runCli } from "../src/cli/main.js";
import { writeFileAtomic } from "../src/io/atomic.js";
import { renderSvg, svgToPng } from "../src/plot/render.js";

const FIGURES: [experiment: string, figure: string][] = [
  ["baseline", "data-lesson"],
  ["baseline", "training-loss"],
  ["baseline", "decision-regions-lesson"],
  ["baseline", "reliability-lesson"],
  ["l2-sweep", "ece-vs-l2"],
  ["l2-sweep", "nll-vs-l2"],
  ["l2-sweep", "reliability-clusters"],
  ["temperature", "reliability-before-after-clusters-large"],
  ["temperature", "ece-effect-vs-l2"],
  ["temperature", "reliability-before-after-clusters"],
  ["ovr-vs-softmax", "decision-regions-clusters-ovr"],
  ["ovr-vs-softmax", "decision-regions-clusters-softmax"],
  ["ovr-vs-softmax", "reliability-iris"],
  ["recalibration", "ece-effect-by-method"],
  ["recalibration", "nll-effect-by-method"],
];

const out = mkdtempSync(join(tmpdir(), "softcal-gallery-"));
try {
  for (const experiment of ["all", "recalibration"]) {
    const code = await runCli(["run", experiment, "--out", out]);
    if (code !== 0) throw new Error(`softcal run ${experiment} failed with exit code ${code}`);
  }
  const dest = new URL("./gallery/", import.meta.url).pathname;
  mkdirSync(dest, { recursive: true });
  for (const [experiment, figure] of FIGURES) {
    const spec = JSON.parse(readFileSync(join(out, experiment, "figures", `${figure}.vl.json`), "utf8"));
    const png = svgToPng(await renderSvg(spec as TopLevelSpec), { scale: 1 });
    writeFileAtomic(join(dest, `${experiment}--${figure}.png`), png);
    process.stderr.write(`docs/gallery/${experiment}--${figure}.png\n`);
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}
