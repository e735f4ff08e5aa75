/**
 * A run's resolved configuration (config.json), its unit plan, and unit records (`units/`: batch
 * files of one record per line, `*.jsonl`; `*.json` files of one record, as earlier versions wrote,
 * are read too).
 */
import * as path from "node:path";
import { jsonTooDeep } from "../io/readBounded.js";
import { type AxisValues, resolveAxisValues } from "./axes.js";
import type { DataFile } from "./dataFiles.js";
import { type ResolvedComparison, resolveComparisons } from "./paired.js";
import {
  badField,
  parseRunJson,
  RUN_DIR_MAX_ENTRIES,
  RUN_JSON_MAX_DEPTH,
  readRunDir,
  readRunText,
} from "./runFiles.js";
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

/** Experiment names (and the names of what a run writes): letters, digits, `.`, `_`, `-`. */
export const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

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
    // What paired.csv compares and summary.csv clips into: they shape the bytes too.
    "comparisons",
    "metricRanges",
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

/**
 * Reads `<dir>/config.json` if present, validated by {@link checkConfig}: undefined if there is
 * none. The file is untrusted (run folders travel between machines): it is read only if it is a
 * regular file inside `dir` of at most `RUN_FILE_LIMITS.config` bytes, with JSON nested at most
 * `RUN_JSON_MAX_DEPTH` levels (runFiles.ts). Errors: one-line InputError naming the file.
 */
export function readConfig(dir: string): RunConfig | undefined {
  const file = path.join(dir, "config.json");
  const text = readRunText("config", file, dir);
  if (text === undefined) return undefined;
  return checkConfig(parseRunJson("config", text, file), file);
}

/** Names softcal turns into paths (experiments): {@link NAME_RE}, at most 200 characters. */
export function isRunName(name: unknown): name is string {
  return typeof name === "string" && name.length <= 200 && NAME_RE.test(name);
}

/** A unit key as the engine writes it: `p<point>-s<seedIndex>`, decimal without leading zeros. */
export const UNIT_KEY_RE = /^p(0|[1-9][0-9]*)-s(0|[1-9][0-9]*)$/;

/**
 * Validates parsed config.json contents as a run config `buildConfig` could have written, and
 * returns it; fields it does not know are kept and ignored. Checked: `format`; `experiment` a name
 * ({@link isRunName}: it becomes a folder name); `description`, `seedDerivation` strings; `quick` a
 * boolean; `rootSeed` a safe integer ≥ 0; `seeds` a safe integer ≥ 1; `parameters` and `metrics`
 * unique strings, disjoint, none of {@link RESERVED_COLUMNS}; `grid` a non-empty array of distinct
 * points, each an object of finite numbers, strings and booleans whose keys are parameters (and
 * every parameter used by a point); `units` exactly the plan of that grid and seed count, in unit
 * order (`{ key: "p<i>-s<s>", point: i, seedIndex: s, seed }`, seed a uint32); when present,
 * `streams` (names → descriptions), `comparisons` (axis a parameter, reference one of its grid
 * levels, declared metrics), `axes` (names → arrays of values), `data` (data file fingerprints:
 * strings, a 64-hex-digit SHA-256, counts) and `metricRanges` (declared metrics → `{ min?, max? }`
 * finite).
 * Errors: InputError `<file>: expected <field> to be <what>; got <value>` for the first problem.
 * Cost: O(size of the config).
 */
