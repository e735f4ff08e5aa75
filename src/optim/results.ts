/**
 * How an optimizer's end becomes an {@link OptimizerResult}: the one place the stop rules are put
 * into words, for the TypeScript optimizers here and the WebAssembly ones (src/kernels/), so both
 * say the same thing for the same iterates.
 */
import type { OptimizerResult } from "./types.js";

/**
 * Gradient descent's result. `iterations < maxIter` means J or ∇J stopped being finite before
 * update `iterations` (`objective` is that J, the history's last entry); otherwise all updates
 * were made, and the final J and ∇J are checked. O(1).
 */
export function gradientDescentResult(
  theta: Float64Array,
  objective: number,
  lossHistory: number[],
  iterations: number,
  gradMaxAbs: number,
  maxIter: number,
): OptimizerResult {
  const common = { theta, objective, lossHistory, iterations, gradMaxAbs, converged: false };
  if (iterations < maxIter) {
    return {
      ...common,
      stopReason: `the objective became non-finite at iteration ${iterations}`,
      finite: false,
    };
  }
  if (!Number.isFinite(objective) || !Number.isFinite(gradMaxAbs)) {
    return { ...common, stopReason: "the objective became non-finite at the last iterate", finite: false };
  }
  return { ...common, stopReason: `completed ${maxIter} iterations`, finite: true };
}

/**
 * How an L-BFGS run ended: the gradient tolerance met at the top of an iteration; no step along
 * the search direction acceptable (J is at its rounding floor); the iteration limit; or J or ∇J
 * not finite at the starting point.
 */
export type LbfgsOutcome = "converged" | "no-step" | "iteration-limit" | "not-finite";

/**
 * L-BFGS's result. `converged` holds when the outcome is "converged" or the final max-abs
 * gradient is within `tol` — within `noStepTol` (default `tol`) when no step was acceptable: the
 * backtracking search allows its rounding floor there (src/optim/lbfgs.ts). O(1).
 */
export function lbfgsResult(
  theta: Float64Array,
  objective: number,
  lossHistory: number[],
  iterations: number,
  gradMaxAbs: number,
  outcome: LbfgsOutcome,
  tol: number,
  maxIter: number,
  noStepTol = tol,
): OptimizerResult {
  const common = { theta, objective, lossHistory, iterations, gradMaxAbs };
  if (outcome === "not-finite") {
    return {
      ...common,
      converged: false,
      stopReason: "the objective is not finite at the starting point",
      finite: false,
    };
  }
  const converged = outcome === "converged" || gradMaxAbs <= (outcome === "no-step" ? noStepTol : tol);
  const stopReason =
    outcome === "no-step"
      ? `line search found no acceptable step at gradient max-abs ${gradMaxAbs} (the objective is at its rounding floor)`
      : converged
        ? `gradient max-abs ${gradMaxAbs} ≤ tol ${tol}`
        : `reached ${maxIter} iterations (gradient max-abs ${gradMaxAbs})`;
  return { ...common, converged, stopReason, finite: true };
}
