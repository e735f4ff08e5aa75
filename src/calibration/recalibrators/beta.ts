/**
 * Beta calibration (Kull, Silva Filho & Flach 2017, "Beta calibration: a well-founded and easily
 * implemented improvement on logistic calibration for binary classifiers", AISTATS, PMLR 54, §3):
 * a score p ∈ (0, 1) for the positive class becomes
 *   q(p) = σ(a·ln p − b·ln(1 − p) + c),  a, b ≥ 0
 * (σ the logistic sigmoid): the likelihood ratio of two beta densities. a, b ≥ 0 make q
 * non-decreasing in p; a = b = 1, c = 0 is the identity q = p.
 *
 * Variants (the paper's, and the betacal package's `parameters`), all with a, b ≥ 0:
 * - "abm" (default): a, b and c free. The paper names c through the midpoint m where q(m) = 1/2:
 *   c = b·ln(1 − m) − a·ln m.
 * - "am": a = b, so q = σ(a·logit p + c) with logit p = ln p − ln(1 − p): logistic calibration on
 *   logit p (Platt scaling without target smoothing, restricted to a ≥ 0).
 * - "ab": m = 1/2, so c = (a − b)·ln 2 and q = σ(a·ln 2p − b·ln 2(1 − p)): every map passes
 *   through q(1/2) = 1/2.
 * The betacal package (github.com/betacal/python) enforces a, b ≥ 0 only in "abm", by refitting:
 * fit without constraints; if a < 0 refit with a = 0, elif b < 0 refit with b = 0. That can return
 * b < 0 after an a = 0 refit (a decreasing map, on anti-informative scores), and "am"/"ab" fits
 * with a < 0 or b < 0. softcal returns the exact constrained optimum in every variant
 * (properties/fixtures/recalibrators/make_beta.py shows where the two differ).
 *
 * Fit: maximum likelihood. Each variant is a linear model u = θ·φ,
 *   abm: θ = (a, b, c), φ = (ln p, −ln(1 − p), 1);   am: θ = (a, c), φ = (logit p, 1);
 *   ab:  θ = (a, b),    φ = (ln 2p, −ln 2(1 − p)),
 * and θ minimizes the mean NLL J(θ) = (1/n) Σ_i softplus(u_i) − y_i·u_i over C = {a ≥ 0, b ≥ 0}.
 *
 * Existence and uniqueness, decided exactly on the scores before fitting:
 * - J is convex, and C is a cone; J has a minimizer on C iff no direction d ∈ C raises some label
 *   margin s_i·(d·φ_i) (s_i = +1 for y_i = 1, −1 for y_i = 0) and lowers none (along such a d, J
 *   falls strictly from every feasible point; otherwise J's level sets in C are bounded: the
 *   recession argument of Albert & Anderson 1984, Biometrika 71, with the cone C in place of ℝᵏ).
 *   With a, b ≥ 0 every d·φ is a non-decreasing function of p, strictly increasing unless
 *   a = b = 0, so such a d exists iff a threshold on the score separates the labels: for "abm" and
 *   "am", max{p_i : y_i = 0} ≤ min{p_i : y_i = 1}; for "ab", whose maps all have u(1/2) = 0, every
 *   negative ≤ 1/2 ≤ every positive (which makes the set separable for "abm" too; the converse
 *   fails: a threshold elsewhere separates for "abm" only). A separable set is a RunError.
 * - The minimizer is unique when the rows' φ have full column rank (J is strictly convex in the
 *   vector of u's). The points (ln p, −ln(1 − p)) lie on the graph of a strictly convex function,
 *   which a line meets at most twice, so this holds iff there are ≥ 3 distinct scores ("abm"),
 *   ≥ 2 ("am"), or ≥ 2 distinct scores other than 1/2 ("ab": φ(1/2) = 0). Fewer — a constant
 *   score among them — is a RunError naming the count.
 *
 * Solver. By the KKT theorem for a convex objective under linear constraints (no constraint
 * qualification needed; Boyd & Vandenberghe 2004, Convex Optimization, §5.5.3), θ* minimizes J on
 * C iff ∂J/∂θ_j(θ*) = 0 for every coordinate that is unbounded or > 0, and ∂J/∂θ_j(θ*) ≥ 0 for
 * a or b at 0; equivalently θ* minimizes J on its face (the subspace with those coordinates fixed
 * at 0) and is feasible. softcal reaches it by Bertsekas's projected Newton method (1982, "Projected
 * Newton methods for optimization problems with simple constraints", SIAM J. Control Optim. 20(2)),
 * started at the constant map q = ȳ (a = b = 0, c = logit ȳ; "ab": a = b = 0), whose NLL, the
 * label entropy, bounds a level set away from saturated maps (from the identity, over-confident
 * scores lead the first steps to maps with σ′ ≈ 0 everywhere, where Newton stalls). Each step:
 * a or b within ε of 0 (ε = min(1e-3, the scaled projected-gradient step)) whose gradient pushes
 * it to 0 — or whose Newton component would — moves by its scaled gradient −g_j/H_jj; the other
 * coordinates by the Newton step of the exact Hessian restricted to them; the trial point is
 * projected onto C (a, b ← max(0, ·): exactly 0 on the boundary); the step is halved until
 * Bertsekas's Armijo condition holds (σ = 1e-4) — or, for the full step when the predicted
 * decrease is below J's rounding 2(n + 1)ε·J, until J rises by no more than that — or until the
 * trial point no longer differs from θ (then a projected scaled-gradient step is tried the same
 * way). Once the face is found, the steps are Newton steps on it (quadratic convergence). It stops
 * when every KKT residual (|g_j|, or max(0, −g_j) for a or b at 0) is ≤ 1e-12·max(1,
 * mean_i |φ_ij|) (gradients scale with their feature), then takes one more step, kept if it lowers
 * the largest residual (so the result is typically ~1e-16 from stationary, not just under 1e-12);
 * or at ≤ 1e-8·max(1, mean_i |φ_ij|) once no step lowers J representably. Otherwise, after 200
 * iterations, a RunError: this happens when the optimum lies far out — e.g. one negative at
 * p ≈ 1e-80 among positives on both sides: not separable, but its −ln(1 − p) ≈ 1e-80 only counts
 * once b ≈ 1e80 (such optima are sometimes reached: b ≈ 1e76 on a 7-row example).
 * Not solved face by face ("minimize each face without constraints, keep the best feasible one"):
 * a face can have no minimizer where the constrained problem has one — positives at both ends of
 * the score range are separated by a U-shaped map (a < 0 < b) — and Newton on it diverges; the
 * projected iterates stay in C, in a bounded level set of J.
 *
 * Inputs. Binary: the positive class's score p = p₁ (p₀ is not used). Multiclass (K > 2): one map
 * per class k on p_k against 1[y = k] (one-vs-rest; every class must occur in the labels), rows
 * renormalized (renormalizeRows: an all-zero row becomes uniform), as isotonic calibration does.
 * Logits: the one-vs-rest logit r_k = z_k − log Σ_{j≠k} e^{z_j} (binary: z₁ − z₀, or z for one
 * column), ln p = −softplus(−r) and −ln(1 − p) = softplus(r): finite for every finite logit.
 * Probabilities: ln p and −log1p(−p), which must be finite when fitting (p = 0 or 1 is an
 * InputError naming the row: pass logits); at transform, p = 0 or 1 maps to the limit of q: 0 or
 * 1, or σ(c) when the coefficient of the infinite term is 0. (betacal clips p to [ε, 1 − ε]
 * instead, which changes q for logits beyond ±36.)
 * Binary output: [σ(−u), σ(u)], each to a few ulps (1 − σ(u) would lose the small one), with
 * σ(u) = 1/(1 + e^{−u}): every operation from p to q is monotone, so the computed q is
 * non-decreasing in p too, not only the exact one.
 */
