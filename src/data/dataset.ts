/**
 * The {@link Dataset} type and its construction from a parsed CSV table, with validation that
 * names the file, line and column of the first bad cell.
 */
import { InputError } from "../errors.js";
import { type Matrix, matrix } from "../linalg/matrix.js";
import { type CsvTable, cellLocation, showValue } from "./csv.js";

/** A labelled data set: m samples with d numeric features and a class label 0..K-1 each. */
export interface Dataset {
  /** File path or built-in name. */
  name: string;
  /** m×d features, row-major. */
  X: Matrix;
  /** Labels 0..K-1, length m. */
  y: Int32Array;
  /** K, the number of classes (some may have no samples). */
  nClasses: number;
  /** Length K; `classNames[k]` names label k. */
  classNames: string[];
  /** Length d; the feature columns in order. */
  featureNames: string[];
  /** Rows dropped when the data set was built (e.g. rows with a missing value); 0 when absent. */
  dropped?: number;
  /** Provenance and preprocessing, in words. */
  notes?: string;
}

/** The most classes a numeric label column may declare (labels 0..65535). */
export const MAX_CLASSES = 65536;

/** A decimal floating-point literal (optionally signed, optional exponent), spaces/tabs around allowed. */
const NUMBER_RE = /^[ \t]*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?[ \t]*$/;

/**
 * Parses a CSV cell as a finite double, or returns undefined. Accepts decimal literals only
 * (`1`, `-2.5`, `.5`, `1e-3`, `+4.`), not hex, `NaN`, `Infinity` or an empty field; a literal that
 * overflows (`1e999`) is rejected too. The value is the correctly rounded double (`Number(s)`),
 * so the shortest round-trip form of any double (`String(x)`, with `-0` written as `-0`) parses
 * back bit-exactly.
 */
export function parseFiniteNumber(s: string): number | undefined {
  if (!NUMBER_RE.test(s)) return undefined;
  const v = Number(s);
  return Number.isFinite(v) ? v : undefined;
}

function quoteList(names: readonly string[], max = 10): string {
  const shown = names.slice(0, max).map(showValue);
  if (names.length > max) shown.push(`… (${names.length} in all)`);
  return shown.join(", ");
}

/** Options of {@link datasetFromTable}. */
export interface DatasetFromTableOptions {
  /** File name for messages and the data set's name (default: the table's `file`). */
  file?: string;
  /** The label column (default "label"). */
  label?: string;
  /** A saved model's class names: labels are mapped through them (default: inferred). */
  classNames?: readonly string[];
}

/**
 * Builds a {@link Dataset} from a CSV table: the `label` column gives y, every other column is a
 * numeric feature (in header order).
 *
 * Labels, without `classNames`:
 * - if every label is a number, each must be an integer ≥ 0; K = max + 1 and
 *   `classNames = ["0", …, "K-1"]` (a class may have no samples);
 * - otherwise the distinct labels, sorted with JavaScript's default sort (UTF-16 code units, so
 *   `"B" < "a"` and `"10" < "9"`), are the class names, label k being the k-th.
 * With `classNames` (a saved model's), each label must equal one of them (or, for a numeric
 * label, its canonical form `String(Number(label))` must, so `1.0` matches `"1"`).
 *
 * Single-class data is allowed here (predict/evaluate data may hold one class); training code
 * calls {@link requireTwoClasses}.
 *
 * @throws InputError, one line each:
 *   - `file:1: expected a label column "label"; got columns "x1", "x2", "y"`
 *   - `file:1: expected at least one feature column besides "label"; got none`
 *   - `file:L:C: expected a finite number in column "x2"; got "abc"` (also NaN, Inf, empty)
 *   - `file:L:C: expected a label; got an empty field`
 *   - `file:L:C: expected an integer label in 0..K-1; got "1.5"` (or "-1")
 *   - `file:L:C: expected at most 65536 classes (labels 0..65535); got "70000"`
 *   - `file:L:C: expected a label among the model's classes "a", "b"; got "c"`
 * Cost: O(m·d) plus O(m log m) to sort string labels.
 * @example
 * datasetFromTable(parseCsvTable("x1,label\n0.5,b\n1,a\n", "t.csv"));
 * // { name: "t.csv", X: 2×1 [0.5, 1], y: [1, 0], nClasses: 2, classNames: ["a", "b"], featureNames: ["x1"] }
 */
