/**
 * Combining shard outputs (`mergeRuns`) and finding runs on disk (`listRuns`).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "csv-parse/sync";
import { InputError } from "../errors.js";
import { ensureDir, writeFileAtomic } from "../io/atomic.js";
import { acquireLock } from "../io/lock.js";
import { type Logger, type RenderFigure, type WriteFile, writeAggregates } from "./aggregate.js";
import {
  configDifference,
  configText,
  type RunConfig,
  readConfig,
  readUnits,
  type StoredUnit,
  type UnitRecord,
  unitsDir,
  unitText,
} from "./config.js";
import { environmentFields, type Manifest, readManifest } from "./manifest.js";
import { checkOutFolder, stderrLogger } from "./runner.js";
import type { Experiment } from "./types.js";
import { writeBatch } from "./unitBatch.js";

/** Folders below the root searched for run folders (a run folder is one holding config.json). */
const MAX_DEPTH = 3;

/** Every folder under `root` (itself included, up to 3 levels down) that holds a config.json, sorted. */
export function findRunDirs(root: string): string[] {
  const found: string[] = [];
  const walk = (dir: string, depth: number) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    if (entries.some((e) => e.isFile() && e.name === "config.json")) {
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
 * Errors (InputError): no run folder under `dir`; configs that differ (names the two config files
 * and the first difference); missing units (`expected every unit of the grid; got 3 of 40
 * missing (first: p1-s0)`); a unit whose copies differ, in the shards or in the target (the
 * experiment is not deterministic).
 * Cost: reads every unit file once; O(total units).
 *
 * @example
 * await mergeRuns("results-shards", { into: "results", experiments });
 */
export async function mergeRuns(dir: string, opts: MergeOptions = {}): Promise<MergedRun[]> {
  const logger = opts.logger ?? stderrLogger;
  const write = opts.writeFile ?? writeFileAtomic;
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
    const target =
      opts.into !== undefined
        ? path.join(opts.into, name)
        : sources.some((s) => path.resolve(s) === path.resolve(dir))
          ? dir
          : path.join(dir, name);
    jobs.push({ name, config, sources, target, units, texts });
  }

  const merged: MergedRun[] = [];
  for (const job of jobs) {
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
      if (absent.length > 0) writeBatch(job.target, write, absent[0].key, absent.map((a) => a.text).join(""));
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

/**
 * Every run folder under `dir` (itself included, up to 3 levels down) with its config, manifests,
 * summary rows and figure files — what `softcal report` shows. Folders whose config.json is not a
 * softcal run config are skipped. Cost: reads each run's small files.
 */
export function listRuns(dir: string): RunInfo[] {
  const runs: RunInfo[] = [];
  for (const d of findRunDirs(dir)) {
    let config: RunConfig | undefined;
    try {
      config = readConfig(d);
    } catch {
      continue;
    }
    if (!config) continue;
    const names = fs.readdirSync(d);
    const manifest = readManifest(path.join(d, "manifest.json"));
    const shardManifests = names
      .filter((n) => /^manifest\.shard-\d+-of-\d+\.json$/.test(n))
      .sort()
      .map((n) => readManifest(path.join(d, n)))
      .filter((m): m is Manifest => m !== undefined);
    let summary: Record<string, string>[] | undefined;
    const summaryFile = path.join(d, "summary.csv");
    if (fs.existsSync(summaryFile)) {
      summary = parse(fs.readFileSync(summaryFile, "utf8"), { columns: true }) as Record<string, string>[];
    }
    let figures: string[] = [];
    try {
      figures = fs
        .readdirSync(path.join(d, "figures"))
        .filter((n) => /\.(svg|png)$/.test(n))
        .sort()
        .map((n) => path.join(d, "figures", n));
    } catch {
      // no figures
    }
    runs.push({
      name: config.experiment,
      dir: d,
      config,
      ...(manifest ? { manifest } : {}),
      shardManifests,
      ...(summary ? { summary } : {}),
      figures,
    });
  }
  return runs;
}
