/**
 * Start-up: each command loads only what it needs. `softcal --help` loads no command module; `fit`,
 * `predict` and `evaluate` never load plotting, CSV-writing, progress-bar or experiment code (the
 * figure of `evaluate --plot` loads on demand). Speed itself is measured by `npm run bench`, never
 * here: these tests check what is loaded, which decides it.
 */
import { describe, expect, it } from "vitest";
import { buildProgram } from "../src/cli/main.js";
import { cli } from "./_shared/cli.js";
import { staticGraph } from "./_shared/staticGraph.js";

const io = { stdout: () => {}, stderr: () => {}, stderrIsTTY: false, env: {} };

/** Packages no start-up path of fit, predict or evaluate may load. */
const HEAVY = ["vega", "vega-lite", "vega-embed", "@resvg/resvg-js", "cli-progress", "csv-stringify"];

describe("what each command loads", () => {
  it("the entry point loads commander and no command module", () => {
    const g = staticGraph("src/cli/main.ts");
    expect(g.packages.filter((p) => !p.startsWith("node:"))).toEqual(["commander"]);
    expect(g.files.sort()).toEqual(["src/cli/io.ts", "src/cli/main.ts", "src/errors.ts", "src/version.ts"]);
  });

  it.each(["fit", "predict", "evaluate"])(
    "%s loads no plotting, CSV writer package, progress bar or experiment",
    (cmd) => {
      const g = staticGraph(`src/cli/${cmd}.ts`);
      for (const p of HEAVY) expect(g.packages, p).not.toContain(p);
      expect(
        g.files.filter(
          (f) => f.startsWith("src/experiment/") || f.startsWith("experiments/") || f.startsWith("src/plot/"),
        ),
      ).toEqual([]);
    },
  );

  it("a plain fit does not load cross-fitting or the fitting recalibrators (--calibrate loads them)", () => {
    const g = staticGraph("src/cli/fit.ts");
    for (const f of [
      "crossFit",
      "recalibrators/registry",
      "recalibrators/temperature",
      "recalibrators/dirichlet",
    ])
      expect(g.files).not.toContain(`src/calibration/${f}.ts`);
  });
});

describe("the top-level help lists commands without loading them", () => {
  it("is the same text as with every command loaded (names, usage terms, summaries, order)", async () => {
    const full = await buildProgram(io);
    const lazy = await buildProgram(io, undefined, ["--help"]);
    expect(lazy.helpInformation()).toBe(full.helpInformation());
    // And it lists every command the loaded program has.
    expect(lazy.commands.map((c) => c.name())).toEqual(full.commands.map((c) => c.name()));
  });

  it("each command's own help is the loaded command's (softcal CMD --help, softcal help CMD)", async () => {
    const full = await buildProgram(io);
    for (const c of full.commands) {
      const a = await cli(c.name(), "--help");
      const b = await cli("help", c.name());
      expect(a.code, c.name()).toBe(0);
      expect(a.stdout.startsWith(c.helpInformation()), c.name()).toBe(true);
      expect(b.stdout, c.name()).toBe(a.stdout);
    }
  });

  it("an unknown command is still refused with exit 2, one line", async () => {
    const r = await cli("fitt", "--data", "iris");
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("softcal: unknown command 'fitt'\n");
  });
});
