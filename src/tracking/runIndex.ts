/**
 * The index of runs behind `softcal runs` (and `report`'s runs table): every run folder under some
 * folders, with what it ran, when, with which softcal and commit, its seeds, units and data, and a
 * headline metric per grid point — damaged folders listed with the reason instead of stopping the
 * listing.
 */
import * as fs from "node:fs";
import { InputError, SoftcalError } from "../errors.js";
import type { RunConfig } from "../experiment/config.js";
import type { Manifest } from "../experiment/manifest.js";
import { findRunDirs, listRuns, type RunInfo } from "../experiment/merge.js";
import type { GridPoint } from "../experiment/types.js";
import { fsErrorReason } from "../io/atomic.js";

/** One run folder in the index. Fields other than `dir` are absent for a damaged folder. */
export interface RunIndexEntry {
  /** The run folder (as found under the folder given). */
  dir: string;
  /** Why the folder cannot be read as a run (one line naming the file), for a damaged folder. */
  damaged?: string;
  experiment?: string;
  /** `completed`, `failed`, `interrupted`, `running`, or for a folder of shards without manifest.json `shards: K of N completed`. */
  status?: string;
  /** When the run first started (its first attempt, if it was resumed) and last ended (ISO 8601). */
  startedAt?: string;
  endedAt?: string;
  /** endedAt − startedAt in seconds (null while running). */
  durationS?: number | null;
  softcalVersion?: string;
  gitCommit?: string;
  gitDirty?: boolean;
  rootSeed?: number;
  seeds?: number;
  /** Units of the grid (points × seeds), units finished on disk, and units whose run threw. */
  units?: number;
  unitsDone?: number;
  unitsFailed?: number;
  /** The data: each value of the `data` axis, with `@sha256:<first 12 hex>` where config.json fingerprints a file. */
  data?: string[];
  gridPoints?: number;
  /** The headline metric's mean over seeds per grid point (summary.csv), if the run is aggregated and has the metric. */
  headline?: { metric: string; points: { point: GridPoint; mean: number | null }[] };
}

/** The manifests that tell a run's story: manifest.json, else its shards' manifests. */
function manifestsOf(info: RunInfo): Manifest[] {
  return info.manifest ? [info.manifest] : info.shardManifests;
}

/** The status of a run in words (see {@link RunIndexEntry.status}). */
function statusOf(info: RunInfo): string {
  if (info.manifest) return info.manifest.status.toLowerCase();
  const shards = info.shardManifests;
  if (shards.length === 0) return "no manifest";
  const count = shards[0].shard?.count ?? shards.length;
  const done = shards.filter((m) => m.status === "COMPLETED").length;
  return `shards: ${done} of ${count} completed`;
}

/** The values of the `data` axis, each with its file fingerprint where config.json records one. */
function dataOf(config: RunConfig): string[] {
  const prints = new Map((config.data ?? []).map((d) => [d.name, d.sha256.slice(0, 12)]));
  const levels = [...new Set(config.grid.flatMap((p) => ("data" in p ? [String(p.data)] : [])))];
  return levels.map((name) => (prints.has(name) ? `${name}@sha256:${prints.get(name)}` : name));
}

/** The metric the index shows per point: `metric` if given, else `ece`, else the run's first metric. */
function headlineMetric(config: RunConfig, metric: string | undefined): string | undefined {
  if (metric !== undefined) return config.metrics.includes(metric) ? metric : undefined;
  return config.metrics.includes("ece") ? "ece" : config.metrics[0];
}