import { InputError, RunError } from "../../errors.js";
import { softplus } from "../../kernels/sigmoid.js";
import type { Matrix } from "../../linalg/matrix.js";
import type { ScoreOptions } from "../scores.js";
import type { Where } from "../validate.js";
import { ovrClasses } from "./histogram.js";
import {
  notFitted,
  type Recalibrator,
  type RecalibratorJSON,
  recalibratorJson,
  renormalizeRows,
  validateCalibrationSet,
  validateTransformInput,
} from "./recalibrator.js";

/**
 * The paper's variants: a, b and c free ("abm"), a = b ("am"), midpoint m = 1/2, i.e.
 * c = (a − b)·ln 2 ("ab"); a, b ≥ 0 in all.
 */
export type BetaVariant = "abm" | "am" | "ab";
export const BETA_VARIANTS: readonly BetaVariant[] = ["abm", "am", "ab"];

/** Options of {@link BetaCalibration}. */
export interface BetaOptions {
  /** Which parameters are fitted (default "abm"). */
  variant?: BetaVariant;
}

/** One fitted map's parameters: q = σ(a·ln p − b·ln(1 − p) + c). */
export type BetaParameters = [a: number, b: number, c: number];

/** Details of the fit of one class's map. */
export interface BetaClassFit {
  /** The class calibrated against the rest (1 for binary). */
  label: number;
  /** Mean NLL of the one-vs-rest labels under the identity map (a = b = 1, c = 0): the input's. */
  nllBefore: number;
  /** Mean NLL at the fitted map. */
  nllAfter: number;
  /** The largest KKT residual, each divided by max(1, mean_i |φ_ij|) (≤ 1e-12, or ≤ 1e-8 when no step could lower J further). */
  kkt: number;
  iterations: number;
}

