/**
 * Row-wise softmax and log-softmax: kernels over flat row-major blocks, and validated API functions.
 *
 * Stable formulas: `softmax(z)_k = exp(z_k − max z) / Σ_j exp(z_j − max z)` and
 * `logSoftmax(z)_k = z_k − max z − log Σ_j exp(z_j − max z)`. For any finite z every shifted
 * logit is ≤ 0, so no exp overflows and the denominator is in [1, K]: softmax is finite, lies in
 * [0, 1] and sums to 1 within K·ε (one rounding per term and per addition). A shift `z_j − max z`
 * may itself overflow to −∞ when |z| ≈ 1e308; its exp is then exactly 0, which is the right limit.
 *
 * Kernels do no validation. An infinite logit (an overflowed Θ·x̃, say) gets softmax's limit: the
 * +∞ entries share the mass (see infiniteRow); a NaN in a row makes that whole row NaN.
 */
import { InputError } from "../errors.js";
import type { Matrix } from "../linalg/matrix.js";

/** Kernel: `out[i,:] = softmax(z[i,:])` for an n×K block; `out` may alias `z`. O(nK). */
export function softmaxRowsKernel(z: Float64Array, n: number, K: number, out: Float64Array): void {
  for (let i = 0, o = 0; i < n; i++, o += K) {
    let mx = z[o];
    for (let k = 1; k < K; k++) if (z[o + k] > mx) mx = z[o + k];
    if (mx === Number.POSITIVE_INFINITY || mx === Number.NEGATIVE_INFINITY) {
      infiniteRow(z, o, K, mx, out);
      continue;
    }
    let s = 0;
    for (let k = 0; k < K; k++) {
      const e = Math.exp(z[o + k] - mx);
      out[o + k] = e;
      s += e;
    }
    const inv = 1 / s;
    for (let k = 0; k < K; k++) out[o + k] *= inv;
  }
}

/**
 * A row whose largest logit is infinite, by the limit of softmax: the +∞ entries share the mass
 * equally (one-hot for one); a row of −∞ only is uniform (every logit equal). A NaN in the row
 * makes it NaN.
 */
function infiniteRow(z: Float64Array, o: number, K: number, mx: number, out: Float64Array): void {
  let count = 0;
  let nan = false;
  for (let k = 0; k < K; k++) {
    if (z[o + k] === mx) count++;
    else if (Number.isNaN(z[o + k])) nan = true;
  }
  for (let k = 0; k < K; k++) out[o + k] = nan ? Number.NaN : z[o + k] === mx ? 1 / count : 0;
}

/** Kernel: `out[i,:] = logSoftmax(z[i,:])` for an n×K block; `out` may alias `z`. O(nK). */
export function logSoftmaxRowsKernel(z: Float64Array, n: number, K: number, out: Float64Array): void {
  for (let i = 0, o = 0; i < n; i++, o += K) {
    let mx = z[o];
    for (let k = 1; k < K; k++) if (z[o + k] > mx) mx = z[o + k];
    let s = 0;
    for (let k = 0; k < K; k++) s += Math.exp(z[o + k] - mx);
    const lse = mx + Math.log(s);
    for (let k = 0; k < K; k++) out[o + k] = z[o + k] - lse;
  }
}

/** Kernel: log Σ_k exp(z[o + k]) for one row of length K, stably. */
export function logSumExpKernel(z: Float64Array, o: number, K: number): number {
  let mx = z[o];
  for (let k = 1; k < K; k++) if (z[o + k] > mx) mx = z[o + k];
  let s = 0;
  for (let k = 0; k < K; k++) s += Math.exp(z[o + k] - mx);
  return mx + Math.log(s);
}

/**
 * Kernel: the softmax NLL of one row of K logits u (u[0..K)) with label y, −log softmax(u)_y, and
 * its gradient in u: on return u[k] holds softmax(u)_k − 1[k = y]. When the label holds the row's
 * maximum, −log q_y = log1p(Σ_{k≠y} e^{u_k − u_y}) (log1p keeps a confident row's tiny NLL accurate,
 * where mx − u_y + log Σ would round it away); else mx − u_y + log Σ_k e^{u_k − mx}. For the
 * calibration maps' objectives (vector, matrix and Dirichlet scaling). O(K).
 */
export function softmaxNllRowKernel(u: Float64Array, K: number, y: number): number {
  let mx = -Infinity;
  for (let k = 0; k < K; k++) if (u[k] > mx) mx = u[k];
  const uy = u[y];
  let rest = 0;
  for (let k = 0; k < K; k++) {
    u[k] = Math.exp(u[k] - mx);
    if (k !== y) rest += u[k];
  }
  const s = rest + u[y];
  const nll = uy === mx ? Math.log1p(rest) : mx - uy + Math.log(s);
  for (let k = 0; k < K; k++) u[k] = u[k] / s - (k === y ? 1 : 0);
  return nll;
}

/** Bad logits are bad input, as in the calibration layer's validators (same kind, same grammar). */
function checkLogits(name: string, z: Matrix): void {
  if (z.cols < 1) throw new InputError(`${name}: expected logits with at least 1 column; got ${z.cols}`);
  const d = z.data;
  for (let i = 0; i < d.length; i++) {
    if (!Number.isFinite(d[i])) {
      const r = Math.floor(i / z.cols);
      throw new InputError(
        `${name}: row ${r}, column ${i - r * z.cols}: expected a finite logit; got ${d[i]}`,
      );
    }
  }
}

/**
 * Row-wise softmax of an n×K logit matrix (a new matrix).
 * @throws InputError if K < 1 or any logit is not finite, e.g. `softmax: row 0, column 1: expected a finite logit; got NaN`.
 * @example softmax(fromRows([[100, 100]])) // rows: [[0.5, 0.5]]
 */
export function softmax(z: Matrix): Matrix {
  checkLogits("softmax", z);
  const out = new Float64Array(z.data.length);
  softmaxRowsKernel(z.data, z.rows, z.cols, out);
  return { rows: z.rows, cols: z.cols, data: out };
}

/**
 * Row-wise log-softmax of an n×K logit matrix (a new matrix); never `log(softmax + ε)`.
 * @throws InputError if K < 1 or any logit is not finite (as {@link softmax}).
 * @example logSoftmax(fromRows([[0, 0]])) // rows: [[-0.6931471805599453, -0.6931471805599453]]
 */
export function logSoftmax(z: Matrix): Matrix {
  checkLogits("logSoftmax", z);
  const out = new Float64Array(z.data.length);
  logSoftmaxRowsKernel(z.data, z.rows, z.cols, out);
  return { rows: z.rows, cols: z.cols, data: out };
}
