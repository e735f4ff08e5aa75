/**
 * `npm run bench`: softcal beside its references (issue 5's table), on the same generated data, in
 * one run, interleaved (softcal and reference alternate, the order flipping every repetition),
 * several repetitions each; prints medians with [min, max], the ratio reference ÷ softcal (higher
 * is better) against the target, and writes results/bench/bench.csv and bench.json.
 *
 *   npm run bench [-- --reps 5] [-- --rows gd-lesson,gd-100k,...] [-- --quick]
 *
 * (`npm run bench` builds first: the --jobs rows time the compiled engine in dist/, which must be
 * the current sources'.)
 *
 * References run in one long-lived Python process (bench/reference_server.py) with
 * /usr/bin/python3 (numpy; scikit-learn and scipy where installed — their rows print
 * "skipped: scikit-learn not installed" otherwise). Timings are wall-clock medians on a shared
 * machine: ratios taken within one run are what to compare, never absolute times across runs.
 */
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { stringify } from "csv-stringify/sync";
import { temperatureScale } from "../src/calibration/recalibrators/temperature.js";
import { createRng } from "../src/data/rng.js";
import { wasmSoftmaxObjective } from "../src/kernels/objectiveWasm.js";
import type { Matrix } from "../src/linalg/matrix.js";
import { fit } from "../src/model/fit.js";
import { predictProba } from "../src/model/predict.js";
import { wholeProcessRows } from "./wholeProcess.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const OUT = join(ROOT, "results", "bench");
const DATA = join(OUT, "data");
/** /usr/bin/python3 (numpy + scikit-learn + scipy here) when it has numpy, else `python3` on PATH. */
const PYTHON =
  existsSync("/usr/bin/python3") && spawnSync("/usr/bin/python3", ["-c", "import numpy"]).status === 0
    ? "/usr/bin/python3"
    : "python3";

// ----------------------------------------------------------------------------------------------
// options
const argv = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const QUICK = argv.includes("--quick");
const REPS = Number(flag("--reps") ?? (QUICK ? 3 : 5));
const ONLY = flag("--rows")?.split(",");

// ----------------------------------------------------------------------------------------------
// statistics and rows
export interface Stats {
  median: number;
  min: number;
  max: number;
  n: number;
  samples: number[];
}
function stats(samples: number[]): Stats {
  const s = [...samples].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { median, min: s[0], max: s[s.length - 1], n: s.length, samples };
}

export interface Row {
  id: string;
  name: string;
  unit: string;
  softcal: Stats | null;
  referenceName: string;
  reference: Stats | null;
  /** reference ÷ softcal medians (or, for memory, softcal's multiple of X's size). */
  ratio: number | null;
  /** reference ÷ softcal minima: the least disturbed samples, telling on a busy machine. */
  ratioMin?: number | null;
  target: string;
  met: boolean | null;
  note: string;
}

const rows: Row[] = [];
function record(r: Row): void {
  if (r.ratioMin === undefined)
    r.ratioMin = r.softcal && r.reference ? r.reference.min / r.softcal.min : null;
  rows.push(r);
  process.stderr.write(`  ${r.id}: ${r.ratio === null ? r.note : `${fmtRatio(r.ratio)} (${r.note})`}\n`);
}
function skipped(id: string, name: string, referenceName: string, target: string, why: string): void {
  record({
    id,
    name,
    unit: "",
    softcal: null,
    referenceName,
    reference: null,
    ratio: null,
    target,
    met: null,
    note: `skipped: ${why}`,
  });
}

/** Runs a and b alternately `reps` times (a first on even repetitions), returns both sample sets. */
async function interleave(
  reps: number,
  a: () => Promise<number> | number,
  b: () => Promise<number> | number,
): Promise<[number[], number[]]> {
  const sa: number[] = [];
  const sb: number[] = [];
  for (let r = 0; r < reps; r++) {
    if (r % 2 === 0) {
      sa.push(await a());
      sb.push(await b());
    } else {
      sb.push(await b());
      sa.push(await a());
    }
  }
  return [sa, sb];
}

