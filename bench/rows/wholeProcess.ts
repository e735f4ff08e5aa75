/**
 * The bench rows a user feels: whole processes, started fresh for every sample, against what a
 * Python user runs instead (bench/peer_fit.py, bench/peer_l2_sweep.py) or against node itself.
 *
 * - startup-help: `softcal --help` beside `node -e 0` (node's own start-up, the floor).
 * - startup-fit: `softcal fit --data iris.csv --l2 0.01 --json` beside bench/peer_fit.py (import
 *   scikit-learn, read the CSV, fit).
 * - sweep-100 / sweep-1000: `softcal run l2-sweep --seeds N --jobs 2 --no-figures` beside
 *   bench/peer_l2_sweep.py (same grid, same work per unit, joblib with 2 workers).
 * - run-all: `softcal run all` (730 units and every figure), beside node's start-up.
 *
 * Each sample is the wall time of one process, softcal and reference alternating.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadBuiltin } from "../../src/data/builtin.js";
import { csvRecords } from "../../src/data/csvWrite.js";
import { DATA } from "../data.js";
import { atLeast, interleave, QUICK, REPS, ROOT, recordPair, skipped, stats, want } from "../harness.js";
import { PYTHON } from "../reference.js";

/** Wall time (ms) of one process; throws with its stderr if it fails. */
function timed(cmd: string, args: string[], cwd: string): number {
  const t = performance.now();
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", maxBuffer: 1 << 26 });
  const ms = performance.now() - t;
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}): ${r.stderr.slice(0, 2000)}`);
  return ms;
}

/**
 * `reps` samples of a and b, alternating ({@link interleave}), after one warm-up each (the OS
 * file cache, Python's bytecode cache) unless `warm` is false (runs long enough not to need one:
 * a warm-up would double a minutes-long row).
 */
function alternate(
  reps: number,
  a: () => number,
  b: () => number,
  warm = true,
): Promise<[number[], number[]]> {
  if (warm) {
    a();
    b();
  }
  return interleave(reps, a, b);
}

/** The built-in data sets as plain CSVs (features, then an integer label) for the Python peers. */
function writePeerData(dir: string): void {
  mkdirSync(dir, { recursive: true });
  for (const name of ["iris", "penguins"]) {
    const d = loadBuiltin(name);
    const rows = [[...d.featureNames.map((_, j) => `x${j}`), "label"]];
    for (let i = 0; i < d.X.rows; i++) {
      rows.push([...Array.from(d.X.data.subarray(i * d.X.cols, (i + 1) * d.X.cols), String), String(d.y[i])]);
    }
    writeFileSync(join(dir, `${name}.csv`), csvRecords(rows));
  }
}

/**
 * The whole-process rows wanted (the peers' data is written to results/bench/data/peer/ and
 * node's start-up timed whichever are). Needs dist/ (`npm run bench` builds it); the Python peers'
 * rows are skipped when scikit-learn is not installed. Cost: seconds a row, minutes for sweep-1000.
 */
export async function wholeProcessRows(haveSklearn: boolean): Promise<void> {
  const dataDir = join(DATA, "peer");
  const bin = join(ROOT, "dist", "src", "cli", "main.js");
  const node = process.execPath;
  writePeerData(dataDir);
  const reps = Math.max(3, REPS);
  // Node's own start-up on this machine: the start-up targets are set over it.
  const nodeMs = stats(Array.from({ length: reps }, () => timed(node, ["-e", "0"], ROOT))).median;

  if (want("startup-help")) {
    const [s, r] = await alternate(
      reps,
      () => timed(node, [bin, "--help"], ROOT),
      () => timed(node, ["-e", "0"], ROOT),
    );
    const share = stats(s).median - stats(r).median;
    recordPair(
      {
        id: "startup-help",
        name: "softcal --help, whole process",
        referenceName: "node -e 0 (node's own start-up)",
        target: "≤ node + 80 ms",
        note: `softcal's own share: ${share.toFixed(0)} ms over node's start-up (the target of 120 ms assumed node's ~40 ms)`,
      },
      s,
      r,
      (S, R) => S.median - R.median <= 80,
    );
  }

  if (want("startup-fit")) {
    const csv = join(dataDir, "iris.csv");
    if (!haveSklearn) {
      skipped(
        "startup-fit",
        "softcal fit, iris, whole process",
        "bench/peer_fit.py",
        "≤ 150 ms",
        "scikit-learn not installed",
      );
    } else {
      const [s, r] = await alternate(
        reps,
        () => timed(node, [bin, "fit", "--data", csv, "--l2", "0.01", "--json"], ROOT),
        () => timed(PYTHON, [join(ROOT, "bench", "peer_fit.py"), csv, "0.01"], ROOT),
      );
      recordPair(
        {
          id: "startup-fit",
          name: "fit --data iris.csv --l2 0.01 --json, whole process",
          referenceName: "bench/peer_fit.py (import sklearn, read CSV, fit)",
          target: "≤ node + 110 ms",
          note: "a fresh process per sample; `npx softcal` adds npm's own start-up (~0.65 s): call the bin directly in loops",
        },
        s,
        r,
        (S) => S.median - nodeMs <= 110,
      );
    }
  }

  for (const seeds of QUICK ? [100] : [100, 1000]) {
    const id = `sweep-${seeds}`;
    if (!want(id)) continue;
    const name = `run l2-sweep --seeds ${seeds} --jobs 2 --no-figures, whole process`;
    const target = seeds >= 1000 ? 15 : 10;
    if (!haveSklearn) {
      skipped(id, name, "bench/peer_l2_sweep.py", `≥ ${target}x`, "scikit-learn not installed");
      continue;
    }
    const out = mkdtempSync(join(tmpdir(), `softcal-bench-${id}-`));
    try {
      let k = 0;
      const softcal = () =>
        timed(
          node,
          [
            bin,
            "run",
            "l2-sweep",
            "--seeds",
            String(seeds),
            "--jobs",
            "2",
            "--no-figures",
            "--out",
            join(out, `s${k++}`),
          ],
          ROOT,
        );
      const peer = () =>
        timed(
          PYTHON,
          [
            join(ROOT, "bench", "peer_l2_sweep.py"),
            "--data",
            dataDir,
            "--seeds",
            String(seeds),
            "--jobs",
            "2",
            "--out",
            join(out, `peer${k++}.csv`),
          ],
          ROOT,
        );
      // The peer takes minutes at 1,000 seeds: fewer samples there.
      const [s, r] = await alternate(seeds >= 1000 ? 1 : Math.min(reps, 3), softcal, peer, seeds < 1000);
      recordPair(
        {
          id,
          name,
          referenceName: "bench/peer_l2_sweep.py (sklearn + numpy + joblib, same grid and work per unit)",
          target: `≥ ${target}x`,
          note: `${18 * seeds} units; softcal writes runs, summary, paired and reliability CSVs, the peer one CSV`,
        },
        s,
        r,
        atLeast(target),
      );
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }

  if (want("run-all")) {
    const out = mkdtempSync(join(tmpdir(), "softcal-bench-run-all-"));
    try {
      let k = 0;
      const [s, r] = await alternate(
        Math.min(reps, 3),
        () => timed(node, [bin, "run", "all", "--out", join(out, `r${k++}`)], ROOT),
        () => timed(node, ["-e", "0"], ROOT),
      );
      recordPair(
        {
          id: "run-all",
          name: "run all (the main job: every experiment, CSVs and figures), whole process",
          referenceName: "node -e 0",
          target: "≤ 3000 ms",
          note: "two cores; figures rendered to SVG and PNG",
        },
        s,
        r,
        (S) => S.median <= 3000,
      );
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }
}
