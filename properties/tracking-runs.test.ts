/**
 * `softcal runs`: the index of run folders — what each ran, when, with which softcal and commit,
 * its seeds, units, data and a headline metric per grid point, sorted by start time — with damaged
 * folders listed with the reason instead of stopping the listing; `--json` and `--csv`.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { fc, test } from "@fast-check/vitest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RUNS_CSV_COLUMNS } from "../src/cli/runs.js";
import { parseCsvTable } from "../src/data/csv.js";
import { indexRuns, type RunIndexEntry } from "../src/tracking/runIndex.js";
import { cli } from "./_shared/cli.js";
import { l2Run, tempDirs } from "./_shared/trackingRuns.js";

const tmp = tempDirs("softcal-runs-");
afterAll(() => tmp.cleanup());

let root: string;
let a: string;
let seed7: string;
let quick: string;
beforeAll(async () => {
  root = tmp.make();
  a = await l2Run(path.join(root, "a"));
  seed7 = await l2Run(path.join(root, "b"), "--root-seed", "7");
  quick = await l2Run(path.join(root, "c"), "--quick");
});

/** A copy of run folder `from` at `to` (files only, recursively). */
function copyRun(from: string, to: string): string {
  fs.cpSync(from, to, { recursive: true });
  return to;
}
/** Rewrites a JSON file of a run folder. */
function editJson(file: string, edit: (v: Record<string, unknown>) => void): void {
  const v = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
  edit(v);
  fs.writeFileSync(file, JSON.stringify(v, null, 2));
}
const listing = async (...args: string[]): Promise<RunIndexEntry[]> => {
  const r = await cli("runs", ...args, "--json");
  expect(r.code).toBe(0);
  expect(r.stdout.trimEnd().split("\n")).toHaveLength(1);
  return (JSON.parse(r.stdout) as { runs: RunIndexEntry[] }).runs;
};

