/**
 * A dense row-major matrix of float64: element (i, j) is `data[i * cols + j]`.
 * Kernels take the flat `data` and explicit sizes; this type is the validated API's currency.
 */
export interface Matrix {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float64Array;
}

/** A rows×cols matrix over `data` (not copied), or zeros when `data` is omitted. */
export function matrix(rows: number, cols: number, data?: Float64Array): Matrix {
  if (!Number.isInteger(rows) || rows < 0 || !Number.isInteger(cols) || cols < 0) {
    throw new RangeError(`matrix: sizes must be non-negative integers; got ${rows}×${cols}`);
  }
  const d = data ?? new Float64Array(rows * cols);
  if (d.length !== rows * cols) {
    throw new RangeError(`matrix: data length must be rows·cols, that is ${rows * cols}; got ${d.length}`);
  }
  return { rows, cols, data: d };
}

/** A matrix from an array of equal-length rows. */
export function fromRows(rows: readonly (readonly number[])[]): Matrix {
  const nRows = rows.length;
  const nCols = nRows === 0 ? 0 : rows[0].length;
  const data = new Float64Array(nRows * nCols);
  for (let i = 0; i < nRows; i++) {
    const r = rows[i];
    if (r.length !== nCols) {
      throw new RangeError(`fromRows: every row must have ${nCols} entries; row ${i} has ${r.length}`);
    }
    data.set(r, i * nCols);
  }
  return { rows: nRows, cols: nCols, data };
}

/** The rows of a matrix as plain arrays (for JSON and CSV output). */
export function toRows(m: Matrix): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < m.rows; i++) out.push(Array.from(m.data.subarray(i * m.cols, (i + 1) * m.cols)));
  return out;
}

/** Row i as a view (no copy). */
export function row(m: Matrix, i: number): Float64Array {
  return m.data.subarray(i * m.cols, (i + 1) * m.cols);
}

/**
 * The matrix made of rows `indices` of `m`, in that order (each an integer in 0..rows−1).
 * Copies element by element: a `subarray` view per row was most of what splitting data sets
 * allocated in the experiments.
 */
export function takeRows(m: Matrix, indices: ArrayLike<number>): Matrix {
  const c = m.cols;
  const out = new Float64Array(indices.length * c);
  for (let r = 0; r < indices.length; r++) {
    const from = indices[r] * c;
    const to = r * c;
    for (let j = 0; j < c; j++) out[to + j] = m.data[from + j];
  }
  return { rows: indices.length, cols: c, data: out };
}