export function checkConfig(value: unknown, file: string): RunConfig {
  const bad = (what: string, got: unknown): never => {
    throw badField(file, what, got);
  };
  const isObject = (v: unknown): v is Record<string, unknown> =>
    v !== null && typeof v === "object" && !Array.isArray(v);
  const isUint = (v: unknown, min: number): v is number =>
    typeof v === "number" && Number.isSafeInteger(v) && v >= min;
  if (!isObject(value)) return bad("a softcal run config (a JSON object)", value);
  const c = value;
  const names = (field: string): string[] => {
    const v = c[field];
    if (!Array.isArray(v) || !v.every((x) => typeof x === "string"))
      bad(`"${field}" to be an array of names`, v);
    const list = v as string[];
    list.forEach((n, i) => {
      if (list.indexOf(n) !== i) bad(`"${field}" to name each column once`, n);
      if (RESERVED_COLUMNS.includes(n)) bad(`"${field}" to avoid the engine's column names`, n);
    });
    return list;
  };
  if (c.format !== CONFIG_FORMAT) bad(`"format" to be "${CONFIG_FORMAT}"`, c.format);
  if (!isRunName(c.experiment))
    bad(`"experiment" to be a name (${NAME_RE}, at most 200 characters)`, c.experiment);
  if (typeof c.description !== "string") bad(`"description" to be a string`, c.description);
  if (typeof c.quick !== "boolean") bad(`"quick" to be true or false`, c.quick);
  if (!isUint(c.rootSeed, 0)) bad(`"rootSeed" to be an integer >= 0`, c.rootSeed);
  if (!isUint(c.seeds, 1)) bad(`"seeds" to be an integer >= 1`, c.seeds);
  if (typeof c.seedDerivation !== "string") bad(`"seedDerivation" to be a string`, c.seedDerivation);
  const parameters = names("parameters");
  const metrics = names("metrics");
  for (const m of metrics) if (parameters.includes(m)) bad(`"metrics" to differ from the parameters`, m);

  const grid = c.grid;
  if (!Array.isArray(grid) || grid.length === 0) bad(`"grid" to be a non-empty array of points`, grid);
  const used = new Set<string>();
  const seen = new Map<string, number>();
  (grid as unknown[]).forEach((p, i) => {
    if (!isObject(p)) bad(`"grid[${i}]" to be an object of parameter values`, p);
    for (const [k, v] of Object.entries(p as Record<string, unknown>)) {
      if (!parameters.includes(k)) bad(`"grid[${i}]" to hold only parameters (listed in "parameters")`, k);
      const ok =
        typeof v === "string" || typeof v === "boolean" || (typeof v === "number" && Number.isFinite(v));
      if (!ok) bad(`"grid[${i}].${k}" to be a finite number, a string or a boolean`, v);
      used.add(k);
    }
    const key = pointKey(p as GridPoint);
    const first = seen.get(key);
    if (first !== undefined)
      bad(`"grid[${i}]" to differ from every other point (it equals grid[${first}])`, p);
    seen.set(key, i);
  });
  for (const p of parameters) if (!used.has(p)) bad(`"parameters" to name only keys of grid points`, p);

  const units = c.units;
  const seeds = c.seeds as number;
  const nPoints = (grid as unknown[]).length;
  if (!Array.isArray(units) || units.length !== nPoints * seeds)
    bad(
      `"units" to be the ${nPoints} × ${seeds} units of the grid`,
      Array.isArray(units) ? units.length : units,
    );
  (units as unknown[]).forEach((u, i) => {
    const point = Math.floor(i / seeds);
    const seedIndex = i % seeds;
    const key = `p${point}-s${seedIndex}`;
    if (!isObject(u) || u.key !== key || u.point !== point || u.seedIndex !== seedIndex)
      bad(`"units[${i}]" to be unit ${key} (point ${point}, seed index ${seedIndex})`, u);
    const seed = (u as Record<string, unknown>).seed;
    if (!isUint(seed, 0) || (seed as number) > 0xffffffff) bad(`"units[${i}].seed" to be a uint32`, seed);
  });

  if (c.streams !== undefined) {
    if (!isObject(c.streams) || !Object.values(c.streams).every((d) => typeof d === "string"))
      bad(`"streams" to map stream names to descriptions`, c.streams);
  }
  if (c.comparisons !== undefined) {
    if (!Array.isArray(c.comparisons)) bad(`"comparisons" to be an array`, c.comparisons);
    (c.comparisons as unknown[]).forEach((cmp, i) => {
      const where = `"comparisons[${i}]"`;
      if (!isObject(cmp) || typeof cmp.axis !== "string" || !parameters.includes(cmp.axis))
        bad(`${where} to be { axis, reference, metrics } with axis a parameter`, cmp);
      const { axis, reference, metrics: ms } = cmp as Record<string, unknown>;
      if (
        !(grid as GridPoint[]).some(
          (p) => Object.hasOwn(p, axis as string) && p[axis as string] === reference,
        )
      )
        bad(`${where}.reference to be a level of "${axis}" in the grid`, reference);
      if (!Array.isArray(ms) || !ms.every((m) => typeof m === "string" && metrics.includes(m)))
        bad(`${where}.metrics to be declared metrics`, ms);
    });
  }
  const isValue = (v: unknown) =>
    typeof v === "string" || typeof v === "boolean" || (typeof v === "number" && Number.isFinite(v));
  if (c.axes !== undefined) {
    if (!isObject(c.axes) || !Object.values(c.axes).every((vs) => Array.isArray(vs) && vs.every(isValue)))
      bad(`"axes" to map axis names to arrays of values`, c.axes);
  }
  if (c.data !== undefined) {
    if (!Array.isArray(c.data)) bad(`"data" to be an array of data files`, c.data);
    (c.data as unknown[]).forEach((d, i) => {
      const ok =
        isObject(d) &&
        typeof d.name === "string" &&
        typeof d.path === "string" &&
        typeof d.label === "string" &&
        typeof d.sha256 === "string" &&
        /^[0-9a-f]{64}$/.test(d.sha256) &&
        isUint(d.bytes, 0) &&
        isUint(d.rows, 0) &&
        isUint(d.columns, 0) &&
        Array.isArray(d.classes) &&
        d.classes.every((k) => typeof k === "string");
      if (!ok)
        bad(
          `"data[${i}]" to be { name, path, sha256 (64 hex digits), bytes, label, rows, columns, classes }`,
          d,
        );
    });
  }
  if (c.metricRanges !== undefined) {
    if (!isObject(c.metricRanges)) bad(`"metricRanges" to map metrics to { min, max }`, c.metricRanges);
    for (const [m, r] of Object.entries(c.metricRanges as Record<string, unknown>)) {
      const finiteOrAbsent = (v: unknown) => v === undefined || (typeof v === "number" && Number.isFinite(v));
      if (!metrics.includes(m) || !isObject(r) || !finiteOrAbsent(r.min) || !finiteOrAbsent(r.max))
        bad(`"metricRanges.${m}" to be { min?, max? } of a declared metric`, r);
    }
  }
  return c as unknown as RunConfig;
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

/** True if a non-finite number sits anywhere in `v` (what JSON.stringify would visit). */
function hasNonFinite(v: unknown): boolean {
  if (typeof v === "number") return !Number.isFinite(v);
  if (v === null || typeof v !== "object") return false;
  if (Array.isArray(v)) {
    for (const x of v) if (hasNonFinite(x)) return true;
    return false;
  }
  for (const k in v) if (Object.hasOwn(v, k) && hasNonFinite((v as Record<string, unknown>)[k])) return true;
  return false;
}

/** Serializes a unit record as its file holds it (non-finite numbers encoded; see above). */
export function unitText(record: UnitRecord): string {
  // The replacer costs a call per value; a record without a non-finite number (most) has nothing
  // for it to change, so plain JSON.stringify gives the same text.
  return `${hasNonFinite(record) ? JSON.stringify(record, encodeReplacer) : JSON.stringify(record)}\n`;
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
 * (parses, nests at most `RUN_JSON_MAX_DEPTH` levels, names a unit of this plan, has its seed,
 * point and experiment, and its result keeps the experiment's contract, {@link checkResult});
 * anything else is skipped — a line damaged by a power loss (zero-filled, cut short; an empty file
 * has no lines) only loses its own unit, which `--resume` runs again — and `onSkipped` hears of each
 * file with such lines. A key found twice keeps its first record in file-name order. A missing
 * folder holds no units.
 *
 * The folder is untrusted (runFiles.ts): a unit file that is not a regular file inside `dir` (a
 * FIFO, a device, a symlink leading out of the run folder) or is larger than
 * `RUN_FILE_LIMITS.units`, and a `units/` holding more than (units of the plan + 100,000) entries,
 * are refused with an InputError naming them — no power loss makes those.
 * Cost: one directory listing and one read of each unit file.
 */
export function readUnits(
  dir: string,
  config: RunConfig,
  onSkipped?: (file: string, lines: number) => void,
): Map<string, StoredUnit> {
  const found = new Map<string, StoredUnit>();
  const folder = unitsDir(dir);
  const names = readRunDir(folder, dir, config.units.length + RUN_DIR_MAX_ENTRIES)?.sort();
  if (names === undefined) return found;
  const plans = new Map(config.units.map((u) => [u.key, u]));
  for (const name of names) {
    if (name.startsWith(".") || !(name.endsWith(".jsonl") || name.endsWith(".json"))) continue;
    const file = path.join(folder, name);
    const content = readRunText("units", file, dir);
    if (content === undefined) continue; // removed since the listing
    let skipped = 0;
    for (const line of content.split("\n")) {
      if (line === "") continue;
      let rec: UnitRecord;
      try {
        // Too deep for a record: any walk of it (pointKey, the reviver) could overflow the stack.
        if (jsonTooDeep(line, RUN_JSON_MAX_DEPTH) !== undefined) throw new RangeError("nested too deep");
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
