/**
 * A run's resolved configuration (config.json), its unit plan, and unit records (`units/`: batch
 * files of one record per line, `*.jsonl`; `*.json` files of one record, as earlier versions wrote,
 * are read too).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { InputError } from "../errors.js";
import { type AxisValues, resolveAxisValues } from "./axes.js";
import type { DataFile } from "./dataFiles.js";
import { type ResolvedComparison, resolveComparisons } from "./paired.js";
import { deriveRunSeed, pointKey, SEED_DERIVATION } from "./seeds.js";
import type { MetricRange } from "./stats.js";
import type { Experiment, GridPoint, ParamValue, RunResult } from "./types.js";

/** Format tags written into config.json and unit files (bumped on incompatible changes). */
export const CONFIG_FORMAT = "softcal-run/1";
export const UNIT_FORMAT = "softcal-unit/1";

/** One unit of work: one grid point × one seed. */
export interface UnitPlan {
  /** Key `p<pointIndex>-s<seedIndex>`: names the unit in its record (and in batch file names). */
  key: string;
  point: number;
  seedIndex: number;
  seed: number;
}

/** Contents of config.json: everything that determines the run's results. */
export interface RunConfig {
  format: string;
  experiment: string;
  description: string;
  quick: boolean;
  rootSeed: number;
  /** Number of seeds per grid point. */
  seeds: number;
  seedDerivation: string;
  /** The random streams a unit draws from and what each pairs (the experiment's `streams`). */
  streams?: Record<string, string>;
  /** The paired comparisons written to paired.csv, with their reference levels resolved. */
  comparisons?: ResolvedComparison[];
  /** The values of each declared axis the grid was built from (defaults or `--set`'s). */
  axes?: Record<string, ParamValue[]>;
  /** The CSV files the grid's data values name: path as given, absolute path, SHA-256, size, shape. */
  data?: DataFile[];
  /** Metric ranges summary.csv clips intervals into (the experiment's `metricRanges`). */
  metricRanges?: Record<string, MetricRange>;
  /** Parameter names: the union of the grid points' keys, in order of first appearance. */
  parameters: string[];
  metrics: string[];
  grid: GridPoint[];
  /** Every unit in unit order (point-major, then seed index); shards split this list. */
  units: UnitPlan[];
}

/** One finished unit: one line of a `units/*.jsonl` batch file. */
export interface UnitRecord {
  format: string;
  experiment: string;
  key: string;
  pointIndex: number;
  seedIndex: number;
  seed: number;
  point: GridPoint;
  result: RunResult;
}

/** The columns runs.csv and reliability.csv add after the parameters to name a run. */
export const RUN_COLUMNS = ["seed_index", "seed"] as const;
/** The columns reliability.csv gives each bin. */
export const BIN_COLUMNS = ["view", "bin", "lower", "upper", "count", "mean_predicted", "observed"] as const;
/** Column names the engine itself writes (summary.csv adds `n`); parameters and metrics may not use them. */
export const RESERVED_COLUMNS: readonly string[] = [...RUN_COLUMNS, "n", ...BIN_COLUMNS];

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Resolves an experiment's grid into a {@link RunConfig}: validates the experiment (a programming
 * error there is a TypeError/RangeError naming the experiment), derives every unit's seed.
 * Cost: O(points × seeds) seed derivations.
 */
