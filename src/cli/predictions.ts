/**
 * Reading a predictions CSV for `evaluate` and `calibrate`: a label column plus one score column
 * per class, in class order — probabilities (or logits with --logits) from any model. Columns may
 * be named `p_<class>` (as `softcal predict` writes), or anything else; a single score column is
 * the positive class of a binary problem.
 *
 * Labels: when every label is one of the class names (the column names without `p_`), they map by
 * name; otherwise they must be integers 0..K−1 (K = number of score columns, 2 for one column).
 */

import type { MatrixSource } from "../calibration/validate.js";
import { readCsvFile } from "../data/csv.js";
import { datasetFromTable } from "../data/dataset.js";
import { InputError } from "../errors.js";
import type { Matrix } from "../linalg/matrix.js";

export interface Predictions {
  /** n×K scores (n×1 for binary given as one column). */
  S: Matrix;
  /** Labels 0..K−1, or null when the file has no label column and `requireLabels` is false. */
  y: Int32Array | null;
  /** Class names, one per class (two for a single binary column). */
  classNames: string[];
  /** Where the scores came from, for validation messages with file:line:column. */
  source: MatrixSource;
}

/** Reads and parses a predictions file. @throws InputError for a bad file, label or column. */
export function readPredictions(file: string, label: string, requireLabels: boolean): Predictions {
  const table = readCsvFile(file);
  const labelCol = table.header.indexOf(label);
  if (labelCol < 0 && requireLabels) {
    throw new InputError(
      `expected a label column "${label}" (pass --label COL to name another); got columns ${table.header.map((h) => `"${h}"`).join(", ")}`,
      { file, line: 1 },
    );
  }
  const scoreCols = table.header.map((_, j) => j).filter((j) => j !== labelCol);
  const names = scoreCols.map((j) => table.header[j]);
  const classNames =
    names.length === 1
      ? ["0", "1"]
      : names.every((n) => n.startsWith("p_") && n.length > 2)
        ? names.map((n) => n.slice(2))
        : names;
  const source: MatrixSource = {
    file,
    firstLine: table.lines[0],
    columns: scoreCols.map((j) => j + 1),
    names,
  };
  if (labelCol < 0) {
    // Scores only (calibrate --apply without labels): a dummy label column keeps one parser.
    const withLabel = {
      ...table,
      header: [...table.header, label],
      rows: table.rows.map((r) => [...r, "0"]),
    };
    const ds = datasetFromTable(withLabel, { file, label });
    return { S: ds.X, y: null, classNames, source };
  }
  const labels = table.rows.map((r) => r[labelCol]);
  const K = classNames.length;
  const byName = labels.every((l) => classNames.includes(l));
  if (!byName) {
    // Not all class names: then every label must be an integer 0..K−1 (the column order).
    const isIndex = (l: string) => /^\s*\d+\s*$/.test(l) && Number(l) < K;
    let i = labels.findIndex((l) => !isIndex(l) && !classNames.includes(l));
    if (i < 0) i = labels.findIndex((l) => !isIndex(l)); // names mixed with indices
    if (i >= 0) {
      throw new InputError(
        `expected labels that are all class names (${classNames.map((c) => `"${c}"`).join(", ")}) or all integers in 0..${K - 1}; got "${labels[i]}"`,
        { file, line: table.lines[i], column: labelCol + 1 },
      );
    }
  }
  const ds = datasetFromTable(table, { file, label, ...(byName ? { classNames } : {}) });
  return { S: ds.X, y: ds.y, classNames, source };
}