// ----------------------------------------------------------------------------------------------
// the Python reference process
type Json = Record<string, unknown>;
class Reference {
  private proc: ChildProcessWithoutNullStreams;
  private lines: AsyncIterator<string>;
  constructor() {
    this.proc = spawn(PYTHON, [join(ROOT, "bench", "reference_server.py")], { stdio: "pipe" });
    this.proc.stderr.on("data", (b) => process.stderr.write(b));
    this.lines = createInterface({ input: this.proc.stdout })[Symbol.asyncIterator]();
  }
  async call(req: Json): Promise<Json> {
    this.proc.stdin.write(`${JSON.stringify(req)}\n`);
    const { value, done } = await this.lines.next();
    if (done) throw new Error("the reference process exited");
    const out = JSON.parse(value) as Json;
    if (typeof out.error === "string") throw new Error(`reference: ${out.error}`);
    return out;
  }
  close(): void {
    this.proc.stdin.end();
  }
}

// ----------------------------------------------------------------------------------------------
// data
interface Problem {
  X: Float64Array;
  y: Int32Array;
  m: number;
  d: number;
  K: number;
  xPath: string;
  yPath: string;
}

/** Gaussian blobs like lesson_softmax.py --synthetic: centers N(0, 2²), unit noise; seeded. */
function blobs(m: number, d: number, K: number, seed: number): Problem {
  const rng = createRng(seed);
  const centers = Float64Array.from({ length: K * d }, () => 2 * rng.normal());
  const X = new Float64Array(m * d);
  const y = new Int32Array(m);
  for (let i = 0; i < m; i++) {
    const k = i < K ? i : rng.int(K);
    y[i] = k;
    for (let j = 0; j < d; j++) X[i * d + j] = centers[k * d + j] + rng.normal();
  }
  return save(`blobs-${m}x${d}x${K}`, X, y, m, d, K);
}

function save(name: string, X: Float64Array, y: Int32Array, m: number, d: number, K: number): Problem {
  const xPath = join(DATA, `${name}.X.f64`);
  const yPath = join(DATA, `${name}.y.i32`);
  writeFileSync(xPath, new Uint8Array(X.buffer, X.byteOffset, X.byteLength));
  writeFileSync(yPath, new Uint8Array(y.buffer, y.byteOffset, y.byteLength));
  return { X, y, m, d, K, xPath, yPath };
}

function readF64(path: string): Float64Array {
  const b = spawnSync("cat", [path], { maxBuffer: 1 << 30 }).stdout;
  return new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}
function readI32(path: string): Int32Array {
  const b = spawnSync("cat", [path], { maxBuffer: 1 << 30 }).stdout;
  return new Int32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

async function dataset(ref: Reference, name: "digits" | "iris"): Promise<Problem> {
  const xPath = join(DATA, `${name}.X.f64`);
  const yPath = join(DATA, `${name}.y.i32`);
  const { m, d, K } = (await ref.call({ cmd: "dataset", name, x: xPath, y: yPath })) as {
    m: number;
    d: number;
    K: number;
  };
  return { X: readF64(xPath), y: readI32(yPath), m, d, K, xPath, yPath };
}

function writeCsv(p: Problem, path: string): void {
  const header = [...Array.from({ length: p.d }, (_, j) => `x${j}`), "label"].join(",");
  const lines = [header];
  for (let i = 0; i < p.m; i++) {
    const r: string[] = [];
    for (let j = 0; j < p.d; j++) r.push(String(p.X[i * p.d + j]));
    r.push(String(p.y[i]));
    lines.push(r.join(","));
  }
  writeFileSync(path, `${lines.join("\n")}\n`);
}

const mat = (p: Problem): Matrix => ({ rows: p.m, cols: p.d, data: p.X });
const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let mx = 0;
  for (let i = 0; i < a.length; i++) mx = Math.max(mx, Math.abs(a[i] - b[i]));
  return mx;
};

