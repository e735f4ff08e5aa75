/**
 * Input validation for the calibration layer: probabilities, logits, labels and binning options.
 *
 * Every check throws an {@link InputError} with one line in the grammar
 * `<where>: expected X; got Y`. Nothing is repaired: rows that do not sum to 1 are never
 * renormalized, values outside [0, 1] are never clipped.
 *
 * `where` is either a plain label (`"evaluate"`, `"--fit VAL.csv"`) — messages then name the
 * 0-based `row i, column k` — or a {@link MatrixSource} describing the file the matrix came from,
 * in which case the error carries a `file:line:column` location (row i is line `firstLine + i`,
 * by default `i + 2`: line 1 is the CSV header).
 */
import { InputError } from "../errors.js";
import type { Matrix } from "../linalg/matrix.js";

/** Where a matrix came from, so errors can name a file line and column. */
export interface MatrixSource {
  /** The file name as the user typed it. */
  file: string;
  /** File line (1-based) of matrix row 0; default 2 (line 1 is the header). */
  firstLine?: number;
  /** File line (1-based) of matrix row i, where rows are not on consecutive lines (blank lines, quoted line breaks); overrides `firstLine`. */
  lineOf?: (row: number) => number;
  /** 1-based file column of each matrix column; default `k + 1`. */
  columns?: readonly number[];
  /** Column names, for messages (e.g. `p_setosa`); optional. */
  names?: readonly string[];
}

/** A label for messages, or the file a matrix was read from. */
export type Where = string | MatrixSource;

/** Tolerance on |Σ_k p_k − 1| for a probability row (DESIGN.md). */
export const ROW_SUM_TOLERANCE = 1e-6;

function fail(where: Where, i: number | undefined, k: number | undefined, message: string): never {
  if (typeof where === "string") {
    let at = where;
    if (i !== undefined) at += `: row ${i}`;
    if (i !== undefined && k !== undefined) at += `, column ${k}`;
    throw new InputError(`${at}: ${message}`);
  }
  const line = i === undefined ? undefined : where.lineOf ? where.lineOf(i) : (where.firstLine ?? 2) + i;
  const column = k === undefined ? undefined : (where.columns?.[k] ?? k + 1);
  const name = k !== undefined && where.names?.[k] !== undefined ? ` (column "${where.names[k]}")` : "";
  throw new InputError(`${message}${name}`, { file: where.file, line, column });
}

/**
 * Checks that `P` holds probabilities: every entry in [0, 1] (NaN fails) and, when `P` has
 * K ≥ 2 columns, every row sums to 1 within {@link ROW_SUM_TOLERANCE}. A single column is the
 * positive-class probability of a binary problem (`[1 − p, p]`) and only needs to lie in [0, 1].
 * Cost O(nK).
 * @throws InputError naming the first bad row (and column), e.g.
 *   `evaluate: row 3: expected probabilities summing to 1 (within 1e-6); got sum 0.9 (rows are never renormalized)`.
 * @example validateProbabilities(fromRows([[0.2, 0.8]]), "evaluate") // passes
 */
export function validateProbabilities(P: Matrix, where: Where): void {
  const { rows: n, cols: K, data } = P;
  if (K < 1) fail(where, undefined, undefined, `expected at least 1 probability column; got ${K}`);
  for (let i = 0, o = 0; i < n; i++, o += K) {
    let s = 0;
    for (let k = 0; k < K; k++) {
      const v = data[o + k];
      if (!(v >= 0 && v <= 1)) fail(where, i, k, `expected a probability in [0, 1]; got ${v}`);
      s += v;
    }
    if (K > 1 && !(Math.abs(s - 1) <= ROW_SUM_TOLERANCE)) {
      fail(
        where,
        i,
        undefined,
        `expected probabilities summing to 1 (within ${ROW_SUM_TOLERANCE}); got sum ${s} (rows are never renormalized)`,
      );
    }
  }
}

/**
 * Checks that every logit is finite (NaN and ±Infinity fail). Cost O(nK).
 * @throws InputError naming the first bad row and column, e.g. `--fit val.csv:4:2: expected a finite logit; got Infinity`.
 * @example validateLogits(fromRows([[1, -2]]), "evaluate") // passes
 */