/**
 * The logistic function in its one-branch form 1/(1 + e^{−u}) — not src/kernels/sigmoid.ts's
 * two-branch form: both are within an ulp or two of σ(u) and reach 0 and 1 at the tails, but they
 * round differently for u < 0, and beta calibration's fitted maps and tests are pinned to this
 * one (changing it would move every fitted parameter by rounding).
 */
const logistic = (u: number): number => 1 / (1 + Math.exp(-u));

function whereText(where: Where): string {
  return typeof where === "string" ? where : where.file;
}

/**
 * Kernel: one-vs-rest score of class k for every row of a full n×K block: the ordering score s
 * (p_k, or the one-vs-rest logit r_k), x1 = ln p_k and x2 = −ln(1 − p_k) (see the file's doc).
 * Probabilities of exactly 0 or 1 give infinite x1 or x2. O(nK).
 */
export function betaFeatures(
  F: Matrix,
  k: number,
  logits: boolean,
): { s: Float64Array; x1: Float64Array; x2: Float64Array } {
  const { rows: n, cols: K, data } = F;
  const s = new Float64Array(n);
  const x1 = new Float64Array(n);
  const x2 = new Float64Array(n);
  for (let i = 0, o = 0; i < n; i++, o += K) {
    if (!logits) {
      const p = data[o + k];
      s[i] = p;
      x1[i] = Math.log(p);
      x2[i] = -Math.log1p(-p);
      continue;
    }
    const r = K === 2 ? data[o + k] - data[o + 1 - k] : data[o + k] - logSumExpOthers(data, o, K, k);
    s[i] = r;
    x1[i] = -softplus(-r);
    x2[i] = softplus(r);
  }
  return { s, x1, x2 };
}

/** log Σ_{j≠k} e^{z_j} of one row, without cancellation (the row's own maximum when k holds it). */
function logSumExpOthers(z: Float64Array, o: number, K: number, k: number): number {
  let m = -Infinity;
  for (let j = 0; j < K; j++) if (j !== k && z[o + j] > m) m = z[o + j];
  let t = 0;
  for (let j = 0; j < K; j++) if (j !== k) t += Math.exp(z[o + j] - m);
  return m + Math.log(t);
}

/** Kernel: q = σ(a·x1 + b·x2 + c), with a term 0 when its coefficient is 0 (x infinite at p ∈ {0, 1}). */
function betaLinear(abc: BetaParameters, x1: number, x2: number): number {
  const [a, b, c] = abc;
  return (a === 0 ? 0 : a * x1) + (b === 0 ? 0 : b * x2) + c;
}

/**
 * Kernel: applies fitted maps (one per class of ovrClasses(K)) to a full n×K block of
 * probabilities or logits: binary [σ(−u), σ(u)]; multiclass σ(u_k), rows renormalized. O(nK).
 */
export function applyBeta(F: Matrix, logits: boolean, parameters: readonly BetaParameters[]): Matrix {
  const { rows: n, cols: K } = F;
  const out = new Float64Array(n * K);
  if (K === 2) {
    const { x1, x2 } = betaFeatures(F, 1, logits);
    for (let i = 0; i < n; i++) {
      const u = betaLinear(parameters[0], x1[i], x2[i]);
      out[2 * i] = logistic(-u);
      out[2 * i + 1] = logistic(u);
    }
    return { rows: n, cols: K, data: out };
  }
  for (let k = 0; k < K; k++) {
    const { x1, x2 } = betaFeatures(F, k, logits);
    for (let i = 0; i < n; i++) out[i * K + k] = logistic(betaLinear(parameters[k], x1[i], x2[i]));
  }
  renormalizeRows(out, n, K);
  return { rows: n, cols: K, data: out };
}