// ----------------------------------------------------------------------------------------------
// rows
async function gdRow(
  ref: Reference,
  id: string,
  m: number,
  d: number,
  K: number,
  iters: number,
  target: number,
) {
  const p = blobs(m, d, K, 42);
  const t0 = performance.now();
  const f = wasmSoftmaxObjective({ X: p.X, nSamples: m, nFeatures: d, y: p.y, nClasses: K }, 0);
  const setupMs = performance.now() - t0;
  const req = { cmd: "gd", x: p.xPath, y: p.yPath, m, d, K, alpha: 0.1, iters };
  // Warm both sides (JIT, caches, the reference's data load).
  f.descend(0.1, Math.min(iters, 3));
  await ref.call({ ...req, iters: 1 });
  let thetaRef: number[] = [];
  let thetaOurs: ArrayLike<number> = [];
  const [s, r] = await interleave(
    REPS,
    () => {
      const t = performance.now();
      thetaOurs = f.descend(0.1, iters).theta;
      return (performance.now() - t) / iters;
    },
    async () => {
      const out = (await ref.call(req)) as { msPerIter: number; theta: number[] };
      thetaRef = out.theta;
      return out.msPerIter;
    },
  );
  const S = stats(s);
  const R = stats(r);
  const ratio = R.median / S.median;
  record({
    id,
    name: `GD iteration, m=${m} d=${d} K=${K}`,
    unit: "ms/iter",
    softcal: S,
    referenceName: "lesson's numpy",
    reference: R,
    ratio,
    target: `≥ ${target}x`,
    met: ratio >= target,
    note: `${iters} iterations per sample; ${f.threads} thread(s); repack ${setupMs.toFixed(1)} ms once; max|ΔΘ| vs numpy ${maxAbsDiff(thetaOurs, thetaRef).toExponential(1)}`,
  });
}

