/**
 * The {@link Dataset} type and its construction from a CSV file or a parsed CSV table, with
 * validation that names the file, line and column of the first bad cell. Numbers are read as
 * {@link parseFiniteNumber} says; labels by the rule in `./labels.ts` (documented there and in the
 * README's "Data:" paragraph).
 */
import { InputError } from "../errors.js";
import { type Matrix, matrix } from "../linalg/matrix.js";
import { type CsvTable, cellLocation, quoteList, showValue } from "./csv.js";
import { type CsvColumnChoice, readCsvColumns } from "./csvStream.js";
import { type LabelColumn, labelColumnOf, resolveLabels } from "./labels.js";
import { parseFiniteNumber } from "./numbers.js";

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

/** Options of {@link datasetFromTable} and {@link datasetFromCsvFile}. */
export interface DatasetFromTableOptions {
  /** File name for messages and the data set's name (default: the table's `file`, or the path). */
  file?: string;
  /** The label column (default "label"). */
  label?: string;
  /** A saved model's class names: each label must be exactly one of them (default: inferred). */
  classNames?: readonly string[];
  /** For the file readers: bytes read at a time (see `readCsvColumns`; results never depend on it). */
  chunkBytes?: number;
}

/** The label column and the feature columns (every other one) of a header. */
function datasetColumns(header: readonly string[], label: string, file: string): CsvColumnChoice {
  const labelCol = header.indexOf(label);
  if (labelCol < 0) {
    throw new InputError(`expected a label column ${showValue(label)}; got columns ${quoteList(header)}`, {
      file,
      line: 1,
    });
  }
  const numeric: number[] = [];
  for (let j = 0; j < header.length; j++) if (j !== labelCol) numeric.push(j);
  if (numeric.length === 0) {
    throw new InputError(`expected at least one feature column besides ${showValue(label)}; got none`, {
      file,
      line: 1,
    });
  }
  return { numeric, label: labelCol };
}

/**
 * Builds a {@link Dataset} from a CSV table: the `label` column gives y, every other column is a
 * numeric feature (in header order). Labels follow the rule of `./labels.ts`:
 * - plain non-negative integers (`0`, `1`, `12`) are numeric: K = max + 1 and
 *   `classNames = ["0", …, "K-1"]` (a class may have no samples);
 * - numbers that are not plain non-negative integers (`1.5`, `-1`, `01`, `+1`, `1.0`) are refused;
 * - otherwise each distinct string is a class name, compared exactly, sorted with JavaScript's
 *   default sort (UTF-16 code units, so `"B" < "a"` and `"10" < "9"`).
 * With `classNames` (a saved model's), each label must be exactly one of them. Accepted labels
 * round-trip: `classNames[y[i]]` is row i's label.
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
 *   - `file:L:C: expected an integer label in 0..K-1 written as plain digits (like "1"); got "01"`
 *   - `file:L:C: expected at most 65536 classes (labels 0..65535); got "70000"`
 *   - `file:L:C: expected a label among the model's classes "a", "b"; got "c"`
 * Cost: O(m·d) plus O(K log K) to sort class names.
 * @example
 * datasetFromTable(parseCsvTable("x1,label\n0.5,b\n1,a\n", "t.csv"));
 * // { name: "t.csv", X: 2×1 [0.5, 1], y: [1, 0], nClasses: 2, classNames: ["a", "b"], featureNames: ["x1"] }
 */
export function datasetFromTable(table: CsvTable, options: DatasetFromTableOptions = {}): Dataset {
  const file = options.file ?? table.file;
  const label = options.label ?? "label";
  const t = file === table.file ? table : { ...table, file };
  const { numeric, label: labelCol } = datasetColumns(t.header, label, file);
  const X = readFeatures(t, numeric);
  const { y, classNames } = resolveLabels(tableLabels(t, labelCol), options.classNames);
  return {
    name: file,
    X,
    y,
    nClasses: classNames.length,
    classNames,
    featureNames: numeric.map((j) => t.header[j]),
  };
}

/**
 * {@link datasetFromTable} on a CSV file, read in bounded memory (`readCsvColumns`): numbers go
 * straight into the feature matrix, never held as text. Same result and the same messages as
 * `datasetFromTable(readCsvFile(path), options)`, for files of any size.
 *
 * @throws InputError: the errors of `readCsvFile` and of {@link datasetFromTable}.
 * Cost: O(file size) time; memory 8·m·d + 4·m bytes plus the distinct labels.
 * @example
 * datasetFromCsvFile("properties/fixtures/lesson_data.csv").X.rows; // 180
 */
