/**
 * The lesson's gradient descent: Θ₀ = 0, Θ_{t+1} = Θ_t − α ∇J(Θ_t), a fixed number of iterations.
 * `lossHistory[t]` is J(Θ_t), the loss *before* update t (the notebook's order).
 */
import { maxAbs } from "../linalg/vector.js";
import { gradientDescentResult } from "./results.js";
import type { DifferentiableObjective, GradientDescentOptions, OptimizerResult } from "./types.js";

/**
 * The divergence rule for fixed-step descent: the final objective is above the starting one by
 * more than rounding. J carries a relative rounding error of about m·K·ε from its summed terms, so
 * where the optimum is Θ₀ itself (e.g. balanced classes and uninformative features) the final J can
 * exceed J(Θ₀) by an ulp or two without any divergence; a real divergence raises J far above
 * 1e-12 relative.
 */
export function risesAboveStart(final: number, start: number): boolean {
  return final > start + 1e-12 * Math.max(1, Math.abs(start));
}

/**
 * Runs fixed-step gradient descent on `f`. Stops early only when J or ∇J stops being finite
 * (divergence: `finite` false); a final J above the start is left to the caller to judge
 * ({@link risesAboveStart}, as `fit` does). O(maxIter · cost of f).
 */
export function gradientDescent(
  f: DifferentiableObjective,
  options: GradientDescentOptions = {},
): OptimizerResult {
  const { alpha = 0.1, maxIter = 300 } = options;
  const n = f.size;
  const theta = options.theta0 ? Float64Array.from(options.theta0) : new Float64Array(n);
  const grad = new Float64Array(n);
  const lossHistory: number[] = [];
  for (let t = 0; t < maxIter; t++) {
    const J = f.evaluate(theta, grad);
    lossHistory.push(J);
    const gmax = maxAbs(grad);
    if (!Number.isFinite(J) || !Number.isFinite(gmax)) {
      return gradientDescentResult(theta, J, lossHistory, t, gmax, maxIter);
    }
    for (let j = 0; j < n; j++) theta[j] -= alpha * grad[j];
  }
  const J = f.evaluate(theta, grad);
  return gradientDescentResult(theta, J, lossHistory, maxIter, maxAbs(grad), maxIter);
}
