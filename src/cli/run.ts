/**
 * `softcal run`, `merge` and `list`: the experiments (experiments/*.ts) through the tracking
 * engine (src/experiment), with parallel workers, resume and shards.
 */
import type { Command } from "commander";
import { InputError } from "../errors.js";
import { parseSetFlag, resolveAxisValues, resolveRunInputs } from "../experiment/axes.js";
import { mergeRuns } from "../experiment/merge.js";
import { isModuleSpec, loadExperimentModule } from "../experiment/module.js";
import { runExperiments } from "../experiment/runner.js";
import { parseShard } from "../experiment/shard.js";
import type { Experiment } from "../experiment/types.js";
import { boundedInteger, MAX_PARALLEL_MIN_MS, MAX_SEEDS, MAX_UNITS, maxThreads } from "./bounds.js";
import { type CliIo, ExitCode } from "./io.js";
import { readSweepConfig, type SweepConfig } from "./sweepConfig.js";

/**
 * The experiments `run`, `merge` and `list` know by name, given to the CLI by its entry point (the
 * CLI imports none itself): loaded on first use, and the URL of a module exporting them
 * (`experiments: Experiment[]`), which worker threads import.
 */
export interface ExperimentRegistry {
  load(): Promise<readonly Experiment[]>;
  url: string | URL;
}

interface RunFlags {
  out: string;
  seeds: string;
  rootSeed: string;
  data?: string;
  label?: string;
  set: string[];
  config?: string;
  predictions?: string;
  logits?: boolean;
  test?: string;
  jobs?: string;
  parallelMinMs?: string;
  shard?: string;
  resume?: boolean;
  force?: boolean;
  quick?: boolean;
  figures: boolean;
}

/** The experiments `all` runs: the lesson and its three exercises (the main job). */
export const ALL = ["baseline", "l2-sweep", "temperature", "ovr-vs-softmax"];

/**
 * The built-in experiments named on the command line (`all` or none = the lesson's four), in
 * registry order; module paths (see `isModuleSpec`) are left to `loadExperimentModule`.
 */
export function selectExperiments(
  names: readonly string[],
  experiments: readonly Experiment[],
): Experiment[] {
  const builtins = names.filter((n) => !isModuleSpec(n));
  if (names.length === 0 || builtins.includes("all")) {
    const extra = builtins.filter((n) => n !== "all");
    return experiments.filter((e) => ALL.includes(e.name) || extra.includes(e.name));
  }
  const known = experiments.map((e) => e.name);
  for (const n of builtins) {
    if (!known.includes(n))
      throw new InputError(
        `run: expected an experiment (${known.join(", ")}, all) or a module file (./my-experiment.mjs); got "${n}"`,
      );
  }
  return experiments.filter((e) => builtins.includes(e.name));
}

/**
 * The axis values the command line and a config file set: the file's `set` and `data`, then the
 * flags (`--set` per axis, `--data`/`--predictions` for `data`, `--logits` for `scores`, `--test`
 * for `test`), later ones winning per axis.
 */
