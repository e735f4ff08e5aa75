/**
 * What a run folder holds that softcal wrote (src/experiment/runOutputs.ts):
 * - `--force` removes exactly a softcal run's own files — never a file it did not write, never a
 *   folder that is not a softcal run (refused in one line, exit 2);
 * - `--resume` of a finished run skips its aggregates when they are current (same units, same
 *   version, every file's recorded hash on disk), redoes exactly what is not, and an interrupted
 *   aggregation resumes figure by figure — so repeated interruptions always make progress.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fc, test } from "@fast-check/vitest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InputError } from "../src/errors.js";
import type { RenderFigure, WriteFile } from "../src/experiment/aggregate.js";
import { runExperiments } from "../src/experiment/runner.js";
import type { Experiment } from "../src/experiment/types.js";
import { writeFileAtomic } from "../src/io/atomic.js";
import { cli } from "./_shared/cli.js";
import { runs } from "./_shared/replay.js";
import { snapshot, toyRun } from "./_shared/runs.js";
import { toy, toy2 } from "./_shared/toyExperiments.js";

const roots: string[] = [];
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "softcal-outputs-"));
  roots.push(d);
  return d;
}
afterAll(() => {
  for (const d of roots) fs.rmSync(d, { recursive: true, force: true });
});

/** A fast deterministic renderer that counts what it draws (the real one takes ~0.1 s a figure). */
function countingRender(): { render: RenderFigure; drawn: string[] } {
  const drawn: string[] = [];
  return {
    drawn,
    render: async (spec: object) => {
      const text = JSON.stringify(spec);
      drawn.push((spec as { description?: string }).description ?? text.slice(0, 40));
      return { svg: `<svg>${text}</svg>`, png: new Uint8Array([137, 80, 78, 71, text.length % 256]) };
    },
  };
}

/** The toy with three figures (so an aggregation can be interrupted between figures). */
const toy3: Experiment = {
  ...toy,
  figures: (input) =>
    ["one", "two", "three"].map((name, i) => ({
      name: `fig-${name}`,
      spec: { ...toy.figures!(input)[0].spec, description: `figure ${i}` },
    })),
};

const base = { ...toyRun, figures: true };

/** Every file under `dir` (relative path → bytes), manifests and locks included. */
function allFiles(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.isSymbolicLink()) out[path.relative(dir, full)] = `-> ${fs.readlinkSync(full)}`;
      else out[path.relative(dir, full)] = fs.readFileSync(full, "latin1");
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return out;
}

