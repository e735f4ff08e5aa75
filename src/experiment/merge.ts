/**
 * Combining shard outputs (`mergeRuns`) and finding runs on disk (`listRuns`).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { cellLocation, parseCsvTable, showValue } from "../data/csv.js";
import { InputError, RunError, SoftcalError } from "../errors.js";
import { ensureDir, fsErrorReason, writeFileAtomic } from "../io/atomic.js";
import { acquireLock } from "../io/lock.js";
import { readDirBounded } from "../io/readBounded.js";
import {
  type Logger,
  type RenderFigure,
  SUMMARY_SUFFIXES,
  type WriteFile,
  writeAggregates,
} from "./aggregate.js";
import {
  checkConfig,
  configDifference,
  configText,
  isRunName,
  NAME_RE,
  type RunConfig,
  readConfig,
  readUnits,
  type StoredUnit,
  UNIT_KEY_RE,
  type UnitRecord,
  unitsDir,
  unitText,
} from "./config.js";
import { environmentFields, type Manifest, readManifest } from "./manifest.js";
import {
  checkRunFolderForWriting,
  parseRunJson,
  RUN_DIR_MAX_ENTRIES,
  readRunDir,
  readRunText,
} from "./runFiles.js";
import { checkOutFolder, stderrLogger } from "./runner.js";
import type { CompletedRun, Experiment } from "./types.js";
import { writeBatch } from "./unitBatch.js";
import { formatCell } from "./unitCsv.js";

/** Folders below the root searched for run folders (a run folder is one holding config.json). */
const MAX_DEPTH = 3;

/**
 * Every folder under `root` (itself included, up to 3 levels down) that holds a config.json (a
 * file or a symlink; not a FIFO or another special file), sorted. Symlinked folders are not
 * followed; a folder is listed entry by entry and one of more than `RUN_DIR_MAX_ENTRIES` entries
 * is refused (InputError) — an unreadable folder below the root is skipped.
 */
export function findRunDirs(root: string): string[] {
  const found: string[] = [];
  const walk = (dir: string, depth: number) => {
    if (depth > 0) {
      try {
        fs.accessSync(dir, fs.constants.R_OK | fs.constants.X_OK);
      } catch {
        return; // a folder this user cannot read holds no run of theirs
      }
    }
    const entries = readDirBounded(dir, {
      what: "a folder of runs",
      maxEntries: RUN_DIR_MAX_ENTRIES,
      within: root,
    });
    if (entries === undefined) return;
    // A symlinked config.json counts too: readConfig follows it only inside the run folder.
    if (entries.some((e) => (e.isFile() || e.isSymbolicLink()) && e.name === "config.json")) {
      found.push(dir);
      return;
    }
    if (depth >= MAX_DEPTH) return;
    for (const e of entries) {
      if (e.isDirectory() && !e.name.startsWith(".") && e.name !== "node_modules")
        walk(path.join(dir, e.name), depth + 1);
    }
  };
  walk(root, 0);
  return found.sort();
}

/**
 * Runs the experiment's `tables` (and `figures`, if they are drawn) over the records to merge, before
 * anything is written: the records come from other machines, and their `extras` — free-form data
 * for figures that no engine check covers — may not be what the experiment's code expects. An
 * error there (a crafted or foreign record; an honest run's records aggregate the same way on the
 * machine that ran them) is an InputError naming the source folders, instead of an internal error
 * after the CSVs were written. Cost: one extra evaluation of the experiment's tables and figure specs
 * (no rendering).
 */
