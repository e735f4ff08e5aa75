/**
 * The contract an experiment module implements, and the records the engine keeps.
 *
 * An experiment is a grid of parameter points; each point runs once per seed. A run must be a
 * pure function of (point, seed): the engine may run units in any order, on any thread, in any
 * process or machine (shards), and skip finished ones on `--resume`; the files it writes are
 * the same bytes whichever way the work was split.
 */

import type { ReliabilityBin } from "../calibration/bins.js";
import type { Dataset } from "../data/dataset.js";
import type { Axis, AxisValues } from "./axes.js";
import type { DataFile } from "./dataFiles.js";
import type { Comparison } from "./paired.js";
import type { MetricRange } from "./stats.js";

/** A parameter value: what a grid point may hold (finite numbers only). */
export type ParamValue = string | number | boolean;

/** One point of an experiment's grid: parameter name → value. */
export type GridPoint = Record<string, ParamValue>;

/** One reliability-diagram bin (the calibration layer's {@link ReliabilityBin}; the experiments' name for it). */
export type { ReliabilityBin as Bin };

/**
 * What a unit is given besides its grid point.
 *
 * Randomness is paired across the grid (common random numbers): `seed` depends only on the root
 * seed and the seed index, never on the point or the experiment, so two points compared at one
 * seed index can draw the same data, split and resamples. Draw each purpose from its own stream
 * (`stream("data", dataName)`, `stream("bootstrap", dataName)`): a stream's numbers depend only on
 * (seed, purpose, parts), so what one point draws for one purpose never shifts another's.
 */
export interface RunContext {
  /** The seed of this seed index: a uint32 shared by every grid point (see `deriveRunSeed`). */
  seed: number;
  /** 0-based index of the seed among the run's `seeds`. */
  seedIndex: number;
  /** True for a quick (smoke-test sized) run. */
  quick: boolean;
  /** The seed of a named stream of this seed index: `streamSeed(seed, purpose, ...parts)`. */
  stream(purpose: string, ...parts: (string | number)[]): number;
  /**
   * A data set by its data-axis value: a CSV file the run recorded (read once per thread, its
   * SHA-256 checked) or a built-in data set. Shared by the thread's units: never modify it.
   */
  dataset(name: string): Dataset;
  /**
   * The record of a CSV file the run's data values name (path, label column, SHA-256, shape), its
   * content checked once per thread — for reading it with another reader (e.g. `readPredictions`).
   */
  file(name: string): DataFile;
}

/** The outcome of one run (one grid point × one seed). Must be JSON-serializable. */
export interface RunResult {
  /** One row of runs.csv (column order = `Experiment.metrics`); null = not defined for this run. */
  metrics: Record<string, number | null>;
  /** Rows of reliability.csv, one bin list per view (e.g. "test", "test-recalibrated"). */
  reliability?: { view: string; bins: ReliabilityBin[] }[];
  /** JSON-serializable per-run data for figures (loss curves, decision grids). */
  extras?: Record<string, unknown>;
  /**
   * Why the unit's method could not produce a result (e.g. temperature scaling on a separable
   * calibration split): an outcome, not a crash. Its missing metrics count as failed (not as
   * undefined) in summary.csv and paired.csv.
   */
  failure?: string;
}

/** A figure: a vega-lite spec the engine renders to `figures/<name>.svg` and `.png`. */
export interface Figure {
  /** File name without extension: letters, digits, `-`, `_`, `.` only. */
  name: string;
  spec: object;
}

/**
 * An extra CSV table an experiment derives from all its runs (e.g. paired tests across seeds),
 * written as `<name>.csv` beside summary.csv. Cells: numbers in shortest round-trip form, null
 * empty. Must be a pure function of the runs (so it is byte-identical however they were run).
 */
export interface Table {
  /** File name without `.csv`: letters, digits, `-`, `_`, `.`; not runs/summary/reliability. */
  name: string;
  columns: string[];
  rows: (string | number | boolean | null)[][];
}

/** A finished run as figures see it. */
export interface CompletedRun {
  point: GridPoint;
  /** Index of `point` in the grid. */
  pointIndex: number;
  seedIndex: number;
  seed: number;
  result: RunResult;
}

/** An experiment: its grid, its metrics, how one run is done, and its figures. */
export interface Experiment {
  /** Folder-safe name (letters, digits, `-`, `_`, `.`): the run folder is `OUT/<name>/`. */
  name: string;
  description: string;
  /**
   * The axes of the grid, by name: their types, defaults and allowed values. Declared axes can be
   * replaced from the command line (`--set AXIS=V1,V2`, `--data` for `data` axes) and are
   * validated before any unit runs; `softcal list` prints them.
   */
  axes?: Readonly<Record<string, Axis>>;
  /**
   * The grid in a deterministic order; no two points may be equal. `axes` holds each declared
   * axis's values (defaults or `--set`'s); absent when called without the engine (then use the
   * defaults, e.g. through `axisValues`).
   */
  grid(opts: { quick: boolean; axes?: AxisValues; files?: readonly DataFile[] }): GridPoint[];
  /**
   * Checks a CSV file given as a data value beyond the generic rules (a header, a label column,
   * numeric features, two classes), before any unit runs — e.g. that probabilities sum to 1.
   * Throws an InputError naming the file, line and column.
   */
  checkData?(file: DataFile, axes: AxisValues): void;
  /** Metric names: the columns of runs.csv after the parameters, in this order. */
  metrics: readonly string[];
  /** Runs one unit; must be pure given (point, ctx.seed). */
  run(point: GridPoint, ctx: RunContext): RunResult | Promise<RunResult>;
  /** Each metric's range, by name (recorded in config.json): summary.csv clips intervals into it. */
  metricRanges?: Readonly<Record<string, MetricRange>>;
  /**
   * Treatment axes compared against a reference level, paired by seed index: the engine writes
   * their paired effects to `paired.csv` (see `pairedTable`).
   */
  comparisons?: readonly Comparison[];
  /**
   * The random streams a unit draws from and what each pairs, in words (recorded in config.json's
   * `streams`), e.g. `{ data: "the data draw and the train/calibration/test split: (data, seed index)" }`.
   */
  streams?: Readonly<Record<string, string>>;
  /** Extra CSV tables over all finished runs (in grid × seed order). */
  tables?(input: { points: GridPoint[]; runs: CompletedRun[] }): Table[];
  /** Figures over all finished runs (in grid × seed order). */
  figures?(input: { points: GridPoint[]; runs: CompletedRun[] }): Figure[];
}
