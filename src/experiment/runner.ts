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
 * - `units/p<point>-s<seed>.json` — one file per finished unit, written atomically by the main
 *   thread only (the single writer); they make `--resume` and sharding work.
 * - `runs.csv`, `summary.csv`, `reliability.csv`, `figures/*.svg|png` — computed from the unit files
 *   in unit order once every unit is present, hence byte-identical for any --jobs, shards or resume.
 * - `.lock` (`.lock.shard-I-of-N`) — held while a process writes the folder.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { InputError, RunError } from "../errors.js";
import { ensureDir, fsErrorReason, removeStaleTempFiles, writeFileAtomic } from "../io/atomic.js";
import { acquireLock, isProcessAlive, type Lock, readLock } from "../io/lock.js";
import { type Logger, type RenderFigure, type WriteFile, writeAggregates } from "./aggregate.js";
import {
  buildConfig,
  checkResult,
  configDifference,
  configText,
  parseUnit,
  type RunConfig,
  readConfig,
  readUnit,
  UNIT_FORMAT,
  type UnitPlan,
  type UnitRecord,
  unitFile,
  unitText,
} from "./config.js";
import { environmentFields, type Manifest, manifestName, type RunStatus, readManifest } from "./manifest.js";
import { defaultProgress, type ProgressCallback, type ProgressEvent } from "./progress.js";
import { inShard, type Shard, shardTag } from "./shard.js";
import type { Experiment, RunResult } from "./types.js";
import type { WorkerReply, WorkerTask } from "./worker.js";

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
  /** Worker threads (default `os.availableParallelism()`); 1 runs in-process. */
  jobs?: number;
  /** Run only this shard's units (see `parseShard`); aggregates are written once all shards' units are present. */
  shard?: Shard;
  /** Continue an existing run: skip units already on disk (the config must match). */
  resume?: boolean;
  /** Replace an existing run (its files are removed once the lock is held). */
  force?: boolean;
  /** Quick grids (smoke tests). Default false. */
  quick?: boolean;
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
  /** Figure renderer (default: the plot layer's `renderFigure`, imported lazily). */
  render?: RenderFigure;
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
  /** True if runs.csv, summary.csv, reliability.csv (and figures) were written. */
  aggregated: boolean;
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

const RUN_FILES = ["config.json", "runs.csv", "summary.csv", "reliability.csv", "manifest.json"];
const RUN_DIRS = ["units", "figures"];

interface AbortState {
  stopping: boolean;
  hard: boolean;
  onHard?: () => void;
}