/** One run as the index shows it. */
function entryOf(info: RunInfo, metric: string | undefined): RunIndexEntry {
  const { config } = info;
  const manifests = manifestsOf(info);
  const starts = manifests
    .flatMap((m) => [m.startedAt, ...m.previousAttempts.map((a) => a.startedAt)])
    .sort();
  const running =
    manifests.some((m) => m.status === "RUNNING") || manifests.some((m) => m.endedAt === undefined);
  const ends = manifests.flatMap((m) => (m.endedAt === undefined ? [] : [m.endedAt])).sort();
  const startedAt = starts[0];
  const endedAt = running ? undefined : ends[ends.length - 1];
  const duration =
    startedAt !== undefined && endedAt !== undefined
      ? (Date.parse(endedAt) - Date.parse(startedAt)) / 1000
      : null;
  const first = manifests[0];
  const m = headlineMetric(config, metric);
  const summary = info.summary;
  return {
    dir: info.dir,
    experiment: config.experiment,
    status: statusOf(info),
    ...(startedAt === undefined ? {} : { startedAt }),
    ...(endedAt === undefined ? {} : { endedAt }),
    durationS: duration !== null && Number.isFinite(duration) ? duration : null,
    ...(first ? { softcalVersion: first.softcalVersion } : {}),
    ...(first?.gitCommit === undefined ? {} : { gitCommit: first.gitCommit }),
    ...(first?.gitDirty === undefined ? {} : { gitDirty: first.gitDirty }),
    rootSeed: config.rootSeed,
    seeds: config.seeds,
    units: config.units.length,
    unitsDone: manifests.reduce((s, x) => s + x.unitsSkipped + x.unitsRun, 0),
    unitsFailed: manifests.reduce((s, x) => s + x.failures.length, 0),
    data: dataOf(config),
    gridPoints: config.grid.length,
    ...(m !== undefined && summary !== undefined && `${m}_mean` in (summary[0] ?? {})
      ? {
          headline: {
            metric: m,
            points: config.grid.map((point, i) => {
              const cell = summary[i][`${m}_mean`];
              return { point, mean: cell === "" || cell === undefined ? null : Number(cell) };
            }),
          },
        }
      : {}),
  };
}

/** Why a folder cannot be read as a run, in one line; undefined for an error that is a bug, not damage. */
function damageReason(e: unknown): string | undefined {
  if (e instanceof SoftcalError) return e.message.split("\n")[0];
  const why = fsErrorReason(e);
  return why === undefined ? undefined : `cannot read: ${why}`;
}

/**
 * Every run folder under each of `roots` (a folder holding config.json, up to 3 levels down, as
 * `report` and `merge` find them; symlinked folders are not followed), read and validated as
 * `report` reads it (`listRuns`: config.json, manifests, summary.csv, figure names — all bounded
 * reads of untrusted files). A folder that fails validation is listed with `damaged`: the reason,
 * one line naming the file — the listing never stops at one. A folder whose config.json is not a
 * softcal run config (another tool's) is not listed. Sorted by start time (folders without one,
 * damaged ones included, last, by folder). `metric` chooses the headline metric (default: `ece`,
 * else each run's first metric).
 *
 * Errors: InputError if a root is not a folder (or holds a folder of more entries than the
 * bounded listing accepts). Cost: reads each run's small files (config, manifests, summary).
 */
export function indexRuns(roots: readonly string[], opts: { metric?: string } = {}): RunIndexEntry[] {
  const entries: RunIndexEntry[] = [];
  const seen = new Set<string>();
  for (const root of roots) {
    let st: fs.Stats | undefined;
    try {
      st = fs.statSync(root);
    } catch {
      st = undefined;
    }
    if (!st?.isDirectory()) {
      throw new InputError(`expected a folder of runs; got ${st ? "a file" : "no such folder"}`, {
        file: root,
      });
    }
    for (const dir of findRunDirs(root)) {
      if (seen.has(dir)) continue;
      seen.add(dir);
      let infos: RunInfo[];
      try {
        infos = listRuns(dir);
      } catch (e) {
        const why = damageReason(e);
        if (why === undefined) throw e;
        entries.push({ dir, damaged: why });
        continue;
      }
      for (const info of infos) entries.push(entryOf(info, opts.metric));
    }
  }
  const time = (e: RunIndexEntry) => (e.startedAt === undefined ? Number.NaN : Date.parse(e.startedAt));
  return entries.sort((a, b) => {
    const ta = time(a);
    const tb = time(b);
    if (Number.isNaN(ta) !== Number.isNaN(tb)) return Number.isNaN(ta) ? 1 : -1;
    if (!Number.isNaN(ta) && ta !== tb) return ta - tb;
    return a.dir < b.dir ? -1 : a.dir > b.dir ? 1 : 0;
  });
}
