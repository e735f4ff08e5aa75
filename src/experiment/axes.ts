/**
 * Axes: the parameters an experiment declares, with their types and default values, so a user can
 * replace an axis's values (`softcal run l2-sweep --set l2=0,1e-3 --data my.csv`) and every value
 * is validated before any unit runs. An experiment's grid is built from its resolved axes.
 */
import { InputError } from "../errors.js";
import { type DataFile, fingerprintDataFile } from "./dataFiles.js";
import type { GridPoint, ParamValue } from "./types.js";

/** One axis of an experiment's grid. */
export interface Axis {
  /** What the axis is, in a few words (shown by `softcal list`). */
  description: string;
  /**
   * The values' type: `number`, `string`, `boolean`, or `data` — a data set: one of the axis's
   * `choices` (built-in names) or else a CSV file path, read and fingerprinted before the run.
   */
  type: "number" | "string" | "boolean" | "data";
  /** The default values, in grid order. */
  values: readonly ParamValue[];
  /** The values of a `--quick` run (default: `values`). */
  quick?: readonly ParamValue[];
  /** `string` axes: the only values allowed; `data` axes: the built-in names (anything else is a file). */
  choices?: readonly string[];
  /** `number` axes: the smallest value allowed (inclusive). */
  min?: number;
  /** `number` axes: the largest value allowed (inclusive). */
  max?: number;
}

/** The values of each axis a grid is built from, by axis name. */
export type AxisValues = Readonly<Record<string, readonly ParamValue[]>>;

/** Most values one `--set` may give an axis (a grid is a product: this keeps sizes checkable). */
export const MAX_AXIS_VALUES = 10_000;

/**
 * Parses one `--set` value of an axis. Numbers in any JavaScript numeric literal form that
 * `Number()` accepts and that is finite (`1e-3`, `0.5`), checked against min/max; booleans
 * `true`/`false`; strings against `choices`; data values non-empty.
 * @throws InputError naming the axis, the value and what was expected.
 */
export function parseAxisValue(name: string, axis: Axis, text: string): ParamValue {
  const bad = (expected: string) =>
    new InputError(`--set ${name}: expected ${expected}; got ${JSON.stringify(text)}`);
  switch (axis.type) {
    case "number": {
      const v = text.trim() === "" ? Number.NaN : Number(text);
      if (!Number.isFinite(v)) throw bad("a finite number");
      if (axis.min !== undefined && v < axis.min) throw bad(`a number >= ${axis.min}`);
      if (axis.max !== undefined && v > axis.max) throw bad(`a number <= ${axis.max}`);
      return v;
    }
    case "boolean":
      if (text === "true") return true;
      if (text === "false") return false;
      throw bad("true or false");
    case "string":
      if (axis.choices && !axis.choices.includes(text)) throw bad(`one of ${axis.choices.join(", ")}`);
      if (text === "") throw bad("a non-empty value");
      return text;
    case "data":
      if (text === "") throw bad(`a data set (${(axis.choices ?? []).join(", ")}) or a CSV file`);
      return text;
  }
}

/**
 * Parses `AXIS=V1,V2,…` (one `--set`) into the axis name and its raw values. Values are split on
 * commas; a value cannot contain a comma (use a config file's arrays for such strings).
 * @throws InputError for a missing `=`, an empty name or no values.
 */
export function parseSetFlag(text: string): { axis: string; values: string[] } {
  const eq = text.indexOf("=");
  if (eq <= 0) throw new InputError(`--set: expected AXIS=V1,V2,…; got ${JSON.stringify(text)}`);
  const axis = text.slice(0, eq);
  const values = text.slice(eq + 1).split(",");
  if (values.length === 1 && values[0] === "") {
    throw new InputError(`--set ${axis}: expected at least one value; got none`);
  }
  return { axis, values };
}

/**
 * The values each axis of `axes` takes: the defaults (`quick` or `values`), replaced by `set`'s
 * values for the axes it names (parsed and validated, duplicates refused). `set` may only name
 * declared axes. @throws InputError for an unknown axis (listing the declared ones), a bad or
 * repeated value, or more than {@link MAX_AXIS_VALUES} values.
 */
