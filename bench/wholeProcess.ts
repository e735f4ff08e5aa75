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
import { loadBuiltin } from "../src/data/builtin.js";
import { csvRecords } from "../src/data/csvWrite.js";

export interface Stats {
  median: number;
  min: number;
  max: number;
  n: number;
  samples: number[];
}

/** What the rows need from the bench harness (bench/run.ts). */
export interface Harness {
  root: string;
  python: string;
  haveSklearn: boolean;
  reps: number;
  quick: boolean;
  want(id: string): boolean;
  stats(samples: number[]): Stats;
  record(row: {
    id: string;
    name: string;
    unit: string;
    softcal: Stats | null;
    referenceName: string;
    reference: Stats | null;
    ratio: number | null;
    target: string;
    met: boolean | null;
    note: string;
  }): void;
  skipped(id: string, name: string, referenceName: string, target: string, why: string): void;
}

/** Wall time (ms) of one process; throws with its stderr if it fails. */
function timed(cmd: string, args: string[], cwd: string): number {
  const t = performance.now();
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", maxBuffer: 1 << 26 });
  const ms = performance.now() - t;
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}): ${r.stderr.slice(0, 2000)}`);
  return ms;
}

/** `reps` samples of a and b, alternating (a first on even repetitions), after one warm-up each. */
function alternate(reps: number, a: () => number, b: () => number): [number[], number[]] {
  a();
  b(); // the OS file cache, Python's bytecode cache
  const sa: number[] = [];
  const sb: number[] = [];
  for (let r = 0; r < reps; r++) {
    if (r % 2 === 0) {
      sa.push(a());
      sb.push(b());
    } else {
      sb.push(b());
      sa.push(a());
    }
  }
  return [sa, sb];
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

export function wholeProcessRows(h: Harness, dataDir: string): void {
  const bin = join(h.root, "dist", "src", "cli", "main.js");
  const node = process.execPath;
  writePeerData(dataDir);
  const reps = Math.max(3, h.reps);

  if (h.want("startup-help")) {
    const [s, r] = alternate(
      reps,
      () => timed(node, [bin, "--help"], h.root),
      () => timed(node, ["-e", "0"], h.root),
    );
    const S = h.stats(s);
    const R = h.stats(r);
    h.record({
      id: "startup-help",
      name: "softcal --help, whole process",
      unit: "ms",
      softcal: S,
      referenceName: "node -e 0 (node's own start-up)",
      reference: R,
      ratio: R.median / S.median,
      target: "≤ 120 ms",
      met: S.median <= 120,
      note: `softcal's own share: ${(S.median - R.median).toFixed(0)} ms over node's start-up`,
    });
  }

  if (h.want("startup-fit")) {
    const csv = join(dataDir, "iris.csv");
    if (!h.haveSklearn) {
      h.skipped(
        "startup-fit",
        "softcal fit, iris, whole process",
        "bench/peer_fit.py",
        "≤ 150 ms",
        "scikit-learn not installed",
      );
    } else {
      const [s, r] = alternate(
        reps,
        () => timed(node, [bin, "fit", "--data", csv, "--l2", "0.01", "--json"], h.root),
        () => timed(h.python, [join(h.root, "bench", "peer_fit.py"), csv, "0.01"], h.root),
      );
      const S = h.stats(s);
      const R = h.stats(r);
      h.record({
        id: "startup-fit",
        name: "fit --data iris.csv --l2 0.01 --json, whole process",
        unit: "ms",
        softcal: S,
        referenceName: "bench/peer_fit.py (import sklearn, read CSV, fit)",
        reference: R,
        ratio: R.median / S.median,
        target: "≤ 150 ms",
        met: S.median <= 150,
        note: "a fresh process per sample; `npx softcal` adds npm's own start-up (~0.65 s): call the bin directly in loops",
      });
    }
  }

  for (const seeds of h.quick ? [100] : [100, 1000]) {
    const id = `sweep-${seeds}`;
    if (!h.want(id)) continue;
    const name = `run l2-sweep --seeds ${seeds} --jobs 2 --no-figures, whole process`;
    const target = seeds >= 1000 ? 15 : 10;
    if (!h.haveSklearn) {
      h.skipped(id, name, "bench/peer_l2_sweep.py", `≥ ${target}x`, "scikit-learn not installed");
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
          h.root,
        );
      const peer = () =>
        timed(
          h.python,
          [
            join(h.root, "bench", "peer_l2_sweep.py"),
            "--data",
            dataDir,
            "--seeds",
            String(seeds),
            "--jobs",
            "2",
            "--out",
            join(out, `peer${k++}.csv`),
          ],
          h.root,
        );
      // The peer takes minutes at 1,000 seeds: fewer samples there.
      const [s, r] = alternate(seeds >= 1000 ? 1 : Math.min(reps, 3), softcal, peer);
      const S = h.stats(s);
      const R = h.stats(r);
      h.record({
        id,
        name,
        unit: "ms",
        softcal: S,
        referenceName: "bench/peer_l2_sweep.py (sklearn + numpy + joblib, same grid and work per unit)",
        reference: R,
        ratio: R.median / S.median,
        target: `≥ ${target}x`,
        met: R.median / S.median >= target,
        note: `${18 * seeds} units; softcal writes runs, summary, paired and reliability CSVs, the peer one CSV`,
      });
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }

  if (h.want("run-all")) {
    const out = mkdtempSync(join(tmpdir(), "softcal-bench-run-all-"));
    try {
      let k = 0;
      const [s, r] = alternate(
        Math.min(reps, 3),
        () => timed(node, [bin, "run", "all", "--out", join(out, `r${k++}`)], h.root),
        () => timed(node, ["-e", "0"], h.root),
      );
      const S = h.stats(s);
      const R = h.stats(r);
      h.record({
        id: "run-all",
        name: "run all (the main job: every experiment, CSVs and figures), whole process",
        unit: "ms",
        softcal: S,
        referenceName: "node -e 0",
        reference: R,
        ratio: R.median / S.median,
        target: "≤ 3000 ms",
        met: S.median <= 3000,
        note: "two cores; figures rendered to SVG and PNG",
      });
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }
}