async function convergedRows(ref: Reference, haveSklearn: boolean) {
  const want = (id: string) => !ONLY || ONLY.includes(id);
  const ids = ["fit-digits", "fit-digits-cli", "fit-iris-cli"];
  if (!ids.some(want)) return;
  if (!haveSklearn) {
    if (want("fit-digits"))
      skipped(
        "fit-digits",
        "exact converged fit, digits (1797×64, K=10), λ=1e-3, warm, library",
        "scikit-learn lbfgs",
        "≥ 1.5x",
        "scikit-learn not installed",
      );
    if (want("fit-digits-cli"))
      skipped(
        "fit-digits-cli",
        "same through the CLI, cold process (fitMs)",
        "scikit-learn lbfgs",
        "≥ 1x",
        "scikit-learn not installed",
      );
    if (want("fit-iris-cli"))
      skipped(
        "fit-iris-cli",
        "exact converged fit, iris (150×4, K=3), λ=1e-3, CLI cold",
        "scikit-learn lbfgs",
        "≥ 3x",
        "scikit-learn not installed",
      );
    return;
  }
  const l2 = 1e-3;
  for (const name of ["digits", "iris"] as const) {
    const p = await dataset(ref, name);
    const probaPath = join(DATA, `${name}.P.f64`);
    const skReq = { cmd: "sk_fit", x: p.xPath, y: p.yPath, m: p.m, d: p.d, K: p.K, l2, out: probaPath };
    // The optimum, as tight as L-BFGS gets (gradient ≤ 1e-12 or its rounding floor).
    const opt = fit(mat(p), p.y, p.K, { l2, tol: 1e-12, maxIter: 20000 });
    const Pstar = predictProba(opt, mat(p)).data;
    const skOnce = (await ref.call(skReq)) as { nIter: number };
    const skErr = maxAbsDiff(readF64(probaPath), Pstar);
    const size = `${p.m}×${p.d}, K=${p.K}`;

    if (name === "digits" && want("fit-digits")) {
      for (let i = 0; i < 3; i++) fit(mat(p), p.y, p.K, { l2 }); // warm
      let ours = fit(mat(p), p.y, p.K, { l2 });
      const [s, r] = await interleave(
        REPS,
        () => {
          const t = performance.now();
          ours = fit(mat(p), p.y, p.K, { l2 });
          return performance.now() - t;
        },
        async () => ((await ref.call(skReq)) as { ms: number }).ms,
      );
      const err = maxAbsDiff(predictProba(ours, mat(p)).data, Pstar);
      const S = stats(s);
      const R = stats(r);
      record({
        id: "fit-digits",
        name: `exact converged fit, digits (${size}, standardized), λ=1e-3, warm, library`,
        unit: "ms",
        softcal: S,
        referenceName: "scikit-learn lbfgs (default tol)",
        reference: R,
        ratio: R.median / S.median,
        target: "≥ 1.5x",
        met: R.median / S.median >= 1.5,
        note: `max|P − P*|: softcal ${err.toExponential(1)} (${ours.iterations} it.), sklearn ${skErr.toExponential(1)} (${skOnce.nIter} it.)`,
      });
    }
    const cliId = name === "digits" ? "fit-digits-cli" : "fit-iris-cli";
    if (want(cliId)) {
      const csv = join(DATA, `${name}.csv`);
      writeCsv(p, csv);
      let cliErr = 0;
      const [s, r] = await interleave(
        REPS,
        () => {
          const out = spawnSync(
            process.execPath,
            [
              "--import",
              "tsx",
              join(ROOT, "src", "cli", "main.ts"),
              "fit",
              "--data",
              csv,
              "--l2",
              String(l2),
              "--json",
            ],
            { cwd: ROOT, encoding: "utf8", maxBuffer: 1 << 28 },
          );
          if (out.status !== 0) throw new Error(`softcal fit failed: ${out.stderr}`);
          const j = JSON.parse(out.stdout) as { fitMs: number; theta: number[][] };
          const P = predictProba(
            { model: "softmax", nClasses: p.K, nFeatures: p.d, theta: Float64Array.from(j.theta.flat()) },
            mat(p),
          ).data;
          cliErr = maxAbsDiff(P, Pstar);
          return j.fitMs;
        },
        async () => ((await ref.call(skReq)) as { ms: number }).ms,
      );
      const S = stats(s);
      const R = stats(r);
      const target = name === "digits" ? 1 : 3;
      record({
        id: cliId,
        name:
          name === "digits"
            ? `same through the CLI, cold process (fit --json fitMs), digits`
            : `exact converged fit, iris (${size}, standardized), λ=1e-3, CLI cold process (fitMs)`,
        unit: "ms",
        softcal: S,
        referenceName: "scikit-learn lbfgs (default tol), warm",
        reference: R,
        ratio: R.median / S.median,
        target: `≥ ${target}x`,
        met: R.median / S.median >= target,
        note: `each softcal sample a fresh process; max|P − P*| ${cliErr.toExponential(1)}; sklearn ${skErr.toExponential(1)}`,
      });
    }
  }
}

async function temperatureRow(ref: Reference, haveScipy: boolean) {
  const name = "temperature fit, 10k×10 logits";
  if (!haveScipy)
    return skipped("temperature", name, "scipy bounded scalar search", "≥ 5x", "scipy not installed");
  const n = 10_000;
  const K = 10;
  const rng = createRng(11);
  const Z = new Float64Array(n * K);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = rng.int(K);
    for (let k = 0; k < K; k++) Z[i * K + k] = 3 * (rng.normal() + (k === y[i] ? 1.5 : 0));
  }
  const p = save("temperature", Z, y, n, K, K);
  const S0: Matrix = { rows: n, cols: K, data: Z };
  const req = { cmd: "temp", z: p.xPath, y: p.yPath, n, K };
  for (let i = 0; i < 3; i++) temperatureScale(S0, y, { logits: true });
  await ref.call(req);
  let T = 0;
  let Tref = 0;
  const [s, r] = await interleave(
    REPS,
    () => {
      const t = performance.now();
      T = temperatureScale(S0, y, { logits: true }).temperature;
      return performance.now() - t;
    },
    async () => {
      const out = (await ref.call(req)) as { ms: number; T: number };
      Tref = out.T;
      return out.ms;
    },
  );
  const S = stats(s);
  const R = stats(r);
  record({
    id: "temperature",
    name,
    unit: "ms",
    softcal: S,
    referenceName: "scipy minimize_scalar bounded (0.05, 20)",
    reference: R,
    ratio: R.median / S.median,
    target: "≥ 5x",
    met: R.median / S.median >= 5,
    note: `T* softcal ${T.toPrecision(12)}, scipy ${Tref.toPrecision(12)} (xatol 1e-5)`,
  });
}

