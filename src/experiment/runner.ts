/**
 * The experiment runner: runs every (grid point × seed) unit of one or more experiments, in
 * parallel on worker threads, resumably and shardably, and writes the run folders.
 *
 * Run folder `OUT/<name>/` (sacred/mlflow-style file store):
 * - `config.json` — the resolved grid, root seed, number of seeds and every unit's derived seed;
 *   written once; `--resume` refuses a different one.
 * - `manifest.json` (`manifest.shard-I-of-N.json` for a shard) — softcal version, git commit,
 *   node, platform, argv, seeds, times, counts, failures; status RUNNING → COMPLETED / FAILED /
 *   INTERRUPTED, written last.
 * - `units/<first unit key>.jsonl` — the finished units' records, one per line, written by this
 *   thread in batches (every `flushMs`, default 200 ms: see unitBatch.ts) whichever thread ran
 *   them; they make `--resume` and sharding work. A crash (even `kill -9`) loses at most the last
 *   `flushMs` of finished units and damages no file; batches are not fsynced, and a line a power
 *   loss damaged is skipped by `readUnits`, so `--resume` runs that unit again. Every other file is
 *   fsynced before its rename.
 * - `runs.csv`, `summary.csv`, `reliability.csv`, `figures/*.svg|png` — computed from the unit records
 *   in unit order once every unit is present, hence byte-identical for any --jobs, shards or resume.
 * - `.lock` (`.lock.shard-I-of-N`) — held while a process writes the folder.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import type { Worker } from "node:worker_threads";
import { InputError, RunError } from "../errors.js";
import {
  checkReplaceable,
  ensureDir,
  fsErrorReason,
  nodeKind,
  removeStaleTempFiles,
  writeFileAtomic,
} from "../io/atomic.js";
import { acquireLock, isProcessAlive, type Lock, type LockInfo, readLock, tryLock } from "../io/lock.js";
import { moduleWorker, siblingModule } from "../io/moduleWorker.js";
import { renderPool } from "../plot/renderPool.js";
import { type Logger, type RenderFigure, type WriteFile, writeAggregates } from "./aggregate.js";
import { resolveRunInputs } from "./axes.js";
import {
  buildConfig,
  configDifference,
  configText,
  parseUnit,
  type RunConfig,
  readConfig,
  readUnits,
  type UnitPlan,
  type UnitRecord,
  unitRecordText,
  unitsDir,
} from "./config.js";
import { environmentFields, type Manifest, manifestName, type RunStatus, readManifest } from "./manifest.js";
import { defaultProgress, type ProgressCallback, type ProgressEvent } from "./progress.js";
import {
  AggregatesRecorder,
  aggregatesAreCurrent,
  currentAggregatesElsewhere,
  experimentCodeHash,
  FIXED_RUN_FILES,
  foreignEntries,
  hashUnits,
  type OutputsFields,
  readOutputsFields,
  recordedFigures,
  recordedOutputs,
  removeRunFiles,
} from "./runOutputs.js";
import { unitContext } from "./seeds.js";
import { inShard, type Shard, shardTag } from "./shard.js";
import type { Experiment } from "./types.js";
import { DEFAULT_FLUSH_MS, UnitBatch } from "./unitBatch.js";
import { type UnitCsv, unitCsv } from "./unitCsv.js";
import {
  QUEUE_NEXT,
  QUEUE_SLOTS,
  QUEUE_STOP,
  WORKER_ROLE,
  type WorkerReply,
  type WorkerSetup,
} from "./worker.js";

/** Options of {@link runExperiments}. */
export interface RunExperimentsOptions {
  /** The experiments to run, in this order. */
  experiments: readonly Experiment[];
  /**
   * URL (or path) of a module exporting `experiments: Experiment[]`; worker threads import it to
   * find each experiment by name. Without it, units run in-process (as with jobs = 1).
   */
  registryUrl?: string | URL;
  /** Output folder (default "results"); experiment `name` writes `OUT/<name>/`. */
  out?: string;
  /** Seeds per grid point (default 10). */
  seeds?: number;
  /** Root seed every per-run seed is derived from (default 0). */
  rootSeed?: number;
  /**
   * Threads running units (default `os.availableParallelism()`): this thread and jobs − 1 worker
   * threads, all taking units from one shared queue; 1 runs everything in-process.
   */
  jobs?: number;
  /** Run only this shard's units (see `parseShard`); aggregates are written once all shards' units are present. */
  shard?: Shard;
  /** Continue an existing run: skip units already on disk (the config must match). */
  resume?: boolean;
  /** Replace an existing run (its files are removed once the lock is held). */
  force?: boolean;
  /** Quick grids (smoke tests). Default false. */
  quick?: boolean;
  /**
   * Replaced axis values, by axis name (`--set AXIS=V1,V2`; `--data` sets `data`): each applies to
   * every selected experiment that declares the axis (see `resolveRunInputs`).
   */
  set?: Readonly<Record<string, readonly string[]>>;
  /** The label column of CSV files given as data values (default "label"). */
  label?: string;
  /** Render figures (default true). */
  figures?: boolean;
  /**
   * Progress: a callback, `true` for the default reporter, `false` for none. Default reporter: a
   * cli-progress bar when stderr is a TTY, otherwise a log line per 10%.
   */
  progress?: boolean | ProgressCallback;
  /** Where messages go (default: stderr). */
  logger?: Logger;
  /** Aborting it stops dispatching units, like SIGINT. */
  signal?: AbortSignal;
  /** Handle SIGINT/SIGTERM while running (default true): first stops gently, second abandons running units. */
  handleSignals?: boolean;
  /** Command line recorded in the manifest (default `process.argv`). */
  argv?: string[];
  /** File writer (default `writeFileAtomic`); inject failures in tests. */
  writeFile?: WriteFile;
  /**
   * Finished units are written together, in one batch file, at most this often (ms; default 200):
   * a crash loses at most this much finished work. 0 writes each unit at once, in its own file.
   */
  flushMs?: number;
  /**
   * Called after each batch of finished units is on disk (tests wait on it instead of on timers;
   * a tool can follow a run with it). An exception it throws stops the run like a failed write.
   */
  onBatch?: (event: BatchEvent) => void;
  /** Figure renderer (default: the plot layer's `renderFigure`, imported lazily). */
  render?: RenderFigure;
  /**
   * Worker threads start only once the work is worth one (ms): when this thread has run units for
   * this long, or the work left, estimated from its recent units, is this long. A worker costs
   * ~0.06 s to start (~0.3 s when it loads TypeScript through tsx) and runs cold at first, more
   * than a sub-second sweep gains from it. Default 250 (1000 with TypeScript workers); 0 starts
   * them at once.
   */
  parallelMinMs?: number;
}

