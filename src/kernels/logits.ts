/**
 * The logits of a linear model: z_ik = Θ_k · x̃_i = Θ_k0 + Σ_j Θ_k(j+1) x_ij, with Θ K×(d+1)
 * row-major (bias first) and X n×d row-major (no bias column). Every kernel that needs logits —
 * predictions and the training objectives — takes them from here, in this order of operations.
 */

/** Kernel: the K logits of the row of X starting at `xo` into z[zo..zo+K). O(K·d). */
export function rowLogits(
  theta: Float64Array,
  K: number,
  d: number,
  X: Float64Array,
  xo: number,
  z: Float64Array,
  zo: number,
): void {
  const w = d + 1;
  for (let k = 0, to = 0; k < K; k++, to += w) {
    let s = theta[to];
    for (let j = 0; j < d; j++) s += theta[to + 1 + j] * X[xo + j];
    z[zo + k] = s;
  }
}

/** Kernel: logits Z = X̃ Θᵀ (n×K) for n rows of d features. O(n·K·d). */
export function logitsKernel(
  X: Float64Array,
  n: number,
  d: number,
  theta: Float64Array,
  K: number,
  out: Float64Array,
): void {
  for (let i = 0, xo = 0, o = 0; i < n; i++, xo += d, o += K) rowLogits(theta, K, d, X, xo, out, o);
}