/**
 * How much faster two CPU-bound threads get through twice the work of one, right now (2 on two
 * idle cores; less when other processes hold the cores): the ceiling of any --jobs 2 speed-up.
 */
async function twoThreadSpeedup(): Promise<number> {
  const code = `const { parentPort } = require("node:worker_threads");
parentPort.on("message", () => { let s = 0; for (let i = 0; i < 1e8; i++) s += Math.sqrt(i); parentPort.postMessage(s); });`;
  const run = async (n: number): Promise<number> => {
    const ws = Array.from({ length: n }, () => new Worker(code, { eval: true }));
    const go = () =>
      Promise.all(
        ws.map(
          (w) =>
            new Promise((ok) => {
              w.once("message", ok);
              w.postMessage(0);
            }),
        ),
      );
    await go(); // start-up and JIT
    const t = performance.now();
    await go();
    const ms = performance.now() - t;
    await Promise.all(ws.map((w) => w.terminate()));
    return ms;
  };
  const [one, two] = await interleave(
    3,
    () => run(1),
    () => run(2),
  );
  return (2 * stats(one).median) / stats(two).median;
}

/** The targets of the --jobs rows: a sweep too small to be worth a worker must at least not slow down. */
function jobsTarget(seeds: number): { text: string; min: number } {
  return seeds <= 10 ? { text: "≥ 0.9x (no worker)", min: 0.9 } : { text: "≥ 1.7x", min: 1.7 };
}

/**
 * `softcal run l2-sweep --seeds N --jobs 2` vs `--jobs 1` (N = 10, the default, 100 and 1000)
 * through the compiled engine as `npx softcal` runs it (dist/, which `npm run bench` builds first;
 * `runExperiments` in this process, so no process start-up is timed), figures off, each run into a
 * fresh temp folder; jobs 1 and jobs 2 alternate over the repetitions. The CSVs must be
 * byte-identical.
 */
