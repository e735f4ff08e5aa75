/**
 * Limited-memory BFGS (Nocedal 1980; Liu & Nocedal 1989; Nocedal & Wright 2006, Alg. 7.4): the
 * one L-BFGS of softcal, for the model fits (src/model/fit.ts; its wasm port in
 * assembly/lbfgs.ts takes the same steps) and the calibration maps (vector, matrix and Dirichlet
 * scaling). Two-loop recursion over at most `memory` pairs (s, y); a new pair is kept only when
 * sᵀy > 1e-300, so the direction stays one of descent (else the memory is cleared and −g taken).
 * Stops when max_j |∂J/∂θ_j| ≤ tol, when no step is acceptable, or after maxIter iterations.
 *
 * Two line searches:
 * - "wolfe" (default, the fits): a bracketing weak-Wolfe search (Lewis & Overton 2013, with
 *   safeguarded cubic interpolation). Near the optimum J changes by less than its rounding error
 *   (|ΔJ| ≈ ‖g‖²/curvature, while J carries ~1e-15 relative noise from its m·K summed terms), so the
 *   sufficient-decrease test also accepts a step whose J rose by at most 1e-10·(1 + |J|) *if* the
 *   directional derivative satisfies φ'(α) ≤ (2c₁ − 1)φ'(0) — Armijo's condition for a quadratic
 *   model, stated with derivatives, which stay accurate (the "approximate Wolfe" conditions of
 *   Hager & Zhang 2005, §4). That is what lets the gradient reach 1e-10 instead of stalling at the
 *   noise floor of J. The first direction (and a restart) is −g scaled to Euclidean length ≤ 1.
 * - "backtracking" (the calibration maps): Armijo's condition (c₁ = 1e-4) from a unit step,
 *   halving up to 60 times; a step must also lower J strictly, so every iterate is better than
 *   the start. When none does, J is at its floating-point optimum and the run counts as converged
 *   if max|g| ≤ max(tol, 1e-7). The first direction (and a restart) is −g scaled to max-abs ≤ 1.
 */
import { axpy, dot, maxAbs, scaleInPlace } from "../linalg/vector.js";
import { type LbfgsOutcome, lbfgsResult } from "./results.js";
import type { DifferentiableObjective, LbfgsOptions, OptimizerResult } from "./types.js";

/** The line search of {@link lbfgs}: see the file's doc. */
export type LineSearch = "wolfe" | "backtracking";

/** {@link lbfgs}'s options: the shared L-BFGS options plus the TypeScript optimizer's line search. */
export interface LbfgsSearchOptions extends LbfgsOptions {
  /** "wolfe" (default) or "backtracking". */
  lineSearch?: LineSearch;
}

const C1 = 1e-4;
const C2 = 0.9;
const MAX_WOLFE_TRIALS = 40;
const MAX_HALVINGS = 60;
/** The backtracking search's rounding floor: max|g| at which a run with no decreasing step converged. */
const BACKTRACKING_FLOOR_TOL = 1e-7;

/** Minimizes `f` with L-BFGS. O(maxIter · (cost of f + memory · size)). */
export function lbfgs(f: DifferentiableObjective, options: LbfgsSearchOptions = {}): OptimizerResult {
  const { tol = 1e-9, maxIter = 1000, memory = 10, lineSearch = "wolfe" } = options;
  const n = f.size;
  const x = options.theta0 ? Float64Array.from(options.theta0) : new Float64Array(n);
  const g = new Float64Array(n);
  const xNew = new Float64Array(n);
  const gNew = new Float64Array(n);
  const p = new Float64Array(n);
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const rho: number[] = [];
  const alphaBuf = new Float64Array(memory);
  const search = lineSearch === "wolfe" ? wolfeSearch : backtrackingSearch;
  /** The norm the first direction (and a restart) is scaled by. */
  const firstStepNorm = lineSearch === "wolfe" ? (v: Float64Array) => Math.sqrt(dot(v, v)) : maxAbs;
  const noStepTol = lineSearch === "wolfe" ? tol : Math.max(tol, BACKTRACKING_FLOOR_TOL);

  let J = f.evaluate(x, g);
  const lossHistory = [J];
  const end = (iterations: number, outcome: LbfgsOutcome) =>
    lbfgsResult(x, J, lossHistory, iterations, maxAbs(g), outcome, tol, maxIter, noStepTol);
  if (!Number.isFinite(J) || !Number.isFinite(maxAbs(g))) return end(0, "not-finite");
  let iter = 0;
  for (; iter < maxIter; iter++) {
    if (maxAbs(g) <= tol) return end(iter, "converged");

    // Two-loop recursion: p = −H g.
    for (let j = 0; j < n; j++) p[j] = -g[j];
    const h = S.length;
    for (let i = h - 1; i >= 0; i--) {
      const a = rho[i] * dot(S[i], p);
      alphaBuf[i] = a;
      axpy(-a, Y[i], p);
    }
    if (h > 0) {
      const yy = dot(Y[h - 1], Y[h - 1]);
      scaleInPlace(p, 1 / (rho[h - 1] * yy)); // γ = sᵀy / yᵀy
    } else {
      scaleInPlace(p, 1 / Math.max(1, firstStepNorm(g))); // first step: at most unit length
    }
    for (let i = 0; i < h; i++) {
      const b = rho[i] * dot(Y[i], p);
      axpy(alphaBuf[i] - b, S[i], p);
    }
    let dphi0 = dot(g, p);
    if (!(dphi0 < 0)) {
      // Not a descent direction (lost positive definiteness to rounding): restart from −g.
      S.length = Y.length = rho.length = 0;
      const norm = Math.max(1, firstStepNorm(g));
      for (let j = 0; j < n; j++) p[j] = -g[j] / norm;
      dphi0 = dot(g, p);
    }

    const Jnew = search(f, x, J, p, dphi0, xNew, gNew);
    if (Jnew === undefined) return end(iter, "no-step");

    // Update the memory with s = x_new − x, y = g_new − g (skipped when sᵀy is not positive).
    // (S may have been emptied by a restart above, so its length is read again here.)
    const full = S.length === memory;
    const s = full ? S.shift()! : new Float64Array(n);
    const yv = full ? Y.shift()! : new Float64Array(n);
    if (full) rho.shift();
    for (let j = 0; j < n; j++) {
      s[j] = xNew[j] - x[j];
      yv[j] = gNew[j] - g[j];
    }
    const sy = dot(s, yv);
    if (sy > 1e-300) {
      S.push(s);
      Y.push(yv);
      rho.push(1 / sy);
    }
    x.set(xNew);
    g.set(gNew);
    J = Jnew;
    lossHistory.push(J);
  }
  return end(iter, "iteration-limit");
}

