/**
 * Run folders are untrusted input (issue 16, item 7): they come from other machines and CI
 * artifacts. Each damage a hostile or broken folder can hold — a field of the wrong type, a short
 * CSV row, a truncated or absurdly nested JSON file, a FIFO, a device, a symlink out of the folder,
 * a huge file — must end `report`, `show`, `merge` and `--resume` with exit 2 and one line naming
 * the file, promptly and without reading the file whole; and a figure spec's `usermeta` must not
 * change the page's embed options.
 *
 * Cases that would hang or exhaust memory if the protection regressed (a FIFO, /dev/zero) run in a
 * child process, awaited by its exit event; a guard kills it after 60 s so a regression fails
 * this test instead of hanging the suite.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { fc, test } from "@fast-check/vitest";
import type { TopLevelSpec } from "vega-lite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InputError } from "../src/errors.js";
import { mergeRuns } from "../src/experiment/merge.js";
import { RUN_FILE_LIMITS } from "../src/experiment/runFiles.js";
import { runExperiments } from "../src/experiment/runner.js";
import type { Experiment } from "../src/experiment/types.js";
import { formatBytes, jsonTooDeep, readBoundedTextIfPresent } from "../src/io/readBounded.js";
import { htmlPage } from "../src/plot/html.js";
import { cli } from "./_shared/cli.js";
import { toyRun } from "./_shared/runs.js";
import { toy, toy2 } from "./_shared/toyExperiments.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const roots: string[] = [];
const children: ChildProcess[] = [];
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "softcal-untrusted-"));
  roots.push(d);
  return d;
}
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  for (const d of roots) fs.rmSync(d, { recursive: true, force: true });
});

/** A renderer that costs nothing (the figures' bytes do not matter here). */
const render = async (spec: object) => ({
  svg: `<svg xmlns="http://www.w3.org/2000/svg">${JSON.stringify(spec).length}</svg>`,
  png: new Uint8Array([137, 80, 78, 71]),
});

function regexEscape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Exit 2 and exactly one line on stderr, `softcal: <file>[:line[:column]]: expected …`. */
function expectOneLineNaming(r: { code: number | null; stderr: string }, file: string): void {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr.endsWith("\n")).toBe(true);
  expect(r.stderr.trimEnd().split("\n"), r.stderr).toHaveLength(1);
  expect(r.stderr).toMatch(new RegExp(`^softcal: ${regexEscape(file)}(:\\d+){0,2}: expected `));
}

/** A JSON array nested `depth` levels deep (what JSON.parse accepts and any recursive walk chokes on). */
function deepJson(depth: number): string {
  return `${"[".repeat(depth)}${"]".repeat(depth)}`;
}

function editJson(file: string, edit: (o: Record<string, unknown>) => void): void {
  const o = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
  edit(o);
  fs.writeFileSync(file, JSON.stringify(o, null, 2));
}

/** A sparse file of `bytes` bytes (no disk blocks used). */
function sparse(file: string, bytes: number): void {
  fs.rmSync(file, { force: true });
  const fd = fs.openSync(file, "w");
  fs.ftruncateSync(fd, bytes);
  fs.closeSync(fd);
}

let template = "";
beforeAll(async () => {
  // A finished toy run with its figure (spec kept beside the images) and its extra table.
  template = tmp();
  await runExperiments({ ...toyRun, experiments: [toy], seeds: 2, out: template, figures: true, render });
});

/** A fresh copy of the template run: `out` (the folder of runs) and `dir` (the toy run folder). */
function freshRun(): { out: string; dir: string } {
  const out = tmp();
  fs.cpSync(template, out, { recursive: true });
  return { out, dir: path.join(out, "toy") };
}