export function datasetFromTable(table: CsvTable, options: DatasetFromTableOptions = {}): Dataset {
  const file = options.file ?? table.file;
  const label = options.label ?? "label";
  const t = file === table.file ? table : { ...table, file };
  const labelCol = t.header.indexOf(label);
  if (labelCol < 0) {
    throw new InputError(`expected a label column ${showValue(label)}; got columns ${quoteList(t.header)}`, {
      file,
      line: 1,
    });
  }
  const featureCols: number[] = [];
  for (let j = 0; j < t.header.length; j++) if (j !== labelCol) featureCols.push(j);
  if (featureCols.length === 0) {
    throw new InputError(`expected at least one feature column besides ${showValue(label)}; got none`, {
      file,
      line: 1,
    });
  }
  const X = readFeatures(t, featureCols);
  const { y, classNames } = readLabels(t, labelCol, options.classNames);
  return {
    name: file,
    X,
    y,
    nClasses: classNames.length,
    classNames,
    featureNames: featureCols.map((j) => t.header[j]),
  };
}

function readFeatures(t: CsvTable, cols: readonly number[]): Matrix {
  const m = t.rows.length;
  const d = cols.length;
  const data = new Float64Array(m * d);
  for (let i = 0; i < m; i++) {
    const r = t.rows[i];
    for (let k = 0; k < d; k++) {
      const j = cols[k];
      const v = parseFiniteNumber(r[j]);
      if (v === undefined) {
        throw new InputError(
          `expected a finite number in column ${showValue(t.header[j])}; got ${showValue(r[j])}`,
          cellLocation(t, i, j),
        );
      }
      data[i * d + k] = v;
    }
  }
  return matrix(m, d, data);
}

function readLabels(
  t: CsvTable,
  col: number,
  given: readonly string[] | undefined,
): { y: Int32Array; classNames: string[] } {
  const m = t.rows.length;
  const y = new Int32Array(m);
  for (let i = 0; i < m; i++) {
    if (t.rows[i][col] === "")
      throw new InputError("expected a label; got an empty field", cellLocation(t, i, col));
  }
  if (given !== undefined) {
    const classNames = [...given];
    const index = new Map<string, number>();
    classNames.forEach((n, k) => {
      if (!index.has(n)) index.set(n, k);
    });
    for (let i = 0; i < m; i++) {
      const s = t.rows[i][col];
      let k = index.get(s);
      if (k === undefined) {
        const v = parseFiniteNumber(s);
        if (v !== undefined) k = index.get(String(v));
      }
      if (k === undefined) {
        throw new InputError(
          `expected a label among the model's classes ${quoteList(classNames)}; got ${showValue(s)}`,
          cellLocation(t, i, col),
        );
      }
      y[i] = k;
    }
    return { y, classNames };
  }
  const values = new Float64Array(m);
  let numeric = true;
  for (let i = 0; i < m && numeric; i++) {
    const v = parseFiniteNumber(t.rows[i][col]);
    if (v === undefined) numeric = false;
    else values[i] = v;
  }
  if (numeric) {
    let max = 0;
    for (let i = 0; i < m; i++) {
      const v = values[i];
      if (!(Number.isInteger(v) && v >= 0)) {
        throw new InputError(
          `expected an integer label in 0..K-1; got ${showValue(t.rows[i][col])}`,
          cellLocation(t, i, col),
        );
      }
      if (v >= MAX_CLASSES) {
        throw new InputError(
          `expected at most ${MAX_CLASSES} classes (labels 0..${MAX_CLASSES - 1}); got ${showValue(t.rows[i][col])}`,
          cellLocation(t, i, col),
        );
      }
      y[i] = v;
      if (v > max) max = v;
    }
    return { y, classNames: Array.from({ length: max + 1 }, (_, k) => String(k)) };
  }
  const distinct = [...new Set(t.rows.map((r) => r[col]))].sort();
  const index = new Map(distinct.map((n, k) => [n, k]));
  for (let i = 0; i < m; i++) y[i] = index.get(t.rows[i][col]) as number;
  return { y, classNames: distinct };
}

