/**
 * The --jobs rows: `softcal run l2-sweep` with --jobs 2 against --jobs 1, the CSVs of both
 * required to be byte-identical. In process through the compiled engine (jobs, jobs-100,
 * jobs-1000: the sweep's own speed-up), and as a fresh CLI process per sample (jobs-cli from the
 * sources through tsx, jobs-dist from the compiled package: what a user waits for). A row's
 * "softcal" side is --jobs 2, its "reference" --jobs 1.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { atLeast, interleave, REPS, ROOT, recordPair, skipped, stats, want } from "../harness.js";

/**
 * How much faster two CPU-bound threads get through twice the work of one, right now (2 on two
 * idle cores; less when other processes hold the cores): the ceiling of any --jobs 2 speed-up.
 * Cost: 12 passes of a 10⁸-step loop, half of them on two threads at once (seconds).
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

/** Samples per side of a --jobs row: --reps, but 3 to 5. */
const jobsReps = () => Math.max(3, Math.min(REPS, 5));

/**
 * Whether the l2-sweep wrote the same CSVs (runs, summary, reliability) at --jobs 1 and --jobs 2:
 * each run is checked against the other setting's last run.
 */
class SameCsvs {
  /** False once a pair of runs differed. */
  identical = true;
  private last = new Map<number, string[]>();
  /** Reads the CSVs the run at `jobs` wrote into `out` (its --out folder) and compares them. */
  check(jobs: number, out: string): void {
    const files = ["runs.csv", "summary.csv", "reliability.csv"].map((f) =>
      readFileSync(join(out, "l2-sweep", f), "utf8"),
    );
    const other = this.last.get(jobs === 1 ? 2 : 1);
    if (other?.some((text, i) => text !== files[i])) this.identical = false;
    this.last.set(jobs, files);
  }
}

/** Runs `body` on a fresh temp folder named `prefix…`, removed afterwards whatever happens. */
async function inTempDir<T>(prefix: string, body: (dir: string) => Promise<T> | T): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  try {
    return await body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
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
  const engine = (await import(
    pathToFileURL(runnerJs).href
  )) as typeof import("../../src/experiment/runner.js");
  const registry = (await import(
    pathToFileURL(registryJs).href
  )) as typeof import("../../experiments/index.js");
  const registryUrl = pathToFileURL(registryJs);
  const sweep = registry.experiments.filter((e) => e.name === "l2-sweep");
  const silent = { info: () => {}, warn: (m: string) => process.stderr.write(`warning: ${m}\n`) };
  const csvs = new SameCsvs();
  /** CPU time / wall time of the --jobs 1 runs: V8's own threads (GC, compiler) use part of a second core. */
  const cores: number[] = [];
  const run = (jobs: number): Promise<number> =>
    inTempDir(`softcal-bench-jobs${jobs}-`, async (out) => {
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
      csvs.check(jobs, out);
      return ms;
    });
  const reps = seeds >= 1000 ? 3 : jobsReps();
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
  const busy = stats(cores).median;
  recordPair(
    {
      id,
      name,
      referenceName: "--jobs 1",
      target: target.text,
      note:
        `compiled engine (dist/), runExperiments in-process, figures off, temp folders, jobs 1/2 alternating; runs.csv, summary.csv, reliability.csv ${csvs.identical ? "byte-identical" : "DIFFER"} between --jobs 1 and --jobs 2; ` +
        "--jobs 2 = the main thread and one worker, started once the work left is worth it (--parallel-min-ms 250); " +
        `--jobs 1 kept ${busy.toFixed(2)} cores busy (CPU time / wall time: V8's GC and compiler threads run on the second core), so 2 cores allow at most ${(2 / busy).toFixed(2)}x; ` +
        `this machine ran two CPU-bound threads ${parallelism.toFixed(2)}x as fast as one just before (2.00 = two free cores)`,
    },
    two,
    one,
    atLeast(target.min),
  );
}

/**
 * The same sweep as {@link jobsRow} as a user runs it: a fresh `softcal run l2-sweep --seeds 10
 * --no-figures --jobs N` process per sample (cold JIT on both sides) — from the sources through
 * tsx ("jobs-cli", workers load TypeScript through tsx), or the compiled package ("jobs-dist",
 * dist/src/cli/main.js as `npm run build` left it; skipped when absent).
 */
async function jobsCliRow(id: "jobs-cli" | "jobs-dist") {
  const dist = join(ROOT, "dist", "src", "cli", "main.js");
  const name =
    id === "jobs-cli"
      ? "same, CLI process from source (node --import tsx), cold"
      : "same, compiled CLI (dist/, no tsx), cold";
  const target = jobsTarget(10);
  if (id === "jobs-dist" && !existsSync(dist))
    return skipped(id, name, "--jobs 1", target.text, "dist/ not built (npm run build)");
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
  const csvs = new SameCsvs();
  const run = (jobs: number): Promise<number> =>
    inTempDir(`softcal-bench-${id}${jobs}-`, (out) => {
      const t = performance.now();
      const r = spawnSync(process.execPath, argvFor(jobs, out), { cwd: ROOT, encoding: "utf8" });
      const ms = performance.now() - t;
      if (r.status !== 0) throw new Error(`softcal run --jobs ${jobs} failed: ${r.stderr}`);
      csvs.check(jobs, out);
      return ms;
    });
  await run(2); // the OS file cache, tsx's transform cache
  const [one, two] = await interleave(
    jobsReps(),
    () => run(1),
    () => run(2),
  );
  recordPair(
    {
      id,
      name,
      referenceName: "--jobs 1",
      target: target.text,
      note: `wall time of a fresh process per sample (start-up included), jobs 1/2 alternating; CSVs ${csvs.identical ? "byte-identical" : "DIFFER"} between --jobs 1 and --jobs 2`,
    },
    two,
    one,
    atLeast(target.min),
  );
}

/**
 * The --jobs rows wanted, in order: jobs, jobs-100, jobs-1000, jobs-cli, jobs-dist. Cost: seconds
 * a row at 10 seeds, minutes for jobs-1000.
 */
export async function jobsRows(): Promise<void> {
  if (want("jobs")) await jobsRow(10);
  if (want("jobs-100")) await jobsRow(100);
  if (want("jobs-1000")) await jobsRow(1000);
  if (want("jobs-cli")) await jobsCliRow("jobs-cli");
  if (want("jobs-dist")) await jobsCliRow("jobs-dist");
}