export function validateLogits(Z: Matrix, where: Where): void {
  const { rows: n, cols: K, data } = Z;
  if (K < 1) fail(where, undefined, undefined, `expected at least 1 logit column; got ${K}`);
  for (let i = 0, o = 0; i < n; i++, o += K) {
    for (let k = 0; k < K; k++) {
      if (!Number.isFinite(data[o + k])) fail(where, i, k, `expected a finite logit; got ${data[o + k]}`);
    }
  }
}

/**
 * The number of classes a score matrix stands for: K columns, or 2 for a single (binary) column.
 * @throws InputError when `classes` is given and does not match, e.g.
 *   `evaluate: expected 3 columns (one per class); got 2`.
 */
export function classCount(S: Matrix, where: Where, classes?: number): number {
  const K = S.cols === 1 ? 2 : S.cols;
  if (S.cols < 1) fail(where, undefined, undefined, `expected at least 1 score column; got ${S.cols}`);
  if (classes !== undefined && K !== classes) {
    const expected = classes === 2 ? "1 or 2 columns (binary)" : `${classes} columns (one per class)`;
    fail(where, undefined, undefined, `expected ${expected}; got ${S.cols}`);
  }
  return K;
}

/**
 * Checks labels: one per row (`n` of them), each an integer in 0..K−1.
 * @throws InputError, e.g. `evaluate: row 7: expected a label in 0..2; got 3`.
 */
export function validateLabels(y: ArrayLike<number>, n: number, K: number, where: Where): void {
  if (y.length !== n)
    fail(where, undefined, undefined, `expected ${n} labels (one per row); got ${y.length}`);
  for (let i = 0; i < n; i++) {
    const v = y[i];
    if (!(Number.isInteger(v) && v >= 0 && v < K))
      fail(where, i, undefined, `expected a label in 0..${K - 1}; got ${v}`);
  }
}

/**
 * Checks a bin count: an integer ≥ 1.
 * @throws InputError `bins: expected an integer ≥ 1; got 2.5`.
 */
export function validateBins(bins: number, where = "bins"): void {
  if (!(Number.isInteger(bins) && bins >= 1))
    throw new InputError(`${where}: expected an integer ≥ 1; got ${bins}`);
}

/** Checks a string option against its allowed values. @throws InputError `strategy: expected one of uniform, quantile; got "x"`. */
export function validateChoice<T extends string>(value: string, allowed: readonly T[], where: string): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new InputError(`${where}: expected one of ${allowed.join(", ")}; got ${JSON.stringify(value)}`);
  }
  return value as T;
}

/** Checks there is at least one row. @throws InputError `evaluate: expected at least 1 row; got 0`. */
export function validateNonEmpty(n: number, where: Where): void {
  if (n < 1) fail(where, undefined, undefined, `expected at least 1 row; got ${n}`);
}

/**
 * The full n×K probability matrix: a single column p becomes `[1 − p, p]`; otherwise `P` itself
 * (not copied). No validation.
 */
export function expandBinaryProbabilities(P: Matrix): Matrix {
  if (P.cols !== 1) return P;
  const n = P.rows;
  const out = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    out[2 * i] = 1 - P.data[i];
    out[2 * i + 1] = P.data[i];
  }
  return { rows: n, cols: 2, data: out };
}

/**
 * The full n×K logit matrix: a single column z becomes `(0, z)` (so p₁ = sigmoid(z)); otherwise `Z`
 * itself (not copied). No validation.
 */
export function expandBinaryLogits(Z: Matrix): Matrix {
  if (Z.cols !== 1) return Z;
  const n = Z.rows;
  const out = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) out[2 * i + 1] = Z.data[i];
  return { rows: n, cols: 2, data: out };
}

/**
 * Validates a score matrix (probabilities, or logits when `logits`) with its labels and returns
 * the full n×K matrix (binary single column expanded) and K.
 */
export function validatePredictions(
  S: Matrix,
  y: ArrayLike<number>,
  opts: { logits?: boolean; classes?: number },
  where: Where,
): { S: Matrix; K: number } {
  const K = classCount(S, where, opts.classes);
  validateNonEmpty(S.rows, where);
  if (opts.logits) validateLogits(S, where);
  else validateProbabilities(S, where);
  validateLabels(y, S.rows, K, where);
  return { S: opts.logits ? expandBinaryLogits(S) : expandBinaryProbabilities(S), K };
}