describe("the bounded reader's checks", () => {
  /** Nesting depth of a parsed JSON value (arrays and objects count one level each). */
  function depthOf(v: unknown): number {
    if (v === null || typeof v !== "object") return 0;
    return 1 + Math.max(0, ...Object.values(v as object).map(depthOf));
  }
  // Strings full of brackets, quotes and backslashes: only structure may count.
  const tricky = fc
    .jsonValue({ maxDepth: 6 })
    .chain((v) =>
      fc
        .array(fc.constantFrom("[", "]", "{", "}", '"', "\\", "a"), { maxLength: 6 })
        .map((cs) => (Array.isArray(v) ? [...v, cs.join("")] : { s: cs.join(""), v })),
    );
  test.prop([tricky, fc.integer({ min: 0, max: 8 }), fc.boolean()])(
    "jsonTooDeep(text, d) is undefined exactly when the value nests at most d levels; else it points at the bracket that goes deeper",
    (value, d, pretty) => {
      const text = pretty ? JSON.stringify(value, null, 2) : JSON.stringify(value);
      const at = jsonTooDeep(text, d);
      expect(at === undefined).toBe(depthOf(value) <= d);
      if (at !== undefined) {
        const line = text.split("\n")[at.line - 1];
        expect("[{").toContain(line[at.column - 1]);
        // The prefix up to and including that bracket opens d + 1 levels (brackets in strings aside).
        const lines = text.split("\n");
        const prefix = [...lines.slice(0, at.line - 1), line.slice(0, at.column)].join("\n");
        expect(jsonTooDeep(prefix, d)).toEqual(at);
        expect(jsonTooDeep(prefix.slice(0, -1), d)).toBeUndefined();
      }
    },
  );

  it("formatBytes: whole units as they are, the exact count otherwise", () => {
    expect(formatBytes(0)).toBe("0 bytes");
    expect(formatBytes(1)).toBe("1 byte");
    expect(formatBytes(4096)).toBe("4 KiB");
    expect(formatBytes(RUN_FILE_LIMITS.table)).toBe("64 MiB");
    expect(formatBytes(RUN_FILE_LIMITS.table + 1)).toBe("64.0 MiB (67108865 bytes)");
  });

  it("a file another process keeps replacing atomically is read whole, never refused (shards rewriting config.json)", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "softcal-replaced-"));
    const file = path.join(dir, "config.json");
    const versions = [JSON.stringify({ v: "a".repeat(5000) }), JSON.stringify({ v: "b".repeat(7000) })];
    fs.writeFileSync(file, versions[0]);
    // The writer: 2000 replacements by rename, as writeFileAtomic does, then it exits.
    const writer = spawn(
      process.execPath,
      [
        "-e",
        `const fs = require("node:fs"); const v = ${JSON.stringify(versions)};
         for (let i = 0; i < 2000; i++) { fs.writeFileSync(process.argv[1] + ".tmp", v[i % 2]); fs.renameSync(process.argv[1] + ".tmp", process.argv[1]); }`,
        file,
      ],
      { stdio: "ignore" },
    );
    let exited = false;
    const done = new Promise((r) => writer.once("exit", () => r((exited = true))));
    const seen: string[] = [];
    // Read until the writer has exited (an event, not a timer), yielding between reads.
    while (!exited) {
      const text = readBoundedTextIfPresent(file, { what: "a run config", maxBytes: 1 << 20, within: dir });
      seen.push(text ?? "(absent)");
      await new Promise((r) => setImmediate(r));
    }
    await done;
    fs.rmSync(dir, { recursive: true, force: true });
    expect(seen.length).toBeGreaterThan(0);
    for (const t of seen) expect(versions).toContain(t);
  });

  it("an oversized file is refused by its size before a byte is read", async () => {
    const { out, dir } = freshRun();
    const file = path.join(dir, "summary.csv");
    sparse(file, RUN_FILE_LIMITS.table + 1);
    const r = await cli("report", out);
    expect(r.stderr).toBe(
      `softcal: ${file}: expected a CSV table of a softcal run of at most 64 MiB; got 64.0 MiB (67108865 bytes)\n`,
    );
  });
});

