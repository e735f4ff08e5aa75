/**
 * Limited-memory BFGS (Nocedal 1980; Liu & Nocedal 1989; Nocedal & Wright 2006, Alg. 7.4) with a
 * bracketing weak-Wolfe line search (Lewis & Overton 2013, with safeguarded cubic interpolation),
 * stopping when max_j |∂J/∂θ_j| ≤ tol.
 *
 * Near the optimum J changes by less than its rounding error (|ΔJ| ≈ ‖g‖²/curvature, while J
 * carries ~1e-15 relative noise from its m·K summed terms), so the sufficient-decrease test also
 * accepts a step whose J rose by at most 1e-10·(1 + |J|) *if* the directional derivative satisfies
 * φ'(α) ≤ (2c₁ − 1)φ'(0) — Armijo's condition for a quadratic model, stated with derivatives,
 * which stay accurate (the "approximate Wolfe" conditions of Hager & Zhang 2005, §4). That is what
 * lets the gradient reach 1e-10 instead of stalling at the noise floor of J.
 */
import type { LbfgsOptions } from "../kernels/wasmObjective.js";
import { maxAbs, type OptimizerResult } from "./gradientDescent.js";
import type { DifferentiableObjective } from "./objective.js";

/** L-BFGS options (tol, maxIter, memory, theta0): one type for this and the wasm optimizer. */
export type { LbfgsOptions };

const C1 = 1e-4;
const C2 = 0.9;
const MAX_LINE_SEARCH = 40;

/** Minimizes `f` with L-BFGS. O(maxIter · (cost of f + memory · size)). */
export function lbfgs(f: DifferentiableObjective, options: LbfgsOptions = {}): OptimizerResult {
  const { tol = 1e-9, maxIter = 1000, memory = 10 } = options;
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

  let J = f.evaluate(x, g);
  const lossHistory = [J];
  if (!Number.isFinite(J) || !Number.isFinite(maxAbs(g))) {
    return result(x, J, lossHistory, 0, g, false, "the objective is not finite at the starting point", false);
  }
  let iter = 0;
  for (; iter < maxIter; iter++) {
    const gmax = maxAbs(g);
    if (gmax <= tol) return result(x, J, lossHistory, iter, g, true, `gradient max-abs ${gmax} ≤ tol ${tol}`);

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
      scale(p, 1 / (rho[h - 1] * yy)); // γ = sᵀy / yᵀy
    } else {
      scale(p, 1 / Math.max(1, Math.sqrt(dot(g, g)))); // first step: at most unit length
    }
    for (let i = 0; i < h; i++) {
      const b = rho[i] * dot(Y[i], p);
      axpy(alphaBuf[i] - b, S[i], p);
    }
    let dphi0 = dot(g, p);
    if (!(dphi0 < 0)) {
      // Not a descent direction (lost positive definiteness to rounding): restart from −g.
      S.length = Y.length = rho.length = 0;
      for (let j = 0; j < n; j++) p[j] = -g[j] / Math.max(1, Math.sqrt(dot(g, g)));
      dphi0 = dot(g, p);
    }

    // Weak-Wolfe bracketing line search on φ(α) = J(x + α p).
    let lo = 0;
    let hi = Number.POSITIVE_INFINITY;
    let phiLo = J;
    let dphiLo = dphi0;
    let phiHi = Number.NaN;
    let dphiHi = Number.NaN;
    let alpha = 1;
    let accepted = false;
    let Jnew = J;
    const noise = 1e-10 * (1 + Math.abs(J)); // the approximate-Wolfe allowance (Hager & Zhang use 1e-6·|J|)
    for (let ls = 0; ls < MAX_LINE_SEARCH; ls++) {
      for (let j = 0; j < n; j++) xNew[j] = x[j] + alpha * p[j];
      Jnew = f.evaluate(xNew, gNew);
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
        accepted = true;
        break;
      }
      if (hi === Number.POSITIVE_INFINITY) {
        alpha *= 4;
      } else {
        if (hi - lo <= 1e-16 * hi) break; // the bracket has collapsed to rounding
        alpha = interpolate(lo, phiLo, dphiLo, hi, phiHi, dphiHi);
      }
    }
    if (!accepted) {
      const gmaxNow = maxAbs(g);
      return result(
        x,
        J,
        lossHistory,
        iter,
        g,
        gmaxNow <= tol,
        `line search found no acceptable step at gradient max-abs ${gmaxNow} (the objective is at its rounding floor)`,
      );
    }

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
  const gmax = maxAbs(g);
  return result(
    x,
    J,
    lossHistory,
    iter,
    g,
    gmax <= tol,
    gmax <= tol
      ? `gradient max-abs ${gmax} ≤ tol ${tol}`
      : `reached ${maxIter} iterations (gradient max-abs ${gmax})`,
  );
}

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

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function axpy(a: number, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < x.length; i++) y[i] += a * x[i];
}

function scale(x: Float64Array, a: number): void {
  for (let i = 0; i < x.length; i++) x[i] *= a;
}

function result(
  theta: Float64Array,
  objective: number,
  lossHistory: number[],
  iterations: number,
  grad: Float64Array,
  converged: boolean,
  stopReason: string,
  finite = true,
): OptimizerResult {
  return {
    theta,
    objective,
    lossHistory,
    iterations,
    gradMaxAbs: maxAbs(grad),
    converged,
    stopReason,
    finite,
  };
}