/**
 * Runs experiments: every grid point × seed, resumable and shardable; writes one run folder per
 * experiment (see the module doc) and returns how each ended.
 *
 * Order of work: validate everything and check every run folder first (nothing is written if
 * any check fails), then per experiment: create the folder, take its lock, (`--force`: remove the
 * old run), write config.json and a RUNNING manifest, run the missing units of this share on
 * `jobs` worker threads (results are written by this thread only, as they arrive), and once
 * every unit of the grid is on disk write the aggregates, then the final manifest.
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
 * Cost: the units' own cost / jobs, plus one small atomic file write per unit.
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
  const write: WriteFile = (file, data) => {
    try {
      rawWrite(file, data);
    } catch (e) {
      const why = fsErrorReason(e);
      if (why === undefined) throw e;
      throw new RunError(
        `${file}: cannot write: ${why}; the units already finished are kept — fix that and run again with --resume`,
        { cause: e },
      );
    }
  };
  if (!Number.isSafeInteger(seeds) || seeds < 1)
    throw new InputError(`--seeds: expected an integer >= 1; got ${seeds}`);
  if (!Number.isSafeInteger(jobs) || jobs < 1)
    throw new InputError(`--jobs: expected an integer >= 1; got ${jobs}`);
  if (!Number.isSafeInteger(rootSeed) || rootSeed < 0) {
    throw new InputError(`--seed: expected an integer >= 0; got ${rootSeed}`);
  }
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
  const plans = opts.experiments.map((exp) => {
    const config = buildConfig(exp, { seeds, rootSeed, quick });
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
      abort.stopping = true;
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
        }),
      );
      reporter.stop();
    }
  } finally {
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
  if (opts.force) return;
  const there = readConfig(dir);
  if (!there) return;
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

function removeRun(dir: string): void {
  for (const name of fs.readdirSync(dir)) {
    const full = path.join(dir, name);
    const ours =
      RUN_FILES.includes(name) || name.endsWith(".csv") || /^manifest\.shard-\d+-of-\d+\.json$/.test(name);
    if (ours) fs.rmSync(full, { force: true });
    else if (RUN_DIRS.includes(name)) fs.rmSync(full, { recursive: true, force: true });
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
}

async function runOne(
  exp: Experiment,
  config: RunConfig,
  dir: string,
  o: RunOneOptions,
): Promise<ExperimentOutcome> {
  ensureDir(dir);
  const lock: Lock = acquireLock(path.join(dir, o.shard ? `.lock.${shardTag(o.shard)}` : ".lock"), dir);
  try {
    checkConflictingLocks(dir, o.shard);
    // Re-check under the lock: another process may have changed the folder since the preflight.
    checkExisting(dir, config, { resume: !!o.resume, force: !!o.force, shard: o.shard });
    if (o.force) removeRun(dir);
    ensureDir(path.join(dir, "units"));
    for (const d of [dir, path.join(dir, "units"), path.join(dir, "figures")]) removeStaleTempFiles(d);
    o.write(path.join(dir, "config.json"), configText(config));

    const manifestFile = path.join(dir, manifestName(o.shard));
    const previous = readManifest(manifestFile);
    const share = config.units.filter((_, i) => inShard(i, o.shard));
    const manifest: Manifest = {
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
    };
    const writeManifest = () => o.write(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
    writeManifest();

    const pending = share.filter((u) => readUnit(dir, config, u) === undefined);
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

    const onResult = (
      plan: UnitPlan,
      reply: { ok: true; result: unknown } | { ok: false; message: string },
    ) => {
      counts.done++;
      let message = reply.ok ? checkResult(config, reply.result) : reply.message;
      if (message === undefined) {
        const record: UnitRecord = {
          format: UNIT_FORMAT,
          experiment: config.experiment,
          key: plan.key,
          pointIndex: plan.point,
          seedIndex: plan.seedIndex,
          seed: plan.seed,
          point: config.grid[plan.point],
          result: (reply as { result: RunResult }).result,
        };
        let text: string;
        try {
          text = unitText(record);
          parseUnit(text);
        } catch (err) {
          message = `result is not JSON-serializable: ${(err as Error).message}`;
          text = "";
        }
        if (message === undefined) {
          o.write(unitFile(dir, plan.key), text);
          manifest.unitsRun++;
        }
      }
      if (message !== undefined) {
        counts.failed++;
        manifest.failures.push({ unit: plan.key, message });
        o.logger.warn(
          `${exp.name}: unit ${plan.key} (point ${plan.point}, seed index ${plan.seedIndex}) failed: ${message}`,
        );
      }
      emit(plan.key);
    };

    let writeError: unknown;
    const guarded = (plan: UnitPlan, reply: Parameters<typeof onResult>[1]) => {
      if (writeError !== undefined) return;
      try {
        onResult(plan, reply);
      } catch (err) {
        writeError = err;
        o.abort.stopping = true;
        o.abort.onHard?.();
      }
    };

    const useWorkers = o.jobs > 1 && pending.length > 1 && o.registryUrl !== undefined;
    if (o.jobs > 1 && o.registryUrl === undefined && pending.length > 1) {
      o.logger.warn(`${exp.name}: no registryUrl given, running units in-process (jobs = 1)`);
    }
    if (useWorkers) {
      await runInWorkers(
        exp,
        config,
        pending,
        Math.min(o.jobs, pending.length),
        o.registryUrl!,
        o.quick,
        guarded,
        o.abort,
      );
    } else {
      await runInProcess(exp, config, pending, o.quick, guarded, o.abort);
    }

    let figures: string[] = [];
    const finish = (status: Exclude<RunStatus, "RUNNING">): ExperimentOutcome => {
      manifest.status = status;
      const order = new Map(config.units.map((u, i) => [u.key, i]));
      manifest.failures.sort((a, b) => (order.get(a.unit) ?? Infinity) - (order.get(b.unit) ?? Infinity));
      manifest.endedAt = new Date().toISOString();
      writeManifest();
      if (status === "COMPLETED" && !manifest.aggregated) {
        const missing =
          config.units.length - config.units.filter((u) => fs.existsSync(unitFile(dir, u.key))).length;
        o.logger.info(
          `${exp.name}: shard ${o.shard?.index}/${o.shard?.count} done; ${missing} units of other shards missing — run \`softcal merge\` when all shards finished`,
        );
      }
      return {
        name: exp.name,
        dir,
        status,
        units: share.length,
        unitsRun: manifest.unitsRun,
        unitsSkipped: manifest.unitsSkipped,
        failures: manifest.failures,
        aggregated: manifest.aggregated,
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

    const all = o.shard ? loadAll(dir, config) : loadAll(dir, config, true);
    if (all) {
      try {
        figures = await writeAggregates(dir, config, all, {
          experiment: exp,
          figures: o.figures ?? true,
          logger: o.logger,
          writeFile: o.write,
          ...(o.render ? { render: o.render } : {}),
        });
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
    lock.release();
  }
}

/** Every unit record of the run in unit order, or undefined if any is missing. */
export function loadAll(dir: string, config: RunConfig, mustExist = false): UnitRecord[] | undefined {
  const records: UnitRecord[] = [];
  for (const u of config.units) {
    const r = readUnit(dir, config, u);
    if (!r) {
      if (mustExist) throw new Error(`internal: unit ${u.key} of ${dir} vanished after it was written`);
      return undefined;
    }
    records.push(r);
  }
  return records;
}