describe("report over a damaged run folder: exit 2, one line naming the file, no page written", () => {
  const cases: { name: string; file: string; damage: (f: string, dir: string) => void }[] = [
    {
      name: "a manifest with status 5",
      file: "manifest.json",
      damage: (f) => editJson(f, (o) => (o.status = 5)),
    },
    {
      name: "a manifest of another experiment",
      file: "manifest.json",
      damage: (f) => editJson(f, (o) => (o.experiment = "other")),
    },
    {
      name: "a manifest that is a folder",
      file: "manifest.json",
      damage: (f) => {
        fs.rmSync(f);
        fs.mkdirSync(f);
      },
    },
    {
      name: "a manifest in invalid UTF-8",
      file: "manifest.json",
      damage: (f) => fs.writeFileSync(f, Buffer.concat([fs.readFileSync(f), Buffer.from([0xff, 0xfe])])),
    },
    { name: "config grid: null", file: "config.json", damage: (f) => editJson(f, (o) => (o.grid = null)) },
    {
      name: "config grid[0] = null",
      file: "config.json",
      damage: (f) => editJson(f, (o) => ((o.grid as unknown[])[0] = null)),
    },
    {
      name: "config units that are not the grid's plan",
      file: "config.json",
      damage: (f) => editJson(f, (o) => (o.units as unknown[]).pop()),
    },
    {
      name: "a config nested 10^6 deep",
      file: "config.json",
      damage: (f) => fs.writeFileSync(f, `{"format": "softcal-run/1", "grid": ${deepJson(1e6)}}`),
    },
    {
      name: "a short row in summary.csv",
      file: "summary.csv",
      damage: (f) => {
        const lines = fs.readFileSync(f, "utf8").split("\n");
        lines[2] = lines[2].slice(0, lines[2].lastIndexOf(","));
        fs.writeFileSync(f, lines.join("\n"));
      },
    },
    {
      name: "a summary.csv row of another grid point",
      file: "summary.csv",
      damage: (f) => fs.writeFileSync(f, fs.readFileSync(f, "utf8").replace("\n1,x,", "\n7,x,")),
    },
    {
      name: "a summary.csv symlinked to a file outside the run folder",
      file: "summary.csv",
      damage: (f) => {
        const outside = path.join(tmp(), "summary.csv");
        fs.copyFileSync(f, outside);
        fs.rmSync(f);
        fs.symlinkSync(outside, f);
      },
    },
    {
      name: "a summary.csv symlinked to /dev/null",
      file: "summary.csv",
      damage: (f) => {
        fs.rmSync(f);
        fs.symlinkSync("/dev/null", f);
      },
    },
    {
      name: "a summary.csv above its size bound (a sparse file)",
      file: "summary.csv",
      damage: (f) => sparse(f, RUN_FILE_LIMITS.table + 1),
    },
    {
      name: "a truncated .vl.json",
      file: "figures/toy-value.vl.json",
      damage: (f) => fs.writeFileSync(f, fs.readFileSync(f, "utf8").slice(0, 40)),
    },
    {
      name: "a .vl.json nested 10^6 deep",
      file: "figures/toy-value.vl.json",
      damage: (f) => fs.writeFileSync(f, `{"usermeta": ${deepJson(1e6)}}`),
    },
    {
      name: "a .vl.json that is not an object",
      file: "figures/toy-value.vl.json",
      damage: (f) => fs.writeFileSync(f, "[1, 2]"),
    },
    {
      name: "a figure whose name is no figure name",
      file: "figures/a figure.svg",
      damage: (f) => fs.writeFileSync(f, "<svg/>"),
    },
    {
      name: "a shard manifest whose shard is not its name's",
      file: "manifest.shard-2-of-3.json",
      damage: (f, dir) => {
        fs.copyFileSync(path.join(dir, "manifest.json"), f);
        editJson(f, (o) => (o.shard = { index: 1, count: 3 }));
      },
    },
    {
      name: "a paired.csv with a short row",
      file: "paired.csv",
      damage: (f) => fs.writeFileSync(f, "a,b,c\n1,2,3\n1,2\n"),
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const { out, dir } = freshRun();
      const file = path.join(dir, c.file);
      c.damage(file, dir);
      const r = await cli("report", out);
      expectOneLineNaming(r, file);
      expect(fs.existsSync(path.join(out, "report.html"))).toBe(false);
    });
  }

  it("the undamaged copy reports fine, and a symlink inside the run folder is followed", async () => {
    const { out, dir } = freshRun();
    const summary = path.join(dir, "summary.csv");
    fs.renameSync(summary, path.join(dir, "summary-real.csv"));
    fs.symlinkSync("summary-real.csv", summary);
    const r = await cli("report", out);
    expect(r.code, r.stderr).toBe(0);
    const page = fs.readFileSync(path.join(out, "report.html"), "utf8");
    expect(page).toContain("toy: mean [95% interval] over seeds (summary.csv)");
    expect(page).toContain("toy (completed, 2 seeds)");
  });
});