/** A batch of finished units written to disk (see {@link RunExperimentsOptions.onBatch}). */
export interface BatchEvent {
  experiment: string;
  /** The batch file (`OUT/<experiment>/units/<first key>.jsonl`). */
  file: string;
  /** The keys of the units it holds, in the order they finished. */
  units: string[];
}

/** How one experiment's run ended. */
export interface ExperimentOutcome {
  name: string;
  dir: string;
  status: Exclude<RunStatus, "RUNNING">;
  /** Units in this run's share (whole grid or shard). */
  units: number;
  unitsRun: number;
  unitsSkipped: number;
  failures: { unit: string; message: string }[];
  /** True if runs.csv, summary.csv, reliability.csv (and figures) are written and current. */
  aggregated: boolean;
  /**
   * Why the aggregates are not written, in words (absent when they are): e.g. "interrupted before
   * the aggregates — run again with --resume to finish", or, for a shard, "the aggregates wait for
   * the other shards (12 units missing) — run `softcal merge` once all shards finished".
   */
  notAggregated?: string;
  /** True if the aggregates on disk were found current (see runOutputs.ts) and not written again. */
  aggregatesReused?: boolean;
  figures: string[];
}

/** The result of {@link runExperiments}. */
export interface RunExperimentsResult {
  status: Exclude<RunStatus, "RUNNING">;
  /** 0 COMPLETED, 1 FAILED, 130 INTERRUPTED (the CLI's exit code). */
  exitCode: 0 | 1 | 130;
  experiments: ExperimentOutcome[];
}

/** A stderr logger (info and warnings, one line each). */
export const stderrLogger: Logger = {
  info: (m) => process.stderr.write(`${m}\n`),
  warn: (m) => process.stderr.write(`warning: ${m}\n`),
};

interface AbortState {
  stopping: boolean;
  hard: boolean;
  /** Called when `stopping` becomes true (the unit queue stops handing out units). */
  onStop?: () => void;
  /** Called on a hard stop (running units are abandoned). */
  onHard?: () => void;
}

/** Stops handing out units (running ones finish). */
function requestStop(abort: AbortState): void {
  abort.stopping = true;
  abort.onStop?.();
}

/** A write failure in words: a file-system error becomes a one-line RunError naming the file. */
function writeFailure(file: string, e: unknown): unknown {
  const why = fsErrorReason(e);
  if (why === undefined) return e;
  return new RunError(
    `${file}: cannot write: ${why}; the units already finished are kept — fix that and run again with --resume`,
    { cause: e },
  );
}

/**
 * Runs experiments: every grid point × seed, resumable and shardable; writes one run folder per
 * experiment (see the module doc) and returns how each ended.
 *
 * Order of work: validate everything and check every run folder first (nothing is written if
 * any check fails), then per experiment: create the folder, take its lock, (`--force`: remove the
 * old run), write config.json and a RUNNING manifest, run the missing units of this share on
 * `jobs` threads (this one and jobs − 1 workers, started once the work is worth them; this thread
 * writes the finished units in batches), and once every unit of the grid is on disk write the
 * aggregates, then the final manifest.
 *
 * Errors (InputError, exit 2, nothing written): seeds/jobs not integers ≥ 1, rootSeed not a safe
 * integer ≥ 0; `--out` a file, under a file, or not writable; an existing run without
 * resume/force (`results/baseline already holds a run; pass --resume to continue it or --force
 * to replace it`); resume or shard with a different config (names the first difference); another
 * live process holding the folder's lock. A unit that throws makes that experiment FAILED; the
 * other units still run and are kept (resume re-runs only the failed ones). SIGINT/SIGTERM (or
 * `signal`) → INTERRUPTED, exitCode 130. A failing write (disk full) is rethrown after the
 * manifest is marked FAILED where possible.
 *
 * Cost: the units' own cost / jobs, plus one small atomic file write per unit (not fsynced: see the module doc) and
 * the workers' start-up (module loading, ~0.1–0.3 s, overlapped with this thread's units).
 *
 * @example
 * const r = await runExperiments({ experiments, registryUrl: new URL("./registry.js", import.meta.url), out: "results" });
 * process.exitCode = r.exitCode;
 */