async function jobsRow(seeds: number) {
  const id = seeds === 10 ? "jobs" : `jobs-${seeds}`;
  const name = `softcal run l2-sweep --seeds ${seeds} (${18 * seeds} units): --jobs 2 vs --jobs 1`;
  const target = jobsTarget(seeds);
  const runnerJs = join(ROOT, "dist", "src", "experiment", "runner.js");
  const registryJs = join(ROOT, "dist", "experiments", "index.js");
  if (!existsSync(runnerJs) || !existsSync(registryJs))
    return skipped(id, name, "--jobs 1", target.text, "dist/ not built (npm run build)");
  const engine = (await import(pathToFileURL(runnerJs).href)) as typeof import("../src/experiment/runner.js");
  const registry = (await import(pathToFileURL(registryJs).href)) as typeof import("../experiments/index.js");
  const registryUrl = pathToFileURL(registryJs);
  const sweep = registry.experiments.filter((e) => e.name === "l2-sweep");
  const CSVS = ["runs.csv", "summary.csv", "reliability.csv"];
  const silent = { info: () => {}, warn: (m: string) => process.stderr.write(`warning: ${m}\n`) };
  const csvs = new Map<number, string[]>();
  let identical = true;
  /** CPU time / wall time of the --jobs 1 runs: V8's own threads (GC, compiler) use part of a second core. */
  const cores: number[] = [];
  const run = async (jobs: number): Promise<number> => {
    const out = mkdtempSync(join(tmpdir(), `softcal-bench-jobs${jobs}-`));
    try {
      const t = performance.now();
      const cpu0 = process.cpuUsage();
      const r = await engine.runExperiments({
        experiments: sweep,
        registryUrl,
        out,
        seeds,
        jobs,
        figures: false,
        progress: false,
        handleSignals: false,
        logger: silent,
        argv: ["softcal", "run", "l2-sweep", "--seeds", String(seeds), "--jobs", String(jobs)],
      });
      const ms = performance.now() - t;
      const cpu = process.cpuUsage(cpu0);
      if (jobs === 1) cores.push((cpu.user + cpu.system) / 1000 / ms);
      if (r.status !== "COMPLETED") throw new Error(`l2-sweep --jobs ${jobs}: ${r.status}`);
      const files = CSVS.map((f) => readFileSync(join(out, "l2-sweep", f), "utf8"));
      const other = csvs.get(jobs === 1 ? 2 : 1);
      if (other?.some((text, i) => text !== files[i])) identical = false;
      csvs.set(jobs, files);
      return ms;
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  };
  const reps = seeds >= 1000 ? 3 : Math.max(3, Math.min(REPS, 5));
  const parallelism = await twoThreadSpeedup();
  // One unmeasured run each first (JIT for jobs 1; the OS file cache for the workers).
  await run(1);
  await run(2);
  cores.length = 0;
  const [one, two] = await interleave(
    reps,
    () => run(1),
    () => run(2),
  );
  const S = stats(two);
  const R = stats(one);
  const ratio = R.median / S.median;
  const busy = stats(cores).median;
  record({
    id,
    name,
    unit: "ms",
    softcal: S,
    referenceName: "--jobs 1",
    reference: R,
    ratio,
    target: target.text,
    met: ratio >= target.min,
    note:
      `compiled engine (dist/), runExperiments in-process, figures off, temp folders, jobs 1/2 alternating; runs.csv, summary.csv, reliability.csv ${identical ? "byte-identical" : "DIFFER"} between --jobs 1 and --jobs 2; ` +
      "--jobs 2 = the main thread and one worker, started once the work left is worth it (--parallel-min-ms 250); " +
      `--jobs 1 kept ${busy.toFixed(2)} cores busy (CPU time / wall time: V8's GC and compiler threads run on the second core), so 2 cores allow at most ${(2 / busy).toFixed(2)}x; ` +
      `this machine ran two CPU-bound threads ${parallelism.toFixed(2)}x as fast as one just before (2.00 = two free cores)`,
  });
}

/**
 * The same sweep as {@link jobsRow} as a user runs it: a fresh `softcal run l2-sweep --seeds 10
 * --no-figures --jobs N` process per sample (cold JIT on both sides) — from the sources through
 * tsx ("jobs-cli", workers load TypeScript through tsx), or the compiled package ("jobs-dist",
 * dist/src/cli/main.js as `npm run build` left it; skipped when absent).
 */
function jobsCliRow(id: "jobs-cli" | "jobs-dist") {
  const dist = join(ROOT, "dist", "src", "cli", "main.js");
  const name =
    id === "jobs-cli"
      ? "same, CLI process from source (node --import tsx), cold"
      : "same, compiled CLI (dist/, no tsx), cold";
  if (id === "jobs-dist" && !existsSync(dist))
    return skipped(id, name, "--jobs 1", jobsTarget(10).text, "dist/ not built (npm run build)");
  const argvFor = (jobs: number, out: string) => [
    ...(id === "jobs-cli" ? ["--import", "tsx", join(ROOT, "src", "cli", "main.ts")] : [dist]),
    "run",
    "l2-sweep",
    "--seeds",
    "10",
    "--no-figures",
    "--jobs",
    String(jobs),
    "--out",
    out,
  ];
  const csvs = new Map<number, string>();
  let identical = true;
  const run = (jobs: number): number => {
    const out = mkdtempSync(join(tmpdir(), `softcal-bench-${id}${jobs}-`));
    try {
      const t = performance.now();
      const r = spawnSync(process.execPath, argvFor(jobs, out), { cwd: ROOT, encoding: "utf8" });
      const ms = performance.now() - t;
      if (r.status !== 0) throw new Error(`softcal run --jobs ${jobs} failed: ${r.stderr}`);
      const text = ["runs.csv", "summary.csv", "reliability.csv"]
        .map((f) => readFileSync(join(out, "l2-sweep", f), "utf8"))
        .join("\u0000");
      const other = csvs.get(jobs === 1 ? 2 : 1);
      if (other !== undefined && other !== text) identical = false;
      csvs.set(jobs, text);
      return ms;
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  };
  run(2); // the OS file cache, tsx's transform cache
  const one: number[] = [];
  const two: number[] = [];
  for (let r = 0; r < Math.max(3, Math.min(REPS, 5)); r++) {
    if (r % 2 === 0) {
      one.push(run(1));
      two.push(run(2));
    } else {
      two.push(run(2));
      one.push(run(1));
    }
  }
  const S = stats(two);
  const R = stats(one);
  const ratio = R.median / S.median;
  record({
    id,
    name,
    unit: "ms",
    softcal: S,
    referenceName: "--jobs 1",
    reference: R,
    ratio,
    target: jobsTarget(10).text,
    met: ratio >= jobsTarget(10).min,
    note: `wall time of a fresh process per sample (start-up included), jobs 1/2 alternating; CSVs ${identical ? "byte-identical" : "DIFFER"} between --jobs 1 and --jobs 2`,
  });
}

function memoryRow() {
  const [m, d, K] = QUICK ? [200_000, 2, 3] : [1_000_000, 2, 3];
  const out = spawnSync(
    process.execPath,
    ["--expose-gc", "--import", "tsx", join(ROOT, "bench", "memory.ts"), String(m), String(d), String(K)],
    { cwd: ROOT, encoding: "utf8" },
  );
  if (out.status !== 0) throw new Error(`bench/memory.ts failed: ${out.stderr}`);
  const j = JSON.parse(out.stdout) as { xBytes: number; rssBefore: number; peakRss: number; fitMs: number };
  const multiple = (j.peakRss - j.rssBefore) / j.xBytes;
  record({
    id: "memory",
    name: `peak memory fitting m=${m} d=${d} K=${K} (L-BFGS, λ=1e-3)`,
    unit: "× size of X",
    softcal: stats([multiple]),
    referenceName: "size of X as float64",
    reference: null,
    ratio: multiple,
    target: "≤ 3x",
    met: multiple <= 3,
    note: `X ${(j.xBytes / 2 ** 20).toFixed(1)} MiB; peak RSS − RSS before fit = ${((j.peakRss - j.rssBefore) / 2 ** 20).toFixed(1)} MiB; fit ${j.fitMs.toFixed(0)} ms`,
  });
}

// ----------------------------------------------------------------------------------------------
// output
function fmt(x: number): string {
  return x >= 100 ? x.toFixed(0) : x >= 1 ? x.toFixed(2) : x.toPrecision(3);
}
function fmtRatio(x: number): string {
  return `${x >= 10 ? x.toFixed(1) : x.toFixed(2)}x`;
}
const cell = (s: Stats | null) => (s ? `${fmt(s.median)} [${fmt(s.min)}, ${fmt(s.max)}]` : "—");

function printTable(): void {
  const head = [
    "row",
    "unit",
    "softcal median [min, max]",
    "reference median [min, max]",
    "ratio",
    "of minima",
    "target",
    "",
  ];
  const body = rows.map((r) => [
    r.name,
    r.unit,
    cell(r.softcal),
    r.reference ? `${cell(r.reference)} ${r.referenceName}` : r.referenceName,
    r.ratio === null ? "—" : fmtRatio(r.ratio),
    r.ratioMin == null ? "—" : fmtRatio(r.ratioMin),
    r.target,
    r.met === null ? r.note : r.met ? "met" : "NOT MET",
  ]);
  const widths = head.map((h, c) => Math.max(h.length, ...body.map((b) => b[c].length)));
  const line = (cols: string[]) =>
    cols
      .map((v, c) => v.padEnd(widths[c]))
      .join("  ")
      .trimEnd();
  process.stdout.write(`${line(head)}\n${widths.map((w) => "-".repeat(w)).join("  ")}\n`);
  for (const b of body) process.stdout.write(`${line(b)}\n`);
  process.stdout.write("\nnotes:\n");
  for (const r of rows) process.stdout.write(`  ${r.id}: ${r.note}\n`);
}

function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

async function main(): Promise<void> {
  mkdirSync(DATA, { recursive: true });
  const ref = new Reference();
  const env = (await ref.call({ cmd: "hello" })) as {
    python: string;
    numpy: string;
    sklearn: string | null;
    scipy: string | null;
  };
  const machine = { node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model, loadavg: loadavg() };
  process.stderr.write(
    `bench: ${REPS} repetitions, interleaved; node ${process.version}, python ${env.python} (${PYTHON}), numpy ${env.numpy}, scikit-learn ${env.sklearn ?? "not installed"}, scipy ${env.scipy ?? "not installed"}; load average ${loadavg()
      .map((v) => v.toFixed(1))
      .join(" ")}\n`,
  );
  const want = (id: string) => !ONLY || ONLY.includes(id);
  try {
    if (want("gd-lesson")) await gdRow(ref, "gd-lesson", 180, 2, 3, QUICK ? 300 : 2000, 8);
    if (want("gd-100k")) await gdRow(ref, "gd-100k", QUICK ? 20_000 : 100_000, 20, 10, QUICK ? 5 : 20, 3);
    if (want("gd-1m")) await gdRow(ref, "gd-1m", QUICK ? 200_000 : 1_000_000, 2, 3, QUICK ? 5 : 10, 10);
    await convergedRows(ref, env.sklearn !== null);
    if (want("temperature")) await temperatureRow(ref, env.scipy !== null);
    if (want("jobs")) await jobsRow(10);
    if (want("jobs-100")) await jobsRow(100);
    if (want("jobs-1000")) await jobsRow(1000);
    if (want("jobs-cli")) jobsCliRow("jobs-cli");
    if (want("jobs-dist")) jobsCliRow("jobs-dist");
    if (want("memory")) memoryRow();
    wholeProcessRows(
      {
        root: ROOT,
        python: PYTHON,
        haveSklearn: env.sklearn !== null,
        reps: REPS,
        quick: QUICK,
        want,
        stats,
        record,
        skipped,
      },
      join(DATA, "peer"),
    );
  } finally {
    ref.close();
  }
  printTable();
  const json = { date: new Date().toISOString(), reps: REPS, quick: QUICK, machine, reference: env, rows };
  writeAtomic(join(OUT, "bench.json"), `${JSON.stringify(json, null, 2)}\n`);
  const csv = stringify(
    rows.map((r) => ({
      id: r.id,
      name: r.name,
      unit: r.unit,
      softcal_median: r.softcal?.median ?? "",
      softcal_min: r.softcal?.min ?? "",
      softcal_max: r.softcal?.max ?? "",
      reference: r.referenceName,
      reference_median: r.reference?.median ?? "",
      reference_min: r.reference?.min ?? "",
      reference_max: r.reference?.max ?? "",
      ratio: r.ratio ?? "",
      ratio_of_minima: r.ratioMin ?? "",
      target: r.target,
      met: r.met === null ? "" : String(r.met),
      note: r.note,
    })),
    { header: true },
  );
  writeAtomic(join(OUT, "bench.csv"), csv);
  process.stderr.write(`wrote ${join("results", "bench", "bench.csv")} and bench.json\n`);
}

await main();
