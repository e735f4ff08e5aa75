/**
 * `softcal run`, `merge` and `list`: the experiments (experiments/*.ts) through the tracking
 * engine (src/experiment), with parallel workers, resume and shards.
 */
import type { Command } from "commander";
import { experiments } from "../../experiments/index.js";
import { InputError } from "../errors.js";
import { mergeRuns } from "../experiment/merge.js";
import { runExperiments } from "../experiment/runner.js";
import { parseShard } from "../experiment/shard.js";
import type { Experiment } from "../experiment/types.js";
import { boundedInteger, MAX_PARALLEL_MIN_MS, MAX_SEEDS, MAX_UNITS, maxThreads } from "./bounds.js";
import { type CliIo, ExitCode } from "./common.js";

/** The experiments registry module, which worker threads import (the .ts source under tsx/vitest). */
export const REGISTRY_URL = new URL(
  `../../experiments/index.${import.meta.url.endsWith(".ts") ? "ts" : "js"}`,
  import.meta.url,
);

interface RunFlags {
  out: string;
  seeds: string;
  rootSeed: string;
  jobs?: string;
  parallelMinMs?: string;
  shard?: string;
  resume?: boolean;
  force?: boolean;
  quick?: boolean;
  figures: boolean;
}

/** The experiments named on the command line (`all` or none = every one), in registry order. */
export function selectExperiments(names: readonly string[]): Experiment[] {
  if (names.length === 0 || names.includes("all")) return [...experiments];
  const known = experiments.map((e) => e.name);
  for (const n of names) {
    if (!known.includes(n))
      throw new InputError(`run: expected an experiment (${known.join(", ")}, all); got "${n}"`);
  }
  return experiments.filter((e) => names.includes(e.name));
}

/**
 * `run`'s size flags, checked before any folder is touched (bounds: src/cli/bounds.ts): --seeds
 * from 1 to MAX_SEEDS and seeds × grid points (summed over the selected experiments, at their
 * --quick or full grid) ≤ MAX_UNITS; --jobs from 1 to cores × 4; --root-seed a safe integer;
 * --parallel-min-ms from 0 to one day. @throws InputError
 */
export function parseRunSizes(
  flags: Pick<RunFlags, "seeds" | "rootSeed" | "jobs" | "parallelMinMs" | "quick">,
  selected: readonly Experiment[],
): { seeds: number; rootSeed: number; jobs: number | undefined; parallelMinMs: number | undefined } {
  const seeds = boundedInteger("--seeds", flags.seeds, 1, MAX_SEEDS, "memory: one stored record per unit");
  const points = selected.reduce((s, e) => s + e.grid({ quick: flags.quick === true }).length, 0);
  if (seeds * points > MAX_UNITS) {
    throw new InputError(
      `--seeds: expected seeds × grid points ≤ ${MAX_UNITS} (memory: one stored record per unit); got ${seeds} × ${points} = ${seeds * points} — use fewer seeds`,
    );
  }
  const rootSeed = boundedInteger(
    "--root-seed",
    flags.rootSeed,
    -Number.MAX_SAFE_INTEGER,
    Number.MAX_SAFE_INTEGER,
    "a safe integer",
  );
  const jobs =
    flags.jobs === undefined
      ? undefined
      : boundedInteger("--jobs", flags.jobs, 1, maxThreads(), "the machine's cores × 4");
  const parallelMinMs =
    flags.parallelMinMs === undefined
      ? undefined
      : boundedInteger("--parallel-min-ms", flags.parallelMinMs, 0, MAX_PARALLEL_MIN_MS, "one day");
  return { seeds, rootSeed, jobs, parallelMinMs };
}