/** A variant's linear model: u = θ·φ_i (φ row-major n×k), which coordinates are bounded below by 0. */
interface BetaProblem {
  n: number;
  k: number;
  phi: Float64Array;
  y: Uint8Array;
  bounded: readonly boolean[];
  /** max(1, mean_i |φ_ij|): the scale of ∂J/∂θ_j, by which the stopping rule divides. */
  scale: Float64Array;
}

function betaProblem(variant: BetaVariant, x1: Float64Array, x2: Float64Array, y: Uint8Array): BetaProblem {
  const n = y.length;
  const k = variant === "abm" ? 3 : 2;
  const phi = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    if (variant === "abm") {
      phi[3 * i] = x1[i];
      phi[3 * i + 1] = x2[i];
      phi[3 * i + 2] = 1;
    } else if (variant === "am") {
      phi[2 * i] = x1[i] + x2[i];
      phi[2 * i + 1] = 1;
    } else {
      phi[2 * i] = x1[i] + Math.LN2;
      phi[2 * i + 1] = x2[i] - Math.LN2;
    }
  }
  const scale = new Float64Array(k);
  for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) scale[j] += Math.abs(phi[i * k + j]);
  for (let j = 0; j < k; j++) scale[j] = Math.max(1, scale[j] / n);
  const bounded = variant === "abm" ? [true, true, false] : variant === "am" ? [true, false] : [true, true];
  return { n, k, phi, y, bounded, scale };
}

/** The identity map (a = b = 1, c = 0) in a variant's θ. */
function identityTheta(variant: BetaVariant): Float64Array {
  return variant === "am"
    ? Float64Array.of(1, 0)
    : variant === "ab"
      ? Float64Array.of(1, 1)
      : Float64Array.of(1, 1, 0);
}

/** The solver's start: the constant map q = ȳ (a = b = 0, c = logit ȳ; "ab", without c: q = 1/2). */
function startTheta(variant: BetaVariant, y: Uint8Array): Float64Array {
  let positives = 0;
  for (let i = 0; i < y.length; i++) positives += y[i];
  const c = Math.log(positives / (y.length - positives));
  return variant === "am"
    ? Float64Array.of(0, c)
    : variant === "ab"
      ? Float64Array.of(0, 0)
      : Float64Array.of(0, 0, c);
}

/** θ of a variant as (a, b, c); −0 written as 0 (so JSON round trips are bit-exact). */
function thetaToAbc(variant: BetaVariant, t: Float64Array): BetaParameters {
  if (variant === "abm") return [t[0] + 0, t[1] + 0, t[2] + 0];
  if (variant === "am") return [t[0] + 0, t[0] + 0, t[1] + 0];
  return [t[0] + 0, t[1] + 0, (t[0] - t[1]) * Math.LN2 + 0];
}

/**
 * Kernel: mean NLL J(θ) = (1/n) Σ softplus(−s_i u_i) (s_i = ±1 for y = 1/0: the accurate form of
 * softplus(u) − y·u), and when g and H are given its gradient (1/n) Σ (σ(u_i) − y_i) φ_i and
 * Hessian (1/n) Σ σ(u_i)σ(−u_i) φ_i φ_iᵀ. O(nk²).
 */
function nllKernel(P: BetaProblem, theta: Float64Array, g?: Float64Array, H?: Float64Array): number {
  const { n, k, phi, y } = P;
  let f = 0;
  g?.fill(0);
  H?.fill(0);
  for (let i = 0, o = 0; i < n; i++, o += k) {
    let u = 0;
    for (let j = 0; j < k; j++) u += theta[j] * phi[o + j];
    const m = y[i] === 1 ? -u : u; // the loss is softplus(m)
    f += softplus(m);
    if (g === undefined || H === undefined) continue;
    const sm = logistic(m); // σ(u) − y = ±σ(m)
    const r = y[i] === 1 ? -sm : sm;
    const w = sm * logistic(-m);
    for (let j = 0; j < k; j++) {
      g[j] += r * phi[o + j];
      for (let l = 0; l <= j; l++) H[j * k + l] += w * phi[o + j] * phi[o + l];
    }
  }
  if (g !== undefined && H !== undefined) {
    for (let j = 0; j < k; j++) {
      g[j] /= n;
      for (let l = 0; l <= j; l++) {
        H[j * k + l] /= n;
        H[l * k + j] = H[j * k + l];
      }
    }
  }
  return f / n;
}