export function axisSettings(flags: RunFlags, file: SweepConfig): Record<string, string[]> {
  const set: Record<string, string[]> = { ...file.set };
  if (file.data) set.data = file.data;
  const list = (flag: string, v: string) => {
    const values = v.split(",");
    if (values.some((x) => x === ""))
      throw new InputError(`${flag}: expected a comma-separated list; got ${JSON.stringify(v)}`);
    return values;
  };
  if (flags.data !== undefined) set.data = list("--data", flags.data);
  if (flags.predictions !== undefined) set.data = list("--predictions", flags.predictions);
  if (flags.logits) set.scores = ["logits"];
  if (flags.test !== undefined) set.test = [flags.test];
  for (const s of flags.set) {
    const { axis, values } = parseSetFlag(s);
    set[axis] = values;
  }
  return set;
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
  set: Readonly<Record<string, readonly string[]>> = {},
): { seeds: number; rootSeed: number; jobs: number | undefined; parallelMinMs: number | undefined } {
  const seeds = boundedInteger("--seeds", flags.seeds, 1, MAX_SEEDS, "memory: one stored record per unit");
  const quick = flags.quick === true;
  const points = selected.reduce((s, e) => {
    if (!e.axes) return s + e.grid({ quick }).length;
    const mine = Object.fromEntries(Object.entries(set).filter(([k]) => Object.hasOwn(e.axes as object, k)));
    // The grid is a product of the axes' values (checked before building it: a product can be huge).
    const axes = resolveAxisValues(e.name, e.axes, { quick, set: mine });
    const size = Object.values(axes).reduce((n, v) => n * v.length, 1);
    return s + (size > MAX_UNITS ? size : e.grid({ quick, axes }).length);
  }, 0);
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

export function registerRun(program: Command, io: CliIo, registry: ExperimentRegistry): void {
  program
    .command("run")
    .description("run experiments: every grid point × seed, tracked in OUT/<experiment>/")
    .argument(
      "[experiment...]",
      "experiments by name (softcal list), all (the default), or module files (./my-experiment.mjs)",
    )
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
    .option(
      "--data <list>",
      "data sets for the experiments' data axis: built-in names or CSV files, comma-separated",
    )
    .option("--label <col>", "the label column of CSV data files (default: label)")
    .option(
      "--set <AXIS=V1,V2>",
      "replace an axis's values, e.g. l2=0,1e-3 (repeatable; softcal list shows each experiment's axes)",
      (v: string, all: string[]) => [...all, v],
      [] as string[],
    )
    .option(
      "--config <file>",
      "a sweep config (JSON: experiments, data, label, set, seeds, rootSeed, jobs, out, quick, figures); flags win",
    )
    .option(
      "--predictions <list>",
      "recalibration: model outputs to recalibrate (CSV: a label column + one score column per class)",
    )
    .option("--logits", "recalibration: the predictions' scores are logits (default: probabilities)")
    .option(
      "--test <file>",
      "recalibration: a fixed test set in the same format (default: split the predictions)",
    )
    .addHelpText(
      "after",
      "\nExamples:\n  softcal run all\n  softcal run l2-sweep temperature --seeds 20 --jobs 2\n  softcal run l2-sweep --data my.csv,iris --label species --set l2=0,1e-3,1e-2 --seeds 30\n  softcal run recalibration --predictions val_logits.csv --logits --seeds 20\n  softcal run ./my-experiment.mjs --jobs 2\n  softcal run --config sweep.json\n  softcal run all --shard 2/4 --out shards/2 && softcal merge shards --into results",
    )
    .action(async (names: string[], flags: RunFlags, cmd: Command) => {
      const file: SweepConfig = flags.config === undefined ? {} : readSweepConfig(flags.config);
      // A flag given on the command line wins over the config file, which wins over the default.
      const given = (key: string) => cmd.getOptionValueSource(key) === "cli";
      const pick = <T>(key: string, fromFile: T | undefined, flag: T): T =>
        given(key) || fromFile === undefined ? flag : fromFile;
      let wanted = names.length > 0 ? names : (file.experiments ?? []);
      if (flags.predictions !== undefined) {
        if (wanted.length === 0) wanted = ["recalibration"];
        else if (!wanted.includes("recalibration"))
          throw new InputError(
            "--predictions: expected the recalibration experiment among those run; got none",
          );
      }
      const builtins = selectExperiments(wanted, await registry.load());
      const modules = [];
      for (const spec of wanted.filter(isModuleSpec)) modules.push(await loadExperimentModule(spec));
      const all = [...builtins, ...modules.map((m) => m.experiment)];
      const names_ = new Set<string>();
      for (const e of all) {
        if (names_.has(e.name))
          throw new InputError(`run: expected each experiment once; got "${e.name}" twice`);
        names_.add(e.name);
      }
      const set = axisSettings(flags, file);
      const sizes = {
        seeds: pick("seeds", file.seeds === undefined ? undefined : String(file.seeds), flags.seeds),
        rootSeed: pick(
          "rootSeed",
          file.rootSeed === undefined ? undefined : String(file.rootSeed),
          flags.rootSeed,
        ),
        jobs: pick("jobs", file.jobs === undefined ? undefined : String(file.jobs), flags.jobs),
        parallelMinMs: flags.parallelMinMs,
        quick: pick("quick", file.quick, flags.quick),
      };
      const { seeds, rootSeed, jobs, parallelMinMs } = parseRunSizes(sizes, all, set);
      const label = pick("label", file.label, flags.label) ?? "label";
      // Every axis name and value, and every data file, checked before anything runs.
      resolveRunInputs(all, { quick: sizes.quick === true, set, label });
      // Built-in experiments share one registry for the workers; each module is its own.
      const groups: { experiments: Experiment[]; registryUrl: string | URL }[] = [
        ...(builtins.length > 0 ? [{ experiments: builtins, registryUrl: registry.url }] : []),
        ...modules.map((m) => ({ experiments: [m.experiment], registryUrl: m.url })),
      ];
      let exitCode = 0;
      for (const g of groups) {
        const declared = new Set(g.experiments.flatMap((e) => Object.keys(e.axes ?? {})));
        const r = await runExperiments({
          experiments: g.experiments,
          registryUrl: g.registryUrl,
          out: pick("out", file.out, flags.out),
          seeds,
          rootSeed,
          set: Object.fromEntries(Object.entries(set).filter(([k]) => declared.has(k))),
          label,
          ...(jobs === undefined ? {} : { jobs }),
          ...(parallelMinMs === undefined ? {} : { parallelMinMs }),
          ...(flags.shard === undefined ? {} : { shard: parseShard(flags.shard, io.env) }),
          resume: flags.resume === true,
          force: flags.force === true,
          quick: sizes.quick === true,
          figures: pick("figures", file.figures, flags.figures),
          progress: true,
          logger: { info: (m) => io.stderr(`${m}\n`), warn: (m) => io.stderr(`warning: ${m}\n`) },
        });
        for (const e of r.experiments) {
          io.stdout(
            `${e.name}: ${e.status.toLowerCase()} — ${e.unitsRun} run, ${e.unitsSkipped} resumed, ${e.failures.length} failed → ${e.dir}${e.notAggregated ? ` (${e.notAggregated})` : ""}\n`,
          );
          for (const f of e.failures.slice(0, 3)) io.stderr(`  ${f.unit}: ${f.message}\n`);
        }
        if (r.exitCode !== 0) exitCode = exitCode === 0 ? r.exitCode : exitCode;
        if (r.exitCode === 130) break;
      }
      if (exitCode !== 0) throw new ExitCode(exitCode);
    });

  program
    .command("merge")
    .description("combine --shard outputs into the files one machine writes")
    .argument("<dir>", "a folder holding the shards' run folders (e.g. shard-1/baseline, shard-2/baseline)")
    .option("--into <dir>", "write the merged runs to <into>/<experiment>/ (default: in place)")
    .option("--no-figures", "skip rendering figures")
    .option(
      "--module <file>",
      "an experiment module whose runs are among those merged, for its figures (repeatable)",
      (v: string, all: string[]) => [...all, v],
      [] as string[],
    )
    .addHelpText(
      "after",
      "\nExamples:\n  softcal merge shards --into results\n  softcal merge shards --into results --module ./my-experiment.mjs",
    )
    .action(async (dir: string, flags: { into?: string; figures: boolean; module: string[] }) => {
      const known = [...(await registry.load())];
      for (const spec of flags.module) known.push((await loadExperimentModule(spec)).experiment);
      const merged = await mergeRuns(dir, {
        ...(flags.into === undefined ? {} : { into: flags.into }),
        experiments: known,
        figures: flags.figures,
        logger: { info: (m) => io.stderr(`${m}\n`), warn: (m) => io.stderr(`warning: ${m}\n`) },
      });
      for (const m of merged)
        io.stdout(`${m.name}: ${m.units} units from ${m.sources.length} folder(s) → ${m.dir}\n`);
    });

  program
    .command("list")
    .description("the experiments, their axes (what --set and --data replace) and grids")
    .argument("[module...]", "also list these experiment modules (./my-experiment.mjs)")
    .option("--json", "print one JSON object on stdout")
    .action(async (specs: string[], flags: { json?: boolean }) => {
      const listed = [...(await registry.load())];
      for (const spec of specs) listed.push((await loadExperimentModule(spec)).experiment);
      const rows = listed.map((e) => ({
        name: e.name,
        description: e.description,
        inAll: ALL.includes(e.name),
        axes: Object.fromEntries(Object.entries(e.axes ?? {}).map(([k, a]) => [k, { ...a }])),
        metrics: [...e.metrics],
        grid: e.grid({ quick: false }),
        quickGrid: e.grid({ quick: true }),
      }));
      if (flags.json) {
        io.stdout(`${JSON.stringify({ experiments: rows })}\n`);
        return;
      }
      for (const r of rows) {
        io.stdout(`${r.name} — ${r.description}${r.inAll ? "" : " (not in all: run it by name)"}\n`);
        for (const [name, a] of Object.entries(r.axes)) {
          const bounds = [a.min === undefined ? "" : `>= ${a.min}`, a.max === undefined ? "" : `<= ${a.max}`]
            .filter((x) => x !== "")
            .join(", ");
          const allowed = a.choices
            ? `; ${a.type === "data" ? "names" : "one of"}: ${a.choices.join(", ")}`
            : "";
          io.stdout(
            `  --set ${name}=…  (${a.type}${bounds ? `, ${bounds}` : ""}${allowed}) ${a.description}\n      default: ${a.values.join(", ")}${a.quick ? `; --quick: ${a.quick.join(", ")}` : ""}\n`,
          );
        }
        const params = Object.keys(r.grid[0] ?? {}).filter((p) => !Object.hasOwn(r.axes, p));
        for (const p of params) {
          const values = [...new Set(r.grid.map((g) => String(g[p])))];
          io.stdout(`  ${p}: ${values.join(", ")}\n`);
        }
        io.stdout(`  ${r.grid.length} grid points (${r.quickGrid.length} with --quick) × seeds\n`);
        io.stdout(`  metrics: ${r.metrics.join(", ")}\n\n`);
      }
    });
}