type Reply = { ok: true; result: unknown } | { ok: false; message: string };

async function runInProcess(
  exp: Experiment,
  config: RunConfig,
  pending: UnitPlan[],
  quick: boolean,
  onResult: (plan: UnitPlan, reply: Reply) => void,
  abort: AbortState,
): Promise<void> {
  for (const plan of pending) {
    if (abort.stopping) return;
    let reply: Reply;
    try {
      const result = await exp.run(
        { ...config.grid[plan.point] },
        { seed: plan.seed, seedIndex: plan.seedIndex, quick },
      );
      reply = { ok: true, result: structuredClone(result) };
    } catch (err) {
      reply = { ok: false, message: (err as Error)?.message ?? String(err) };
    }
    onResult(plan, reply);
    // Let signal handlers run between units.
    await new Promise((resolve) => setImmediate(resolve));
  }
}

let tsxApiUrl: string | undefined;

function workerUrlAndBootstrap(registryUrl: string): { url: URL; eval?: string } {
  const own = new URL(import.meta.url);
  const url = new URL(own.pathname.endsWith(".ts") ? "./worker.ts" : "./worker.js", own);
  if (!url.pathname.endsWith(".ts") && !new URL(registryUrl).pathname.endsWith(".ts")) return { url };
  // TypeScript sources: register tsx in the worker before importing it. (`execArgv: ["--import",
  // "tsx"]` does not apply tsx to a worker's own module on Node 20, so bootstrap explicitly.)
  if (tsxApiUrl === undefined) {
    try {
      tsxApiUrl = import.meta.resolve("tsx/esm/api");
    } catch {
      tsxApiUrl = "tsx/esm/api";
    }
  }
  const code = `import(${JSON.stringify(tsxApiUrl)}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); });`;
  return { url, eval: code };
}

function runInWorkers(
  exp: Experiment,
  config: RunConfig,
  pending: UnitPlan[],
  nWorkers: number,
  registryUrl: string,
  quick: boolean,
  onResult: (plan: UnitPlan, reply: Reply) => void,
  abort: AbortState,
): Promise<void> {
  const boot = workerUrlAndBootstrap(registryUrl);
  const workerData = { registryUrl, experiment: exp.name };
  let next = 0;
  let taskId = 0;
  const workers = new Set<Worker>();
  return new Promise<void>((resolve) => {
    abort.onHard = () => {
      for (const w of workers) void w.terminate();
    };
    const spawn = () => {
      const w = boot.eval
        ? new Worker(boot.eval, { eval: true, workerData })
        : new Worker(boot.url, { workerData });
      let current: { plan: UnitPlan; id: number } | undefined;
      let closing = false;
      const dispatch = () => {
        if (abort.stopping || next >= pending.length) {
          current = undefined;
          closing = true;
          void w.terminate();
          return;
        }
        const plan = pending[next++];
        current = { plan, id: taskId++ };
        const task: WorkerTask = {
          id: current.id,
          point: config.grid[plan.point],
          ctx: { seed: plan.seed, seedIndex: plan.seedIndex, quick },
        };
        w.postMessage(task);
      };
      w.on("message", (reply: WorkerReply) => {
        if (!current || reply.id !== current.id) return;
        const { plan } = current;
        current = undefined;
        onResult(plan, reply.ok ? { ok: true, result: reply.result } : { ok: false, message: reply.message });
        dispatch();
      });
      w.on("error", (err) => {
        if (current) {
          const { plan } = current;
          current = undefined;
          onResult(plan, { ok: false, message: `worker crashed: ${err.message}` });
        }
      });
      w.on("exit", () => {
        workers.delete(w);
        if (current) {
          const { plan } = current;
          current = undefined;
          if (!abort.hard) onResult(plan, { ok: false, message: "worker exited while running the unit" });
        }
        if (!closing && !abort.stopping && next < pending.length) spawn();
        if (workers.size === 0) resolve();
      });
      workers.add(w);
      dispatch();
    };
    for (let i = 0; i < nWorkers; i++) spawn();
  });
}
