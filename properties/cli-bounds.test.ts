/**
 * Every size a user can type has a bound (src/cli/bounds.ts), checked before work starts: a value
 * outside it exits 2 with one line naming the flag, the bound and where it comes from. "Before
 * work" is checked by pointing the command at a file that does not exist (or an output folder that
 * must not appear): the flag's message wins over the file's.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { fc, test } from "@fast-check/vitest";
import { afterAll, describe, expect, it } from "vitest";
import { experiments } from "../experiments/index.js";
import { MAX_BINS, MAX_COLUMNS, MAX_UNITS } from "../src/cli/bounds.js";
import { selectExperiments } from "../src/cli/run.js";
import { cli } from "./_shared/cli.js";

const dir = mkdtempSync(join(tmpdir(), "softcal-cli-bounds-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const missing = join(dir, "does-not-exist.csv");
const threads = availableParallelism() * 4;
/** Grid points of the experiments `run NAMES…` selects (`all` when none), full or --quick grids. */
const points = (quick: boolean, ...names: string[]) =>
  selectExperiments(names.length === 0 ? ["all"] : names, experiments).reduce(
    (s, e) => s + e.grid({ quick }).length,
    0,
  );

async function refused(argv: string[], message: string): Promise<void> {
  const r = await cli(...argv);
  expect(r.code, r.stderr).toBe(2);
  expect(r.stdout).toBe("");
  expect(r.stderr).toBe(`softcal: ${message}\n`);
}

describe("flags outside their bounds: exit 2, one line, before any file is read", () => {
  const cases: [string[], string][] = [
    [
      ["fit", "--data", missing, "--iters", "1e12"],
      "--iters: expected an integer from 1 to 1000000 (memory: one loss per iteration); got 1e12",
    ],
    [
      ["fit", "--data", missing, "--threads", "10000"],
      `--threads: expected an integer from 1 to ${threads} (the machine's cores × 4); got 10000`,
    ],
    [
      ["fit", "--data", missing, "--threads", "0"],
      `--threads: expected an integer from 1 to ${threads} (the machine's cores × 4); got 0`,
    ],
    [["fit", "--data", missing, "--tol", "0"], "--tol: expected a finite number > 0; got 0"],
    [["fit", "--data", missing, "--tol", "-1e-9"], "--tol: expected a finite number > 0; got -1e-9"],
    [["fit", "--data", missing, "--alpha", "0"], "--alpha: expected a finite number > 0; got 0"],
    [["fit", "--data", missing, "--l2", "-1"], "--l2: expected a finite number ≥ 0; got -1"],
    [
      ["evaluate", "--predictions", missing, "--bins", "1e7"],
      "--bins: expected an integer from 1 to 10000 (memory: one bin object per bin and class); got 1e7",
    ],
    [
      ["evaluate", "--predictions", missing, "--bootstrap", "1e10"],
      "--bootstrap: expected an integer from 1 to 1000000 (memory: two doubles per resample); got 1e10",
    ],
    [
      ["evaluate", "--predictions", missing, "--seed", "1e300"],
      `--seed: expected an integer from ${-Number.MAX_SAFE_INTEGER} to ${Number.MAX_SAFE_INTEGER} (a safe integer); got 1e300`,
    ],
    [
      ["calibrate", "--fit", missing, "--bins", "100000"],
      "--bins: expected an integer from 1 to 10000 (memory: one bin object per bin and class); got 100000",
    ],
    [
      ["calibrate", "--fit", missing, "--method", "vector", "--l2", "-0.5"],
      "--l2: expected a finite number ≥ 0; got -0.5",
    ],
  ];
  it.each(cases)("%j", async (argv, message) => refused(argv, message));

  test.prop([fc.integer({ min: MAX_BINS + 1, max: 2 ** 40 })], { numRuns: 20 })(
    "any --bins above the cap is refused before reading",
    async (bins) => {
      await refused(
        ["evaluate", "--predictions", missing, "--bins", String(bins)],
        `--bins: expected an integer from 1 to 10000 (memory: one bin object per bin and class); got ${bins}`,
      );
    },
  );
});