export async function runExperiments(opts: RunExperimentsOptions): Promise<RunExperimentsResult> {
  const logger = opts.logger ?? stderrLogger;
  const seeds = opts.seeds ?? 10;
  const rootSeed = opts.rootSeed ?? 0;
  const jobs = opts.jobs ?? os.availableParallelism();
  const quick = opts.quick ?? false;
  const out = opts.out ?? "results";
  const rawWrite = opts.writeFile ?? writeFileAtomic;
  // A file-system failure (disk full, read-only folder) is the machine's, not a bug: say which file,
  // and that what is finished is kept.
  const write: WriteFile = (file, data, options) => {
    try {
      rawWrite(file, data, options);
    } catch (e) {
      throw writeFailure(file, e);
    }
  };
  if (!Number.isSafeInteger(seeds) || seeds < 1)
    throw new InputError(`--seeds: expected an integer >= 1; got ${seeds}`);
  if (!Number.isSafeInteger(jobs) || jobs < 1)
    throw new InputError(`--jobs: expected an integer >= 1; got ${jobs}`);
  if (!Number.isSafeInteger(rootSeed) || rootSeed < 0) {
    throw new InputError(`--seed: expected an integer >= 0; got ${rootSeed}`);
  }
  if (opts.flushMs !== undefined && !(Number.isFinite(opts.flushMs) && opts.flushMs >= 0))
    throw new InputError(`flushMs: expected a number of milliseconds >= 0; got ${opts.flushMs}`);
  if (opts.parallelMinMs !== undefined && !(Number.isFinite(opts.parallelMinMs) && opts.parallelMinMs >= 0))
    throw new InputError(
      `--parallel-min-ms: expected a number of milliseconds >= 0; got ${opts.parallelMinMs}`,
    );
  if (opts.resume && opts.force) throw new InputError("--resume and --force: expected at most one; got both");
  const shard = opts.shard;
  if (shard && !(Number.isSafeInteger(shard.index) && shard.index >= 1 && shard.index <= shard.count)) {
    throw new InputError(
      `--shard: expected I/N with integers 1 <= I <= N; got ${shard.index}/${shard.count}`,
    );
  }
  if (opts.experiments.length === 0) throw new InputError("run: expected at least one experiment; got none");
  const names = new Set<string>();
  for (const e of opts.experiments) {
    if (names.has(e.name)) throw new InputError(`run: expected each experiment once; got "${e.name}" twice`);
    names.add(e.name);
  }
  const registryUrl = opts.registryUrl === undefined ? undefined : toUrl(opts.registryUrl);

  // Preflight: nothing is written until every check passed.
  checkOutFolder(out);
  const inputs = resolveRunInputs(opts.experiments, { quick, set: opts.set, label: opts.label });
  const plans = opts.experiments.map((exp, i) => {
    const config = buildConfig(exp, { seeds, rootSeed, quick, ...inputs[i] });
    const dir = path.join(out, exp.name);
    checkExisting(dir, config, { resume: !!opts.resume, force: !!opts.force, shard });
    return { exp, config, dir };
  });

  const abort: AbortState = { stopping: false, hard: false };
  const onSignal = () => {
    if (abort.stopping) {
      abort.hard = true;
      abort.onHard?.();
      logger.warn("interrupted again: abandoning the units in progress");
    } else {
      requestStop(abort);
      logger.warn("interrupted: finishing the units in progress (interrupt again to abandon them)");
    }
  };
  const handleSignals = opts.handleSignals ?? true;
  if (handleSignals) {
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  }
  const onAbort = () => {
    if (!abort.stopping) onSignal();
  };
  if (opts.signal?.aborted) abort.stopping = true;
  opts.signal?.addEventListener("abort", onAbort);

  const reporter =
    typeof opts.progress === "function"
      ? { update: opts.progress, stop() {} }
      : opts.progress === false
        ? { update() {}, stop() {} }
        : defaultProgress(logger, process.stderr.isTTY === true);

  const outcomes: ExperimentOutcome[] = [];
  // Figures are drawn on as many threads as units ran on; the render workers live across the
  // experiments of the run (started on the first figure that finds this thread busy).
  const pool = opts.render === undefined ? renderPool(jobs) : undefined;
  try {
    for (const plan of plans) {
      if (abort.stopping) break;
      outcomes.push(
        await runOne(plan.exp, plan.config, plan.dir, {
          ...opts,
          jobs,
          quick,
          shard,
          registryUrl,
          logger,
          write,
          abort,
          progress: reporter.update,
          render: opts.render ?? pool?.render,
          renderConcurrency: pool ? jobs : 1,
        }),
      );
      reporter.stop();
    }
  } finally {
    await pool?.close();
    reporter.stop();
    if (handleSignals) {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    }
    opts.signal?.removeEventListener("abort", onAbort);
  }
  const interrupted = abort.stopping || outcomes.some((o) => o.status === "INTERRUPTED");
  const failed = outcomes.some((o) => o.status === "FAILED");
  const status = interrupted ? "INTERRUPTED" : failed ? "FAILED" : "COMPLETED";
  return { status, exitCode: interrupted ? 130 : failed ? 1 : 0, experiments: outcomes };
}