/**
 * A line search along p from x (J = f(x), dphi0 = ∇f(x)ᵀp < 0): leaves the accepted point and its
 * gradient in xNew, gNew and returns its J, or undefined when no step is acceptable.
 */
type Search = (
  f: DifferentiableObjective,
  x: Float64Array,
  J: number,
  p: Float64Array,
  dphi0: number,
  xNew: Float64Array,
  gNew: Float64Array,
) => number | undefined;

/** Weak-Wolfe bracketing on φ(α) = J(x + α p), with the approximate-Armijo allowance (file doc). */
const wolfeSearch: Search = (f, x, J, p, dphi0, xNew, gNew) => {
  const n = x.length;
  let lo = 0;
  let hi = Number.POSITIVE_INFINITY;
  let phiLo = J;
  let dphiLo = dphi0;
  let phiHi = Number.NaN;
  let dphiHi = Number.NaN;
  let alpha = 1;
  const noise = 1e-10 * (1 + Math.abs(J)); // the approximate-Wolfe allowance (Hager & Zhang use 1e-6·|J|)
  for (let ls = 0; ls < MAX_WOLFE_TRIALS; ls++) {
    for (let j = 0; j < n; j++) xNew[j] = x[j] + alpha * p[j];
    const Jnew = f.evaluate(xNew, gNew);
    const dphi = dot(gNew, p);
    const finite = Number.isFinite(Jnew) && Number.isFinite(dphi);
    const armijo = finite && Jnew <= J + C1 * alpha * dphi0;
    const approxArmijo = finite && Jnew <= J + noise && dphi <= (2 * C1 - 1) * dphi0;
    if (!(armijo || approxArmijo)) {
      hi = alpha;
      phiHi = Jnew;
      dphiHi = dphi;
    } else if (dphi < C2 * dphi0) {
      lo = alpha;
      phiLo = Jnew;
      dphiLo = dphi;
    } else {
      return Jnew;
    }
    if (hi === Number.POSITIVE_INFINITY) {
      alpha *= 4;
    } else {
      if (hi - lo <= 1e-16 * hi) return undefined; // the bracket has collapsed to rounding
      alpha = interpolate(lo, phiLo, dphiLo, hi, phiHi, dphiHi);
    }
  }
  return undefined;
};

/** Armijo backtracking from a unit step, halving; the accepted J must also be below J. */
const backtrackingSearch: Search = (f, x, J, p, dphi0, xNew, gNew) => {
  const n = x.length;
  let t = 1;
  for (let ls = 0; ls < MAX_HALVINGS; ls++) {
    for (let j = 0; j < n; j++) xNew[j] = x[j] + t * p[j];
    const Jnew = f.evaluate(xNew, gNew);
    if (Jnew <= J + C1 * t * dphi0) return Jnew < J ? Jnew : undefined;
    t *= 0.5;
  }
  return undefined;
};

/** Safeguarded cubic interpolation of φ on [lo, hi], kept within the middle 80% (else bisection). */
function interpolate(lo: number, fLo: number, dLo: number, hi: number, fHi: number, dHi: number): number {
  const width = hi - lo;
  let t = lo + 0.5 * width;
  if (Number.isFinite(fHi) && Number.isFinite(dHi)) {
    const d1 = dLo + dHi - (3 * (fLo - fHi)) / (lo - hi);
    const disc = d1 * d1 - dLo * dHi;
    if (disc >= 0) {
      const d2 = Math.sqrt(disc);
      const c = hi - width * ((dHi + d2 - d1) / (dHi - dLo + 2 * d2));
      if (Number.isFinite(c)) t = c;
    }
  }
  const minT = lo + 0.1 * width;
  const maxT = hi - 0.1 * width;
  return Math.min(Math.max(t, minT), maxT);
}