/** The largest KKT residual of θ, each divided by its coordinate's scale. */
function kktResidual(P: BetaProblem, theta: Float64Array, g: Float64Array): number {
  let r = 0;
  for (let j = 0; j < P.k; j++) {
    const v = P.bounded[j] && theta[j] === 0 ? Math.max(0, -g[j]) : Math.abs(g[j]);
    r = Math.max(r, v / P.scale[j]);
  }
  return r;
}

/** Solves the SPD system A x = b (A m×m row-major, m ≤ 3) by Cholesky; null when A is not numerically SPD. */
function solveSpd(A: Float64Array, b: Float64Array, m: number): Float64Array | null {
  const L = new Float64Array(m * m);
  for (let j = 0; j < m; j++) {
    let d = A[j * m + j];
    for (let l = 0; l < j; l++) d -= L[j * m + l] * L[j * m + l];
    if (!(d > 0)) return null;
    L[j * m + j] = Math.sqrt(d);
    for (let i = j + 1; i < m; i++) {
      let v = A[i * m + j];
      for (let l = 0; l < j; l++) v -= L[i * m + l] * L[j * m + l];
      L[i * m + j] = v / L[j * m + j];
    }
  }
  const x = Float64Array.from(b);
  for (let i = 0; i < m; i++) {
    for (let l = 0; l < i; l++) x[i] -= L[i * m + l] * x[l];
    x[i] /= L[i * m + i];
  }
  for (let i = m - 1; i >= 0; i--) {
    for (let l = i + 1; l < m; l++) x[i] -= L[l * m + i] * x[l];
    x[i] /= L[i * m + i];
  }
  return x.every(Number.isFinite) ? x : null;
}

/** The KKT tolerance, and the looser one accepted once no step lowers J representably. */
const KKT_TOLERANCE = 1e-12;
const KKT_TOLERANCE_STALLED = 1e-8;
const MAX_ITERATIONS = 200;
const MAX_HALVINGS = 200;

/**
 * Kernel: Bertsekas's projected Newton method for min J(θ) subject to θ_j ≥ 0 for the bounded
 * coordinates, from a feasible θ₀ (see the file's doc for the rule and the stopping test).
 */
