/**
 * The central-difference gradient of an objective with a fixed absolute step h:
 * g̃_j = (J(θ + h e_j) − J(θ − h e_j)) / 2h. Truncation error ≤ h²/6·|∂³J|, rounding error ≤ ε·|J|/h
 * (each caller derives its tolerance from these). Cost: 2·size evaluations.
 */
import type { DifferentiableObjective } from "../../src/model/objective.js";

export function centralDifferences(f: DifferentiableObjective, theta: Float64Array, h: number): Float64Array {
  const fd = new Float64Array(f.size);
  const t = Float64Array.from(theta);
  for (let j = 0; j < f.size; j++) {
    t[j] = theta[j] + h;
    const jp = f.evaluate(t, null);
    t[j] = theta[j] - h;
    const jm = f.evaluate(t, null);
    t[j] = theta[j];
    fd[j] = (jp - jm) / (2 * h);
  }
  return fd;
}
