/**
 * The training objectives as differentiable functions of a flat parameter vector Θ (K×(d+1),
 * row-major, bias first): the `DifferentiableObjective`s the optimizers (src/optim/) minimize, over
 * the kernels that compute J and ∇J (src/kernels/objective.ts, the TypeScript reference, and
 * src/kernels/objectiveWasm.ts, WebAssembly SIMD).
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

import { ovrObjectiveKernel, softmaxObjectiveKernel, type TrainingData } from "../kernels/objective.js";
import type { DifferentiableObjective } from "../optim/types.js";

export type { DifferentiableObjective, TrainingData };

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
  const z = new Float64Array(nClasses);
  return {
    size: nClasses * (nFeatures + 1),
    evaluate: (theta, grad) => ovrObjectiveKernel(X, nSamples, nFeatures, y, nClasses, theta, l2, grad, z),
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