function projectedNewton(
  P: BetaProblem,
  theta0: Float64Array,
): { theta: Float64Array; nll: number; kkt: number; iterations: number; converged: boolean } {
  const { k, bounded } = P;
  const theta = Float64Array.from(theta0);
  const g = new Float64Array(k);
  const H = new Float64Array(k * k);
  const trial = new Float64Array(k);
  const d = new Float64Array(k);
  let f = nllKernel(P, theta, g, H);
  let kkt = kktResidual(P, theta, g);
  /** One projected Newton step from θ (updates θ, f, g, H, kkt); false when no step size is accepted. */
  const step = (): boolean => {
    const diag = (j: number): number => (H[j * k + j] > 0 ? H[j * k + j] : 1);
    // ε-active set: bounded coordinates within ε of 0 whose gradient pushes them to 0.
    let w = 0;
    for (let j = 0; j < k; j++) {
      const v = theta[j] - g[j] / diag(j);
      w = Math.max(w, Math.abs(theta[j] - (bounded[j] ? Math.max(0, v) : v)));
    }
    const eps = Math.min(1e-3, w);
    const active = bounded.map((b, j) => b && theta[j] <= eps && g[j] > 0);
    // Newton on the free coordinates; a bounded one within ε of 0 that the Newton step would push
    // below 0 joins the scaled-gradient set instead (else the projection cuts it from the step and
    // what remains need not descend), and the Newton step is recomputed without it.
    for (let round = 0; round <= k; round++) {
      const free: number[] = [];
      for (let j = 0; j < k; j++) if (!active[j]) free.push(j);
      const m = free.length;
      const Hf = new Float64Array(m * m);
      const gf = new Float64Array(m);
      free.forEach((j, a) => {
        gf[a] = -g[j];
        free.forEach((l, b) => {
          Hf[a * m + b] = H[j * k + l];
        });
      });
      const newton = solveSpd(Hf, gf, m);
      free.forEach((j, a) => {
        d[j] = newton === null ? -g[j] / diag(j) : newton[a];
      });
      let changed = false;
      for (const j of free) {
        if (bounded[j] && theta[j] <= eps && d[j] < 0) {
          active[j] = true;
          changed = true;
        }
      }
      if (!changed) break;
    }
    for (let j = 0; j < k; j++) if (active[j]) d[j] = -g[j] / diag(j);
    if (search(active)) return true;
    // Safety net: a projected step along the scaled gradient, which descends unless θ is stationary.
    for (let j = 0; j < k; j++) d[j] = -g[j] / diag(j);
    return search(bounded.map((b) => b));
  };
  /**
   * Halves t from 1 until θ(t) = P(θ + t·d) satisfies Bertsekas's Armijo condition (the set
   * `scaled` contributes g_j·(θ_j − θ_j(t)), the rest t·g_j·d_j), or, at t = 1 when the predicted
   * decrease is below J's rounding, J rises by no more than that rounding; updates θ, f, g, H, kkt.
   */
  const search = (scaled: readonly boolean[]): boolean => {
    let slope = 0;
    for (let j = 0; j < k; j++) if (!scaled[j]) slope += g[j] * d[j];
    const round = 2 * (P.n + 1) * Number.EPSILON * f;
    let t = 1;
    for (let halvings = 0; halvings <= MAX_HALVINGS; halvings++, t /= 2) {
      let predicted = -t * slope;
      let moved = false;
      for (let j = 0; j < k; j++) {
        const v = theta[j] + t * d[j];
        trial[j] = bounded[j] ? Math.max(0, v) : v;
        if (trial[j] !== theta[j]) moved = true;
        if (scaled[j]) predicted += g[j] * (theta[j] - trial[j]);
      }
      if (!moved) return false;
      const ft = nllKernel(P, trial);
      const armijo = f - ft >= 1e-4 * predicted;
      const withinRounding = t === 1 && predicted <= round && ft <= f + round;
      if (armijo || withinRounding) {
        theta.set(trial);
        f = nllKernel(P, theta, g, H);
        kkt = kktResidual(P, theta, g);
        return true;
      }
    }
    return false;
  };
  let iterations = 0;
  let stalled = false;
  while (kkt > KKT_TOLERANCE && iterations < MAX_ITERATIONS) {
    iterations++;
    if (!step()) {
      stalled = true;
      break;
    }
  }
  if (kkt <= KKT_TOLERANCE && kkt > 0) {
    // One more step (quadratic convergence takes the residual far below the tolerance), kept
    // only if it lowers the residual.
    const saved = { theta: Float64Array.from(theta), f, kkt };
    if (step() && kkt < saved.kkt) iterations++;
    else {
      theta.set(saved.theta);
      f = saved.f;
      kkt = saved.kkt;
    }
  }
  const converged = kkt <= KKT_TOLERANCE || (stalled && kkt <= KKT_TOLERANCE_STALLED);
  return { theta, nll: f, kkt, iterations, converged };
}

/**
 * Why a class's calibration set has no unique finite optimum (see the file's doc), or null.
 * s: the ordering scores; half: the score of p = 1/2 (0.5, or logit 0).
 */
function degeneracy(variant: BetaVariant, s: Float64Array, y: Uint8Array, half: number): string | null {
  const sorted = Float64Array.from(s).sort();
  let distinct = 0;
  for (let i = 0; i < sorted.length; i++) {
    if ((i === 0 || sorted[i] !== sorted[i - 1]) && !(variant === "ab" && sorted[i] === half)) distinct++;
  }
  const need = variant === "abm" ? 3 : 2;
  if (distinct < need) {
    const what = variant === "abm" ? "a, b and c" : variant === "am" ? "a and c" : "a and b";
    const other = variant === "ab" ? " other than 1/2" : "";
    const every = distinct === 1 && variant !== "ab" ? ` (every score is ${sorted[0]})` : "";
    const hint = variant === "abm" ? 'use variant "am" or more varied scores' : "use more varied scores";
    return `beta calibration (variant ${variant}) needs at least ${need} distinct scores${other} to determine ${what}; got ${distinct}${every} — ${hint}`;
  }
  let maxNeg = -Infinity;
  let minPos = Infinity;
  for (let i = 0; i < s.length; i++) {
    if (y[i] === 1) minPos = Math.min(minPos, s[i]);
    else maxNeg = Math.max(maxNeg, s[i]);
  }
  if (variant !== "ab" && maxNeg <= minPos) {
    return `beta calibration needs a non-separable calibration set; got every positive's score ≥ every other's (${minPos} ≥ ${maxNeg}), so the NLL keeps falling as the map steepens into a step — use more calibration data`;
  }
  if (variant === "ab" && maxNeg <= half && half <= minPos) {
    return `beta calibration (variant ab) needs a non-separable calibration set; got every positive's score ≥ ${half} ≥ every other's (${minPos} ≥ ${half} ≥ ${maxNeg}), and every "ab" map has q(1/2) = 1/2, so the NLL keeps falling as the map steepens into a step — use more calibration data`;
  }
  return null;
}