export function buildConfig(
  exp: Experiment,
  opts: {
    seeds: number;
    rootSeed: number;
    quick: boolean;
    /** The values of the experiment's axes (default: their defaults). */
    axes?: AxisValues;
    /** The CSV files among the data-axis values, fingerprinted (see `fingerprintDataFile`). */
    data?: readonly DataFile[];
  },
): RunConfig {
  if (typeof exp.name !== "string" || !NAME_RE.test(exp.name)) {
    throw new TypeError(`experiment name must match ${NAME_RE}; got ${JSON.stringify(exp.name)}`);
  }
  const where = `experiment "${exp.name}"`;
  if (typeof exp.run !== "function") throw new TypeError(`${where}: run must be a function`);
  const metrics = [...exp.metrics];
  const axes = exp.axes
    ? (opts.axes ?? resolveAxisValues(exp.name, exp.axes, { quick: opts.quick }))
    : undefined;
  const grid = exp.grid({ quick: opts.quick, ...(axes ? { axes } : {}), files: opts.data ?? [] });
  if (!Array.isArray(grid) || grid.length === 0) {
    throw new RangeError(`${where}: grid() must return a non-empty array of points`);
  }
  const parameters: string[] = [];
  const seen = new Map<string, number>();
  grid.forEach((p, i) => {
    if (p === null || typeof p !== "object" || Array.isArray(p)) {
      throw new TypeError(`${where}: grid point ${i} must be an object; got ${JSON.stringify(p)}`);
    }
    for (const [k, v] of Object.entries(p)) {
      const ok =
        typeof v === "string" || typeof v === "boolean" || (typeof v === "number" && Number.isFinite(v));
      if (!ok) {
        throw new TypeError(
          `${where}: grid point ${i} parameter "${k}" must be a string, boolean or finite number; got ${String(v)}`,
        );
      }
      if (!parameters.includes(k)) parameters.push(k);
    }
    const key = pointKey(p);
    const prev = seen.get(key);
    if (prev !== undefined) throw new RangeError(`${where}: grid points ${prev} and ${i} are equal (${key})`);
    seen.set(key, i);
  });
  const columns = new Set<string>();
  for (const c of [...parameters, ...metrics]) {
    if (RESERVED_COLUMNS.includes(c))
      throw new RangeError(`${where}: column name "${c}" is reserved by the engine`);
    if (columns.has(c))
      throw new RangeError(`${where}: column name "${c}" is used twice (parameters and metrics)`);
    columns.add(c);
  }
  const units: UnitPlan[] = [];
  grid.forEach((_, i) => {
    for (let s = 0; s < opts.seeds; s++) {
      units.push({
        key: `p${i}-s${s}`,
        point: i,
        seedIndex: s,
        seed: deriveRunSeed(opts.rootSeed, s),
      });
    }
  });
  return {
    format: CONFIG_FORMAT,
    experiment: exp.name,
    description: exp.description,
    quick: opts.quick,
    rootSeed: opts.rootSeed,
    seeds: opts.seeds,
    seedDerivation: SEED_DERIVATION,
    streams: { ...exp.streams },
    ...(axes ? { axes: Object.fromEntries(Object.entries(axes).map(([k, v]) => [k, [...v]])) } : {}),
    data: (opts.data ?? []).map((d) => ({ ...d, classes: [...d.classes] })),
    comparisons: resolveComparisons(exp, grid, parameters, metrics),
    metricRanges: Object.fromEntries(
      Object.entries(exp.metricRanges ?? {})
        .filter(([m]) => metrics.includes(m))
        .map(([m, r]) => [m, { ...r }]),
    ),
    parameters,
    metrics,
    grid: grid.map((p) => ({ ...p })),
    units,
  };
}

/** Serializes a config exactly as config.json holds it (2-space JSON + newline). */
export function configText(config: RunConfig): string {
  return `${JSON.stringify(config, null, 2)}\n`;
}

/**
 * The first difference between two configs, in words (`seeds: 10 there, 5 now`), or undefined if
 * they determine the same results. `description` is ignored (it does not change results).
 */
export function configDifference(there: RunConfig, now: RunConfig): string | undefined {
  const fields: (keyof RunConfig)[] = [
    "format",
    "experiment",
    "quick",
    "rootSeed",
    "seeds",
    "seedDerivation",
    "metrics",
    "parameters",
  ];
  for (const f of fields) {
    const a = JSON.stringify(there[f]);
    const b = JSON.stringify(now[f]);
    if (a !== b) return `${f}: ${a} there, ${b} now`;
  }
  for (const d of now.data ?? []) {
    const was = (there.data ?? []).find((t) => t.name === d.name);
    if (was && (was.sha256 !== d.sha256 || was.label !== d.label)) {
      return was.sha256 !== d.sha256
        ? `data file ${d.name}: its content changed (sha256 ${was.sha256.slice(0, 12)}… there, ${d.sha256.slice(0, 12)}… now)`
        : `data file ${d.name}: label column "${was.label}" there, "${d.label}" now`;
    }
  }
  if (there.grid?.length !== now.grid.length) {
    return `grid: ${there.grid?.length} points there, ${now.grid.length} now`;
  }
  for (let i = 0; i < now.grid.length; i++) {
    const a = pointKey(there.grid[i]);
    const b = pointKey(now.grid[i]);
    if (a !== b) return `grid point ${i}: ${a} there, ${b} now`;
  }
  if (JSON.stringify(there.units) !== JSON.stringify(now.units)) return "units: the derived seeds differ";
  return undefined;
}