describe("merge and --resume over damaged unit files and configs", () => {
  it("a units/*.jsonl symlinked to /dev/zero, a FIFO or an oversized file: refused before reading", async () => {
    const damages: [string, (f: string) => void][] = [
      ["/dev/zero", (f) => fs.symlinkSync("/dev/zero", f)],
      ["a sparse file above the bound", (f) => sparse(f, RUN_FILE_LIMITS.units + 1)],
      ["a folder", (f) => fs.mkdirSync(f)],
      ["a dangling symlink", (f) => fs.symlinkSync(path.join(f, "..", "nowhere"), f)],
    ];
    for (const [what, damage] of damages) {
      const { out, dir } = freshRun();
      const file = path.join(dir, "units", "zz-extra.jsonl");
      damage(file);
      const into = path.join(tmp(), "merged");
      const r = await cli("merge", out, "--into", into, "--no-figures");
      expectOneLineNaming(r, file);
      expect(fs.existsSync(into), what).toBe(false);
      // --resume reads the same folder: the same refusal.
      const resumed = runExperiments({ ...toyRun, experiments: [toy], seeds: 2, out, resume: true });
      await expect(resumed, what).rejects.toThrow(InputError);
      await expect(resumed, what).rejects.toThrow(new RegExp(`^${regexEscape(file)}: expected `));
      // Refused before the resume began: the manifest still says how the run ended, not RUNNING.
      const manifest = JSON.parse(fs.readFileSync(path.join(dir, "manifest.json"), "utf8")) as {
        status: string;
        previousAttempts: unknown[];
      };
      expect(manifest.status, what).toBe("COMPLETED");
      expect(manifest.previousAttempts, what).toEqual([]);
    }
  });

  it("--resume over config grid[0] = null (found by the fuzz test): an InputError naming config.json", async () => {
    const { out, dir } = freshRun();
    const file = path.join(dir, "config.json");
    editJson(file, (o) => ((o.grid as unknown[])[0] = null));
    await expect(
      runExperiments({ ...toyRun, experiments: [toy], seeds: 2, out, resume: true }),
    ).rejects.toThrow(
      new RegExp(
        `^${regexEscape(file)}: expected "grid\\[0\\]" to be an object of parameter values; got null$`,
      ),
    );
  });

  it("a unit line nested 10^6 deep is no record (skipped, its unit runs again on --resume)", async () => {
    const { out, dir } = freshRun();
    const unitFile = path.join(dir, "units", fs.readdirSync(path.join(dir, "units"))[0]);
    const before = fs.readFileSync(path.join(dir, "runs.csv"), "utf8");
    fs.writeFileSync(unitFile, `${deepJson(1e6)}\n`);
    const warnings: string[] = [];
    const r = await runExperiments({
      ...toyRun,
      experiments: [toy],
      seeds: 2,
      out,
      resume: true,
      logger: { info() {}, warn: (m) => warnings.push(m) },
    });
    expect(r.exitCode).toBe(0);
    expect(r.experiments[0].unitsRun).toBe(1);
    expect(warnings.some((w) => w.startsWith(`${unitFile}: skipped 1 line`))).toBe(true);
    expect(fs.readFileSync(path.join(dir, "runs.csv"), "utf8")).toBe(before);
  });
});

describe("a model file nested 10^6 deep", () => {
  it("predict --model: exit 2, one line naming the model file", async () => {
    const dir = tmp();
    const data = path.join(dir, "data.csv");
    fs.writeFileSync(data, "x1,x2,label\n0,0,a\n1,1,b\n");
    const header = '"format": "softcal-model", "version": 1, "model": "softmax", "classes": ["a", "b"]';
    for (const text of [
      deepJson(1e6),
      `{${header}, "features": ["x1", "x2"], "theta": [${deepJson(1e6)}, [0, 0, 0]]}`,
      `{${header}, "features": ${deepJson(1e6)}}`,
    ]) {
      const model = path.join(dir, "deep.json");
      fs.writeFileSync(model, text);
      const r = await cli("predict", "--model", model, "--data", data);
      expectOneLineNaming(r, model);
    }
  });
});

