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

/** The data an objective is built on: X m×d row-major (no bias column), labels in 0..K−1. */
export interface TrainingData {
  X: Float64Array;
  nSamples: number;
  nFeatures: number;
  y: Int32Array;
  nClasses: number;
}

/**
 * One row's part of an objective: adds the row's loss (from its K logits z and label y) to `loss`
 * and returns the sum, leaving in z the residuals ∂loss/∂z_k (the gradient is Σ_i r_ik x̃_i).
 */
type RowLoss = (z: Float64Array, K: number, y: number, loss: number) => number;

/** Softmax: −log p_y = log Σ_k exp(z_k − max) − (z_y − max), from the logit, never log(exp(...)); r_k = p_k − 1[k = y]. */
const softmaxRow: RowLoss = (z, K, y, loss) => {
  let mx = Number.NEGATIVE_INFINITY;
  for (let k = 0; k < K; k++) if (z[k] > mx) mx = z[k];
  const zy = z[y];
  let sum = 0;
  for (let k = 0; k < K; k++) {
    const e = Math.exp(z[k] - mx);
    z[k] = e;
    sum += e;
  }
  const inv = 1 / sum;
  for (let k = 0; k < K; k++) z[k] = z[k] * inv - (k === y ? 1 : 0);
  return loss + (Math.log(sum) - (zy - mx));
};

/** One-vs-rest: Σ_k softplus(z_k) − t_k z_k, t_k = 1[k = y], added class by class; r_k = σ(z_k) − t_k. */
const ovrRow: RowLoss = (z, K, y, loss) => {
  let total = loss;
  for (let k = 0; k < K; k++) {
    const s = z[k];
    const t = k === y ? 1 : 0;
    total += softplus(s) - t * s;
    z[k] = sigmoid(s) - t;
  }
  return total;
};

/**
 * The objectives' common loop: per row the logits (rowLogits), the row's loss and residuals r_k,
 * and ∇J += r_k·x̃_i; then the mean and the penalty (finishObjective). `z`: scratch of length ≥ K.
 */
function linearObjective(
  row: RowLoss,
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
    loss = row(z, K, y[i], loss);
    if (grad) {
      for (let k = 0, to = 0; k < K; k++, to += w) {
        const r = z[k];
        grad[to] += r;
        for (let j = 0; j < d; j++) grad[to + 1 + j] += r * X[xo + j];
      }
    }
  }
  return finishObjective(loss, m, d, K, theta, l2, grad);
}

/**
 * A kernel's signature: J(Θ) of m rows of d features and K classes (penalty λ = l2) and, when
 * `grad` is non-null, ∇J into `grad`; `z` is scratch of length ≥ K. No validation. O(m·K·d).
 */
export type ObjectiveKernel = (
  X: Float64Array,
  m: number,
  d: number,
  y: Int32Array,
  K: number,
  theta: Float64Array,
  l2: number,
  grad: Float64Array | null,
  z: Float64Array,
) => number;

/** Kernel: the softmax regression objective (the file's formula) and its gradient. */
export const softmaxObjectiveKernel: ObjectiveKernel = (X, m, d, y, K, theta, l2, grad, z) =>
  linearObjective(softmaxRow, X, m, d, y, K, theta, l2, grad, z);

/** Kernel: the one-vs-rest objective Σ_k J_k(θ_k) and its gradient. */
export const ovrObjectiveKernel: ObjectiveKernel = (X, m, d, y, K, theta, l2, grad, z) =>
  linearObjective(ovrRow, X, m, d, y, K, theta, l2, grad, z);

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