describe("--force removes only what softcal wrote", () => {
  /** Names a user (or another tool) might leave in a run folder, some looking much like softcal's. */
  const foreignName = fc.constantFrom(
    "notes.txt",
    "mine.csv",
    "runs.csv.bak",
    "summary.csv~",
    "paired.csv",
    ".hidden",
    "config.json.orig",
    "manifest.old.json",
    "units/keep.jsonl",
    "units/p0-s0.jsonl.old",
    "units/README",
    "figures/my-plot.png",
    "figures/toy-value.pdf",
    "data/raw.csv",
  );

  test.prop([fc.uniqueArray(foreignName, { minLength: 1, maxLength: 6 }), fc.integer({ min: 1, max: 3 })], {
    numRuns: runs(12),
  })(
    "a run replaced with --force: every foreign file is kept byte for byte, every file of the old run is gone",
    async (names, seeds) => {
      const out = tmp();
      const { render } = countingRender();
      await runExperiments({ ...base, out, render, seeds: 3 });
      const dir = path.join(out, "toy");
      const oldFiles = Object.keys(allFiles(dir));
      for (const n of names) {
        fs.mkdirSync(path.dirname(path.join(dir, n)), { recursive: true });
        fs.writeFileSync(path.join(dir, n), `user data in ${n}\n`);
      }
      const warnings: string[] = [];
      const r = await runExperiments({
        ...base,
        out,
        render,
        seeds,
        force: true,
        logger: { info() {}, warn: (m) => warnings.push(m) },
      });
      expect(r.exitCode).toBe(0);
      // The new run in a fresh folder, for comparison.
      const fresh = tmp();
      await runExperiments({ ...base, out: fresh, render, seeds });
      const now = allFiles(dir);
      const expected = allFiles(path.join(fresh, "toy"));
      for (const n of names) expect(now[n], n).toBe(`user data in ${n}\n`);
      const foreign = new Set<string>(names);
      const own = Object.keys(now).filter((f) => !foreign.has(f));
      expect(own.sort()).toEqual(Object.keys(expected).sort());
      for (const f of own.filter((x) => !x.startsWith("manifest"))) expect(now[f], f).toBe(expected[f]);
      // Nothing of the old run survives that the new one did not write again.
      for (const f of oldFiles) if (!(f in expected)) expect(now[f], f).toBeUndefined();
      // A folder softcal knows nothing of (data/) is kept whole: named once in the warning.
      const kept = new Set<string>(names.map((n) => (n.startsWith("data/") ? "data" : n)));
      const forceWarnings = warnings.filter((w) => w.includes("--force"));
      expect(forceWarnings, JSON.stringify(warnings)).toHaveLength(1);
      expect(forceWarnings[0]).toContain(
        `--force kept ${kept.size} file${kept.size === 1 ? "" : "s"} no softcal run recorded writing (`,
      );
    },
  );

  it("a symbolic link where the run writes a file is refused before anything is written or removed", async () => {
    const out = tmp();
    await runExperiments({ ...base, out, figures: false });
    const target = path.join(tmp(), "precious.csv");
    fs.writeFileSync(target, "precious\n");
    const dir = path.join(out, "toy");
    fs.rmSync(path.join(dir, "summary.csv"));
    fs.symlinkSync(target, path.join(dir, "summary.csv"));
    const before = allFiles(out);
    for (const over of [{ force: true }, { resume: true }]) {
      await expect(runExperiments({ ...base, out, figures: false, ...over })).rejects.toThrow(
        new InputError("expected a regular file to write (or none); got a symbolic link", {
          file: path.join(dir, "summary.csv"),
        }),
      );
      expect(allFiles(out)).toEqual(before);
    }
    expect(fs.readFileSync(target, "utf8")).toBe("precious\n");
    // A `units` or `figures` that is a link to another folder: refused too; that folder is untouched.
    fs.rmSync(path.join(dir, "summary.csv"));
    fs.copyFileSync(path.join(dir, "runs.csv"), path.join(dir, "summary.csv"));
    const elsewhere = tmp();
    fs.writeFileSync(path.join(elsewhere, "p0-s0.jsonl"), "someone else's\n");
    fs.renameSync(path.join(dir, "units"), path.join(out, "units-moved"));
    fs.symlinkSync(elsewhere, path.join(dir, "units"));
    await expect(runExperiments({ ...base, out, figures: false, force: true })).rejects.toThrow(
      new InputError("expected a folder (or none); got a symbolic link", { file: path.join(dir, "units") }),
    );
    expect(fs.readdirSync(elsewhere)).toEqual(["p0-s0.jsonl"]);
  });

  it("a kept file where the new run writes a table: the run refuses to write over it (exit 2), and resumes once it is moved", async () => {
    const out = tmp();
    const opts = { ...base, experiments: [toy], out, figures: false };
    await runExperiments({ ...opts, seeds: 2 });
    const dir = path.join(out, "toy");
    // Removed by --force (recorded) and put back by the user before the new run writes it.
    const table = path.join(dir, "toy-table.csv");
    let r: unknown;
    await runExperiments({
      ...opts,
      force: true,
      progress: (e) => {
        if (e.experiment === "toy" && e.done === 1 && !fs.existsSync(table))
          fs.writeFileSync(table, "mine\n");
      },
    }).catch((e) => {
      r = e;
    });
    expect(r).toEqual(
      new InputError(
        "expected no file here (the run writes one of that name, and no softcal run recorded writing this one); got one — move it away, then run again with --resume",
        { file: table },
      ),
    );
    expect(fs.readFileSync(table, "utf8")).toBe("mine\n");
    fs.renameSync(table, path.join(out, "mine.csv"));
    const again = await runExperiments({ ...opts, resume: true });
    expect(again.exitCode).toBe(0);
    const reference = tmp();
    await runExperiments({ ...opts, out: reference });
    expect(snapshot(dir)).toEqual(snapshot(path.join(reference, "toy")));
  });

  it("a folder that is not a softcal run is refused in one line, with or without --force, and nothing changes", async () => {
    const out = tmp();
    const dir = path.join(out, "toy");
    fs.mkdirSync(path.join(dir, "units"), { recursive: true });
    fs.mkdirSync(path.join(dir, "figures"));
    for (const f of ["a.csv", "units/x.jsonl", "figures/plot.svg"]) fs.writeFileSync(path.join(dir, f), f);
    const before = allFiles(out);
    const refusal = new InputError(
      "expected a softcal run folder (with its config.json) or an empty folder; got a folder holding a.csv and 2 more, which softcal did not write — choose another --out, or move those files away",
      { file: dir },
    );
    for (const over of [{ force: true }, {}, { resume: true }]) {
      await expect(runExperiments({ ...base, out, ...over })).rejects.toThrow(refusal);
      expect(allFiles(out)).toEqual(before);
    }
    // A config.json that is not a softcal run's: refused too (readConfig says why).
    fs.writeFileSync(path.join(dir, "config.json"), '{"hello": "world"}\n');
    const before2 = allFiles(out);
    await expect(runExperiments({ ...base, out, force: true })).rejects.toThrow(InputError);
    expect(allFiles(out)).toEqual(before2);
  });

  it("a folder holding only a run's leftovers (a dead process's lock, temp files, an empty units/) is used", async () => {
    const out = tmp();
    const dir = path.join(out, "toy");
    fs.mkdirSync(path.join(dir, "units"), { recursive: true });
    fs.writeFileSync(path.join(dir, ".config.json.999999.0.0.tmp"), "partial");
    fs.writeFileSync(path.join(dir, "units", ".p0-s0.jsonl.999999.0.1.tmp"), "partial");
    fs.writeFileSync(
      path.join(dir, ".lock"),
      JSON.stringify({ pid: 2 ** 22 + 1, host: os.hostname(), startedAt: "then" }),
    );
    const r = await runExperiments({ ...base, out, figures: false });
    expect(r.exitCode).toBe(0);
    const reference = tmp();
    await runExperiments({ ...base, out: reference, figures: false });
    expect(snapshot(dir)).toEqual(snapshot(path.join(reference, "toy")));
    expect(Object.keys(allFiles(dir)).filter((f) => f.endsWith(".tmp") || f.startsWith(".lock"))).toEqual([]);
  });

  it("a run written without an outputs record (an older softcal): --force keeps its tables and figures, says so, and may write over them", async () => {
    const out = tmp();
    const { render } = countingRender();
    await runExperiments({ ...base, out, render });
    const dir = path.join(out, "toy");
    const m = JSON.parse(fs.readFileSync(path.join(dir, "manifest.json"), "utf8"));
    delete m.outputs;
    delete m.aggregates;
    fs.writeFileSync(path.join(dir, "manifest.json"), JSON.stringify(m));
    const warnings: string[] = [];
    await runExperiments({
      ...base,
      out,
      render,
      figures: false,
      force: true,
      logger: { info() {}, warn: (w) => warnings.push(w) },
    });
    expect(warnings).toEqual([
      `${dir}: --force kept 4 files no softcal run recorded writing (figures/toy-value.png, figures/toy-value.svg, figures/toy-value.vl.json, … (1 more)); remove them yourself if not wanted`,
    ]);
    // The new run wrote its table over the old one's (allowed: the folder is marked legacy).
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, "manifest.json"), "utf8"));
    expect(manifest.legacy).toBe(true);
    expect(manifest.outputs).toEqual(["toy-table.csv"]);
    const reference = tmp();
    await runExperiments({ ...base, out: reference, figures: false });
    expect(fs.readFileSync(path.join(dir, "toy-table.csv"), "utf8")).toBe(
      fs.readFileSync(path.join(reference, "toy", "toy-table.csv"), "utf8"),
    );
  });

  it("`softcal run --force` onto a folder softcal did not write: exit 2, one line, nothing removed", async () => {
    const out = tmp();
    fs.mkdirSync(path.join(out, "baseline"));
    fs.writeFileSync(path.join(out, "baseline", "thesis.csv"), "1,2\n");
    const r = await cli(
      "run",
      "baseline",
      "--quick",
      "--seeds",
      "1",
      "--no-figures",
      "--force",
      "--out",
      out,
    );
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain("got a folder holding thesis.csv, which softcal did not write");
    expect(fs.readFileSync(path.join(out, "baseline", "thesis.csv"), "utf8")).toBe("1,2\n");
  });
});

