/**
 * Feature standardisation `z = (x − mean) / scale`, fitted on training rows only by callers and
 * applied unchanged to calibration, test and prediction data.
 *
 * Reference: T. F. Chan, G. H. Golub & R. J. LeVeque (1983), "Algorithms for computing the sample
 * variance: analysis and recommendations", The American Statistician 37(3) — the corrected
 * two-pass algorithm used here.
 */
import { type Matrix, matrix } from "../linalg/matrix.js";

/** Per-column shift and scale: `z_ij = (x_ij − mean_j) / scale_j`. */
export interface Standardizer {
  mean: number[];
  scale: number[];
}

/**
 * Fits per-column mean and population standard deviation.
 *
 * Formula (corrected two-pass): `μ₀ = Σ_i x_ij / m`, `δ_i = x_ij − μ₀`, `S₁ = Σ δ_i`,
 * `S₂ = Σ δ_i²`; `mean_j = μ₀ + S₁/m`, `scale_j = √((S₂ − S₁²/m) / m)` (population std, dividing
 * by m as scikit-learn's `StandardScaler` does). A constant column (all values equal, tested as
 * min === max) gets `mean_j` = that value and `scale_j = 1`, so it standardises to exactly 0;
 * likewise `scale_j = 1` if the std underflows to 0.
 *
 * @param X m×d, m ≥ 1, finite.
 * @returns mean and scale, length d each (scale > 0).
 * @throws RangeError if X has no rows, a non-finite entry, or a column whose statistics overflow.
 * Cost: O(m·d), two passes.
 * @example
 * fitStandardizer(fromRows([[1, 5], [3, 5]])); // { mean: [2, 5], scale: [1, 1] }
 */
export function fitStandardizer(X: Matrix): Standardizer {
  const { rows: m, cols: d, data } = X;
  if (m === 0) throw new RangeError("fitStandardizer: X must have at least one row; got 0");
  const mean = new Array<number>(d).fill(0);
  const scale = new Array<number>(d).fill(1);
  for (let j = 0; j < d; j++) {
    let s = 0;
    let lo = data[j];
    let hi = data[j];
    for (let i = 0; i < m; i++) {
      const v = data[i * d + j];
      if (!Number.isFinite(v)) {
        throw new RangeError(`fitStandardizer: X must be finite; got ${v} at (${i}, ${j})`);
      }
      s += v;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (lo === hi) {
      mean[j] = lo;
      continue;
    }
    const mu0 = s / m;
    let s1 = 0;
    let s2 = 0;
    for (let i = 0; i < m; i++) {
      const dv = data[i * d + j] - mu0;
      s1 += dv;
      s2 += dv * dv;
    }
    const mu = mu0 + s1 / m;
    const sd = Math.sqrt(Math.max(0, (s2 - (s1 * s1) / m) / m));
    if (!Number.isFinite(mu) || !Number.isFinite(sd)) {
      throw new RangeError(`fitStandardizer: column ${j}'s mean or std overflows double precision`);
    }
    mean[j] = mu;
    scale[j] = sd > 0 ? sd : 1;
  }
  return { mean, scale };
}

/**
 * Applies a fitted standardiser: `Z_ij = (X_ij − mean_j) / scale_j`.
 * @param X m×d with d = `s.mean.length`.
 * @returns a new m×d matrix.
 * @throws RangeError if X's column count differs from the standardiser's.
 * Cost: O(m·d).
 * @example
 * applyStandardizer(fromRows([[1], [3]]), { mean: [2], scale: [1] }).data; // Float64Array [-1, 1]
 */
export function applyStandardizer(X: Matrix, s: Standardizer): Matrix {
  const d = s.mean.length;
  if (X.cols !== d || s.scale.length !== d) {
    throw new RangeError(
      `applyStandardizer: X must have d = ${d} columns (as fitted); got ${X.cols} (scale has ${s.scale.length})`,
    );
  }
  const out = new Float64Array(X.rows * d);
  const src = X.data;
  for (let i = 0, o = 0; i < X.rows; i++) {
    for (let j = 0; j < d; j++, o++) out[o] = (src[o] - s.mean[j]) / s.scale[j];
  }
  return matrix(X.rows, d, out);
}
