/**
 * The training objectives and their gradients, the plain-TypeScript kernels (the reference; the
 * WebAssembly SIMD ones, with the same per-row arithmetic, are in objectiveWasm.ts beside it).
 * Θ is K×(d+1) row-major, bias first; X m×d row-major (no bias column); labels y in 0..K−1.
 *
 * Softmax (multinomial) regression:
 *   J(Θ) = (1/m) Σ_i [logΣ_k exp(z_ik) − z_{i,y_i}] + (λ/2) Σ_k Σ_{j≥1} Θ_kj²,  z_i = Θ x̃_i
 *   ∇J = (P − Y)ᵀ X̃ / m + λ·[0 | W]
 * One-vs-rest: Σ_k (1/m) Σ_i [softplus(z_ik) − t_ik z_ik] + (λ/2) Σ_{j≥1} θ_kj², t_ik = 1[y_i = k],
 *   ∂/∂θ_k = (1/m) Σ_i (σ(z_ik) − t_ik) x̃_i + λ·[0 | w_k].
 * Overflow: a logit that overflows to ±∞ (or NaN from ∞ − ∞) makes J +∞ — never NaN.
 */
import { rowLogits } from "./logits.js";
import { sigmoid, softplus } from "./sigmoid.js";

/**
 * Kernel: softmax regression objective J(Θ) and, when `grad` is non-null, ∇J into `grad`.
 * `z` is scratch of length ≥ K. No validation. O(m·K·d).
 */
export function softmaxObjectiveKernel(
  X: Float64Array,
  m: number,
  d: number,
  y: Int32Array,
  K: number,
  theta: Float64Array,
  l2: number,
  grad: Float64Array | null,
  z: Float64Array,
): number {
  const w = d + 1;
  if (grad) grad.fill(0);
  let loss = 0;
  for (let i = 0, xo = 0; i < m; i++, xo += d) {
    rowLogits(theta, K, d, X, xo, z, 0);
    let mx = Number.NEGATIVE_INFINITY;
    for (let k = 0; k < K; k++) if (z[k] > mx) mx = z[k];
    const yi = y[i];
    const zy = z[yi];
    let sum = 0;
    for (let k = 0; k < K; k++) {
      const e = Math.exp(z[k] - mx);
      z[k] = e;
      sum += e;
    }
    // −log p_y = log Σ_k exp(z_k − max) − (z_y − max): from the logit, never log(exp(...)).
    loss += Math.log(sum) - (zy - mx);
    if (grad) {
      const inv = 1 / sum;
      for (let k = 0, to = 0; k < K; k++, to += w) {
        const r = z[k] * inv - (k === yi ? 1 : 0);
        grad[to] += r;
        for (let j = 0; j < d; j++) grad[to + 1 + j] += r * X[xo + j];
      }
    }
  }
  return finishObjective(loss, m, d, K, theta, l2, grad);
}

/**
 * Kernel: one-vs-rest objective Σ_k J_k(θ_k) and, when `grad` is non-null, its gradient.
 * `z` is scratch of length ≥ K. No validation. O(m·K·d).
 */
export function ovrObjectiveKernel(
  X: Float64Array,
  m: number,
  d: number,
  y: Int32Array,
  K: number,
  theta: Float64Array,
  l2: number,
  grad: Float64Array | null,
  z: Float64Array,
): number {
  const w = d + 1;
  if (grad) grad.fill(0);
  let loss = 0;
  for (let i = 0, xo = 0; i < m; i++, xo += d) {
    const yi = y[i];
    rowLogits(theta, K, d, X, xo, z, 0);
    for (let k = 0, to = 0; k < K; k++, to += w) {
      const s = z[k];
      const t = k === yi ? 1 : 0;
      loss += softplus(s) - t * s;
      if (grad) {
        const r = sigmoid(s) - t;
        grad[to] += r;
        for (let j = 0; j < d; j++) grad[to + 1 + j] += r * X[xo + j];
      }
    }
  }
  return finishObjective(loss, m, d, K, theta, l2, grad);
}

/** Divides the summed loss and gradient by m and adds the (λ/2)‖W‖² penalty (bias column excluded). */
function finishObjective(
  loss: number,
  m: number,
  d: number,
  K: number,
  theta: Float64Array,
  l2: number,
  grad: Float64Array | null,
): number {
  const w = d + 1;
  const invM = 1 / m;
  let penalty = 0;
  for (let k = 0, to = 0; k < K; k++, to += w) {
    for (let j = 1; j < w; j++) penalty += theta[to + j] * theta[to + j];
  }
  if (grad) {
    for (let k = 0, to = 0; k < K; k++, to += w) {
      grad[to] *= invM;
      for (let j = 1; j < w; j++) grad[to + j] = grad[to + j] * invM + l2 * theta[to + j];
    }
  }
  const J = loss * invM + 0.5 * l2 * penalty;
  return Number.isNaN(J) ? Number.POSITIVE_INFINITY : J;
}
