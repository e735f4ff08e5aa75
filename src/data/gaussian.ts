/**
 * Multivariate normal draws: Cholesky factorisation and `x = μ + L·z`, and the lesson's three
 * Gaussian clusters.
 *
 * References: G. H. Golub & C. F. Van Loan, "Matrix Computations" (4th ed., 2013), §4.2
 * (Cholesky); N. J. Higham, "Accuracy and Stability of Numerical Algorithms" (2nd ed., 2002),
 * Thm 10.3 (backward error of Cholesky: `L·Lᵀ = A + ΔA`, `|ΔA| ≤ γ_{n+1}·|L|·|Lᵀ|`).
 */
import { type Matrix, matrix } from "../linalg/matrix.js";
import type { Dataset } from "./dataset.js";
import type { Rng } from "./rng.js";

/**
 * The lower-triangular Cholesky factor `L` of a symmetric positive-definite `A = L·Lᵀ`.
 *
 * Formula (Cholesky–Banachiewicz, row by row): `L_jj = √(A_jj − Σ_{k<j} L_jk²)`,
 * `L_ij = (A_ij − Σ_{k<j} L_ik·L_jk) / L_jj` for i > j; the upper triangle of the result is 0.
 * Only the lower triangle of `A` is read after the symmetry check.
 *
 * @param A n×n, symmetric within `n·ε·max|A|` elementwise.
 * @returns L, n×n lower triangular with a positive diagonal.
 * @throws RangeError if A is not square, not symmetric, has a non-finite entry, or is not
 *   positive definite (a pivot `A_jj − Σ L_jk²` is ≤ 0) — the message names the pivot.
 * Cost: O(n³/3) flops, O(n²) memory.
 * @example
 * cholesky(fromRows([[4, 2], [2, 3]])); // rows [[2, 0], [1, √2]]
 */
export function cholesky(A: Matrix): Matrix {
  const n = A.rows;
  if (A.cols !== n) throw new RangeError(`cholesky: A must be square (n×n); got ${A.rows}×${A.cols}`);
  const a = A.data;
  let maxAbs = 0;
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i])) {
      throw new RangeError(`cholesky: A must be finite; got ${a[i]} at (${Math.floor(i / n)}, ${i % n})`);
    }
    maxAbs = Math.max(maxAbs, Math.abs(a[i]));
  }
  const symTol = n * Number.EPSILON * maxAbs;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      if (Math.abs(a[i * n + j] - a[j * n + i]) > symTol) {
        throw new RangeError(
          `cholesky: A must be symmetric; got A[${i}][${j}] = ${a[i * n + j]} ≠ A[${j}][${i}] = ${a[j * n + i]}`,
        );
      }
    }
  }
  const L = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * n + j];
      for (let k = 0; k < j; k++) s -= L[i * n + k] * L[j * n + k];
      if (i === j) {
        if (!(s > 0)) {
          throw new RangeError(`cholesky: A must be positive definite; got pivot ${j} = ${s} (≤ 0)`);
        }
        L[i * n + i] = Math.sqrt(s);
      } else {
        L[i * n + j] = s / L[j * n + j];
      }
    }
  }
  return matrix(n, n, L);
}

/**
 * `n` draws from the multivariate normal `N(μ, Σ)`, one per row.
 *
 * Formula: `x_i = μ + L·z_i` with `L = cholesky(Σ)` and `z_i` d standard normals drawn with
 * `rng.normal()` in row order, coordinate 0 first (so the stream and the result are determined
 * by the seed). For a diagonal Σ this is `x_ij = μ_j + √Σ_jj·z_ij`.
 *
 * @param mean μ, length d.
 * @param cov Σ, d×d symmetric positive definite.
 * @param n number of draws (non-negative integer).
 * @returns n×d matrix.
 * @throws RangeError if `cov` is not d×d or not SPD (see {@link cholesky}), `mean` has a
 *   non-finite entry, or n is not a non-negative integer.
 * Cost: O(d³ + n·d²).
 * @example
 * multivariateNormal(createRng(1), [0, 0], fromRows([[1, 0], [0, 1]]), 5); // 5×2
 */
export function multivariateNormal(rng: Rng, mean: readonly number[], cov: Matrix, n: number): Matrix {
  const d = mean.length;
  if (cov.rows !== d || cov.cols !== d) {
    throw new RangeError(
      `multivariateNormal: cov must be d×d, that is ${d}×${d}; got ${cov.rows}×${cov.cols}`,
    );
  }
  if (!(Number.isInteger(n) && n >= 0)) {
    throw new RangeError(`multivariateNormal: n must be a non-negative integer; got ${n}`);
  }
  for (let j = 0; j < d; j++) {
    if (!Number.isFinite(mean[j]))
      throw new RangeError(`multivariateNormal: mean must be finite; got ${mean[j]}`);
  }
  const L = cholesky(cov).data;
  const out = new Float64Array(n * d);
  const z = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) z[j] = rng.normal();
    for (let r = 0; r < d; r++) {
      let s = mean[r];
      for (let k = 0; k <= r; k++) s += L[r * d + k] * z[k];
      out[i * d + r] = s;
    }
  }
  return matrix(n, d, out);
}

/** Options of {@link lessonClusters}. */
export interface LessonClustersOptions {
  /** Samples per class (default 60, the lesson's). */
  perClass?: number;
  /** The data set's name (default "clusters"). */
  name?: string;
}

/** The lesson's cluster means, class 0, 1, 2. */
export const LESSON_MEANS: readonly (readonly [number, number])[] = [
  [-2, 0],
  [2, 0],
  [0, 2.5],
];
/** The lesson's per-class covariance is `LESSON_VARIANCE · I₂`. */
export const LESSON_VARIANCE = 0.6;

/**
 * The lesson's synthetic data: three 2-D Gaussian clusters with means (−2, 0), (2, 0),
 * (0, 2.5), covariance 0.6·I, `perClass` samples each; rows are class 0's, then 1's, then 2's.
 *
 * The draws come from {@link multivariateNormal} with softcal's seeded Alea generator — not
 * numpy's, so they differ from the notebook's exact rows (those are the built-in `lesson`).
 *
 * @returns a Dataset with features `x1, x2`, classes `"0", "1", "2"`, `3·perClass` rows.
 * @throws RangeError if perClass is not a non-negative integer.
 * Cost: O(perClass).
 * @example
 * lessonClusters(createRng(42)).X.rows; // 180
 */
export function lessonClusters(
  rng: Rng,
  { perClass = 60, name = "clusters" }: LessonClustersOptions = {},
): Dataset {
  if (!(Number.isInteger(perClass) && perClass >= 0)) {
    throw new RangeError(`lessonClusters: perClass must be a non-negative integer; got ${perClass}`);
  }
  const cov = matrix(2, 2, Float64Array.of(LESSON_VARIANCE, 0, 0, LESSON_VARIANCE));
  const K = LESSON_MEANS.length;
  const X = new Float64Array(K * perClass * 2);
  const y = new Int32Array(K * perClass);
  for (let k = 0; k < K; k++) {
    const part = multivariateNormal(rng, [...LESSON_MEANS[k]], cov, perClass);
    X.set(part.data, k * perClass * 2);
    y.fill(k, k * perClass, (k + 1) * perClass);
  }
  return {
    name,
    X: matrix(K * perClass, 2, X),
    y,
    nClasses: K,
    classNames: ["0", "1", "2"],
    featureNames: ["x1", "x2"],
  };
}