describe("run: seeds, units, jobs — refused before the output folder is made", () => {
  const runCases: [string[], string][] = [
    [
      ["--seeds", "1e8"],
      "--seeds: expected an integer from 1 to 100000 (memory: one stored record per unit); got 1e8",
    ],
    // 3000 × the full grids of `all` (the lesson's four: 108 points today) is past 250 000.
    [
      ["--seeds", "3000"],
      `--seeds: expected seeds × grid points ≤ 250000 (memory: one stored record per unit); got 3000 × ${points(false)} = ${3000 * points(false)} — use fewer seeds`,
    ],
    [
      ["--jobs", "10000"],
      `--jobs: expected an integer from 1 to ${threads} (the machine's cores × 4); got 10000`,
    ],
    [
      ["--parallel-min-ms", "1e12"],
      "--parallel-min-ms: expected an integer from 0 to 86400000 (one day); got 1e12",
    ],
    [
      ["--root-seed", "1e300"],
      `--root-seed: expected an integer from ${-Number.MAX_SAFE_INTEGER} to ${Number.MAX_SAFE_INTEGER} (a safe integer); got 1e300`,
    ],
  ];
  it.each(runCases)("run all %j", async (flags, message) => {
    const out = join(dir, `run-${flags.join("-")}`);
    await refused(["run", "all", "--out", out, ...flags], message);
    expect(existsSync(out)).toBe(false);
  });

  it("the units bound counts the selected experiments' grids (--quick grids are smaller)", async () => {
    const out = join(dir, "run-quick");
    const p = points(true, "temperature");
    const seeds = Math.floor(MAX_UNITS / p) + 1; // the fewest seeds past the bound
    expect(seeds).toBeLessThanOrEqual(100_000);
    await refused(
      ["run", "temperature", "--quick", "--seeds", String(seeds), "--out", out],
      `--seeds: expected seeds × grid points ≤ 250000 (memory: one stored record per unit); got ${seeds} × ${p} = ${seeds * p} — use fewer seeds`,
    );
    expect(existsSync(out)).toBe(false);
  });
});

describe("bounds that depend on the data: checked right after reading, before computing", () => {
  it("evaluate/calibrate --bins ≤ max(rows, 15): 15 bins on 4 rows are fine, 16 are not", async () => {
    const file = join(dir, "four.csv");
    writeFileSync(file, "p_a,p_b,label\n0.2,0.8,a\n0.6,0.4,b\n0.7,0.3,a\n0.1,0.9,b\n");
    expect((await cli("evaluate", "--predictions", file, "--bins", "15")).code).toBe(0);
    await refused(
      ["evaluate", "--predictions", file, "--bins", "16"],
      `${file}: --bins: expected at most max(rows, 15) = 15 bins for 4 rows (more bins than rows are empty); got 16`,
    );
    const rows = Array.from({ length: 40 }, (_, i) => `${(i + 0.5) / 40},${i % 2}`).join("\n");
    const forty = join(dir, "forty.csv");
    writeFileSync(forty, `p,label\n${rows}\n`);
    expect((await cli("evaluate", "--predictions", forty, "--bins", "40")).code).toBe(0);
    await refused(
      ["calibrate", "--fit", forty, "--bins", "41"],
      `${forty}: --bins: expected at most max(rows, 15) = 40 bins for 40 rows (more bins than rows are empty); got 41`,
    );
  });

  it("bins × classes ≤ 2^20 (class-wise bins)", async () => {
    const K = 2000;
    const n = 600;
    const header = [...Array.from({ length: K }, (_, k) => `p_${k}`), "label"].join(",");
    const row = (i: number) =>
      [...Array.from({ length: K }, (_, k) => (k === i % K ? "1" : "0")), String(i % K)].join(",");
    const file = join(dir, "wide-classes.csv");
    writeFileSync(file, `${header}\n${Array.from({ length: n }, (_, i) => row(i)).join("\n")}\n`);
    await refused(
      ["evaluate", "--predictions", file, "--bins", "600"],
      `${file}: --bins: expected bins × classes ≤ 1048576 (one class-wise bin each); got 600 × 2000 = 1200000`,
    );
  });

  it(`a CSV header with more than ${MAX_COLUMNS} columns: one line from its first line, for fit, evaluate and calibrate`, async () => {
    const file = join(dir, "too-wide.csv");
    const header = Array.from({ length: MAX_COLUMNS + 1 }, (_, j) => `c${j}`).join(",");
    writeFileSync(
      file,
      `${header}\n${Array(MAX_COLUMNS + 1)
        .fill("0")
        .join(",")}\n`,
    );
    const message = `${file}:1: expected at most ${MAX_COLUMNS} columns in the header; got more than ${MAX_COLUMNS}`;
    await refused(["fit", "--data", file], message);
    await refused(["evaluate", "--predictions", file], message);
    await refused(["calibrate", "--fit", file], message);
    // Commas inside quotes are not separators: one quoted field holding 200 000 commas is 1 column.
    const quoted = join(dir, "quoted-header.csv");
    writeFileSync(quoted, `"${",".repeat(2 * MAX_COLUMNS)}",label\n0.5,0\n`);
    const r = await cli("evaluate", "--predictions", quoted);
    expect(r.stderr).not.toContain("columns in the header");
  });
});