/**
 * Beta calibration as a {@link Recalibrator}.
 * @example new BetaCalibration().fit(fromRows([[0.1], [0.2], [0.3], [0.4], [0.6], [0.7], [0.8], [0.9]]), [0, 0, 1, 0, 0, 1, 1, 1]).parameters
 *   // [[0, 3.0100526127830745, -2.435462385425503]] (the optimum has a = 0)
 * JSON: `{ …, method: "beta", variant, parameters: [[a, b, c], …] }`, one triple per calibrated
 * class (class 1 for binary, every class otherwise).
 */
export class BetaCalibration implements Recalibrator {
  readonly method = "beta" as const;
  readonly variant: BetaVariant;
  classes: number | undefined;
  /** One (a, b, c) per class of ovrClasses(classes). */
  parameters: BetaParameters[] | undefined;
  /** Details of the last fit, one entry per calibrated class. */
  lastFit: BetaClassFit[] | undefined;

  /** @throws InputError `variant: expected one of abm, am, ab; got "abc"`. */
  constructor(opts: BetaOptions = {}) {
    const v = opts.variant ?? "abm";
    if (!BETA_VARIANTS.includes(v)) {
      throw new InputError(`variant: expected one of ${BETA_VARIANTS.join(", ")}; got ${JSON.stringify(v)}`);
    }
    this.variant = v;
  }

  /**
   * Fits one map per calibrated class to its exact constrained maximum-likelihood optimum. Cost:
   * O(n log n) for the checks, then O(n) per projected Newton iteration (typically < 15), per class.
   * @throws InputError on bad input, a single-class set, a class absent from the labels
   *   (multiclass), or a probability of exactly 0 or 1 (`beta: row 3: beta calibration needs
   *   probabilities strictly inside (0, 1) (it fits on ln p and ln(1 − p)); got 1 — pass logits instead`).
   * @throws RunError on a separable set or too few distinct scores (see the file's doc), e.g.
   *   `beta: beta calibration needs a non-separable calibration set; got every positive's score ≥ every other's (0.7 ≥ 0.4), so …`.
   */
  fit(S: Matrix, y: ArrayLike<number>, opts: ScoreOptions = {}, where: Where = "beta"): this {
    const { F, K } = validateCalibrationSet(S, y, opts, where);
    const logits = opts.logits ?? false;
    const at = whereText(where);
    const labels = ovrClasses(K);
    if (!logits) {
      for (let i = 0; i < F.rows; i++) {
        for (const k of labels) {
          const p = F.data[i * K + k];
          if (p === 0 || p === 1) {
            const cell = K === 2 ? `row ${i}` : `row ${i}, column ${k}`;
            throw new InputError(
              `${at}: ${cell}: beta calibration needs probabilities strictly inside (0, 1) (it fits on ln p and ln(1 − p)); got ${p} — pass logits instead`,
            );
          }
        }
      }
    }
    const parameters: BetaParameters[] = [];
    const fits: BetaClassFit[] = [];
    for (const k of labels) {
      const prefix = K === 2 ? "" : `class ${k} (one-vs-rest): `;
      const yk = new Uint8Array(F.rows);
      let count = 0;
      for (let i = 0; i < F.rows; i++) {
        yk[i] = y[i] === k ? 1 : 0;
        count += yk[i];
      }
      if (count === 0) {
        throw new InputError(
          `${at}: expected every class among the calibration labels (beta calibration fits one map per class, one-vs-rest); got no row of class ${k}`,
        );
      }
      const { s, x1, x2 } = betaFeatures(F, k, logits);
      const reason = degeneracy(this.variant, s, yk, logits ? 0 : 0.5);
      if (reason !== null) throw new RunError(`${at}: ${prefix}${reason}`);
      const P = betaProblem(this.variant, x1, x2, yk);
      const r = projectedNewton(P, startTheta(this.variant, yk));
      if (!r.converged) {
        const largest = Math.max(...Array.from(r.theta, Math.abs));
        throw new RunError(
          `${at}: ${prefix}beta calibration expected to reach its optimum within ${MAX_ITERATIONS} iterations; got a KKT residual of ${r.kkt.toExponential(2)} (> ${KKT_TOLERANCE}) with parameters up to ${largest.toExponential(2)} — the optimum may lie far out, as with extreme scores such as p ≈ 1e-80: pass less extreme scores or more calibration data`,
        );
      }
      parameters.push(thetaToAbc(this.variant, r.theta));
      fits.push({
        label: k,
        nllBefore: nllKernel(P, identityTheta(this.variant)),
        nllAfter: r.nll,
        kkt: r.kkt,
        iterations: r.iterations,
      });
    }
    this.classes = K;
    this.parameters = parameters;
    this.lastFit = fits;
    return this;
  }