function checkExperimentCanAggregate(
  exp: Experiment | undefined,
  config: RunConfig,
  units: readonly UnitRecord[],
  figures: boolean,
  sources: readonly string[],
): void {
  if (exp === undefined) return;
  // The input writeAggregates gives the experiment (aggregate.ts).
  const runs: CompletedRun[] = units.map((u) => ({
    point: config.grid[u.pointIndex],
    pointIndex: u.pointIndex,
    seedIndex: u.seedIndex,
    seed: u.seed,
    result: u.result,
  }));
  const step = (what: string, f: () => unknown) => {
    try {
      f();
    } catch (err) {
      if (err instanceof SoftcalError) throw err;
      const message = String((err as Error)?.message ?? err).split("\n")[0];
      throw new InputError(
        `expected unit records whose results experiment "${exp.name}" can aggregate; got records its ${what} fail on (${message})`,
        { file: sources.join(", ") },
      );
    }
  };
  const input = { points: config.grid, runs };
  step("tables", () => exp.tables?.(input));
  if (figures) step("figures", () => exp.figures?.(input));
}

/** True if two paths name the same folder (after resolving `.`/`..`, not symlinks). */
function samePath(a: string, b: string): boolean {
  return path.resolve(a) === path.resolve(b);
}

/** The default writer of a merge: a file-system error becomes one line naming the file. */
const writeOrExplain: WriteFile = (file, data, options) => {
  try {
    writeFileAtomic(file, data, options);
  } catch (e) {
    const why = fsErrorReason(e);
    if (why === undefined) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EISDIR" || code === "ENOTDIR")
      throw new InputError(`expected a file path; got ${why}`, { file });
    throw new RunError(`${file}: cannot write: ${why}`, { cause: e });
  }
};

/** Options of {@link mergeRuns}. */
export interface MergeOptions {
  /** Folder to write merged runs into, as `<into>/<name>/` (default: `dir` itself — see mergeRuns). */
  into?: string;
  /** Experiments, for their extra tables and figures (skipped, with a warning, for experiments not given). */
  experiments?: readonly Experiment[];
  /** Render figures (default true). */
  figures?: boolean;
  render?: RenderFigure;
  logger?: Logger;
  writeFile?: WriteFile;
  argv?: string[];
}

/** One merged run. */
export interface MergedRun {
  name: string;
  dir: string;
  sources: string[];
  units: number;
  figures: string[];
}

/**
 * Merges shard outputs into the files one machine would have written.
 *
 * Finds every run folder under `dir` (a folder holding config.json, up to 3 levels down: e.g.
 * `shard-1/baseline` and `shard-2/baseline`, or one shared `baseline` folder), groups them by
 * experiment, checks that their configs agree and that together they hold every unit of the grid,
 * then writes `<into>/<name>/`: config.json, the unit records it lacks (one batch file, each record
 * the same bytes as in its shard), runs.csv,
 * summary.csv, reliability.csv, figures, and a COMPLETED manifest.json listing the sources
 * (`mergedFrom`). Target: `<into>/<name>` when `into` is given; otherwise `dir` itself if `dir`
 * is that experiment's run folder, else `<dir>/<name>`. The CSVs are byte-identical to an
 * unsharded run of the same config.
 *
 * Run folders are untrusted input (they come from other machines): every file is read bounded
 * and validated (`readConfig`, `readUnits`; runFiles.ts), the experiment name — the only part of a
 * run folder that becomes a path — must be a plain name, and nothing is written outside the target.
 *
 * Errors (InputError): no run folder under `dir`; a config, unit file or folder refused as
 * untrusted input (names the file); configs that differ (names the two config files and the first
 * difference); missing units (`expected every unit of the grid; got 3 of 40 missing (first:
 * p1-s0)`); a unit whose copies differ, in the shards or in the target (the experiment is not
 * deterministic); records whose results the experiment's tables or figures fail on (names the
 * source folders); a target whose `units/` or `figures/` is not a real folder, or whose `.lock` is
 * not a regular file.
 * Cost: reads every unit file once; O(total units).
 *
 * @example
 * await mergeRuns("results-shards", { into: "results", experiments });
 */