/** Reads `<dir>/config.json` if present (InputError if it is not a softcal run config). */
export function readConfig(dir: string): RunConfig | undefined {
  const file = path.join(dir, "config.json");
  if (!fs.existsSync(file)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (err) {
    throw new InputError(`expected a softcal run config (JSON); got ${(err as Error).message}`, { file });
  }
  const c = parsed as RunConfig;
  if (c === null || typeof c !== "object" || c.format !== CONFIG_FORMAT || !Array.isArray(c.units)) {
    throw new InputError(`expected a softcal run config with format "${CONFIG_FORMAT}"; got something else`, {
      file,
    });
  }
  return c;
}

// Non-finite numbers do not survive JSON; unit files store them as {"$number": "NaN" | "Infinity" | "-Infinity"}.
function encodeReplacer(_key: string, value: unknown): unknown {
  if (typeof value === "number" && !Number.isFinite(value)) return { $number: String(value) };
  return value;
}

function decodeReviver(_key: string, value: unknown): unknown {
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    const o = value as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && keys[0] === "$number" && typeof o.$number === "string") return Number(o.$number);
  }
  return value;
}

/** Serializes a unit record as its file holds it (non-finite numbers encoded; see above). */
export function unitText(record: UnitRecord): string {
  return `${JSON.stringify(record, encodeReplacer)}\n`;
}

/**
 * The unit record text (one line) for `plan`'s result, or why the result cannot be kept: the result is first
 * structured-cloned (as if posted by a worker thread, so a unit's bytes do not depend on the thread
 * that ran it), then checked against the experiment's contract ({@link checkResult}), serialized
 * and parsed back — the record as any later reader of the text gets it. Used by every thread
 * that runs units.
 */
export function unitRecordText(
  config: RunConfig,
  plan: UnitPlan,
  result: unknown,
): { text: string; record: UnitRecord } | { message: string } {
  let cloned: unknown;
  try {
    cloned = structuredClone(result);
  } catch (err) {
    return { message: `result is not transferable: ${(err as Error).message}` };
  }
  const problem = checkResult(config, cloned);
  if (problem !== undefined) return { message: problem };
  const record: UnitRecord = {
    format: UNIT_FORMAT,
    experiment: config.experiment,
    key: plan.key,
    pointIndex: plan.point,
    seedIndex: plan.seedIndex,
    seed: plan.seed,
    point: config.grid[plan.point],
    result: cloned as RunResult,
  };
  try {
    const text = unitText(record);
    return { text, record: parseUnit(text) };
  } catch (err) {
    return { message: `result is not JSON-serializable: ${(err as Error).message}` };
  }
}

/** Parses a unit record's text (inverse of {@link unitText}). */
export function parseUnit(text: string): UnitRecord {
  // The reviver costs a call per value; a text without "$number" (nor any \u escape that could
  // spell it) has nothing to revive, so plain JSON.parse gives the same value.
  if (!text.includes("$number") && !text.includes("\\u")) return JSON.parse(text) as UnitRecord;
  return JSON.parse(text, decodeReviver) as UnitRecord;
}

/** The folder of a run's unit files. */
export function unitsDir(dir: string): string {
  return path.join(dir, "units");
}

/** A unit record read back, with the file that holds it. */
export interface StoredUnit {
  record: UnitRecord;
  file: string;
}

/**
 * Every valid unit record of `config`'s run in run folder `dir`, by unit key: each line of every
 * `units/*.jsonl` batch file and every `units/*.json` single-record file is checked on its own
 * (parses, names a unit of this plan, has its seed, point and experiment, and its result keeps the
 * experiment's contract, {@link checkResult}); anything else is skipped — a line damaged by a power
 * loss (zero-filled, cut short; an empty file has no lines) only loses its own unit, which
 * `--resume` runs again — and `onSkipped` hears of each file with such lines. A key found twice
 * keeps its first record in file-name order. A missing folder holds no units.
 * Cost: one directory listing and one read of each unit file.
 */