  /** Calibrated n×K probabilities (see the file's doc for p ∈ {0, 1}). O(nK). */
  transform(S: Matrix, opts: ScoreOptions = {}, where: Where = "beta"): Matrix {
    if (this.parameters === undefined || this.classes === undefined) throw notFitted(this.method);
    const F = validateTransformInput(S, this.classes, opts, where);
    return applyBeta(F, opts.logits ?? false, this.parameters);
  }

  toJSON(): RecalibratorJSON {
    if (this.parameters === undefined || this.classes === undefined) throw notFitted(this.method);
    return recalibratorJson(this.method, this.classes, {
      variant: this.variant,
      parameters: this.parameters.map((p) => [...p]),
    });
  }

  /**
   * Rebuilds a fitted map from {@link toJSON} output: `variant` one of abm, am, ab; `parameters`
   * one [a, b, c] of finite numbers per calibrated class with a, b ≥ 0, a = b for "am", and
   * c = (a − b)·ln 2 up to rounding (4ε·(a + b)) for "ab".
   * @throws InputError naming `where`, e.g. `cal.json: expected "parameters" to be 1 triple [a, b, c] of finite numbers with a, b ≥ 0; got [[-1,1,0]]`.
   */
  static fromJSON(o: Record<string, unknown>, classes: number, where: string): BetaCalibration {
    const variant = o["variant"];
    if (typeof variant !== "string" || !(BETA_VARIANTS as readonly string[]).includes(variant)) {
      throw new InputError(
        `${where}: expected "variant" to be one of ${BETA_VARIANTS.join(", ")}; got ${JSON.stringify(variant)}`,
      );
    }
    const v = variant as BetaVariant;
    const nc = ovrClasses(classes).length;
    const raw = o["parameters"];
    const ok =
      Array.isArray(raw) &&
      raw.length === nc &&
      raw.every(
        (t) =>
          Array.isArray(t) &&
          t.length === 3 &&
          t.every((x) => typeof x === "number" && Number.isFinite(x)) &&
          t[0] >= 0 &&
          t[1] >= 0,
      );
    if (!ok) {
      throw new InputError(
        `${where}: expected "parameters" to be ${nc} ${nc === 1 ? "triple" : "triples"} [a, b, c] of finite numbers with a, b ≥ 0; got ${JSON.stringify(raw)?.slice(0, 60)}`,
      );
    }
    const parameters = (raw as number[][]).map((t): BetaParameters => [t[0] + 0, t[1] + 0, t[2] + 0]);
    parameters.forEach(([a, b, c], j) => {
      if (v === "am" && a !== b) {
        throw new InputError(
          `${where}: expected "parameters"[${j}] to have a = b (variant am); got a = ${a}, b = ${b}`,
        );
      }
      if (v === "ab" && !(Math.abs(c - (a - b) * Math.LN2) <= 4 * Number.EPSILON * (a + b))) {
        throw new InputError(
          `${where}: expected "parameters"[${j}] to have c = (a − b)·ln 2 (variant ab); got a = ${a}, b = ${b}, c = ${c}`,
        );
      }
    });
    const r = new BetaCalibration({ variant: v });
    r.classes = classes;
    r.parameters = parameters;
    return r;
  }
}
