/**
 * A small L-BFGS minimizer for the calibration layer's smooth convex objectives (vector scaling).
 * Internal: not re-exported.
 *
 * Two-loop recursion (Nocedal & Wright 2006, "Numerical Optimization", Alg. 7.4) with memory m,
 * a backtracking Armijo line search (c₁ = 1e-4, halving), and a pair (s, y) kept only when
 * sᵀy > 0, so the search direction is always a descent direction. Every accepted step lowers f,
 * so the result is never worse than the starting point. Stops when ‖∇f‖∞ ≤ gtol, when a step no
 * longer changes f, or after maxIter iterations.
 */

export interface LbfgsResult {
  x: Float64Array;
  f: number;
  gradInf: number;
  iterations: number;
  converged: boolean;
}

/** `fg(x, g)` returns f(x) and writes ∇f(x) into g. */
export function lbfgs(
  fg: (x: Float64Array, g: Float64Array) => number,
  x0: Float64Array,
  opts: { maxIter?: number; gtol?: number; memory?: number } = {},
): LbfgsResult {
  const maxIter = opts.maxIter ?? 500;
  const gtol = opts.gtol ?? 1e-10;
  const m = opts.memory ?? 10;
  const dim = x0.length;
  let x = Float64Array.from(x0);
  let g = new Float64Array(dim);
  let f = fg(x, g);
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const rho: number[] = [];
  const d = new Float64Array(dim);
  const alpha = new Float64Array(m);
  const xn = new Float64Array(dim);
  const gn = new Float64Array(dim);
  const normInf = (v: Float64Array) => {
    let s = 0;
    for (let i = 0; i < v.length; i++) s = Math.max(s, Math.abs(v[i]));
    return s;
  };
  let it = 0;
  let converged = normInf(g) <= gtol;
  while (!converged && it < maxIter) {
    it++;
    // d = −H g by the two-loop recursion.
    for (let i = 0; i < dim; i++) d[i] = -g[i];
    for (let j = S.length - 1; j >= 0; j--) {
      let a = 0;
      for (let i = 0; i < dim; i++) a += S[j][i] * d[i];
      a *= rho[j];
      alpha[j] = a;
      for (let i = 0; i < dim; i++) d[i] -= a * Y[j][i];
    }
    let gamma = 1;
    if (S.length > 0) {
      const j = S.length - 1;
      let yy = 0;
      for (let i = 0; i < dim; i++) yy += Y[j][i] * Y[j][i];
      gamma = 1 / (rho[j] * yy);
    } else {
      gamma = 1 / Math.max(1, normInf(g));
    }
    for (let i = 0; i < dim; i++) d[i] *= gamma;
    for (let j = 0; j < S.length; j++) {
      let b = 0;
      for (let i = 0; i < dim; i++) b += Y[j][i] * d[i];
      b *= rho[j];
      for (let i = 0; i < dim; i++) d[i] += S[j][i] * (alpha[j] - b);
    }
    let slope = 0;
    for (let i = 0; i < dim; i++) slope += g[i] * d[i];
    if (!(slope < 0)) {
      // Not a descent direction (numerically): restart from steepest descent.
      S.length = 0;
      Y.length = 0;
      rho.length = 0;
      for (let i = 0; i < dim; i++) d[i] = -g[i] / Math.max(1, normInf(g));
      slope = 0;
      for (let i = 0; i < dim; i++) slope += g[i] * d[i];
    }
    let t = 1;
    let fn = Number.NaN;
    let accepted = false;
    for (let ls = 0; ls < 60; ls++) {
      for (let i = 0; i < dim; i++) xn[i] = x[i] + t * d[i];
      fn = fg(xn, gn);
      if (fn <= f + 1e-4 * t * slope) {
        accepted = true;
        break;
      }
      t *= 0.5;
    }
    if (!accepted || !(fn < f)) {
      // No decrease is representable any more: we are at the floating-point optimum.
      converged = normInf(g) <= Math.max(gtol, 1e-7);
      break;
    }
    const s = new Float64Array(dim);
    const yv = new Float64Array(dim);
    let sy = 0;
    for (let i = 0; i < dim; i++) {
      s[i] = xn[i] - x[i];
      yv[i] = gn[i] - g[i];
      sy += s[i] * yv[i];
    }
    if (sy > 1e-300) {
      if (S.length === m) {
        S.shift();
        Y.shift();
        rho.shift();
      }
      S.push(s);
      Y.push(yv);
      rho.push(1 / sy);
    }
    x = Float64Array.from(xn);
    g = Float64Array.from(gn);
    f = fn;
    converged = normInf(g) <= gtol;
  }
  return { x, f, gradInf: normInf(g), iterations: it, converged };
}
