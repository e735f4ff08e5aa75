/** The lesson's gradient descent on the wasm objective (objective.ts), the loop inside wasm too. */
import { D, K_CLASSES } from "./descriptor";
import { allFinite, objectiveEvaluate } from "./objective";

/**
 * The lesson's gradient descent, entirely in wasm: for t < iters, hist[t] = J(Θ_t), stop if J or
 * ∇J is not finite, Θ ← Θ − α∇J. Then hist[iters] = J(Θ_iters) with ∇J at grad. Returns the
 * number of updates made (iters, or the iteration where J or ∇J stopped being finite).
 */
export function objectiveDescend(
  desc: usize,
  theta: usize,
  grad: usize,
  alpha: f64,
  iters: i32,
  hist: usize,
): i32 {
  const n = <usize>load<u32>(desc + K_CLASSES) * (<usize>load<u32>(desc + D) + 1);
  for (let t = 0; t < iters; t++) {
    const J = objectiveEvaluate(desc, theta, grad);
    store<f64>(hist + <usize>t * 8, J);
    if (!(J - J === 0) || !allFinite(grad, n)) return t;
    for (let q: usize = 0; q < n; q++) {
      store<f64>(theta + q * 8, load<f64>(theta + q * 8) - alpha * load<f64>(grad + q * 8));
    }
  }
  store<f64>(hist + <usize>iters * 8, objectiveEvaluate(desc, theta, grad));
  return iters;
}