export function resolveAxisValues(
  experiment: string,
  axes: Readonly<Record<string, Axis>>,
  { quick = false, set = {} }: { quick?: boolean; set?: Readonly<Record<string, readonly string[]>> } = {},
): Record<string, ParamValue[]> {
  for (const name of Object.keys(set)) {
    if (!Object.hasOwn(axes, name)) {
      const known = Object.keys(axes);
      throw new InputError(
        `--set: experiment "${experiment}" has no axis "${name}"; its axes: ${known.length > 0 ? known.join(", ") : "none"}`,
      );
    }
  }
  const out: Record<string, ParamValue[]> = {};
  for (const [name, axis] of Object.entries(axes)) {
    const raw = set[name];
    if (raw === undefined) {
      out[name] = [...(quick ? (axis.quick ?? axis.values) : axis.values)];
      continue;
    }
    if (raw.length > MAX_AXIS_VALUES) {
      throw new InputError(`--set ${name}: expected at most ${MAX_AXIS_VALUES} values; got ${raw.length}`);
    }
    const values = raw.map((t) => parseAxisValue(name, axis, t));
    const seen = new Set<string>();
    values.forEach((v, i) => {
      const key = JSON.stringify(v);
      if (seen.has(key))
        throw new InputError(`--set ${name}: expected distinct values; got ${JSON.stringify(raw[i])} twice`);
      seen.add(key);
    });
    out[name] = values;
  }
  return out;
}

/**
 * The grid of every combination of `axes`' values, the first name varying slowest (row-major, as
 * nested loops in `names` order). @throws RangeError if an axis named is missing.
 * @example product({ data: ["a", "b"], l2: [0, 1] }, ["data", "l2"])
 * // [{data:"a",l2:0}, {data:"a",l2:1}, {data:"b",l2:0}, {data:"b",l2:1}]
 */
export function product(axes: AxisValues, names: readonly string[]): GridPoint[] {
  let grid: GridPoint[] = [{}];
  for (const name of names) {
    const values = axes[name];
    if (values === undefined) throw new RangeError(`product: no values for axis "${name}"`);
    grid = grid.flatMap((p) => values.map((v) => ({ ...p, [name]: v })));
  }
  return grid;
}

/** Whether a data-axis value names a built-in data set of that axis (else it is a CSV path). */
export function isNamedData(axis: Axis, value: ParamValue): boolean {
  return typeof value === "string" && (axis.choices ?? []).includes(value);
}

/**
 * The values of an experiment's axes for a grid: the engine's resolved `axes` when given, else the
 * declared defaults (`quick` or full). For an experiment's `grid`:
 * `grid: (opts) => product(axisValues(myExperiment, opts), ["data", "l2"])`.
 */
export function axisValues(
  exp: { name: string; axes?: Readonly<Record<string, Axis>> },
  opts: { quick: boolean; axes?: AxisValues },
): AxisValues {
  return opts.axes ?? resolveAxisValues(exp.name, exp.axes ?? {}, { quick: opts.quick });
}

/** What `runExperiments` resolves for one experiment before building its config. */
export interface RunInputs {
  /** Its axes' values (absent for an experiment that declares no axes). */
  axes?: Record<string, ParamValue[]>;
  /** The CSV files its data axes name, fingerprinted. */
  data: DataFile[];
}

/**
 * The axes' values and data files of each experiment of a run, before anything runs: `set` (from
 * `--set`/`--data`) replaces the values of the axes it names in every experiment that declares
 * them — a name no selected experiment declares is an error — and every data-axis value that is
 * not a built-in name is read, validated and fingerprinted once (`fingerprintDataFile`, label
 * column `label`), then checked by the experiment's `checkData`. @throws InputError for an unknown axis, a bad value or a bad file.
 */
export function resolveRunInputs(
  experiments: readonly {
    name: string;
    axes?: Readonly<Record<string, Axis>>;
    checkData?: (file: DataFile, axes: AxisValues) => void;
  }[],
  {
    quick = false,
    set = {},
    label = "label",
    cwd = process.cwd(),
  }: {
    quick?: boolean;
    set?: Readonly<Record<string, readonly string[]>>;
    label?: string;
    cwd?: string;
  } = {},
): RunInputs[] {
  for (const name of Object.keys(set)) {
    if (!experiments.some((e) => e.axes && Object.hasOwn(e.axes, name))) {
      const known = [...new Set(experiments.flatMap((e) => Object.keys(e.axes ?? {})))];
      const what = name === "data" ? "--data" : `--set ${name}`;
      throw new InputError(
        `${what}: expected an axis of the selected experiments (${known.length > 0 ? known.join(", ") : "they declare none"}); got "${name}"`,
      );
    }
  }
  const files = new Map<string, DataFile>();
  return experiments.map((e) => {
    if (!e.axes) return { data: [] };
    const mine = Object.fromEntries(Object.entries(set).filter(([k]) => Object.hasOwn(e.axes as object, k)));
    const axes = resolveAxisValues(e.name, e.axes, { quick, set: mine });
    const data: DataFile[] = [];
    for (const [name, axis] of Object.entries(e.axes)) {
      if (axis.type !== "data") continue;
      for (const v of axes[name]) {
        if (isNamedData(axis, v) || data.some((d) => d.name === v)) continue;
        const value = String(v);
        let f = files.get(value);
        if (f === undefined) {
          f = fingerprintDataFile(value, label, cwd);
          files.set(value, f);
        }
        e.checkData?.(f, axes);
        data.push(f);
      }
    }
    return { axes, data };
  });
}
