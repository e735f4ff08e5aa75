import { THREADED } from "./descriptor";
import { hostEvaluate } from "./host";
import { objectiveEvaluate } from "./objective";

// ---------------------------------------------------------------------------------------------
// L-BFGS, entirely in wasm: a line-for-line port of src/optim/lbfgs.ts (its "wolfe" line search) (same operations in the
// same order, so the iterates are bit-identical to the TypeScript optimizer on the same
// objective values). The memory is a ring buffer instead of shifting arrays; the order of the
// two-loop recursion over it is the same.
//
// The problem is the objective's descriptor (descriptor.ts).
// ---------------------------------------------------------------------------------------------

function evalAt(desc: usize, x: usize, g: usize): f64 {
  if (load<i32>(desc + THREADED) !== 0) return hostEvaluate(x, g);
  return objectiveEvaluate(desc, x, g);
}

function vdot(a: usize, b: usize, n: usize): f64 {
  let s: f64 = 0;
  for (let i: usize = 0; i < n; i++) s += load<f64>(a + i * 8) * load<f64>(b + i * 8);
  return s;
}

function vaxpy(a: f64, x: usize, y: usize, n: usize): void {
  for (let i: usize = 0; i < n; i++) store<f64>(y + i * 8, load<f64>(y + i * 8) + a * load<f64>(x + i * 8));
}

function vscale(x: usize, a: f64, n: usize): void {
  for (let i: usize = 0; i < n; i++) store<f64>(x + i * 8, load<f64>(x + i * 8) * a);
}

function vmaxAbs(g: usize, n: usize): f64 {
  let mx: f64 = 0;
  for (let j: usize = 0; j < n; j++) {
    const a = Math.abs(load<f64>(g + j * 8));
    if (a > mx || isNaN(a)) mx = a;
  }
  return mx;
}

function interpolate(lo: f64, fLo: f64, dLo: f64, hi: f64, fHi: f64, dHi: f64): f64 {
  const width = hi - lo;
  let t = lo + 0.5 * width;
  if (isFinite(fHi) && isFinite(dHi)) {
    const d1 = dLo + dHi - (3 * (fLo - fHi)) / (lo - hi);
    const disc = d1 * d1 - dLo * dHi;
    if (disc >= 0) {
      const d2 = Math.sqrt(disc);
      const c = hi - width * ((dHi + d2 - d1) / (dHi - dLo + 2 * d2));
      if (isFinite(c)) t = c;
    }
  }
  const minT = lo + 0.1 * width;
  const maxT = hi - 0.1 * width;
  return t < minT ? minT : t > maxT ? maxT : t;
}

const C1: f64 = 1e-4;
const C2: f64 = 0.9;
const MAX_LINE_SEARCH: i32 = 40;

/**
 * One L-BFGS iteration from (x, g, J) — the body of lbfgs.ts's loop. The ring buffer's start and
 * length and J live in `st` (i32 start, i32 h, f64 J at +8) so that this function is called once
 * per iteration: V8 then compiles it with its optimizing tier after a few calls (a wasm function
 * running one long loop would stay in the baseline tier — there is no on-stack replacement).
 * Returns 0 (step accepted; x, g, J updated), 1 (converged: max |g| ≤ tol), 2 (line search failed).
 */