describe("FIFOs and devices in a separate process (a regression would hang or exhaust memory)", () => {
  /** Runs `softcal <args>` in a child process; resolves on its exit (killed by a 60 s guard if it hangs). */
  function softcal(args: string[]): Promise<{ code: number | null; stderr: string; hung: boolean }> {
    const child = spawn(process.execPath, ["--import", "tsx", path.join("src", "cli", "main.ts"), ...args], {
      cwd: repoRoot,
      stdio: ["ignore", "ignore", "pipe"],
    });
    children.push(child);
    let stderr = "";
    child.stderr?.on("data", (d) => {
      stderr += String(d);
    });
    let hung = false;
    const guard = setTimeout(() => {
      hung = true;
      child.kill("SIGKILL");
    }, 60_000);
    return new Promise((resolve) =>
      child.on("exit", (code) => {
        clearTimeout(guard);
        resolve({ code, stderr, hung });
      }),
    );
  }

  it("report over a FIFO named summary.csv, merge over a unit file symlinked to /dev/zero, and a FIFO config.json", async () => {
    const fifoRun = freshRun();
    const summary = path.join(fifoRun.dir, "summary.csv");
    fs.rmSync(summary);
    expect(spawnSync("mkfifo", [summary]).status).toBe(0);

    const zeroRun = freshRun();
    const unit = path.join(zeroRun.dir, "units", "zz-zero.jsonl");
    fs.symlinkSync("/dev/zero", unit);

    const fifoConfigRun = freshRun();
    const config = path.join(fifoConfigRun.dir, "config.json");
    fs.rmSync(config);
    expect(spawnSync("mkfifo", [config]).status).toBe(0);

    const [report, merge, show] = await Promise.all([
      softcal(["report", fifoRun.out]),
      softcal(["merge", zeroRun.out, "--into", path.join(tmp(), "merged"), "--no-figures"]),
      // A FIFO config.json is not a run folder's config: `show` finds no run there.
      softcal(["show", fifoConfigRun.dir, "--no-open"]),
    ]);
    for (const r of [report, merge, show]) expect(r.hung, r.stderr).toBe(false);
    expectOneLineNaming(report, summary);
    expectOneLineNaming(merge, unit);
    expectOneLineNaming(show, fifoConfigRun.dir);
  });
});

describe("figure specs cannot change the page's embed options", () => {
  const hostile = {
    usermeta: {
      embedOptions: {
        actions: true,
        sourceHeader: "<script>window.pwned = 1</script>",
        renderer: "canvas",
      },
    },
    mark: "point",
    data: { values: [{ a: 1 }] },
    encoding: { x: { field: "a", type: "quantitative" } },
  };

  /** The parsed specs a page embeds (its `<script type="application/json">` elements). */
  function pageSpecs(html: string): unknown[] {
    return [...html.matchAll(/<script type="application\/json" id="spec-\d+">(.*?)<\/script>/gs)].map((m) =>
      JSON.parse(m[1]),
    );
  }

  it("htmlPage drops every spec's usermeta and keeps the rest", () => {
    const html = htmlPage({
      title: "t",
      sections: [{ heading: "h", figures: [{ title: "f", spec: hostile as unknown as TopLevelSpec }] }],
    });
    const { usermeta: _u, ...rest } = hostile;
    expect(pageSpecs(html)).toEqual([rest]);
    expect(html).not.toContain("window.pwned");
    expect(html).toContain("delete spec.usermeta; // the page's options win");
    expect(html).toContain('vegaEmbed(el, spec, {"actions":false,"renderer":"svg","mode":"vega-lite"})');
  });

  it("report and show over a run whose spec carries usermeta: the page's specs have none", async () => {
    const { out, dir } = freshRun();
    const specFile = path.join(dir, "figures", "toy-value.vl.json");
    editJson(specFile, (o) => (o.usermeta = hostile.usermeta));
    const r = await cli("report", out);
    expect(r.code, r.stderr).toBe(0);
    const s = await cli("show", dir, "--no-open");
    expect(s.code, s.stderr).toBe(0);
    for (const page of [path.join(out, "report.html"), path.join(dir, "index.html")]) {
      const specs = pageSpecs(fs.readFileSync(page, "utf8"));
      expect(specs).toHaveLength(1);
      expect(Object.keys(specs[0] as object)).not.toContain("usermeta");
      expect(fs.readFileSync(page, "utf8")).not.toContain("window.pwned");
    }
  });
});

