/**
 * Shared pieces of the scale-out tests (properties/slurm.test.ts, properties/recipes.test.ts): the
 * repository's built CLI, the one-machine reference run, the CSV comparison, and waiting on a
 * condition of the file system.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
/** The built CLI (`npm test` builds it first), as every recipe invokes it. */
export const CLI = path.join(REPO, "dist", "src", "cli", "main.js");

/**
 * The sweep every recipe test runs: all experiments, 3 seeds, root seed 7 (not the default 0, so a
 * recipe that dropped its flags would not match), no figures (the CSVs are compared; figures are
 * a third of a merge's time and have their own tests).
 */
export const SWEEP = { seeds: 3, rootSeed: 7, flags: "--no-figures --root-seed 7" } as const;

/** Runs `softcal run all` on one machine, without --shard: what every sharded sweep must equal. */
export function referenceRun(out: string): void {
  const r = spawnSync(
    process.execPath,
    [CLI, "run", "all", "--seeds", String(SWEEP.seeds), "--out", out, ...SWEEP.flags.split(" ")],
    { cwd: REPO, encoding: "utf8" },
  );
  if (r.status !== 0) throw new Error(`the reference run failed (exit ${r.status}): ${r.stderr}`);
}

/** The experiment folders (those holding config.json) directly under `dir`, sorted. */
function experimentDirs(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && fs.existsSync(path.join(dir, e.name, "config.json")))
    .map((e) => e.name)
    .sort();
}

/**
 * Every CSV of every experiment folder of `actual` against `expected` (runs, summary, reliability,
 * paired and any other table): the same experiments, the same file names, the same bytes. Returns
 * the differences in words (empty when equal), e.g. `temperature/runs.csv: line 12 differs`.
 */
export function csvDifferences(expected: string, actual: string): string[] {
  const diffs: string[] = [];
  const want = experimentDirs(expected);
  const got = fs.existsSync(actual) ? experimentDirs(actual) : [];
  if (want.join(",") !== got.join(","))
    diffs.push(`experiments: expected ${want.join(", ")}; got ${got.join(", ")}`);
  for (const exp of want.filter((e) => got.includes(e))) {
    const csvs = (d: string) =>
      fs
        .readdirSync(d)
        .filter((n) => n.endsWith(".csv"))
        .sort();
    const a = csvs(path.join(expected, exp));
    const b = csvs(path.join(actual, exp));
    if (a.length < 3) diffs.push(`${exp}: the reference holds only ${a.join(", ")}`);
    if (a.join(",") !== b.join(",")) diffs.push(`${exp}: expected ${a.join(", ")}; got ${b.join(", ")}`);
    for (const name of a.filter((n) => b.includes(n))) {
      const x = fs.readFileSync(path.join(expected, exp, name));
      const y = fs.readFileSync(path.join(actual, exp, name));
      if (x.equals(y)) continue;
      const xl = x.toString("utf8").split("\n");
      const yl = y.toString("utf8").split("\n");
      const line = xl.findIndex((l, i) => l !== yl[i]);
      diffs.push(`${exp}/${name}: line ${(line < 0 ? xl.length : line) + 1} differs`);
    }
  }
  return diffs;
}

/**
 * Waits until `check()` returns a value other than undefined (it looks at files or asks a
 * daemon: the event waited for), and returns it. `within` only bounds a wait that would
 * otherwise hang: it fails the test with `what` and what `diagnose` finds (the state to read
 * when it happens on a machine no one can log in to), it never decides an outcome.
 */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined,
  within = 90_000,
  diagnose?: () => string,
): Promise<T> {
  const end = Date.now() + within;
  for (;;) {
    const v = check();
    if (v !== undefined) return v;
    if (Date.now() > end) {
      const why = diagnose ? `\n${diagnose()}` : "";
      throw new Error(`gave up waiting (${within / 1000} s) for ${what}${why}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}