function toUrl(u: string | URL): string {
  if (u instanceof URL) return u.href;
  if (/^[a-z][a-z0-9+.-]*:/i.test(u) && !/^[a-z]:[\\/]/i.test(u)) return u;
  return pathToFileURL(path.resolve(u)).href;
}

/** `--out` must be a folder, or creatable: its nearest existing ancestor a writable folder. */
export function checkOutFolder(out: string): void {
  let p = path.resolve(out);
  for (;;) {
    let st: fs.Stats | undefined;
    try {
      st = fs.statSync(p);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOTDIR") {
        p = path.dirname(p);
        continue;
      }
      if (code !== "ENOENT") throw new InputError(`--out ${out}: expected a writable folder; got ${code}`);
    }
    if (st) {
      if (!st.isDirectory()) {
        const what = p === path.resolve(out) ? "a file" : `a path under the file ${p}`;
        throw new InputError(`--out ${out}: expected a folder; got ${what}`);
      }
      try {
        fs.accessSync(p, fs.constants.W_OK | fs.constants.X_OK);
      } catch {
        throw new InputError(`--out ${out}: expected a writable folder; got ${p} not writable`);
      }
      return;
    }
    const parent = path.dirname(p);
    if (parent === p) return;
    p = parent;
  }
}

/**
 * Checks what `dir` holds before a run writes it: nothing, a softcal run folder (its config.json
 * is one: `readConfig`), or only a run's leftovers (a lock, temp files, an empty units/ folder).
 * Anything else is refused, with or without --force — softcal never writes into, nor empties, a
 * folder it did not make. An existing run needs --resume (same config) or --force.
 */
function checkExisting(
  dir: string,
  config: RunConfig,
  opts: { resume: boolean; force: boolean; shard: Shard | undefined },
): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch {
    return;
  }
  if (!st.isDirectory()) throw new InputError(`--out: expected ${dir} to be a folder; got a file`);
  // The files every run writes may only be regular files (checkReplaceable), its folders folders.
  for (const name of [...FIXED_RUN_FILES, manifestName(opts.shard)]) checkReplaceable(path.join(dir, name));
  for (const name of ["units", "figures"]) {
    let sub: fs.Stats | undefined;
    try {
      sub = fs.lstatSync(path.join(dir, name));
    } catch {
      // absent: created when needed
    }
    if (sub && !sub.isDirectory())
      throw new InputError(`expected a folder (or none); got ${nodeKind(sub)}`, {
        file: path.join(dir, name),
      });
  }
  let there = readConfig(dir);
  if (!there) {
    const foreign = foreignEntries(dir);
    // A shard sharing this folder may have written config.json since the read above.
    if (foreign.length > 0) there = readConfig(dir);
    if (!there && foreign.length > 0) {
      const more = foreign.length > 1 ? ` and ${foreign.length - 1} more` : "";
      throw new InputError(
        `expected a softcal run folder (with its config.json) or an empty folder; got a folder holding ${foreign[0]}${more}, which softcal did not write — choose another --out, or move those files away`,
        { file: dir },
      );
    }
    if (!there) return;
  }
  if (opts.force) return;
  const holdsRun = opts.shard ? fs.existsSync(path.join(dir, manifestName(opts.shard))) : true;
  if (!opts.resume && holdsRun) {
    throw new InputError(`${dir} already holds a run; pass --resume to continue it or --force to replace it`);
  }
  const diff = configDifference(there, config);
  if (diff) {
    throw new InputError(
      `expected the same config to ${opts.resume ? "resume this run" : "add a shard to this run"}; got a different one (${diff}) — pass --force to replace the run`,
      { file: path.join(dir, "config.json") },
    );
  }
}

/** Refuses if a live process holds a conflicting lock (whole-run lock vs shard locks). */
function checkConflictingLocks(dir: string, shard: Shard | undefined): void {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const conflicting = shard ? name === ".lock" : name.startsWith(".lock.shard-");
    if (!conflicting) continue;
    const holder = readLock(path.join(dir, name));
    if (holder && (holder.host !== os.hostname() || isProcessAlive(holder.pid))) {
      throw new InputError(
        `expected no other softcal process writing ${dir}; got one (pid ${holder.pid} on host ${holder.host}, since ${holder.startedAt})`,
        { file: path.join(dir, name) },
      );
    }
  }
}

/**
 * Removes the softcal run in `dir` (--force; see runOutputs.ts for which files): the fixed files,
 * unit files, temp files, and the tables and figures its manifests record. Whatever else is there
 * is kept, with a warning naming it.
 */
function removeRun(dir: string, logger: Logger): void {
  const kept = removeRunFiles(dir, recordedOutputs(dir).outputs);
  if (kept.length > 0) {
    const shown = kept.slice(0, 3).join(", ") + (kept.length > 3 ? `, … (${kept.length - 3} more)` : "");
    logger.warn(
      `${dir}: --force kept ${kept.length} file${kept.length === 1 ? "" : "s"} no softcal run recorded writing (${shown}); remove ${kept.length === 1 ? "it" : "them"} yourself if not wanted`,
    );
  }
}