describe("unit records whose extras the experiment's figures cannot use", () => {
  it("merge refuses them before writing anything (exit 2 naming the source folders), not an internal error", async () => {
    // An experiment whose figure reads its units' extras, as the built-in ones do.
    const curves: Experiment = {
      ...toy2,
      name: "curves",
      run: (point, ctx) => ({
        metrics: { score: ctx.seedIndex },
        extras: { curve: [1, 2, point.k as number] },
      }),
      figures: ({ runs }) => [
        {
          name: "curves",
          spec: {
            mark: "line",
            data: {
              values: runs.flatMap((r) => (r.result.extras as { curve: number[] }).curve.map((y) => ({ y }))),
            },
          },
        },
      ],
    };
    const root = tmp();
    await runExperiments({ ...toyRun, experiments: [curves], seeds: 2, out: path.join(root, "s1") });
    const units = path.join(root, "s1", "curves", "units");
    for (const f of fs.readdirSync(units)) {
      const lines = fs.readFileSync(path.join(units, f), "utf8").split("\n").filter(Boolean);
      const crafted = lines.map((l) => {
        const u = JSON.parse(l);
        u.result.extras = { curve: "not a list" };
        return `${JSON.stringify(u)}\n`;
      });
      fs.writeFileSync(path.join(units, f), crafted.join(""));
    }
    const into = path.join(tmp(), "merged");
    await expect(
      mergeRuns(root, {
        into,
        experiments: [curves],
        figures: true,
        render,
        logger: { info() {}, warn() {} },
      }),
    ).rejects.toThrow(
      new RegExp(
        `^${regexEscape(path.join(root, "s1", "curves"))}: expected unit records whose results experiment "curves" can aggregate; got records its figures fail on \\(.*is not a function\\)$`,
      ),
    );
    expect(fs.existsSync(into)).toBe(false);
  });
});

describe("shards in one folder", () => {
  it("merge of two experiments' shards writes each into its own folder under --into only", async () => {
    const root = tmp();
    for (const index of [1, 2]) {
      await runExperiments({
        ...toyRun,
        experiments: [toy, toy2],
        seeds: 2,
        out: path.join(root, `s${index}`),
        shard: { index, count: 2 },
      });
    }
    const into = path.join(tmp(), "merged");
    const r = await cli("merge", root, "--into", into, "--no-figures");
    expect(r.code, r.stderr).toBe(0);
    expect(fs.readdirSync(into).sort()).toEqual(["toy", "toy2"]);
  });

  it("merge into a target whose figures/ is a symlink out of it: refused before anything is written", async () => {
    const out = tmp();
    await runExperiments({ ...toyRun, experiments: [toy], seeds: 2, out });
    const root = tmp();
    const into = path.join(root, "into");
    const elsewhere = path.join(root, "elsewhere");
    fs.mkdirSync(path.join(into, "toy"), { recursive: true });
    fs.mkdirSync(elsewhere);
    fs.symlinkSync(elsewhere, path.join(into, "toy", "figures"));
    const r = await cli("merge", out, "--into", into);
    expect(r.stderr).toBe(
      `softcal: ${path.join(into, "toy", "figures")}: expected a folder to write a run into; got a symlink\n`,
    );
    expect(r.code).toBe(2);
    expect(fs.readdirSync(elsewhere)).toEqual([]);
    expect(fs.readdirSync(path.join(into, "toy"))).toEqual(["figures"]);
  });

  it("merge in place through a symlink the user names: the folder they named is theirs to follow", async () => {
    const out = tmp();
    await runExperiments({ ...toyRun, experiments: [toy2], seeds: 2, out, shard: { index: 1, count: 2 } });
    await runExperiments({ ...toyRun, experiments: [toy2], seeds: 2, out, shard: { index: 2, count: 2 } });
    const link = path.join(tmp(), "link-to-run");
    fs.symlinkSync(path.join(out, "toy2"), link);
    const r = await cli("merge", link, "--no-figures");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`toy2: 6 units from 1 folder(s) → ${link}\n`);
    expect(JSON.parse(fs.readFileSync(path.join(out, "toy2", "manifest.json"), "utf8")).mergedFrom).toEqual([
      link,
    ]);
  });
});