export function datasetFromCsvFile(path: string, options: DatasetFromTableOptions = {}): Dataset {
  const file = options.file ?? path;
  const label = options.label ?? "label";
  const c = readCsvColumns(path, {
    file,
    chunkBytes: options.chunkBytes,
    choose: (header) => datasetColumns(header, label, file),
  });
  if (c.numberError !== null) throw c.numberError;
  const { y, classNames } = resolveLabels(c.labels as LabelColumn, options.classNames);
  return {
    name: file,
    X: c.X,
    y,
    nClasses: classNames.length,
    classNames,
    featureNames: c.choice.numeric.map((j) => c.header[j]),
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

/** Column `col` of a table as a {@link LabelColumn}. */
function tableLabels(t: CsvTable, col: number): LabelColumn {
  return labelColumnOf(
    t.rows.map((r) => r[col]),
    t.header[col],
    (i) => cellLocation(t, i, col),
  );
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

/** Options of {@link featuresFromTable} and {@link featuresFromCsvFile}. */
export interface FeaturesFromTableOptions {
  /** File name for messages (default: the table's `file`, or the path). */
  file?: string;
  /** The model's feature columns, in the model's order. */
  featureNames: readonly string[];
  /** The label column, read if present (default "label"). */
  label?: string;
  /** The model's class names: when given and the label column is present, `y` is filled. */
  classNames?: readonly string[];
  /** For the file readers: bytes read at a time (see `readCsvColumns`; results never depend on it). */
  chunkBytes?: number;
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

/** The model's feature columns of a header (by name, in the model's order) and its label column. */
function featureColumns(
  header: readonly string[],
  options: FeaturesFromTableOptions,
  file: string,
): CsvColumnChoice {
  const label = options.label ?? "label";
  const numeric = options.featureNames.map((name) => {
    const j = header.indexOf(name);
    if (j < 0) {
      throw new InputError(
        `expected a column ${showValue(name)} (a feature of the model); got columns ${quoteList(header)}`,
        { file, line: 1 },
      );
    }
    return j;
  });
  const labelCol = options.featureNames.includes(label) ? -1 : header.indexOf(label);
  return { numeric, label: labelCol };
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
  const t = file === table.file ? table : { ...table, file };
  const { numeric, label: labelCol } = featureColumns(t.header, options, file);
  const X = readFeatures(t, numeric);
  if (labelCol < 0) return { X, featureNames: [...options.featureNames], labels: null, y: null };
  const labels = t.rows.map((r) => r[labelCol]);
  const y =
    options.classNames === undefined ? null : resolveLabels(tableLabels(t, labelCol), options.classNames).y;
  return { X, featureNames: [...options.featureNames], labels, y };
}

/** Features for prediction read from a file: like {@link FeatureTable}, labels kept as ids. */
export interface FeatureColumns {
  /** m×d, columns in the order of `featureNames`. */
  X: Matrix;
  featureNames: string[];
  /** The label column (each row's label is `values[ids[i]]`), or null when the file has none. */
  labels: LabelColumn | null;
  /** Labels mapped through `classNames`, or null (no label column or no `classNames`). */
  y: Int32Array | null;
}

/**
 * {@link featuresFromTable} on a CSV file, read in bounded memory (only the model's feature
 * columns and the label column are parsed; others are skipped unread). The labels come as a
 * {@link LabelColumn}: row i's label is `labels.values[labels.ids[i]]`, the string as written.
 *
 * @throws InputError: the errors of `readCsvFile` and of {@link featuresFromTable}; a label column
 *   with more than 65536 distinct labels (no model has that many classes).
 * Cost: O(file size) time; memory 8·m·d + 4·m bytes plus the distinct labels.
 * @example
 * featuresFromCsvFile("properties/fixtures/lesson_data.csv", { featureNames: ["x2", "x1"] }).X.cols; // 2
 */
export function featuresFromCsvFile(path: string, options: FeaturesFromTableOptions): FeatureColumns {
  const file = options.file ?? path;
  const c = readCsvColumns(path, {
    file,
    chunkBytes: options.chunkBytes,
    choose: (header) => featureColumns(header, options, file),
  });
  if (c.numberError !== null) throw c.numberError;
  const labels = c.labels;
  if (labels?.truncated) {
    throw new InputError(
      `expected at most 65536 distinct labels in column ${showValue(labels.name)} (a model has at most 65536 classes); got more`,
      labels.first[labels.first.length - 1],
    );
  }
  const y =
    labels === null || options.classNames === undefined ? null : resolveLabels(labels, options.classNames).y;
  return { X: c.X, featureNames: [...options.featureNames], labels, y };
}