/**
 * Throws unless the data set holds samples of at least 2 distinct classes (training needs them;
 * prediction and evaluation data need not).
 *
 * @param file the name used in the message (default: `ds.name`).
 * @throws InputError `file: training data must have at least 2 classes; got 1 (label "0")`.
 * Cost: O(m).
 * @example
 * requireTwoClasses(lessonDataset); // passes: 3 classes
 */
export function requireTwoClasses(ds: Dataset, file: string = ds.name): void {
  const present: number[] = [];
  const seen = new Set<number>();
  for (let i = 0; i < ds.y.length && present.length < 2; i++) {
    if (!seen.has(ds.y[i])) {
      seen.add(ds.y[i]);
      present.push(ds.y[i]);
    }
  }
  if (present.length < 2) {
    const which =
      present.length === 1
        ? ` (label ${showValue(ds.classNames[present[0]] ?? String(present[0]))})`
        : " (no rows)";
    throw new InputError(`training data must have at least 2 classes; got ${present.length}${which}`, {
      file,
    });
  }
}

/** Options of {@link featuresFromTable}. */
export interface FeaturesFromTableOptions {
  /** File name for messages (default: the table's `file`). */
  file?: string;
  /** The model's feature columns, in the model's order. */
  featureNames: readonly string[];
  /** The label column, read if present (default "label"). */
  label?: string;
  /** The model's class names: when given and the label column is present, `y` is filled. */
  classNames?: readonly string[];
}

/** Features for prediction, with the label column if the table has one. */
export interface FeatureTable {
  /** m×d, columns in the order of `featureNames`. */
  X: Matrix;
  featureNames: string[];
  /** The label column's raw strings, or null when the table has no such column. */
  labels: string[] | null;
  /** Labels mapped through `classNames`, or null (no label column or no `classNames`). */
  y: Int32Array | null;
}

/**
 * Reads a saved model's feature columns (by name, in the model's order) from a table for
 * prediction; other columns are ignored, and the label column is optional.
 *
 * @throws InputError `file:1: expected a column "x2" (a feature of the model); got columns "x1",
 *   "label"`, the number errors of {@link datasetFromTable}, and, when `classNames` is given, its
 *   label errors.
 * Cost: O(m·d).
 * @example
 * featuresFromTable(parseCsvTable("x2,x1\n2,1\n", "p.csv"), { featureNames: ["x1", "x2"] }).X.data;
 * // Float64Array [1, 2]
 */
export function featuresFromTable(table: CsvTable, options: FeaturesFromTableOptions): FeatureTable {
  const file = options.file ?? table.file;
  const label = options.label ?? "label";
  const t = file === table.file ? table : { ...table, file };
  const cols = options.featureNames.map((name) => {
    const j = t.header.indexOf(name);
    if (j < 0) {
      throw new InputError(
        `expected a column ${showValue(name)} (a feature of the model); got columns ${quoteList(t.header)}`,
        {
          file,
          line: 1,
        },
      );
    }
    return j;
  });
  const X = readFeatures(t, cols);
  const labelCol = t.header.indexOf(label);
  if (labelCol < 0 || options.featureNames.includes(label)) {
    return { X, featureNames: [...options.featureNames], labels: null, y: null };
  }
  const labels = t.rows.map((r) => r[labelCol]);
  const y = options.classNames === undefined ? null : readLabels(t, labelCol, options.classNames).y;
  return { X, featureNames: [...options.featureNames], labels, y };
}