export function registerRun(program: Command, io: CliIo): void {
  program
    .command("run")
    .description("run experiments: every grid point × seed, tracked in OUT/<experiment>/")
    .argument("[experiment...]", `${experiments.map((e) => e.name).join(", ")} or all (default all)`)
    .option("--out <dir>", "output folder", "results")
    .option("--seeds <N>", `seeds per grid point (≤ ${MAX_SEEDS}; seeds × grid points ≤ ${MAX_UNITS})`, "10")
    .option("--root-seed <S>", "the root seed every run's seed is derived from", "0")
    .option(
      "--jobs <N>",
      "threads running units: this one and N-1 workers, ≤ cores × 4 (default: the number of cores)",
    )
    .option(
      "--parallel-min-ms <MS>",
      "start the workers only once the work left is estimated at >= MS milliseconds (default 250; 0: at once)",
    )
    .option(
      "--shard <I/N>",
      "run only shard I of N (also auto/N: index from SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX or SOFTCAL_SHARD_INDEX)",
    )
    .option("--resume", "continue an interrupted run (skips finished units; the config must match)")
    .option("--force", "replace an existing run")
    .option("--quick", "small grids, for a smoke test in seconds")
    .option("--no-figures", "skip rendering the SVG/PNG figures")
    .addHelpText(
      "after",
      "\nExamples:\n  softcal run all\n  softcal run l2-sweep temperature --seeds 20 --jobs 2\n  softcal run all --shard 2/4 --out shards/2 && softcal merge shards --into results",
    )
    .action(async (names: string[], flags: RunFlags) => {
      const selected = selectExperiments(names);
      const { seeds, rootSeed, jobs, parallelMinMs } = parseRunSizes(flags, selected);
      const r = await runExperiments({
        experiments: selected,
        registryUrl: REGISTRY_URL,
        out: flags.out,
        seeds,
        rootSeed,
        ...(jobs === undefined ? {} : { jobs }),
        ...(parallelMinMs === undefined ? {} : { parallelMinMs }),
        ...(flags.shard === undefined ? {} : { shard: parseShard(flags.shard, io.env) }),
        resume: flags.resume === true,
        force: flags.force === true,
        quick: flags.quick === true,
        figures: flags.figures,
        progress: true,
        logger: { info: (m) => io.stderr(`${m}\n`), warn: (m) => io.stderr(`warning: ${m}\n`) },
      });
      for (const e of r.experiments) {
        io.stdout(
          `${e.name}: ${e.status.toLowerCase()} — ${e.unitsRun} run, ${e.unitsSkipped} resumed, ${e.failures.length} failed → ${e.dir}${e.notAggregated ? ` (${e.notAggregated})` : ""}\n`,
        );
        for (const f of e.failures.slice(0, 3)) io.stderr(`  ${f.unit}: ${f.message}\n`);
      }
      if (r.exitCode !== 0) throw new ExitCode(r.exitCode);
    });

  program
    .command("merge")
    .description("combine --shard outputs into the files one machine writes")
    .argument("<dir>", "a folder holding the shards' run folders (e.g. shard-1/baseline, shard-2/baseline)")
    .option("--into <dir>", "write the merged runs to <into>/<experiment>/ (default: in place)")
    .option("--no-figures", "skip rendering figures")
    .addHelpText("after", "\nExample:\n  softcal merge shards --into results")
    .action(async (dir: string, flags: { into?: string; figures: boolean }) => {
      const merged = await mergeRuns(dir, {
        ...(flags.into === undefined ? {} : { into: flags.into }),
        experiments,
        figures: flags.figures,
        logger: { info: (m) => io.stderr(`${m}\n`), warn: (m) => io.stderr(`warning: ${m}\n`) },
      });
      for (const m of merged)
        io.stdout(`${m.name}: ${m.units} units from ${m.sources.length} folder(s) → ${m.dir}\n`);
    });

  program
    .command("list")
    .description("the experiments and their grids")
    .option("--json", "print one JSON object on stdout")
    .action((flags: { json?: boolean }) => {
      const rows = experiments.map((e) => ({
        name: e.name,
        description: e.description,
        metrics: [...e.metrics],
        grid: e.grid({ quick: false }),
        quickGrid: e.grid({ quick: true }),
      }));
      if (flags.json) {
        io.stdout(`${JSON.stringify({ experiments: rows })}\n`);
        return;
      }
      for (const r of rows) {
        io.stdout(`${r.name} — ${r.description}\n`);
        const params = Object.keys(r.grid[0] ?? {});
        for (const p of params) {
          const values = [...new Set(r.grid.map((g) => String(g[p])))];
          io.stdout(`  ${p}: ${values.join(", ")}\n`);
        }
        io.stdout(`  ${r.grid.length} grid points (${r.quickGrid.length} with --quick) × seeds\n`);
        io.stdout(`  metrics: ${r.metrics.join(", ")}\n\n`);
      }
    });
}
