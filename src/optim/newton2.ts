/**
 * Newton's method with backtracking for a smooth convex function of two variables (Platt scaling's
 * (a, b): Lin, Lin & Weng 2007, "A note on Platt's probabilistic outputs for support vector
 * machines", Machine Learning 68). Every accepted step decreases F (Armijo, c₁ = 1e-4).
 */

/** F's gradient (ga, gb) and Hessian [[haa, hab], [hab, hbb]] at a point. */
export interface Derivatives2 {
  ga: number;
  gb: number;
  haa: number;
  hab: number;
  hbb: number;
}

/** The result of {@link dampedNewton2}. */
export interface Newton2Result {
  a: number;
  b: number;
  /** Newton steps taken. */
  iterations: number;
  /** Whether max(|ga|, |gb|) ≤ gtol was reached. */
  converged: boolean;
}

/** Options of {@link dampedNewton2}. */
export interface Newton2Options {
  /** Stop when max(|ga|, |gb|) ≤ gtol. */
  gtol: number;
  /** At most this many steps. */
  maxIter: number;
  /** Backtracking halves the step from 1 while it is ≥ this; no step accepted ends the run. */
  minStep: number;
}

/**
 * Minimizes F from (a₀, b₀) with `F0 = value(a₀, b₀)`: per step, the derivatives at (a, b); stop
 * (converged) when max(|ga|, |gb|) ≤ gtol; else the Newton direction d = −H⁻¹g (Cramer's rule) and
 * the first t = 1, ½, ¼, … ≥ minStep with F(a + t·da, b + t·db) ≤ F + 1e-4·t·gᵀd; none ends the
 * run (not converged). Cost per step: one `derivatives` and the `value`s of the backtracking.
 */
export function dampedNewton2(
  value: (a: number, b: number) => number,
  derivatives: (a: number, b: number) => Derivatives2,
  a0: number,
  b0: number,
  F0: number,
  options: Newton2Options,
): Newton2Result {
  let a = a0;
  let b = b0;
  let fv = F0;
  let iterations = 0;
  let converged = false;
  for (; iterations < options.maxIter; iterations++) {
    const { ga, gb, haa, hab, hbb } = derivatives(a, b);
    if (Math.max(Math.abs(ga), Math.abs(gb)) <= options.gtol) {
      converged = true;
      break;
    }
    const det = haa * hbb - hab * hab;
    const da = -(hbb * ga - hab * gb) / det;
    const db = -(-hab * ga + haa * gb) / det;
    const slope = ga * da + gb * db;
    let t = 1;
    let accepted = false;
    while (t >= options.minStep) {
      const nf = value(a + t * da, b + t * db);
      if (nf <= fv + 1e-4 * t * slope) {
        a += t * da;
        b += t * db;
        fv = nf;
        accepted = true;
        break;
      }
      t /= 2;
    }
    if (!accepted) break;
  }
  return { a, b, iterations, converged };
}
