/**
 * The training objectives as differentiable functions of a flat parameter vector Θ (K×(d+1),
 * row-major, bias first), with their plain-TypeScript kernels (the reference path).
 *
 * Softmax (multinomial) regression, DESIGN.md's contract:
 *   J(Θ) = (1/m) Σ_i [logΣ_k exp(z_ik) − z_{i,y_i}] + (λ/2) Σ_k Σ_{j≥1} Θ_kj²,  z_i = Θ x̃_i, x̃_i = [1, x_i]
 *   ∇J = (P − Y)ᵀ X̃ / m + λ·[0 | W]
 * The log-loss is log-sum-exp minus the logit (no `+1e-9`). This equals scikit-learn's
 * `LogisticRegression(multi_class="multinomial")` objective divided by C·m, with C = 1/(λ·m).
 *
 * One-vs-rest: the sum over k of K binary logistic objectives on t_ik = 1[y_i = k]:
 *   J_k(θ_k) = (1/m) Σ_i [softplus(z_ik) − t_ik z_ik] + (λ/2) Σ_{j≥1} θ_kj²
 * with softplus(z) = max(z, 0) + log1p(exp(−|z|)) (stable). Same λ convention.
 *
 * Overflow: with features near 1e308 a logit can overflow to ±∞ (or NaN from ∞ − ∞). The kernels
 * then return +∞ — never NaN — so optimizers see "too far" and back off or report divergence.
 */

import type { DifferentiableObjective } from "../optim/types.js";

export type { DifferentiableObjective };

/** The data an objective is built on: X m×d row-major (no bias column), labels in 0..K−1. */
export interface TrainingData {
  X: Float64Array;
  nSamples: number;
  nFeatures: number;
  y: Int32Array;
  nClasses: number;
}

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
    let mx = Number.NEGATIVE_INFINITY;
    for (let k = 0, to = 0; k < K; k++, to += w) {
      let s = theta[to];
      for (let j = 0; j < d; j++) s += theta[to + 1 + j] * X[xo + j];
      z[k] = s;
      if (s > mx) mx = s;
    }
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
 * No validation. O(m·K·d).
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
): number {
  const w = d + 1;
  if (grad) grad.fill(0);
  let loss = 0;
  for (let i = 0, xo = 0; i < m; i++, xo += d) {
    const yi = y[i];
    for (let k = 0, to = 0; k < K; k++, to += w) {
      let s = theta[to];
      for (let j = 0; j < d; j++) s += theta[to + 1 + j] * X[xo + j];
      const t = k === yi ? 1 : 0;
      loss += Math.max(s, 0) + Math.log1p(Math.exp(-Math.abs(s))) - t * s;
      if (grad) {
        const r = sigmoid(s) - t;
        grad[to] += r;
        for (let j = 0; j < d; j++) grad[to + 1 + j] += r * X[xo + j];
      }
    }
  }
  return finishObjective(loss, m, d, K, theta, l2, grad);
}

/** σ(z) = 1/(1 + e^{−z}), evaluated without overflow for either sign. */
export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
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

/** The softmax regression objective on `data` with L2 strength `l2` (reference TS kernel). */
export function softmaxObjective(data: TrainingData, l2: number): DifferentiableObjective {
  const { X, nSamples, nFeatures, y, nClasses } = data;
  const z = new Float64Array(nClasses);
  return {
    size: nClasses * (nFeatures + 1),
    evaluate: (theta, grad) =>
      softmaxObjectiveKernel(X, nSamples, nFeatures, y, nClasses, theta, l2, grad, z),
  };
}

/** The one-vs-rest objective (sum of K binary logistic objectives) on `data` (reference TS kernel). */
export function ovrObjective(data: TrainingData, l2: number): DifferentiableObjective {
  const { X, nSamples, nFeatures, y, nClasses } = data;
  return {
    size: nClasses * (nFeatures + 1),
    evaluate: (theta, grad) => ovrObjectiveKernel(X, nSamples, nFeatures, y, nClasses, theta, l2, grad),
  };
}

/**
 * An upper bound L on the Lipschitz constant of ∇J (softmax or one-vs-rest), so that gradient
 * descent with α ≤ 1/L never increases J (the descent lemma).
 *
 * Derivation: ∇²J = (1/m) Σ_i A_i ⊗ x̃_i x̃_iᵀ + λ·diag(0, I), where A_i = diag(p_i) − p_i p_iᵀ for
 * softmax (‖A_i‖₂ ≤ 1/2 by Gershgorin: row k has |diagonal| + Σ|off-diagonal| = 2p_k(1 − p_k) ≤ 1/2)
 * and A_i = diag(σ_k(1 − σ_k)) ≤ 1/4·I for one-vs-rest. With ‖x̃_i x̃_iᵀ‖₂ = ‖x̃_i‖², the Hessian's
 * norm is at most (c/m) Σ_i ‖x̃_i‖² + λ = (c/m)‖X̃‖_F² + λ, with c = 1/2 (softmax) or 1/4 (OvR).
 * O(m·d).
 */
export function lipschitzBound(
  X: Float64Array,
  nSamples: number,
  nFeatures: number,
  l2: number,
  model: "softmax" | "ovr" = "softmax",
): number {
  let fro = 0;
  for (let i = 0; i < nSamples * nFeatures; i++) fro += X[i] * X[i];
  fro += nSamples; // the bias column of ones
  return ((model === "softmax" ? 0.5 : 0.25) * fro) / nSamples + l2;
}
