/**
 * The lesson's gradient descent: Θ₀ = 0, Θ_{t+1} = Θ_t − α ∇J(Θ_t), a fixed number of iterations.
 * `lossHistory[t]` is J(Θ_t), the loss *before* update t (the notebook's order).
 */
import type { OptimizerResult } from "../kernels/wasmObjective.js";
import type { DifferentiableObjective } from "./objective.js";

export interface GradientDescentOptions {
  /** Step size α (default 0.1). */
  alpha?: number;
  /** Number of updates (default 300). */
  maxIter?: number;
  /** Starting point (default zeros); copied, never modified. */
  theta0?: Float64Array;
}

/** What an optimizer returns — one shape for the TypeScript and the WebAssembly optimizers. */
export type { OptimizerResult };

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

/** max_j |g_j|. */
export function maxAbs(g: Float64Array): number {
  let mx = 0;
  for (let j = 0; j < g.length; j++) {
    const a = Math.abs(g[j]);
    if (a > mx || Number.isNaN(a)) mx = a;
  }
  return mx;
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
    if (!Number.isFinite(J) || !Number.isFinite(maxAbs(grad))) {
      return diverged(theta, J, lossHistory, t, grad, `the objective became non-finite at iteration ${t}`);
    }
    for (let j = 0; j < n; j++) theta[j] -= alpha * grad[j];
  }
  const J = f.evaluate(theta, grad);
  const g = maxAbs(grad);
  if (!Number.isFinite(J) || !Number.isFinite(g)) {
    return diverged(
      theta,
      J,
      lossHistory,
      maxIter,
      grad,
      "the objective became non-finite at the last iterate",
    );
  }
  return {
    theta,
    objective: J,
    lossHistory,
    iterations: maxIter,
    gradMaxAbs: g,
    converged: false,
    stopReason: `completed ${maxIter} iterations`,
    finite: true,
  };
}

function diverged(
  theta: Float64Array,
  J: number,
  lossHistory: number[],
  iterations: number,
  grad: Float64Array,
  why: string,
): OptimizerResult {
  return {
    theta,
    objective: J,
    lossHistory,
    iterations,
    gradMaxAbs: maxAbs(grad),
    converged: false,
    stopReason: why,
    finite: false,
  };
}