interface RunOneOptions extends RunExperimentsOptions {
  jobs: number;
  quick: boolean;
  shard: Shard | undefined;
  registryUrl: string | undefined;
  logger: Logger;
  write: WriteFile;
  abort: AbortState;
  progress: (e: ProgressEvent) => void;
  /** Figures drawn at a time (the render pool's threads). */
  renderConcurrency: number;
}

async function runOne(
  exp: Experiment,
  config: RunConfig,
  dir: string,
  o: RunOneOptions,
): Promise<ExperimentOutcome> {
  ensureDir(dir);
  const lock: Lock = acquireLock(path.join(dir, o.shard ? `.lock.${shardTag(o.shard)}` : ".lock"), dir);
  /** A shard's claim on writing the aggregates, held from before it looks at them until its manifest says what it did. */
  let claim: Lock | undefined;
  try {
    checkConflictingLocks(dir, o.shard);
    // Re-check under the lock: another process may have changed the folder since the preflight.
    checkExisting(dir, config, { resume: !!o.resume, force: !!o.force, shard: o.shard });
    // A folder of an older softcal (no record of its tables and figures) stays marked as such.
    const legacyBefore = o.force && recordedOutputs(dir).legacy;
    if (o.force) removeRun(dir, o.logger);
    ensureDir(unitsDir(dir));
    for (const d of [dir, unitsDir(dir), path.join(dir, "figures")]) removeStaleTempFiles(d);
    o.write(path.join(dir, "config.json"), configText(config));

    const manifestFile = path.join(dir, manifestName(o.shard));
    const previous = readManifest(manifestFile);
    // The files earlier attempts wrote (for --force) and their aggregates' record (for the skip);
    // every table and figure the folder's manifests record, read before this attempt's is written.
    const carried = readOutputsFields(previous);
    let folderOutputs = recordedOutputs(dir);
    if (legacyBefore) folderOutputs.legacy = true;
    const share = config.units.filter((_, i) => inShard(i, o.shard));
    const manifest: Manifest & OutputsFields = {
      experiment: config.experiment,
      status: "RUNNING",
      ...environmentFields(o.argv ?? process.argv),
      rootSeed: config.rootSeed,
      seeds: config.seeds,
      ...(o.shard ? { shard: o.shard } : {}),
      jobs: o.jobs,
      startedAt: new Date().toISOString(),
      units: share.length,
      unitsSkipped: 0,
      unitsRun: 0,
      failures: [],
      aggregated: false,
      previousAttempts: previous
        ? [
            ...(previous.previousAttempts ?? []),
            {
              startedAt: previous.startedAt,
              ...(previous.endedAt ? { endedAt: previous.endedAt } : {}),
              status: previous.status,
            },
          ]
        : [],
      outputs: carried.outputs ?? [],
      ...(carried.aggregates ? { aggregates: carried.aggregates } : {}),
      ...(folderOutputs.legacy ? { legacy: true } : {}),
    };
    // The units on disk are read (and a hostile unit file refused) before the manifest says RUNNING.
    const stored = readUnits(dir, config, (file, lines) =>
      o.logger.warn(
        `${file}: skipped ${lines} line${lines === 1 ? "" : "s"} that ${lines === 1 ? "is" : "are"} no unit record of this run (damaged, e.g. by a power loss); units without a record run again`,
      ),
    );
    const writeManifest = () => o.write(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
    writeManifest();

    const pending = share.filter((u) => !stored.has(u.key));
    // Every record of this share, and the CSV rows the threads formatted, for the aggregates.
    const records = new Map([...stored].map(([key, s]) => [key, s.record]));
    const csvParts = new Map<string, UnitCsv>();
    manifest.unitsSkipped = share.length - pending.length;
    const counts = { done: manifest.unitsSkipped, failed: 0 };
    const emit = (unit?: string) =>
      o.progress({
        experiment: exp.name,
        done: counts.done,
        total: share.length,
        skipped: manifest.unitsSkipped,
        failed: counts.failed,
        ...(unit === undefined ? {} : { unit }),
      });
    emit();

    let writeError: unknown;
    const fail = (err: unknown) => {
      if (writeError !== undefined) return;
      writeError = err;
      requestStop(o.abort);
      o.abort.onHard?.();
    };
    const onBatch = o.onBatch;
    const batch = new UnitBatch(
      dir,
      o.write,
      o.flushMs ?? DEFAULT_FLUSH_MS,
      fail,
      onBatch && ((file, units) => onBatch({ experiment: exp.name, file, units })),
    );
    const onResult = (plan: UnitPlan, outcome: UnitOutcome) => {
      if (writeError !== undefined) return;
      try {
        record(plan, outcome);
      } catch (err) {
        fail(err); // e.g. a progress callback that throws
      }
    };
    const record = (plan: UnitPlan, outcome: UnitOutcome) => {
      counts.done++;
      if (outcome.kind === "text") {
        batch.add(plan.key, outcome.text);
        records.set(plan.key, outcome.record);
        csvParts.set(plan.key, outcome.csv);
        manifest.unitsRun++;
      } else {
        counts.failed++;
        manifest.failures.push({ unit: plan.key, message: outcome.message });
        o.logger.warn(
          `${exp.name}: unit ${plan.key} (point ${plan.point}, seed index ${plan.seedIndex}) failed: ${outcome.message}`,
        );
      }
      emit(plan.key);
    };

    if (o.jobs > 1 && o.registryUrl === undefined && pending.length > 1) {
      o.logger.warn(`${exp.name}: no registryUrl given, running units in-process (jobs = 1)`);
    }
    try {
      await runUnits(exp, config, pending, {
        threads: o.registryUrl === undefined ? 1 : o.jobs,
        parallelMinMs:
          o.parallelMinMs ?? (o.registryUrl !== undefined && workersNeedTsx(o.registryUrl) ? 1000 : 250),
        registryUrl: o.registryUrl,
        quick: o.quick,
        logger: o.logger,
        onResult,
        abort: o.abort,
      });
      if (writeError === undefined) batch.flush();
    } catch (err) {
      fail(err);
    } finally {
      batch.discard();
    }

    let figures: string[] = [];
    let aggregatesReused = false;
    /** Units of the grid without a record (other shards' units a shard has not seen yet). */
    let missing = 0;
    /** Why a shard that found the grid complete left the aggregates to another, e.g. "shard 1/4 wrote the aggregates". */
    let leftTo: string | undefined;
    const finish = (status: Exclude<RunStatus, "RUNNING">): ExperimentOutcome => {
      manifest.status = status;
      const order = new Map(config.units.map((u, i) => [u.key, i]));
      manifest.failures.sort((a, b) => (order.get(a.unit) ?? Infinity) - (order.get(b.unit) ?? Infinity));
      manifest.endedAt = new Date().toISOString();
      writeManifest();
      if (status === "COMPLETED" && !manifest.aggregated) {
        o.logger.info(
          `${exp.name}: shard ${o.shard?.index}/${o.shard?.count} done; ${leftTo ?? `${missing} units of other shards missing — run \`softcal merge\` when all shards finished`}`,
        );
      }
      const notAggregated = manifest.aggregated
        ? undefined
        : status === "INTERRUPTED"
          ? "interrupted before the aggregates; --resume finishes the run"
          : status === "FAILED"
            ? "failed before the aggregates; --resume runs what is missing"
            : (leftTo ??
              `the aggregates wait for the other shards: ${missing} units missing; run \`softcal merge\` when all shards finished`);
      return {
        name: exp.name,
        dir,
        status,
        units: share.length,
        unitsRun: manifest.unitsRun,
        unitsSkipped: manifest.unitsSkipped,
        failures: manifest.failures,
        aggregated: manifest.aggregated,
        ...(notAggregated === undefined ? {} : { notAggregated }),
        ...(aggregatesReused ? { aggregatesReused } : {}),
        figures,
      };
    };
    if (writeError !== undefined) {
      try {
        finish("FAILED");
      } catch {
        // the disk is failing; the original error is the one to report
      }
      throw writeError;
    }
    if (o.abort.stopping) return finish("INTERRUPTED");
    if (manifest.failures.length > 0) return finish("FAILED");

    // A shard needs the other shards' units from disk; a whole run has every record in memory.
    const known = o.shard ? new Map([...readUnits(dir, config)].map(([key, u]) => [key, u.record])) : records;
    missing = config.units.filter((u) => !known.has(u.key)).length;
    if (missing === 0 || !o.shard) {
      const all = inUnitOrder(config, known, dir);
      const wanted = { units: hashUnits(all), figures: o.figures ?? true, code: experimentCodeHash(exp) };
      if (o.shard) {
        // Shards that find the grid complete at once: the one holding the claim writes the
        // aggregates (or finds them written). The others wait for it (a holder that only checks
        // is done in milliseconds), then look for themselves — so each names the shard that wrote
        // them — unless the holder is still at it after AGGREGATES_WAIT_MS.
        const got = await waitForClaim(path.join(dir, AGGREGATES_CLAIM), shardName(o.shard), o.abort);
        if (!("release" in got)) {
          leftTo = `${holderName(got.holder)} writes the aggregates`;
          return finish("COMPLETED");
        }
        claim = got;
        // Another shard may have written them before the claim was ours; the folder's record of
        // outputs, read when this shard started, may lack theirs.
        const elsewhere = currentAggregatesElsewhere(dir, path.basename(manifestFile), wanted);
        if (elsewhere) {
          leftTo = `${manifestOwner(elsewhere.manifest)} wrote the aggregates`;
          return finish("COMPLETED");
        }
        const now = recordedOutputs(dir);
        folderOutputs = { outputs: now.outputs, legacy: folderOutputs.legacy || now.legacy };
      }
      try {
        if (aggregatesAreCurrent(carried.aggregates, dir, wanted)) {
          // Resuming a finished run: its aggregates on disk are these units' (runOutputs.ts).
          aggregatesReused = true;
          figures = wanted.figures && carried.aggregates ? recordedFigures(carried.aggregates, dir) : [];
        } else {
          const recorder = new AggregatesRecorder(
            dir,
            manifest,
            { ...wanted, previous: carried.aggregates },
            o.write,
            writeManifest,
            folderOutputs,
          );
          figures = await writeAggregates(dir, config, all, {
            experiment: exp,
            figures: wanted.figures,
            logger: o.logger,
            writeFile: recorder.writeFile,
            unitCsv: csvParts,
            render: recorder.render(o.render),
            renderConcurrency: o.renderConcurrency,
          });
          recorder.finish();
        }
      } catch (err) {
        try {
          manifest.failures.push({ unit: "(aggregates)", message: (err as Error).message });
          finish("FAILED");
        } catch {
          // keep the original error
        }
        throw err;
      }
      manifest.aggregated = true;
    }
    return finish("COMPLETED");
  } finally {
    claim?.release();
    lock.release();
  }
}

/** The claim file a shard holds while it decides on and writes the aggregates. */
const AGGREGATES_CLAIM = ".lock.aggregates";
/** How long a shard waits for another one's aggregates claim before leaving the aggregates to it. */
const AGGREGATES_WAIT_MS = 60_000;

/**
 * Takes the aggregates claim, waiting while another process holds it (polling 10 ms, doubling to
 * 500 ms) for at most AGGREGATES_WAIT_MS or until a stop is requested; then the holder, if any.
 */
async function waitForClaim(
  file: string,
  label: string,
  abort: AbortState,
): Promise<Lock | { holder: LockInfo | undefined }> {
  const deadline = Date.now() + AGGREGATES_WAIT_MS;
  let pause = 10;
  for (;;) {
    const got = tryLock(file, label);
    if ("release" in got || abort.stopping || Date.now() >= deadline) return got;
    await new Promise((resolve) => setTimeout(resolve, pause));
    pause = Math.min(2 * pause, 500);
  }
}

function shardName(shard: Shard): string {
  return `shard ${shard.index}/${shard.count}`;
}

/** The holder of the aggregates claim, in words: its label ("shard 2/4") or its process. */
function holderName(holder: LockInfo | undefined): string {
  if (holder === undefined) return "another process (an unreadable .lock.aggregates)";
  const label =
    holder.label !== undefined && /^shard \d+\/\d+$/.test(holder.label) ? holder.label : "another process";
  return `${label} (pid ${holder.pid} on host ${holder.host})`;
}

/** Who a manifest file belongs to: "shard J/N" or "the whole run". */
function manifestOwner(name: string): string {
  const m = /^manifest\.shard-(\d+)-of-(\d+)\.json$/.exec(name);
  return m ? `shard ${m[1]}/${m[2]}` : "the whole run";
}

/** The records of every unit of `config` in unit order (all must be there: a whole run's are). */
function inUnitOrder(config: RunConfig, records: ReadonlyMap<string, UnitRecord>, dir: string): UnitRecord[] {
  return config.units.map((u) => {
    const r = records.get(u.key);
    if (!r) throw new Error(`internal: unit ${u.key} of ${dir} has no record after the run`);
    return r;
  });
}

/**
 * How one unit ended, as the thread that ran it reports it: its record (text, parsed) and its CSV
 * rows, or why it failed.
 */
type UnitOutcome =
  | { kind: "text"; text: string; record: UnitRecord; csv: UnitCsv }
  | { kind: "failed"; message: string };

interface RunUnitsOptions {
  /** Threads taking units: this one and threads − 1 workers (none without a registry URL). */
  threads: number;
  /** Start the workers only once the estimated work left is at least this long (ms). */
  parallelMinMs: number;
  registryUrl: string | undefined;
  quick: boolean;
  logger: Logger;
  onResult: (plan: UnitPlan, outcome: UnitOutcome) => void;
  abort: AbortState;
}

/**
 * Runs `pending` on this thread and `threads − 1` worker threads. Every thread takes the next
 * unit from one shared atomic counter, so none waits for another between units; workers post each
 * unit's record text (the same bytes any thread makes) in one message. This thread starts at once,
 * while the workers load. `onResult` is called exactly once per unit that ended (none for units
 * abandoned by a stop).
 */
async function runUnits(
  exp: Experiment,
  config: RunConfig,
  pending: UnitPlan[],
  o: RunUnitsOptions,
): Promise<void> {
  const nWorkers = o.registryUrl === undefined ? 0 : Math.max(0, Math.min(o.threads - 1, pending.length - 1));
  const queue = new Int32Array(new SharedArrayBuffer(4 * (QUEUE_SLOTS + nWorkers)));
  queue.fill(-1, QUEUE_SLOTS);
  const reported = new Uint8Array(pending.length);
  const report = (index: number, outcome: UnitOutcome) => {
    if (reported[index]) return;
    reported[index] = 1;
    o.onResult(pending[index], outcome);
  };
  o.abort.onStop = () => Atomics.store(queue, QUEUE_STOP, 1);
  if (o.abort.stopping) Atomics.store(queue, QUEUE_STOP, 1);
  // Workers start once the work left is worth a worker's start (RunExperimentsOptions.
  // parallelMinMs): when this thread has spent that long already, or, after ESTIMATE_AFTER units
  // (the first ones run cold: 10-30x slower while V8 compiles), when the last RECENT units' mean
  // time × the units left reaches it. Checked after each unit here and every PROBE_MS while one
  // awaits.
  let workersDone: Promise<void> = Promise.resolve();
  let started = nWorkers === 0;
  let doneHere = 0;
  const t0 = performance.now();
  const recent = new Float64Array(RECENT);
  const maybeStart = () => {
    if (started || o.abort.stopping) return;
    const left = pending.length - Math.min(Atomics.load(queue, QUEUE_NEXT), pending.length);
    if (left === 0) return;
    let recentMs = 0;
    for (let i = 0; i < RECENT; i++) recentMs += recent[i];
    const worth =
      performance.now() - t0 >= o.parallelMinMs ||
      (doneHere >= ESTIMATE_AFTER && (recentMs / RECENT) * left >= o.parallelMinMs);
    if (!worth) return;
    started = true;
    clearInterval(probe);
    workersDone = startWorkers(exp, config, pending, Math.min(nWorkers, left), queue, report, o);
  };
  const probe = started ? undefined : setInterval(maybeStart, PROBE_MS);
  try {
    maybeStart();
    const runHere = async (index: number) => {
      const t = performance.now();
      report(index, await runUnit(exp, config, pending[index], o.quick));
      recent[doneHere % RECENT] = performance.now() - t;
      doneHere++;
      maybeStart();
      // Let worker messages and signal handlers run between units.
      await new Promise((resolve) => setImmediate(resolve));
    };
    while (!o.abort.stopping) {
      const index = Atomics.add(queue, QUEUE_NEXT, 1);
      if (index >= pending.length) break;
      await runHere(index);
    }
    clearInterval(probe);
    await workersDone;
    // A worker that died between claiming a unit and marking it running leaves it unreported.
    for (let i = 0; i < pending.length && !o.abort.stopping; i++) if (!reported[i]) await runHere(i);
  } finally {
    clearInterval(probe);
    o.abort.onStop = undefined;
    o.abort.onHard = undefined;
  }
}

/** How often a waiting run re-checks whether to start its workers (ms). */
const PROBE_MS = 20;
/** Units whose mean time estimates the work left, and how many run before it is trusted. */
const RECENT = 8;
const ESTIMATE_AFTER = 24;

/** Runs one unit in this thread: its record (text, parsed) and CSV rows, or why it failed. */
async function runUnit(
  exp: Experiment,
  config: RunConfig,
  plan: UnitPlan,
  quick: boolean,
): Promise<UnitOutcome> {
  try {
    const result = await exp.run({ ...config.grid[plan.point] }, unitContext(plan, quick, config.data));
    const unit = unitRecordText(config, plan, result);
    return "message" in unit
      ? { kind: "failed", message: unit.message }
      : { kind: "text", text: unit.text, record: unit.record, csv: unitCsv(config, unit.record) };
  } catch (err) {
    return { kind: "failed", message: (err as Error)?.message ?? String(err) };
  }
}

/** Unit workers load TypeScript (through tsx) when this engine or the experiments registry is TypeScript. */
function workersNeedTsx(registryUrl: string): boolean {
  return new URL(import.meta.url).pathname.endsWith(".ts") || new URL(registryUrl).pathname.endsWith(".ts");
}

/**
 * Starts `n` workers on the shared queue; resolves when all have exited. A worker that crashes
 * reports its running unit as failed and is replaced while units remain; one that cannot load the
 * registry is not (its share goes to the other threads, with a warning).
 */
function startWorkers(
  exp: Experiment,
  config: RunConfig,
  pending: UnitPlan[],
  n: number,
  queue: Int32Array,
  report: (index: number, outcome: UnitOutcome) => void,
  o: RunUnitsOptions,
): Promise<void> {
  const registryUrl = o.registryUrl!;
  const workerUrl = siblingModule(import.meta.url, "worker");
  const typescript = workersNeedTsx(registryUrl);
  const workers = new Set<Worker>();
  let warned = false;
  return new Promise<void>((resolve) => {
    o.abort.onHard = () => {
      for (const w of workers) void w.terminate();
    };
    const spawn = (slot: number) => {
      const workerData: WorkerSetup = {
        role: WORKER_ROLE,
        registryUrl,
        experiment: exp.name,
        config,
        pending,
        quick: o.quick,
        queue: queue.buffer as SharedArrayBuffer,
        slot,
      };
      const w = moduleWorker(workerUrl, { workerData, typescript });
      let fatal = false;
      /** The unit this worker was running, if any, ends as failed. */
      const lost = (message: string) => {
        const index = Atomics.exchange(queue, QUEUE_SLOTS + slot, -1);
        if (index >= 0) report(index, { kind: "failed", message });
      };
      w.on("message", (m: WorkerReply) => {
        switch (m.kind) {
          case "text":
            report(m.index, { kind: "text", text: m.text, record: parseUnit(m.text), csv: m.csv });
            break;
          case "failed":
            report(m.index, { kind: "failed", message: m.message });
            break;
          case "fatal":
            fatal = true;
            if (!warned) {
              warned = true;
              o.logger.warn(
                `${exp.name}: a worker thread could not load the experiments (${m.message}); its units run on the other threads`,
              );
            }
            break;
        }
      });
      w.on("error", (err) => lost(`worker crashed: ${err.message}`));
      w.on("exit", () => {
        workers.delete(w);
        if (!o.abort.hard) lost("worker exited while running the unit");
        if (!fatal && !o.abort.stopping && Atomics.load(queue, QUEUE_NEXT) < pending.length) spawn(slot);
        if (workers.size === 0) resolve();
      });
      workers.add(w);
    };
    for (let slot = 0; slot < n; slot++) spawn(slot);
  });
}