function lbfgsIteration(
  desc: usize,
  n: usize,
  x: usize,
  g: usize,
  tol: f64,
  M: usize,
  work: usize,
  st: usize,
): i32 {
  const xNew = work;
  const gNew = xNew + n * 8;
  const p = gNew + n * 8;
  const S = p + n * 8;
  const Y = S + M * n * 8;
  const rho = Y + M * n * 8;
  const alphaBuf = rho + M * 8;
  let start = <usize>load<i32>(st); // ring buffer: logical i at physical (start + i) % M
  let h = <usize>load<i32>(st, 4);
  const J = load<f64>(st, 8);
  const gmax = vmaxAbs(g, n);
  if (gmax <= tol) return 1;

  // Two-loop recursion: p = −H g.
  for (let j: usize = 0; j < n; j++) store<f64>(p + j * 8, -load<f64>(g + j * 8));
  for (let i = <isize>h - 1; i >= 0; i--) {
    const phys = (start + <usize>i) % M;
    const a = load<f64>(rho + phys * 8) * vdot(S + phys * n * 8, p, n);
    store<f64>(alphaBuf + <usize>i * 8, a);
    vaxpy(-a, Y + phys * n * 8, p, n);
  }
  if (h > 0) {
    const last = (start + h - 1) % M;
    const yy = vdot(Y + last * n * 8, Y + last * n * 8, n);
    vscale(p, 1 / (load<f64>(rho + last * 8) * yy), n);
  } else {
    vscale(p, 1 / Math.max(1, Math.sqrt(vdot(g, g, n))), n);
  }
  for (let i: usize = 0; i < h; i++) {
    const phys = (start + i) % M;
    const b = load<f64>(rho + phys * 8) * vdot(Y + phys * n * 8, p, n);
    vaxpy(load<f64>(alphaBuf + i * 8) - b, S + phys * n * 8, p, n);
  }
  let dphi0 = vdot(g, p, n);
  if (!(dphi0 < 0)) {
    h = 0;
    start = 0;
    for (let j: usize = 0; j < n; j++) {
      store<f64>(p + j * 8, -load<f64>(g + j * 8) / Math.max(1, Math.sqrt(vdot(g, g, n))));
    }
    dphi0 = vdot(g, p, n);
  }

  // Weak-Wolfe bracketing line search on φ(α) = J(x + α p).
  let lo: f64 = 0;
  let hi: f64 = Infinity;
  let phiLo = J;
  let dphiLo = dphi0;
  let phiHi: f64 = NaN;
  let dphiHi: f64 = NaN;
  let alpha: f64 = 1;
  let accepted = false;
  let Jnew = J;
  const noise = 1e-10 * (1 + Math.abs(J));
  for (let ls = 0; ls < MAX_LINE_SEARCH; ls++) {
    for (let j: usize = 0; j < n; j++) {
      store<f64>(xNew + j * 8, load<f64>(x + j * 8) + alpha * load<f64>(p + j * 8));
    }
    Jnew = evalAt(desc, xNew, gNew);
    const dphi = vdot(gNew, p, n);
    const finite = isFinite(Jnew) && isFinite(dphi);
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
    if (hi === Infinity) {
      alpha *= 4;
    } else {
      if (hi - lo <= 1e-16 * hi) break;
      alpha = interpolate(lo, phiLo, dphiLo, hi, phiHi, dphiHi);
    }
  }
  if (!accepted) return 2;

  // Memory update: drop the oldest pair when full, keep the new one if sᵀy > 0.
  if (h === M) {
    start = (start + 1) % M;
    h--;
  }
  const slot = (start + h) % M;
  const s = S + slot * n * 8;
  const yv = Y + slot * n * 8;
  for (let j: usize = 0; j < n; j++) {
    store<f64>(s + j * 8, load<f64>(xNew + j * 8) - load<f64>(x + j * 8));
    store<f64>(yv + j * 8, load<f64>(gNew + j * 8) - load<f64>(g + j * 8));
  }
  const sy = vdot(s, yv, n);
  if (sy > 1e-300) {
    store<f64>(rho + slot * 8, 1 / sy);
    h++;
  }
  memory.copy(x, xNew, n * 8);
  memory.copy(g, gNew, n * 8);
  store<i32>(st, <i32>start);
  store<i32>(st, <i32>h, 4);
  store<f64>(st, Jnew, 8);
  return 0;
}

/**
 * Minimizes the described objective from x (n doubles, updated in place; ∇J left at g).
 * work: 2 + 3n + 2·M·n + 2·M doubles. hist: J of each iterate (maxIter + 1 doubles).
 * Writes at status: f64 [0] J, [1] gradient max-abs, [2] iterations, [3] outcome:
 *   0 converged at the top of an iteration, 1 line search failed, 2 maxIter reached,
 *   3 not finite at the start. Returns the number of history entries.
 */
export function objectiveLbfgs(
  desc: usize,
  n: usize,
  x: usize,
  g: usize,
  tol: f64,
  maxIter: i32,
  M: usize,
  work: usize,
  hist: usize,
  status: usize,
): i32 {
  const st = work;
  const w = work + 16;
  const J0 = evalAt(desc, x, g);
  store<f64>(hist, J0);
  if (!isFinite(J0) || !isFinite(vmaxAbs(g, n))) return finish(status, J0, vmaxAbs(g, n), 0, 3, 1);
  store<i32>(st, 0);
  store<i32>(st, 0, 4);
  store<f64>(st, J0, 8);
  let nHist = 1;
  let iter = 0;
  for (; iter < maxIter; iter++) {
    const r = lbfgsIteration(desc, n, x, g, tol, M, w, st);
    if (r === 1) return finish(status, load<f64>(st, 8), vmaxAbs(g, n), iter, 0, nHist);
    if (r === 2) return finish(status, load<f64>(st, 8), vmaxAbs(g, n), iter, 1, nHist);
    store<f64>(hist + <usize>nHist * 8, load<f64>(st, 8));
    nHist++;
  }
  return finish(status, load<f64>(st, 8), vmaxAbs(g, n), iter, 2, nHist);
}

function finish(status: usize, J: f64, gmax: f64, iter: i32, outcome: i32, nHist: i32): i32 {
  store<f64>(status, J);
  store<f64>(status, gmax, 8);
  store<f64>(status, <f64>iter, 16);
  store<f64>(status, <f64>outcome, 24);
  return nHist;
}