describe("softcal runs", () => {
  it("lists every run under the folders with its experiment, status, times, software, seeds, units, data and grid", async () => {
    const runs = await listing(root);
    expect(runs.map((r) => r.dir)).toEqual([a, seed7, quick]); // started in this order
    const manifest = JSON.parse(fs.readFileSync(path.join(a, "manifest.json"), "utf8"));
    expect(runs[0]).toMatchObject({
      experiment: "l2-sweep",
      status: "completed",
      startedAt: manifest.startedAt,
      endedAt: manifest.endedAt,
      softcalVersion: manifest.softcalVersion,
      rootSeed: 0,
      seeds: 3,
      units: 54,
      unitsDone: 54,
      unitsFailed: 0,
      data: ["clusters", "iris", "penguins"],
      gridPoints: 18,
    });
    expect(runs[0].durationS).toBeCloseTo(
      (Date.parse(manifest.endedAt) - Date.parse(manifest.startedAt)) / 1000,
      9,
    );
    if (manifest.gitCommit !== undefined)
      expect(runs[0]).toMatchObject({ gitCommit: manifest.gitCommit, gitDirty: manifest.gitDirty });
    expect(runs[1]).toMatchObject({ rootSeed: 7, units: 54 });
    expect(runs[2]).toMatchObject({ gridPoints: 9, units: 27, unitsDone: 27 });
  });

  it("gives a headline metric per grid point: summary.csv's mean (ece by default, or --metric)", async () => {
    const [run] = await listing(a, "--metric", "nll");
    const summary = parseCsvTable(fs.readFileSync(path.join(a, "summary.csv"), "utf8"), "summary.csv");
    const col = summary.header.indexOf("nll_mean");
    expect(run.headline?.metric).toBe("nll");
    expect(run.headline?.points.map((p) => p.mean)).toEqual(summary.rows.map((r) => Number(r[col])));
    expect(run.headline?.points.map((p) => p.point)).toEqual(
      JSON.parse(fs.readFileSync(path.join(a, "config.json"), "utf8")).grid,
    );
    expect((await listing(a))[0].headline?.metric).toBe("ece");
    expect((await listing(a, "--metric", "bogus"))[0].headline).toBeUndefined();
  });

  it("prints a table by default and CSV with --csv (one row per run folder)", async () => {
    const text = await cli("runs", root);
    expect(text.code).toBe(0);
    const lines = text.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(
      /^started +experiment +status +duration +softcal +commit +root seed +seeds +units done\/failed +grid +data +headline \(mean over seeds\) +folder$/,
    );
    expect(lines).toHaveLength(4);
    expect(lines[1]).toMatch(
      / l2-sweep +completed +.* 54\/0 of 54 +18 points +clusters, iris, penguins +ece [\d.]+–[\d.]+ \(18 points\) +/,
    );
    expect(lines[1].endsWith(a)).toBe(true);
    const csv = await cli("runs", root, "--csv");
    const table = parseCsvTable(csv.stdout, "runs.csv");
    expect(table.header).toEqual([...RUNS_CSV_COLUMNS]);
    expect(table.rows.map((r) => r[0])).toEqual([a, seed7, quick]);
    const row = Object.fromEntries(table.header.map((h, i) => [h, table.rows[0][i]]));
    expect(row).toMatchObject({
      experiment: "l2-sweep",
      status: "completed",
      root_seed: "0",
      seeds: "3",
      units: "54",
      grid_points: "18",
      data: "clusters;iris;penguins",
      headline_metric: "ece",
      damaged: "",
    });
    expect(row.headline.split("; ")).toHaveLength(18);
    expect(row.headline).toMatch(/^data=clusters, l2=0: 0\.0\d+; data=clusters, l2=0\.0001: /);
  });

  it("lists damaged folders with the reason (the file and what is wrong) and goes on; another tool's config is not a run", async () => {
    const dir = tmp.make();
    const good = copyRun(a, path.join(dir, "good", "l2-sweep"));
    const damage: [string, (d: string) => void, RegExp][] = [
      [
        "truncated-config",
        (d) => fs.writeFileSync(path.join(d, "config.json"), '{"format": "softcal-run/1", "grid": ['),
        /config\.json: expected a softcal run config \(valid JSON\); got /,
      ],
      [
        "null-grid",
        (d) =>
          editJson(path.join(d, "config.json"), (c) => {
            c.grid = null;
          }),
        /config\.json: expected "grid" to be a non-empty array of points; got null/,
      ],
      [
        "bad-status",
        (d) =>
          editJson(path.join(d, "manifest.json"), (m) => {
            m.status = 5;
          }),
        /manifest\.json: expected "status" to be one of RUNNING, COMPLETED, FAILED, INTERRUPTED; got 5/,
      ],
      [
        "short-summary",
        (d) => {
          const f = path.join(d, "summary.csv");
          const ls = fs.readFileSync(f, "utf8").split("\n");
          ls[3] = ls[3].split(",").slice(0, 5).join(",");
          fs.writeFileSync(f, ls.join("\n"));
        },
        /summary\.csv:4: expected \d+ columns \(as in the header\); got 5/,
      ],
      [
        "fifo-summary",
        (d) => {
          fs.rmSync(path.join(d, "summary.csv"));
          fs.symlinkSync("/dev/zero", path.join(d, "summary.csv"));
        },
        /summary\.csv: expected a CSV table of a softcal run inside .*; got a symlink leading out of it \(to \/dev\/zero\)/,
      ],
    ];
    for (const [name, hurt] of damage) hurt(copyRun(a, path.join(dir, name, "l2-sweep")));
    fs.mkdirSync(path.join(dir, "other-tool"));
    fs.writeFileSync(path.join(dir, "other-tool", "config.json"), '{"learning_rate": 0.1}');

    const r = await cli("runs", dir, "--json");
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`warning: ${damage.length} damaged run folder(s) listed with the reason\n`);
    const runs = (JSON.parse(r.stdout) as { runs: RunIndexEntry[] }).runs;
    expect(runs[0]).toMatchObject({ dir: good, status: "completed" });
    const damaged = runs.slice(1);
    expect(damaged.map((e) => path.basename(path.dirname(e.dir)))).toEqual(damage.map(([n]) => n).sort());
    for (const e of damaged) {
      const [, , reason] = damage.find(([n]) => e.dir.includes(`${path.sep}${n}${path.sep}`)) ?? [];
      expect(e.damaged).toMatch(reason as RegExp);
      expect(e.damaged).toContain(e.dir); // names the file
      expect(e.damaged).not.toContain("\n");
      expect(Object.keys(e)).toEqual(["dir", "damaged"]);
    }
    const text = await cli("runs", dir);
    expect(text.stdout.split("\n").filter((l) => l.startsWith("damaged: "))).toHaveLength(damage.length);
  });

  it("shows a running run without an end, and a folder of shards without manifest.json", async () => {
    const dir = tmp.make();
    const running = copyRun(a, path.join(dir, "running", "l2-sweep"));
    editJson(path.join(running, "manifest.json"), (m) => {
      m.status = "RUNNING";
      delete m.endedAt;
    });
    const sharded = path.join(dir, "sharded");
    await l2Run(sharded, "--shard", "1/2");
    await l2Run(sharded, "--shard", "2/2");
    const runs = await listing(dir);
    const byDir = new Map(runs.map((e) => [e.dir, e]));
    expect(byDir.get(running)).toMatchObject({ status: "running", durationS: null });
    expect(byDir.get(running)?.endedAt).toBeUndefined();
    expect(byDir.get(path.join(sharded, "l2-sweep"))).toMatchObject({
      status: "shards: 2 of 2 completed",
      units: 54,
      unitsDone: 54,
      unitsFailed: 0,
    });
  });

  test.prop([fc.uniqueArray(fc.integer({ min: 0, max: 10_000 }), { minLength: 2, maxLength: 4 })], {
    numRuns: 5,
  })("sorts by start time (a resumed run by its first attempt), not by folder name", (minutes) => {
    const dir = tmp.make();
    minutes.forEach((min, i) => {
      const run = copyRun(quick, path.join(dir, `r${i}`, "l2-sweep"));
      const at = (m: number) => new Date(Date.UTC(2026, 0, 1) + m * 60_000).toISOString();
      editJson(path.join(run, "manifest.json"), (m) => {
        m.startedAt = at(min + 5000); // this attempt…
        m.previousAttempts = [{ startedAt: at(min), endedAt: at(min + 1), status: "INTERRUPTED" }]; // …resumed this one
      });
    });
    const order = indexRuns([dir]).map((e) => Number(path.basename(path.dirname(e.dir)).slice(1)));
    expect(order.map((i) => minutes[i])).toEqual([...minutes].sort((x, y) => x - y));
  });

  it("report shows the runs table first and, with --compare RUN_A RUN_B, their comparison", async () => {
    const page = path.join(tmp.make(), "report.html");
    const r = await cli("report", root, "--out", page, "--compare", a, seed7);
    expect(r.code, r.stderr).toBe(0);
    const html = fs.readFileSync(page, "utf8");
    const headings = [...html.matchAll(/<h2>([^<]*)<\/h2>/g)].map((m) => m[1]);
    expect(headings.slice(0, 3)).toEqual(["Runs", "Comparison (B − A)", "l2-sweep (completed, 3 seeds)"]);
    expect(html).toContain("<caption>Runs (softcal runs): sorted by start time;");
    for (const dir of [a, seed7, quick]) expect(html).toContain(`<td>${dir}</td>`);
    expect(html).toContain(
      `<caption>B = ${seed7} against A = ${a}: different root seed (0 vs 7): unpaired Welch</caption>`,
    );
    const q = path.join(tmp.make(), "q.html");
    expect((await cli("report", root, "--out", q, "--compare", a, quick)).code).toBe(0);
    expect(fs.readFileSync(q, "utf8")).toContain(
      "<caption>Grid points only one run has (not compared)</caption>",
    );
    const one = await cli("report", root, "--out", q, "--force", "--compare", a);
    expect([one.code, one.stderr]).toEqual([
      2,
      "softcal: --compare: expected two run folders (RUN_A RUN_B); got 1\n",
    ]);
  });

  it("exits 2 for a DIR that is not a folder and for --json with --csv; --help shows examples", async () => {
    const missing = path.join(root, "missing");
    const r = await cli("runs", missing);
    expect([r.code, r.stdout, r.stderr]).toEqual([
      2,
      "",
      `softcal: ${missing}: expected a folder of runs; got no such folder\n`,
    ]);
    const both = await cli("runs", root, "--json", "--csv");
    expect([both.code, both.stderr]).toEqual([2, "softcal: runs: expected --json or --csv, not both\n"]);
    const help = await cli("runs", "--help");
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Examples:\n  softcal runs\n");
    expect((await cli("runs", tmp.make())).stdout).toBe("no run folders found\n");
  });
});