describe("--resume skips what is complete and current", () => {
  let reference: Record<string, string>;
  beforeAll(async () => {
    const out = tmp();
    await runExperiments({ ...base, experiments: [toy3, toy2], out, render: countingRender().render });
    reference = allFilesBut(out);
  });

  /** Every file of both run folders except manifests (they hold times). */
  function allFilesBut(out: string): Record<string, string> {
    return Object.fromEntries(
      Object.entries(allFiles(out)).filter(([f]) => !path.basename(f).startsWith("manifest")),
    );
  }

  /** A writer that records which files were written. */
  function spyWriter(): { write: WriteFile; written: string[] } {
    const written: string[] = [];
    return {
      written,
      write: (file, data, options) => {
        written.push(path.basename(file));
        writeFileAtomic(file, data, options);
      },
    };
  }

  it("resuming a finished run writes no aggregate and draws no figure; the files stay byte-identical", async () => {
    const out = tmp();
    const first = countingRender();
    await runExperiments({ ...base, experiments: [toy3, toy2], out, render: first.render });
    expect(first.drawn).toHaveLength(3);
    const again = countingRender();
    const spy = spyWriter();
    const r = await runExperiments({
      ...base,
      experiments: [toy3, toy2],
      out,
      resume: true,
      render: again.render,
      writeFile: spy.write,
    });
    expect(r.exitCode).toBe(0);
    expect(r.experiments.map((e) => [e.unitsRun, e.aggregated, e.aggregatesReused])).toEqual([
      [0, true, true],
      [0, true, true],
    ]);
    expect(again.drawn).toEqual([]);
    expect([...new Set(spy.written)].sort()).toEqual(["config.json", "manifest.json"]);
    expect(r.experiments[0].figures.map((f) => path.basename(f))).toEqual(
      ["one", "two", "three"].flatMap((n) => [`fig-${n}.svg`, `fig-${n}.png`, `fig-${n}.vl.json`]),
    );
    expect(allFilesBut(out)).toEqual(reference);
  });

  it("what is not current is redone, and only that: an edited table, a deleted figure, figures first skipped, another version", async () => {
    const out = tmp();
    const opts = { ...base, experiments: [toy3], out };
    await runExperiments({ ...opts, render: countingRender().render });
    const dir = path.join(out, "toy");
    const resume = async (over: object = {}) => {
      const c = countingRender();
      const spy = spyWriter();
      const r = await runExperiments({
        ...opts,
        resume: true,
        render: c.render,
        writeFile: spy.write,
        ...over,
      });
      expect(r.exitCode).toBe(0);
      return { drawn: c.drawn, written: spy.written.filter((f) => !f.startsWith("manifest")), r };
    };
    const toyReference = Object.fromEntries(
      Object.entries(reference).filter(([f]) => f.startsWith(`toy${path.sep}`)),
    );
    // An edited summary.csv: rewritten; nothing drawn.
    fs.appendFileSync(path.join(dir, "summary.csv"), "tampered\n");
    let a = await resume();
    expect(a.drawn).toEqual([]);
    expect(a.written.sort()).toEqual(["config.json", "summary.csv"]);
    expect(allFilesBut(out)).toEqual(toyReference);
    // A deleted figure: only that figure is drawn and written again.
    fs.rmSync(path.join(dir, "figures", "fig-two.png"));
    a = await resume();
    expect(a.drawn).toEqual(["figure 1"]);
    expect(a.written.sort()).toEqual(["config.json", "fig-two.png"]);
    expect(allFilesBut(out)).toEqual(toyReference);
    // --no-figures, then figures: the CSVs are current, the figures are drawn once more only if
    // they changed — they did not, so nothing is drawn.
    a = await resume({ figures: false });
    expect(a.r.experiments[0].aggregatesReused).toBe(true);
    expect(a.r.experiments[0].figures).toEqual([]);
    a = await resume();
    expect(a.drawn).toEqual([]);
    // Another softcal version wrote them: everything is recomputed (same bytes).
    const m = JSON.parse(fs.readFileSync(path.join(dir, "manifest.json"), "utf8"));
    m.aggregates.softcalVersion = "0.0.1-older";
    fs.writeFileSync(path.join(dir, "manifest.json"), JSON.stringify(m));
    a = await resume();
    expect(a.drawn).toEqual(["figure 0", "figure 1", "figure 2"]);
    expect(allFilesBut(out)).toEqual(toyReference);
    // The experiment's figure code changed (same name, same units): the figures are drawn anew.
    const retitled: Experiment = {
      ...toy3,
      figures: (input) => toy3.figures!(input).map((f) => ({ ...f, spec: { ...f.spec, title: "new" } })),
    };
    a = await resume({ experiments: [retitled] });
    expect(a.drawn).toEqual(["figure 0", "figure 1", "figure 2"]);
    expect(fs.readFileSync(path.join(dir, "figures", "fig-one.vl.json"), "utf8")).toContain('"title":"new"');
    a = await resume({ experiments: [retitled] });
    expect(a.drawn).toEqual([]);
  });

  it("a run first finished without figures: resuming with figures draws them, and writes no CSV again", async () => {
    const out = tmp();
    await runExperiments({ ...base, experiments: [toy3], out, figures: false });
    const c = countingRender();
    const spy = spyWriter();
    const r = await runExperiments({
      ...base,
      experiments: [toy3],
      out,
      resume: true,
      render: c.render,
      writeFile: spy.write,
    });
    expect(r.experiments[0].aggregatesReused).toBeUndefined();
    expect(c.drawn).toEqual(["figure 0", "figure 1", "figure 2"]);
    expect(spy.written.filter((f) => f.endsWith(".csv"))).toEqual([]);
  });

  it("a lost unit file: its units run again with the same records, so the aggregates are still current", async () => {
    const out = tmp();
    await runExperiments({ ...base, experiments: [toy3], out, render: countingRender().render });
    fs.rmSync(path.join(out, "toy", "units", "p2-s1.jsonl"));
    const c = countingRender();
    const r = await runExperiments({ ...base, experiments: [toy3], out, resume: true, render: c.render });
    expect(r.experiments[0].unitsRun).toBe(1);
    expect(r.experiments[0].aggregatesReused).toBe(true);
    expect(c.drawn).toEqual([]);
  });

  test.prop([fc.array(fc.integer({ min: 0, max: 14 }), { minLength: 1, maxLength: 6 })], {
    numRuns: runs(15),
  })(
    "interrupted again and again during the aggregates, each resume makes progress and the end is the same bytes",
    async (crashAt) => {
      // Attempt i dies at its crashAt[i]-th file write of the aggregates or figures (manifests
      // and unit files excepted) — as a kill between two files would. Each later attempt writes
      // again only what is not on disk as recorded, and draws a figure again only if the kill
      // came between its first and last file.
      const out = tmp();
      const opts = { ...base, experiments: [toy3, toy2], out };
      let drawn = 0;
      let crashes = 0;
      for (const n of crashAt) {
        const c = countingRender();
        let seen = 0;
        const write: WriteFile = (file, data, o) => {
          const name = path.basename(file);
          const isAggregate =
            !name.startsWith("manifest") &&
            name !== "config.json" &&
            !file.includes(`${path.sep}units${path.sep}`);
          if (isAggregate && seen++ === n) throw new Error("killed");
          writeFileAtomic(file, data, o);
        };
        const r = await runExperiments({ ...opts, resume: true, render: c.render, writeFile: write }).then(
          () => "done",
          (e: Error) => e.message,
        );
        drawn += c.drawn.length;
        if (r === "killed") crashes++;
        else expect(r).toBe("done");
      }
      const last = countingRender();
      const r = await runExperiments({ ...opts, resume: true, render: last.render });
      expect(r.exitCode).toBe(0);
      drawn += last.drawn.length;
      // Three figures, each drawn once, plus at most one more per kill (a kill inside a figure).
      expect(drawn).toBeGreaterThanOrEqual(3);
      expect(drawn).toBeLessThanOrEqual(3 + crashes);
      expect(allFilesBut(out)).toEqual(reference);
    },
  );

  it("killed every 7 writes, resume after resume gets past the finished first experiment and completes", async () => {
    // Each attempt dies at its 7th file write (every later write fails too, as after a kill). A
    // resume that redid a finished experiment's aggregates (runs, summary, reliability, its table,
    // manifests) spent its writes there and never reached the next experiment: it looped forever.
    const out = tmp();
    const opts = { ...base, figures: false, out };
    await runExperiments({ ...opts, experiments: [toy] });
    const toyFiles = allFilesBut(path.join(out, "toy"));
    let attempts = 0;
    for (; attempts < 30; attempts++) {
      let writes = 0;
      const rewritten: string[] = [];
      const write: WriteFile = (file, data, o) => {
        if (++writes >= 7) throw new Error("killed");
        if (file.startsWith(path.join(out, "toy") + path.sep) && !/manifest|config/.test(file))
          rewritten.push(file);
        writeFileAtomic(file, data, o);
      };
      const r = await runExperiments({ ...opts, resume: true, writeFile: write }).then(
        (x) => x.exitCode,
        (e: Error) => e.message,
      );
      expect(rewritten).toEqual([]);
      if (r === 0) break;
      expect(r).toBe("killed");
    }
    expect(attempts).toBeLessThan(30);
    expect(allFilesBut(path.join(out, "toy"))).toEqual(toyFiles);
    const reference = tmp();
    await runExperiments({ ...opts, out: reference });
    expect(snapshot(path.join(out, "toy2"))).toEqual(snapshot(path.join(reference, "toy2")));
  });

  it("the aggregates of an interrupted or failed run are not written, and the outcome says why (no mention of shards)", async () => {
    const out = tmp();
    const ac = new AbortController();
    const r = await runExperiments({
      ...base,
      figures: false,
      out,
      signal: ac.signal,
      progress: (e) => {
        if (e.done === 4) ac.abort();
      },
    });
    expect(r.experiments[0].notAggregated).toBe(
      "interrupted before the aggregates; --resume finishes the run",
    );
    const s = await runExperiments({ ...base, figures: false, out: tmp(), shard: { index: 1, count: 2 } });
    expect(s.experiments[0].notAggregated).toBe(
      "the aggregates wait for the other shards: 7 units missing; run `softcal merge` when all shards finished",
    );
    const done = await runExperiments({ ...base, figures: false, out: tmp() });
    expect(done.experiments[0].notAggregated).toBeUndefined();
  });
});
