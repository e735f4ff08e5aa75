/**
 * Reading a predictions CSV for `evaluate` and `calibrate`: a label column plus one score column
 * per class, in class order — probabilities (or logits with --logits) from any model. Columns may
 * be named `p_<class>` (as `softcal predict` writes), or anything else; a single score column is
 * the positive class of a binary problem.
 *
 * Labels: when every label is one of the class names (the column names without `p_`), they map by
 * name; otherwise they must be integers 0..K−1 (K = number of score columns, 2 for one column).
 */

import { readCsvColumns } from "../data/csvStream.js";
import { type LabelColumn, resolveLabels } from "../data/labels.js";
import { InputError } from "../errors.js";
import type { Matrix } from "../linalg/matrix.js";
import type { MatrixSource } from "./validate.js";

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

/** A class index as written in a predictions file: `0` or digits without a leading zero, below K. */
const INDEX_RE = /^(?:0|[1-9][0-9]*)$/;

/**
 * Reads and parses a predictions file in bounded memory (scores straight into a Float64Array; see
 * `readCsvColumns`). @throws InputError for a bad file, label or column.
 */
export function readPredictions(file: string, label: string, requireLabels: boolean): Predictions {
  const c = readCsvColumns(file, {
    choose: (header) => {
      const labelCol = header.indexOf(label);
      if (labelCol < 0 && requireLabels) {
        throw new InputError(
          `expected a label column "${label}" (pass --label COL to name another); got columns ${header.map((h) => `"${h}"`).join(", ")}`,
          { file, line: 1 },
        );
      }
      return { numeric: header.map((_, j) => j).filter((j) => j !== labelCol), label: labelCol };
    },
  });
  const scoreCols = c.choice.numeric;
  const names = scoreCols.map((j) => c.header[j]);
  const classNames =
    names.length === 1
      ? ["0", "1"]
      : names.every((n) => n.startsWith("p_") && n.length > 2)
        ? names.map((n) => n.slice(2))
        : names;
  const source: MatrixSource = {
    file,
    firstLine: c.firstLine,
    lineOf: c.lineOf,
    columns: scoreCols.map((j) => j + 1),
    names,
  };
  if (c.labels === null) {
    // Scores only (calibrate --apply without labels).
    if (c.numberError !== null) throw c.numberError;
    return { S: c.X, y: null, classNames, source };
  }
  const labels: LabelColumn = c.labels;
  const K = classNames.length;
  const byName = !labels.truncated && labels.values.every((l) => classNames.includes(l));
  if (!byName) {
    // Not all class names: then every label must be an integer 0..K−1 (the column order), written
    // as plain digits ("01" or "1.0" is neither a class name nor an index: refused, never merged).
    const isIndex = (l: string) => INDEX_RE.test(l) && Number(l) < K;
    let k = labels.values.findIndex((l) => !isIndex(l) && !classNames.includes(l));
    if (k < 0) k = labels.values.findIndex((l) => !isIndex(l)); // names mixed with indices
    if (k >= 0) {
      throw new InputError(
        `expected labels that are all class names (${classNames.map((n) => `"${n}"`).join(", ")}) or all integers in 0..${K - 1}; got "${labels.values[k]}"`,
        labels.first[k],
      );
    }
  }
  if (c.numberError !== null) throw c.numberError;
  const { y } = resolveLabels(labels, byName ? classNames : undefined);
  return { S: c.X, y, classNames, source };
}