export function readUnits(
  dir: string,
  config: RunConfig,
  onSkipped?: (file: string, lines: number) => void,
): Map<string, StoredUnit> {
  const found = new Map<string, StoredUnit>();
  let names: string[];
  try {
    names = fs.readdirSync(unitsDir(dir)).sort();
  } catch {
    return found;
  }
  const plans = new Map(config.units.map((u) => [u.key, u]));
  for (const name of names) {
    if (name.startsWith(".") || !(name.endsWith(".jsonl") || name.endsWith(".json"))) continue;
    const file = path.join(unitsDir(dir), name);
    let content: string;
    try {
      content = fs.readFileSync(file, "utf8");
    } catch {
      continue;
    }
    let skipped = 0;
    for (const line of content.split("\n")) {
      if (line === "") continue;
      let rec: UnitRecord;
      try {
        rec = parseUnit(line);
      } catch {
        skipped++;
        continue;
      }
      const plan = rec !== null && typeof rec === "object" ? plans.get(rec.key) : undefined;
      if (plan === undefined || !belongsTo(rec, config, plan)) skipped++;
      else if (!found.has(plan.key)) found.set(plan.key, { record: rec, file });
    }
    if (skipped > 0) onSkipped?.(file, skipped);
  }
  return found;
}

/** Whether a parsed record is `plan`'s unit of this run with a result that keeps the contract. */
function belongsTo(rec: UnitRecord, config: RunConfig, plan: UnitPlan): boolean {
  return (
    rec.format === UNIT_FORMAT &&
    rec.experiment === config.experiment &&
    rec.key === plan.key &&
    rec.seed === plan.seed &&
    rec.seedIndex === plan.seedIndex &&
    rec.pointIndex === plan.point &&
    rec.point !== null &&
    typeof rec.point === "object" &&
    pointKey(rec.point) === pointKey(config.grid[plan.point]) &&
    rec.result !== null &&
    typeof rec.result === "object" &&
    checkResult(config, rec.result) === undefined
  );
}

/**
 * Checks a run's result against the experiment's contract; returns a message or undefined.
 * Metrics must hold exactly the declared names, each a number or null; reliability views hold
 * bins with numeric lower/upper/count and number-or-null meanPredicted/observed.
 */
export function checkResult(config: RunConfig, result: unknown): string | undefined {
  if (result === null || typeof result !== "object")
    return `run must return an object; got ${String(result)}`;
  const r = result as RunResult;
  if (r.metrics === null || typeof r.metrics !== "object") return "run result has no metrics object";
  for (const m of config.metrics) {
    if (!(m in r.metrics)) return `run result lacks metric "${m}"`;
    const v = r.metrics[m];
    if (v !== null && typeof v !== "number")
      return `metric "${m}" must be a number or null; got ${JSON.stringify(v)}`;
  }
  for (const k of Object.keys(r.metrics)) {
    if (!config.metrics.includes(k)) return `run result has undeclared metric "${k}" (add it to metrics)`;
  }
  if (r.failure !== undefined && typeof r.failure !== "string")
    return `failure must be a string; got ${JSON.stringify(r.failure)}`;
  if (r.reliability !== undefined) {
    if (!Array.isArray(r.reliability)) return "reliability must be an array of { view, bins }";
    for (const v of r.reliability) {
      if (typeof v?.view !== "string" || !Array.isArray(v.bins))
        return "reliability must be an array of { view, bins }";
      for (const b of v.bins) {
        const num = (x: unknown) => typeof x === "number";
        const numOrNull = (x: unknown) => x === null || typeof x === "number";
        if (
          !(
            num(b?.lower) &&
            num(b?.upper) &&
            num(b?.count) &&
            numOrNull(b?.meanPredicted) &&
            numOrNull(b?.observed)
          )
        ) {
          return `reliability view "${v.view}": each bin must be { lower, upper, count, meanPredicted, observed }`;
        }
      }
    }
  }
  return undefined;
}