export async function mergeRuns(dir: string, opts: MergeOptions = {}): Promise<MergedRun[]> {
  const logger = opts.logger ?? stderrLogger;
  const write = opts.writeFile ?? writeOrExplain;
  const dirs = findRunDirs(dir);
  if (dirs.length === 0)
    throw new InputError(`expected run folders (holding config.json) under it; got none`, { file: dir });
  const groups = new Map<string, { dir: string; config: RunConfig }[]>();
  for (const d of dirs) {
    const config = readConfig(d)!;
    const list = groups.get(config.experiment) ?? [];
    list.push({ dir: d, config });
    groups.set(config.experiment, list);
  }
  if (opts.into !== undefined) checkOutFolder(opts.into);

  // Check everything before writing anything.
  const jobs: {
    name: string;
    config: RunConfig;
    sources: string[];
    target: string;
    units: UnitRecord[];
    texts: string[];
    inPlace: boolean;
  }[] = [];
  for (const [name, list] of groups) {
    const config = list[0].config;
    for (const other of list.slice(1)) {
      const diff = configDifference(config, other.config);
      if (diff) {
        throw new InputError(
          `expected the same config as ${path.join(list[0].dir, "config.json")}; got a different one (${diff.replace("there", "in the first").replace("now", "here")})`,
          { file: path.join(other.dir, "config.json") },
        );
      }
    }
    const units: UnitRecord[] = [];
    const texts: string[] = [];
    const missing: string[] = [];
    const stored = list.map((src) => readUnits(src.dir, config));
    for (const plan of config.units) {
      let found: { unit: StoredUnit; text: string } | undefined;
      for (const units of stored) {
        const unit = units.get(plan.key);
        if (!unit) continue;
        const text = unitText(unit.record);
        if (found && found.text !== text) {
          throw new InputError(
            `expected the same result for unit ${plan.key} as ${found.unit.file} (runs are deterministic); got a different one`,
            { file: unit.file },
          );
        }
        found ??= { unit, text };
      }
      if (!found) missing.push(plan.key);
      else {
        units.push(found.unit.record);
        texts.push(found.text);
      }
    }
    if (missing.length > 0) {
      throw new InputError(
        `${name}: expected every unit of the grid; got ${missing.length} of ${config.units.length} missing (first: ${missing[0]}) — run the missing shards (or resume them) first`,
      );
    }
    const sources = list.map((s) => s.dir);
    checkExperimentCanAggregate(
      opts.experiments?.find((e) => e.name === name),
      config,
      units,
      opts.figures ?? true,
      sources,
    );
    // `name` is an experiment name checked by readConfig (letters, digits, ".", "_", "-"; not
    // starting with "."), so the target is one folder inside `into` (or `dir`) — never outside.
    const base = opts.into ?? dir;
    const inPlace = opts.into === undefined && sources.some((s) => samePath(s, dir));
    const target = inPlace ? dir : path.join(base, name);
    if (!inPlace && path.dirname(path.resolve(target)) !== path.resolve(base))
      throw new Error(`mergeRuns: target ${target} is not a folder of ${base}`);
    checkRunFolderForWriting(target, inPlace);
    jobs.push({ name, config, sources, target, units, texts, inPlace });
  }

  const merged: MergedRun[] = [];
  for (const job of jobs) {
    checkRunFolderForWriting(job.target, job.inPlace);
    ensureDir(unitsDir(job.target));
    const lock = acquireLock(path.join(job.target, ".lock"), job.target);
    try {
      const existing = readConfig(job.target);
      const diff = existing ? configDifference(existing, job.config) : undefined;
      if (diff) {
        throw new InputError(`expected the merged run's config; got a different one (${diff})`, {
          file: path.join(job.target, "config.json"),
        });
      }
      // The units the target lacks go into it as one batch (none when merging in place).
      const have = readUnits(job.target, job.config);
      const absent: { key: string; text: string }[] = [];
      job.units.forEach((u, i) => {
        const there = have.get(u.key);
        if (!there) absent.push({ key: u.key, text: job.texts[i] });
        else if (unitText(there.record) !== job.texts[i]) {
          throw new InputError(
            `expected the same result for unit ${u.key} as the shards' (runs are deterministic); got a different one`,
            { file: there.file },
          );
        }
      });
      const startedAt = new Date().toISOString();
      write(path.join(job.target, "config.json"), configText(job.config));
      if (absent.length > 0) {
        // The batch file is named after its first key: checked by readConfig as p<i>-s<s>.
        if (!UNIT_KEY_RE.test(absent[0].key))
          throw new Error(`mergeRuns: unit key ${absent[0].key} is no key`);
        writeBatch(job.target, write, absent[0].key, absent.map((a) => a.text).join(""));
      }
      const experiment = opts.experiments?.find((e) => e.name === job.name);
      if (experiment === undefined) {
        logger.warn(
          `${job.name}: its extra tables and figures are skipped (no experiment of that name given)`,
        );
      }
      const figures = await writeAggregates(job.target, job.config, job.units, {
        ...(experiment ? { experiment } : {}),
        figures: opts.figures ?? true,
        logger,
        writeFile: write,
        ...(opts.render ? { render: opts.render } : {}),
      });
      const manifest: Manifest = {
        experiment: job.name,
        status: "COMPLETED",
        ...environmentFields(opts.argv ?? process.argv),
        rootSeed: job.config.rootSeed,
        seeds: job.config.seeds,
        jobs: 1,
        startedAt,
        endedAt: new Date().toISOString(),
        units: job.config.units.length,
        unitsSkipped: job.config.units.length,
        unitsRun: 0,
        failures: [],
        aggregated: true,
        previousAttempts: [],
        mergedFrom: job.sources,
      };
      write(path.join(job.target, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
      merged.push({
        name: job.name,
        dir: job.target,
        sources: job.sources,
        units: job.units.length,
        figures,
      });
    } finally {
      lock.release();
    }
  }
  return merged;
}

/** A run folder as `listRuns` reports it. */
export interface RunInfo {
  name: string;
  dir: string;
  config: RunConfig;
  /** manifest.json, if any (unsharded or merged runs). */
  manifest?: Manifest;
  /** manifest.shard-I-of-N.json files, if any, by file name order. */
  shardManifests: Manifest[];
  /** summary.csv rows (column → cell text), if the run is aggregated. */
  summary?: Record<string, string>[];
  /** Figure files (absolute or relative as `dir` was given), sorted. */
  figures: string[];
}

/** Shard manifest file names: `manifest.shard-I-of-N.json`. */
const SHARD_MANIFEST_RE = /^manifest\.shard-([1-9][0-9]{0,5})-of-([1-9][0-9]{0,5})\.json$/;

/**
 * Every run folder under `dir` (itself included, up to 3 levels down) with its config, manifests,
 * summary rows and figure files — what `softcal report` shows. A folder whose config.json is not a
 * softcal run config (does not mention the `softcal-run/` format: another tool's file) is skipped.
 *
 * Everything else is untrusted input (run folders come from other machines and CI artifacts) and
 * checked, each problem an InputError naming the file: every file is read bounded (runFiles.ts: a
 * regular file inside the run folder, at most its kind's size); config.json in full (`checkConfig`);
 * manifests (`checkManifest`) — the experiment the config names, a shard manifest's `shard` the
 * one its file name says; summary.csv (one row per grid point, of the header's width, parameters
 * equal to the grid's, the parameters, `n`, then `<metric>_<statistic>` columns and `notes`, numbers
 * as softcal writes them); figure names (letters, digits, `.`, `_`, `-`; hidden files are skipped).
 * Cost: reads each run's small files.
 */
export function listRuns(dir: string): RunInfo[] {
  const runs: RunInfo[] = [];
  for (const d of findRunDirs(dir)) {
    const configFile = path.join(d, "config.json");
    const text = readRunText("config", configFile, d);
    if (text === undefined || !text.includes('"softcal-run/')) continue;
    const config = checkConfig(parseRunJson("config", text, configFile), configFile);
    const ownManifest = (file: string): Manifest | undefined => {
      const m = readManifest(file, d);
      if (m !== undefined && m.experiment !== config.experiment) {
        throw new InputError(
          `expected the manifest of experiment "${config.experiment}" (as config.json says); got ${JSON.stringify(m.experiment)}`,
          { file },
        );
      }
      return m;
    };
    const manifest = ownManifest(path.join(d, "manifest.json"));
    const shardManifests: { index: number; manifest: Manifest }[] = [];
    for (const name of readRunDir(d, d) ?? []) {
      const match = SHARD_MANIFEST_RE.exec(name);
      if (!match) continue;
      const file = path.join(d, name);
      const m = ownManifest(file);
      if (m === undefined) continue; // removed since the listing
      const [index, count] = [Number(match[1]), Number(match[2])];
      if (m.shard?.index !== index || m.shard.count !== count)
        throw new InputError(
          `expected "shard": { "index": ${index}, "count": ${count} } as its name says; got ${JSON.stringify(m.shard)}`,
          { file },
        );
      shardManifests.push({ index, manifest: m });
    }
    shardManifests.sort((a, b) => a.manifest.shard!.count - b.manifest.shard!.count || a.index - b.index);
    const summary = readSummary(d, config);
    const figures = (readRunDir(path.join(d, "figures"), d) ?? [])
      // Hidden files (temp files, macOS "._" copies) are no figures.
      .filter((n) => !n.startsWith(".") && /\.(svg|png)$/.test(n))
      .map((n) => {
        if (!isRunName(n.replace(/\.(svg|png)$/, "")))
          throw new InputError(`expected a figure name (${NAME_RE}); got another file name`, {
            file: path.join(d, "figures", n),
          });
        return n;
      })
      .sort()
      .map((n) => path.join(d, "figures", n));
    runs.push({
      name: config.experiment,
      dir: d,
      config,
      ...(manifest ? { manifest } : {}),
      shardManifests: shardManifests.map((s) => s.manifest),
      ...(summary ? { summary } : {}),
      figures,
    });
  }
  return runs;
}

/** A run's summary.csv as rows (column → cell text), checked against its config (see listRuns). */
function readSummary(d: string, config: RunConfig): Record<string, string>[] | undefined {
  const file = path.join(d, "summary.csv");
  const text = readRunText("table", file, d);
  if (text === undefined) return undefined;
  const table = parseCsvTable(text, file);
  const { header, rows } = table;
  const P = config.parameters.length;
  const at = (r: number, c: number) => cellLocation(table, r, c);
  header.forEach((name, c) => {
    const expected =
      c < P
        ? name === config.parameters[c]
        : c === P
          ? name === "n"
          : name === "notes" ||
            config.metrics.some(
              (m) =>
                name.startsWith(`${m}_`) &&
                (SUMMARY_SUFFIXES as readonly string[]).includes(name.slice(m.length + 1)),
            );
    if (!expected) {
      const want =
        c < P ? `parameter "${config.parameters[c]}"` : c === P ? `"n"` : `"<metric>_<statistic>" or "notes"`;
      throw new InputError(`expected column ${want} of summary.csv; got ${JSON.stringify(name)}`, {
        file,
        line: 1,
        column: c + 1,
      });
    }
  });
  if (header.length <= P)
    throw new InputError(`expected the column "n" after the parameters; got none`, { file, line: 1 });
  if (rows.length !== config.grid.length) {
    throw new InputError(`expected ${config.grid.length} rows (one per grid point); got ${rows.length}`, {
      file,
    });
  }
  rows.forEach((row, r) => {
    row.forEach((cell, c) => {
      if (c < P) {
        const want = formatCell(config.grid[r][config.parameters[c]]);
        if (cell !== want)
          throw new InputError(
            `expected ${JSON.stringify(want)} (grid point ${r}); got ${showValue(cell)}`,
            at(r, c),
          );
      } else if (c === P) {
        if (!/^(0|[1-9][0-9]*)$/.test(cell))
          throw new InputError(`expected a count of units; got ${showValue(cell)}`, at(r, c));
      } else if (header[c] !== "notes" && cell !== "" && String(Number(cell)) !== cell) {
        throw new InputError(`expected a number (or nothing); got ${showValue(cell)}`, at(r, c));
      }
    });
  });
  return rows.map((row) => Object.fromEntries(header.map((h, c) => [h, row[c]])));
}
