/**
 * Dirichlet calibration (Kull, Perello-Nieto, Kängsepp, Silva Filho, Song & Flach 2019, "Beyond
 * temperature scaling: obtaining well-calibrated multi-class probabilities with Dirichlet
 * calibration", NeurIPS, §3–4) and matrix scaling (Guo, Pleiss, Sun & Weinberger 2017, "On
 * Calibration of Modern Neural Networks", ICML, §4.2): one affine map of K features per row, then a
 * softmax,
 *   q(x) = softmax(W·x + b),   W ∈ ℝ^{K×K} (row k: class k's logit), b ∈ ℝ^K,
 * with x = ln p for Dirichlet calibration (from logits z: ln p = log_softmax(z), always finite) and
 * x = z for matrix scaling (from probabilities: z = ln p). Both contain vector scaling (W diagonal)
 * and temperature scaling (W = I/T, b = 0); W = I, b = 0 is the identity map.
 *
 * Objective, over θ = (W, b):
 *   J(θ) = (1/n) Σ_i [log Σ_k exp(u_ik) − u_{i,y_i}],   u_i = W x_i + b            (mean NLL)
 *        + λ/(K(K−1)) Σ_{k≠j} W_kj² + μ/K Σ_k b_k²                                   (ODIR)
 *        + (l2/2) (‖W − I‖²_F + ‖b‖²)                                               (toward identity)
 * ODIR ("off-diagonal and intercept regularisation", the paper's §3 with its normalization: λ times
 * the mean squared off-diagonal weight, μ times the mean squared intercept) is dirichletcal's
 * `reg_lambda`, `reg_mu` with `reg_norm=True, ref_row=False` (up to its clipping of p before the
 * log); its default `ref_row=True` penalizes the weights after subtracting the last class's row, a
 * different objective. The l2 term is vector
 * scaling's `--l2`. Gradient, with r_ik = q_ik − 1[y_i = k]:
 *   ∂J/∂W_kj = (1/n) Σ_i r_ik x_ij + 2λ/(K(K−1)) W_kj·[k ≠ j] + l2 (W_kj − δ_kj),
 *   ∂J/∂b_k  = (1/n) Σ_i r_ik + (2μ/K) b_k + l2 b_k;
 * the NLL's Hessian is (1/n) Σ_i (diag q_i − q_i q_iᵀ) ⊗ φ_i φ_iᵀ with φ_i = (x_i, 1) ⪰ 0, so J is
 * convex (multinomial logistic regression on the features x with an intercept).
 *
 * Which minimizer. softmax ignores a common shift of a row's logits, so the NLL is unchanged by
 * W → W + 1cᵀ, b → b + c₀1. With λ = l2 = 0 the columns of W are free along that shift, and with
 * μ = l2 = 0 the intercepts are; fit() then returns the minimizer nearest the identity: each column
 * of W − I sums to 0 over the classes (when λ = l2 = 0), b sums to 0 (when μ = l2 = 0). (To compare
 * fits made by other software, center each column of W and b over the classes: every minimizer of
 * the unpenalized NLL has the same centered form when the features (x_i, 1) span ℝ^{K+1}.) If they
 * do not (e.g. binary logits (0, z), whose first column is 0), W is not identified along the
 * missing directions either; the solver never moves along them (the gradient has no component
 * there), so they keep the identity's values.
 *
 * Existence (separable calibration sets). The NLL has no minimizer exactly when some direction d
 * of θ lowers no label's margin u_{i,y_i} − u_ik (i, k ≠ y_i) and raises at least one: then J falls
 * strictly along d forever. A penalty rules d out unless d lies in its flat directions, so the
 * minimizer of J exists if and only if no such d lies in the unpenalized directions:
 * - l2 > 0: none (J is strongly convex): the fit always exists and is unique;
 * - l2 = 0, λ = μ = 0: all of (W, b) — multinomial separability of (x_i, 1);
 * - l2 = 0, λ > 0, μ = 0: W's diagonal and b (vector scaling's directions);
 * - l2 = 0, λ = 0, μ > 0: W, with b = 0;
 * - l2 = 0, λ > 0, μ > 0: W's diagonal alone.
 * (Rockafellar 1970, "Convex Analysis", Thm 27.1: a closed convex function attains its minimum when
 * its directions of recession are directions in which it is constant; Albert & Anderson 1984 for
 * the margins.) When l2 = 0, {@link linearSeparation} decides this for the unpenalized directions
 * before fitting, by vector scaling's linear program (./separation.ts: Stiemke's alternative, the
 * 0-or-P answer) over the class-wise feature map above; a separable set is a RunError naming the
 * reason and the option that fixes it. The LP can leave the question undecided (null: large K, see
 * there); the fit then runs, as vector scaling's does.
 *
 * Solver. From the identity, L-BFGS (src/optim/lbfgs.ts, backtracking) to ‖∇J‖∞ ≤ 1e-5·s (≤ 100 iterations),
 * then Newton's method with the exact Hessian: when K(K+1) ≤ {@link NEWTON_MAX_PARAMETERS}
 * (K ≤ 16) the step solves H d = −∇J by Cholesky (when a pivot is ≤ 1e-13 of H's largest diagonal
 * entry, e.g. along directions the features do not reach, H + δI with δ = 1e-12, 1e-10, … of it);
 * beyond, by preconditioned conjugate gradients on Hessian-vector products (Newton-CG, Nocedal &
 * Wright 2006, "Numerical Optimization", Alg. 7.1, forcing term min(0.5, √(‖∇J‖∞/s))). Then
 * backtracking (Armijo, c₁ = 1e-4, halving; a step that changes J by less than 8ε|J|, its rounding,
 * is taken when it lowers ‖∇J‖∞). It stops, converged, when
 *   ‖∇J‖∞ ≤ 1e-12·s,   s = 1 + max_ij |x_ij| + (2λ/(K(K−1)) + 2μ/K + l2)·(1 + ‖θ‖∞)
 * (s bounds the terms an entry of ∇J adds up, so this is a few thousand ulps of it), or when no step
 * lowers J nor ‖∇J‖∞ any more (the floating-point optimum: converged when ‖∇J‖∞ ≤ 1e-9·s), or
 * after 100 Newton steps (converged only if the first rule holds). The shift directions above are
 * held at the nearest-identity minimizer by adding (γ_a/2)(Σ_k (θ − identity)_ka)² for each free
 * column a (γ_a = max(mean_i φ_ia², 1e-300)/K), which is 0 on that minimizer and leaves J's minimum
 * unchanged; the result is then projected onto it exactly. Every step lowers J (or leaves it within
 * its rounding), so with no penalty the fitted NLL is never above the identity's, the input's own.
 * Cost: the separability LP; O(nK²) per L-BFGS iteration or Hessian-vector product; per dense
 * Newton step O(n·K⁴/2 + K⁶/3) (10k rows × 10 classes: the whole fit, LP included, takes ~3 s).
 */
import { InputError, RunError } from "../../errors.js";
import { logSoftmaxRowsKernel, softmaxNllRowKernel, softmaxRowsKernel } from "../../kernels/softmax.js";
import type { Matrix } from "../../linalg/matrix.js";
import { maxAbs } from "../../linalg/vector.js";
import { lbfgs } from "../../optim/lbfgs.js";
import { marginRows, separatingLp } from "../../optim/separabilityLp.js";
import type { ScoreOptions } from "../scores.js";
import type { Where } from "../validate.js";
import {
  jsonNumbers,
  notFitted,
  type Recalibrator,
  type RecalibratorJSON,
  recalibratorJson,
  validateCalibrationSet,
  validateTransformInput,
} from "./recalibrator.js";
import { SEPARATION_LP_CELLS } from "./separation.js";

export interface DirichletOptions {
  /** ODIR λ ≥ 0: penalty λ/(K(K−1)) Σ_{k≠j} W_kj² on the off-diagonal entries of W (default 0). */
  odirLambda?: number;
  /** ODIR μ ≥ 0: penalty μ/K Σ_k b_k² on the intercepts b (default 0). */
  odirMu?: number;
  /** L2 λ ≥ 0: penalty (λ/2)(‖W − I‖²_F + ‖b‖²) toward the identity map, as vector scaling's (default 0). */
  l2?: number;
}

/** Newton's step is solved with the dense Hessian when K(K+1) is at most this (K ≤ 16); else by conjugate gradients. */
export const NEWTON_MAX_PARAMETERS = 272;

type Method = "dirichlet" | "matrix";
const TITLE: Record<Method, string> = { dirichlet: "Dirichlet calibration", matrix: "matrix scaling" };

function atOf(where: Where): string {
  return typeof where === "string" ? where : where.file;
}

/** Validated penalties (one-line InputError naming the option). */
function penaltiesOf(opts: DirichletOptions): Required<DirichletOptions> {
  const out = { odirLambda: opts.odirLambda ?? 0, odirMu: opts.odirMu ?? 0, l2: opts.l2 ?? 0 };
  for (const [key, v] of Object.entries(out)) {
    if (!(typeof v === "number" && v >= 0 && Number.isFinite(v)))
      throw new InputError(`${key}: expected a finite number ≥ 0; got ${v}`);
  }
  return out;
}

/**
 * The features x of a full n×K score block: ln p of probabilities (each > 0), or for logits z the
 * logits themselves (matrix scaling) or log_softmax(z) (Dirichlet calibration).
 * @throws InputError for a probability 0 (ln 0 = −∞ times a weight is undefined).
 */
function featuresOf(F: Matrix, logits: boolean, method: Method, where: Where): Matrix {
  const out = new Float64Array(F.data.length);
  if (logits) {
    if (method === "matrix") return F;
    logSoftmaxRowsKernel(F.data, F.rows, F.cols, out);
    return { rows: F.rows, cols: F.cols, data: out };
  }
  for (let i = 0; i < out.length; i++) {
    out[i] = Math.log(F.data[i]);
    if (out[i] === -Infinity) {
      const r = Math.floor(i / F.cols);
      throw new InputError(
        `${atOf(where)}: row ${r}, column ${i - r * F.cols}: ${TITLE[method]} needs probabilities > 0 (it works on log p); got 0 — pass logits instead`,
      );
    }
  }
  return { rows: F.rows, cols: F.cols, data: out };
}

/**
 * Kernel: the logits W·x_i + b of every row of an n×K feature block X, W row-major K×K
 * (u_ik = Σ_j W_kj x_ij, summed over j in order, then + b_k). O(nK²).
 * @example linearCalibratedLogits(fromRows([[1, 2]]), [0, 1, 2, 0], [0.5, 0]).data // [2.5, 2]
 */
export function linearCalibratedLogits(X: Matrix, W: ArrayLike<number>, b: ArrayLike<number>): Matrix {
  const { rows: n, cols: K, data } = X;
  const out = new Float64Array(n * K);
  for (let i = 0, o = 0; i < n; i++, o += K) {
    for (let k = 0; k < K; k++) {
      let u = 0;
      for (let j = 0, w = k * K; j < K; j++) u += W[w + j] * data[o + j];
      out[o + k] = u + b[k];
    }
  }
  return { rows: n, cols: K, data: out };
}

// ---- The objective -------------------------------------------------------------------------

/**
 * The fit's problem. Parameters θ are stored as V (K × D, D = K + 1, row-major): V[k·D + j] = W_kj
 * for j < K and V[k·D + K] = b_k, so class k's logit is V_k · (x, 1).
 */
interface Problem {
  n: number;
  K: number;
  D: number;
  X: Float64Array;
  y: ArrayLike<number>;
  /** λ/(K(K−1)), μ/K, l2. */
  cl: number;
  cm: number;
  l2: number;
  /** Shift-gauge weight γ_a per column a of V (0: that column is not free along the shift). */
  gauge: Float64Array;
  /** 1 + max |x_ij|: the NLL part of the gradient scale s. */
  featureScale: number;
}

/** The identity map's V (W = I, b = 0). */
function identityParameters(K: number): Float64Array {
  const D = K + 1;
  const v = new Float64Array(K * D);
  for (let k = 0; k < K; k++) v[k * D + k] = 1;
  return v;
}

/**
 * J(V) (with the gauge terms) and its gradient into g (when given); `nll` receives the mean NLL.
 * The logits are computed as in {@link linearCalibratedLogits}, so the NLL here is that of the
 * logits transformLogits returns.
 */
function objective(p: Problem, v: Float64Array, g: Float64Array | null, out?: { nll: number }): number {
  const { n, K, D, X, y } = p;
  const u = new Float64Array(K);
  if (g) g.fill(0);
  let f = 0;
  for (let i = 0, o = 0; i < n; i++, o += K) {
    for (let k = 0; k < K; k++) {
      let s = 0;
      for (let j = 0, w = k * D; j < K; j++) s += v[w + j] * X[o + j];
      u[k] = s + v[k * D + K];
    }
    f += softmaxNllRowKernel(u, K, y[i]);
    if (g) {
      for (let k = 0; k < K; k++) {
        const r = u[k];
        const w = k * D;
        for (let j = 0; j < K; j++) g[w + j] += r * X[o + j];
        g[w + K] += r;
      }
    }
  }
  f /= n;
  if (out) out.nll = f;
  if (g) for (let t = 0; t < g.length; t++) g[t] /= n;
  return f + penalty(p, v, g);
}

/** Adds the penalties' gradient to g (when given) and returns their value (gauge terms included). */
function penalty(p: Problem, v: Float64Array, g: Float64Array | null): number {
  const { K, D, cl, cm, l2, gauge } = p;
  let odirW = 0;
  let odirB = 0;
  let toIdentity = 0;
  for (let k = 0; k < K; k++) {
    for (let a = 0; a < D; a++) {
      const t = k * D + a;
      const e = v[t] - (a === k ? 1 : 0);
      toIdentity += e * e;
      let dg = l2 * e;
      if (a === K) {
        odirB += v[t] * v[t];
        dg += 2 * cm * v[t];
      } else if (a !== k) {
        odirW += v[t] * v[t];
        dg += 2 * cl * v[t];
      }
      if (g) g[t] += dg;
    }
  }
  let f = cl * odirW + cm * odirB + (l2 / 2) * toIdentity;
  for (let a = 0; a < D; a++) {
    if (gauge[a] === 0) continue;
    const c = columnExcess(v, K, D, a);
    f += (gauge[a] / 2) * c * c;
    if (g) for (let k = 0; k < K; k++) g[k * D + a] += gauge[a] * c;
  }
  return f;
}

/** Σ_k (V − identity)_{k,a}: how far column a is from the nearest-identity representative. */
function columnExcess(v: Float64Array, K: number, D: number, a: number): number {
  let s = a < K ? -1 : 0;
  for (let k = 0; k < K; k++) s += v[k * D + a];
  return s;
}

/** The penalties' Hessian is diagonal plus the gauge blocks: adds it to H (P×P, row-major). */
function addPenaltyHessian(p: Problem, H: Float64Array): void {
  const { K, D, cl, cm, l2, gauge } = p;
  const P = K * D;
  for (let k = 0; k < K; k++) {
    for (let a = 0; a < D; a++) {
      const t = k * D + a;
      H[t * P + t] += l2 + (a === K ? 2 * cm : a !== k ? 2 * cl : 0);
    }
  }
  for (let a = 0; a < D; a++) {
    if (gauge[a] === 0) continue;
    for (let k = 0; k < K; k++) for (let l = 0; l < K; l++) H[(k * D + a) * P + l * D + a] += gauge[a];
  }
}

/**
 * The exact Hessian of J at V into H (P×P, P = K·D, row-major, overwritten):
 * (1/n) Σ_i (diag q_i − q_i q_iᵀ) ⊗ φ_i φ_iᵀ plus the penalties'. O(n·P²/2).
 */
function hessian(p: Problem, v: Float64Array, H: Float64Array): void {
  const { n, K, D, X } = p;
  const P = K * D;
  H.fill(0);
  const u = new Float64Array(K);
  const phi = new Float64Array(D);
  phi[K] = 1;
  for (let i = 0, o = 0; i < n; i++, o += K) {
    for (let j = 0; j < K; j++) phi[j] = X[o + j];
    let mx = -Infinity;
    for (let k = 0; k < K; k++) {
      let s = 0;
      for (let j = 0, w = k * D; j < K; j++) s += v[w + j] * phi[j];
      u[k] = s + v[k * D + K];
      if (u[k] > mx) mx = u[k];
    }
    let s = 0;
    for (let k = 0; k < K; k++) {
      u[k] = Math.exp(u[k] - mx);
      s += u[k];
    }
    for (let k = 0; k < K; k++) u[k] /= s;
    // Upper triangle only: blocks (k, l ≥ k); within a diagonal block, c ≥ a.
    for (let k = 0; k < K; k++) {
      const qk = u[k];
      for (let l = k; l < K; l++) {
        const w = (k === l ? qk : 0) - qk * u[l];
        if (w === 0) continue;
        for (let a = 0; a < D; a++) {
          const wa = w * phi[a];
          if (wa === 0) continue;
          const row = (k * D + a) * P + l * D;
          for (let c = k === l ? a : 0; c < D; c++) H[row + c] += wa * phi[c];
        }
      }
    }
  }
  for (let r = 0; r < P; r++) {
    H[r * P + r] /= n;
    for (let c = r + 1; c < P; c++) {
      H[r * P + c] /= n;
      H[c * P + r] = H[r * P + c];
    }
  }
  addPenaltyHessian(p, H);
}

/**
 * Kernel: in-place Cholesky of A + δI (P×P, lower triangle into L); false when a pivot is ≤ `floor`.
 */
function choleskyShifted(A: Float64Array, P: number, delta: number, floor: number, L: Float64Array): boolean {
  for (let j = 0; j < P; j++) {
    let d = A[j * P + j] + delta;
    for (let k = 0; k < j; k++) d -= L[j * P + k] * L[j * P + k];
    if (!(d > floor)) return false;
    const ljj = Math.sqrt(d);
    L[j * P + j] = ljj;
    for (let i = j + 1; i < P; i++) {
      let s = A[i * P + j];
      for (let k = 0; k < j; k++) s -= L[i * P + k] * L[j * P + k];
      L[i * P + j] = s / ljj;
    }
  }
  return true;
}

/** Solves L Lᵀ d = −g into d. */
function choleskySolveNegative(L: Float64Array, P: number, g: Float64Array, d: Float64Array): void {
  for (let i = 0; i < P; i++) {
    let s = -g[i];
    for (let k = 0; k < i; k++) s -= L[i * P + k] * d[k];
    d[i] = s / L[i * P + i];
  }
  for (let i = P - 1; i >= 0; i--) {
    let s = d[i];
    for (let k = i + 1; k < P; k++) s -= L[k * P + i] * d[k];
    d[i] = s / L[i * P + i];
  }
}

/** The gradient scale s of the stopping rule (see the file's doc). */
function gradientScale(p: Problem, v: Float64Array): number {
  return p.featureScale + (2 * p.cl + 2 * p.cm + p.l2) * (1 + maxAbs(v));
}

/**
 * Class probabilities q_i = softmax(V·φ_i) of every row into Q (n×K), for the Hessian-vector
 * products of one Newton-CG step. O(nK²).
 */
function probabilities(p: Problem, v: Float64Array, Q: Float64Array): void {
  const { n, K, D, X } = p;
  for (let i = 0, o = 0; i < n; i++, o += K) {
    let mx = -Infinity;
    for (let k = 0; k < K; k++) {
      let s = 0;
      for (let j = 0, w = k * D; j < K; j++) s += v[w + j] * X[o + j];
      Q[o + k] = s + v[k * D + K];
      if (Q[o + k] > mx) mx = Q[o + k];
    }
    let s = 0;
    for (let k = 0; k < K; k++) {
      Q[o + k] = Math.exp(Q[o + k] - mx);
      s += Q[o + k];
    }
    for (let k = 0; k < K; k++) Q[o + k] /= s;
  }
}

/**
 * H·u without forming H: (1/n) Σ_i [(diag q_i − q_i q_iᵀ)(U φ_i)] φ_iᵀ plus the penalties' (the
 * same Hessian as {@link hessian}). O(nK²).
 */
function hessianVector(p: Problem, Q: Float64Array, u: Float64Array, out: Float64Array): void {
  const { n, K, D, X, cl, cm, l2, gauge } = p;
  out.fill(0);
  const t = new Float64Array(K);
  for (let i = 0, o = 0; i < n; i++, o += K) {
    let qs = 0;
    for (let k = 0; k < K; k++) {
      let s = u[k * D + K];
      for (let j = 0, w = k * D; j < K; j++) s += u[w + j] * X[o + j];
      t[k] = s;
      qs += Q[o + k] * s;
    }
    for (let k = 0; k < K; k++) {
      const r = Q[o + k] * (t[k] - qs);
      if (r === 0) continue;
      const w = k * D;
      for (let j = 0; j < K; j++) out[w + j] += r * X[o + j];
      out[w + K] += r;
    }
  }
  for (let k = 0; k < K; k++) {
    for (let a = 0; a < D; a++) {
      const c = k * D + a;
      out[c] = out[c] / n + (l2 + (a === K ? 2 * cm : a !== k ? 2 * cl : 0)) * u[c];
    }
  }
  for (let a = 0; a < D; a++) {
    if (gauge[a] === 0) continue;
    let s = 0;
    for (let k = 0; k < K; k++) s += u[k * D + a];
    for (let k = 0; k < K; k++) out[k * D + a] += gauge[a] * s;
  }
}

/** The diagonal of H (Jacobi preconditioner of Newton-CG). O(nK²). */
function hessianDiagonal(p: Problem, Q: Float64Array, out: Float64Array): void {
  const { n, K, D, X, cl, cm, l2, gauge } = p;
  out.fill(0);
  for (let i = 0, o = 0; i < n; i++, o += K) {
    for (let k = 0; k < K; k++) {
      const w = Q[o + k] * (1 - Q[o + k]);
      for (let j = 0; j < K; j++) out[k * D + j] += w * X[o + j] * X[o + j];
      out[k * D + K] += w;
    }
  }
  for (let k = 0; k < K; k++) {
    for (let a = 0; a < D; a++) {
      const c = k * D + a;
      out[c] = out[c] / n + l2 + (a === K ? 2 * cm : a !== k ? 2 * cl : 0) + gauge[a];
    }
  }
}

/**
 * Newton-CG's step: preconditioned conjugate gradients on H d = −g (Jacobi preconditioner), from
 * d = 0, until ‖H d + g‖₂ ≤ η‖g‖₂ with η = min(0.5, √(‖g‖∞/s)) (superlinear convergence; Nocedal &
 * Wright 2006, Alg. 7.1), at most 2P iterations, or at a direction of no positive curvature (H is
 * only semidefinite along directions the features do not reach). O(nK²) per iteration.
 */
function conjugateGradientStep(
  p: Problem,
  v: Float64Array,
  g: Float64Array,
  scale: number,
  d: Float64Array,
): void {
  const P = g.length;
  const Q = new Float64Array(p.n * p.K);
  probabilities(p, v, Q);
  const M = new Float64Array(P);
  hessianDiagonal(p, Q, M);
  const r = Float64Array.from(g, (x) => -x);
  const z = new Float64Array(P);
  const dir = new Float64Array(P);
  const Hd = new Float64Array(P);
  d.fill(0);
  let gNorm = 0;
  for (let t = 0; t < P; t++) gNorm += g[t] * g[t];
  gNorm = Math.sqrt(gNorm);
  const goal = Math.min(0.5, Math.sqrt(maxAbs(g) / scale)) * gNorm;
  let rz = 0;
  for (let t = 0; t < P; t++) {
    z[t] = M[t] > 0 ? r[t] / M[t] : r[t];
    dir[t] = z[t];
    rz += r[t] * z[t];
  }
  for (let it = 0; it < 2 * P; it++) {
    hessianVector(p, Q, dir, Hd);
    let curvature = 0;
    for (let t = 0; t < P; t++) curvature += dir[t] * Hd[t];
    if (!(curvature > 0)) break;
    const alpha = rz / curvature;
    let rNorm = 0;
    for (let t = 0; t < P; t++) {
      d[t] += alpha * dir[t];
      r[t] -= alpha * Hd[t];
      rNorm += r[t] * r[t];
    }
    if (Math.sqrt(rNorm) <= goal) break;
    let rzNext = 0;
    for (let t = 0; t < P; t++) {
      z[t] = M[t] > 0 ? r[t] / M[t] : r[t];
      rzNext += r[t] * z[t];
    }
    const beta = rzNext / rz;
    rz = rzNext;
    for (let t = 0; t < P; t++) dir[t] = z[t] + beta * dir[t];
  }
  // No step at all (no positive curvature along the first direction): steepest descent.
  if (maxAbs(d) === 0) for (let t = 0; t < P; t++) d[t] = -g[t];
}

/** Newton's step by the exact Hessian: H d = −g by Cholesky, H + δI when H is (near) singular. */
function denseNewtonStep(p: Problem, v: Float64Array, g: Float64Array, d: Float64Array): void {
  const P = g.length;
  const H = new Float64Array(P * P);
  const L = new Float64Array(P * P);
  hessian(p, v, H);
  let maxDiag = 0;
  for (let t = 0; t < P; t++) maxDiag = Math.max(maxDiag, H[t * P + t]);
  for (let delta = 0; delta < Infinity; delta = delta === 0 ? 1e-12 * maxDiag : delta * 100) {
    if (choleskyShifted(H, P, delta, 1e-13 * maxDiag, L)) {
      choleskySolveNegative(L, P, g, d);
      return;
    }
  }
  // A Hessian no shift makes positive definite (not finite: overflowed logits): steepest descent.
  for (let t = 0; t < P; t++) d[t] = -g[t];
}

interface Solution {
  v: Float64Array;
  iterations: number;
  newtonSteps: number;
  converged: boolean;
}

/** Minimizes J from the identity (see the file's doc for the method and the stopping rule). */
function solve(p: Problem): Solution {
  const P = p.K * p.D;
  const fg = (x: Float64Array, g: Float64Array): number => objective(p, x, g);
  const v0 = identityParameters(p.K);
  const warm = lbfgs(
    { size: P, evaluate: (x, g) => objective(p, x, g) },
    { theta0: v0, maxIter: 100, tol: 1e-5 * gradientScale(p, v0), lineSearch: "backtracking" },
  );
  let v = warm.theta;
  let g = new Float64Array(P);
  let f = fg(v, g);
  let gInf = maxAbs(g);
  const d = new Float64Array(P);
  const vn = new Float64Array(P);
  const gn = new Float64Array(P);
  let steps = 0;
  let converged = false;
  for (; steps < 100; steps++) {
    const scale = gradientScale(p, v);
    if (gInf <= 1e-12 * scale) {
      converged = true;
      break;
    }
    if (P <= NEWTON_MAX_PARAMETERS) denseNewtonStep(p, v, g, d);
    else conjugateGradientStep(p, v, g, scale, d);
    let slope = 0;
    for (let t = 0; t < P; t++) slope += g[t] * d[t];
    let accepted = false;
    let fn = f;
    for (let ls = 0, t = 1; slope < 0 && ls < 60; ls++, t *= 0.5) {
      for (let i = 0; i < P; i++) vn[i] = v[i] + t * d[i];
      fn = fg(vn, gn);
      const armijo = fn <= f + 1e-4 * t * slope;
      // A change of J below its own rounding: take the step when it lowers the gradient.
      const tie = Math.abs(fn - f) <= 8 * Number.EPSILON * Math.abs(f) && maxAbs(gn) < gInf;
      if (armijo || tie) {
        accepted = true;
        break;
      }
    }
    if (!accepted) {
      converged = gInf <= 1e-9 * scale;
      break;
    }
    v = Float64Array.from(vn);
    g = Float64Array.from(gn);
    f = fn;
    gInf = maxAbs(g);
  }
  if (steps === 100) converged = gInf <= 1e-12 * gradientScale(p, v);
  return { v, iterations: warm.iterations, newtonSteps: steps, converged };
}

// ---- Separability ---------------------------------------------------------------------------

/**
 * Which directions of (W, b) a separability test searches: all of them ("full"), W only ("weights"),
 * W's diagonal and b ("diagonal-bias": vector scaling's), or W's diagonal only ("diagonal").
 */
export type LinearDirections = "full" | "weights" | "diagonal-bias" | "diagonal";

/** The result of {@link linearSeparation}. */
export interface LinearSeparation {
  /**
   * true: some direction lowers no label margin and raises one (no minimizer); false: none does;
   * null: not decided (the LP grew too large, a non-separable subset's margins did not reach every
   * direction the whole set's do, or the simplex cycled on every attempt).
   */
  separable: boolean | null;
  /** When separable: how many of the n(K − 1) label margins the separating direction raises. */
  raised: number;
  /** n(K − 1). */
  pairs: number;
  /** Rows in the last LP solved (0 when none was). */
  lpRows: number;
}

/** The LP's unknowns: class l's coefficient on feature column a (a = K: the intercept) → index. */
interface Layout {
  K: number;
  D: number;
  /** cols[l]: the feature columns class l's direction may use. */
  cols: number[][];
  index: Int32Array;
  /** Number of unknowns. */
  m: number;
  /** Feature columns every class uses: each gives a shift (gauge) direction no margin sees. */
  shared: number[];
}

function layoutOf(directions: LinearDirections, K: number): Layout {
  const D = K + 1;
  const all = Array.from({ length: K }, (_, j) => j);
  const cols = Array.from({ length: K }, (_, l): number[] => {
    if (directions === "full") return [...all, K];
    if (directions === "weights") return all;
    return directions === "diagonal-bias" ? [l, K] : [l];
  });
  const index = new Int32Array(K * D).fill(-1);
  let m = 0;
  for (let l = 0; l < K; l++) for (const a of cols[l]) index[l * D + a] = m++;
  const shared = Array.from({ length: D }, (_, a) => a).filter((a) => cols.every((c) => c.includes(a)));
  return { K, D, cols, index, m, shared };
}

/**
 * Features φ = (x, 1) standardized for the LP: each column of x mapped into [−1, 1], by an affine
 * map when the intercept is free (b absorbs the shift), else by a scale alone (W's column absorbs
 * it). The margins' signs, and so the answer, do not change.
 */
function standardizedFeatures(X: Matrix, withBias: boolean): Float64Array {
  const { rows: n, cols: K, data } = X;
  const D = K + 1;
  const lo = new Float64Array(K).fill(Infinity);
  const hi = new Float64Array(K).fill(-Infinity);
  for (let i = 0, o = 0; i < n; i++, o += K) {
    for (let j = 0; j < K; j++) {
      lo[j] = Math.min(lo[j], data[o + j]);
      hi[j] = Math.max(hi[j], data[o + j]);
    }
  }
  const center = new Float64Array(K);
  const half = new Float64Array(K);
  for (let j = 0; j < K; j++) {
    // Halves first: hi − lo overflows for features near ±1.8e308.
    center[j] = withBias ? hi[j] / 2 + lo[j] / 2 : 0;
    half[j] = withBias ? hi[j] / 2 - lo[j] / 2 : Math.max(Math.abs(hi[j]), Math.abs(lo[j]));
  }
  const S = new Float64Array(n * D);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < K; j++) S[i * D + j] = half[j] > 0 ? (data[i * K + j] - center[j]) / half[j] : 0;
    S[i * D + K] = 1;
  }
  return S;
}

/** Calls visit(unknown, coefficient) for each term of margin (row i, class k ≠ y_i) = Σ d·φ_i over y_i's terms − k's. */
function marginTerms(
  S: Float64Array,
  lay: Layout,
  i: number,
  yi: number,
  k: number,
  visit: (t: number, c: number) => void,
): void {
  const { D, cols, index } = lay;
  const o = i * D;
  for (const a of cols[yi]) if (S[o + a] !== 0) visit(index[yi * D + a], S[o + a]);
  for (const a of cols[k]) if (S[o + a] !== 0) visit(index[k * D + a], -S[o + a]);
}

/**
 * The pivots × tableau cells every LP attempt of one {@link linearSeparation} may spend on attempts
 * that end "cycled" (yalps stops an attempt at its pivot limit; 2³¹ is a few seconds). When it is
 * spent the answer is null.
 */
export const SEPARATION_LP_WORK = 2 ** 31;

/** The first LP holds this many rows per class + 1 (the unknowns per class). */
const FIRST_ROWS_PER_CLASS = 8;

/** Row order and margin perturbation of each LP attempt, in turn, until one does not cycle. */
const ATTEMPTS: readonly [reverse: boolean, eps: number][] = [
  [false, 1e-6],
  [true, 1e-6],
  [false, 4e-6],
  [false, 0],
];

/**
 * ./separation.ts's LP over this layout's unknowns d (free: d = d⁺ − d⁻):
 *   maximize Σ_r m_r(d)  subject to  m_r(d) ≥ −ε_r for every margin r of the given rows,  Σ_r m_r(d) ≤ P
 * (P = their number of margins). With ε = 0 the optimum is exactly P when the rows are separable
 * (scale any separating d) and exactly 0 when not (Φd ≥ 0 forces Φd = 0), decided at P/2. The LP
 * is degenerate at d = 0 and yalps pivots by Dantzig's rule without an anti-cycling rule (the exact
 * LP cycled on a few hundred rows of 5 classes), so the margins are first relaxed by distinct
 * ε_r ∈ [ε, 2ε) (the classical cure for degeneracy): when not separable, Stiemke's v > 0 with
 * Φᵀv = 0 bounds the optimum by 2ε·Σv/min v (≪ P/2 unless some v_r is ~1e-7 of the others:
 * separable to that relative precision), and a separable optimum stays P. Returns a direction
 * (standardized units) when the optimum is > P/2 and the direction lowers none of the LP's own
 * margins (else the attempt failed numerically), null when the optimum is ≤ P/2, "cycled" when no
 * attempt succeeds within the pivot budget.
 */
function separatingDirection(
  S: Float64Array,
  lay: Layout,
  y: ArrayLike<number>,
  rows: readonly number[],
  budget: { left: number },
): Float64Array | null | "cycled" {
  const { K, m } = lay;
  for (const [reverse, eps] of ATTEMPTS) {
    const cells = (rows.length * (K - 1) + 2) * (2 * m + 1);
    const maxPivots = Math.min(8192, Math.floor(budget.left / cells));
    if (maxPivots < 16) return "cycled";
    const margins = marginRows(m, (add, next) => {
      for (const i of reverse ? [...rows].reverse() : rows) {
        for (let k = 0; k < K; k++) {
          if (k === y[i]) continue;
          marginTerms(S, lay, i, y[i], k, add);
          next();
        }
      }
    });
    const d = separatingLp(margins, eps, "linearSeparation", maxPivots);
    if (d === "cycled") {
      budget.left -= maxPivots * cells;
      continue;
    }
    if (d === null) return null;
    // The shifts no margin sees are free in the LP and can come back huge; they would inflate the
    // margins' terms (and so the tolerance) without changing a margin: project them out.
    for (const a of lay.shared) {
      let mean = 0;
      for (let l = 0; l < K; l++) mean += d[lay.index[l * lay.D + a]] / K;
      for (let l = 0; l < K; l++) d[lay.index[l * lay.D + a]] -= mean;
    }
    // The simplex's own rows must hold too: a direction that lowers one of them is a numerical
    // failure of this attempt, not a separation.
    if (rows.every((i) => lowersNoMargin(S, lay, d, i, y))) return d;
  }
  return "cycled";
}

/** Whether direction d lowers none of row i's margins beyond marginOf's tolerance. */
function lowersNoMargin(
  S: Float64Array,
  lay: Layout,
  d: Float64Array,
  i: number,
  y: ArrayLike<number>,
): boolean {
  for (let k = 0; k < lay.K; k++) {
    if (k === y[i]) continue;
    const { margin, tol } = marginOf(S, lay, d, i, k, y);
    if (margin < -tol) return false;
  }
  return true;
}

/**
 * Margin (row i, class k) of direction d and the tolerance below 0 it may have, in the LP's units
 * (standardized features, margins summing to P over its rows, so of order 1): the perturbation
 * lets a margin reach −2ε (ε ≤ 4e-6) and the simplex's feasibility is 1e-8: 1e-5; its rounding of
 * d to 1e-8: 4e-8 × the features' size; this sum's own rounding: 1e-9 × its terms (≫ 2(K+1)ε).
 * (./separation.ts allows 1e-7 × the terms, which a direction with a large component along a shift
 * no margin sees inflates without bound; here those components are projected out first.)
 */
function marginOf(
  S: Float64Array,
  lay: Layout,
  d: Float64Array,
  i: number,
  k: number,
  y: ArrayLike<number>,
): { margin: number; tol: number } {
  let margin = 0;
  let terms = 0;
  let size = 0;
  marginTerms(S, lay, i, y[i], k, (t, v) => {
    margin += d[t] * v;
    terms += Math.abs(d[t] * v);
    size += Math.abs(v);
  });
  return { margin, tol: 1e-9 * terms + 4e-8 * size + 1e-5 };
}

/**
 * The numerical rank of Σ_r φ_r φ_rᵀ over the margins of the given rows, plus γ·g gᵀ for each
 * shift direction g (γ its largest diagonal entry, so shifts never count as missing): Cholesky with
 * pivots ≤ 1e-9 of the largest diagonal entry skipped. O(rows·K·(2K + 2)² + m³/3).
 */
function marginRank(S: Float64Array, lay: Layout, y: ArrayLike<number>, rows: Iterable<number>): number {
  const { K, D, m, index, shared } = lay;
  const G = new Float64Array(m * m);
  const ts: number[] = [];
  const vs: number[] = [];
  for (const i of rows) {
    for (let k = 0; k < K; k++) {
      if (k === y[i]) continue;
      ts.length = 0;
      vs.length = 0;
      marginTerms(S, lay, i, y[i], k, (t, v) => {
        ts.push(t);
        vs.push(v);
      });
      for (let a = 0; a < ts.length; a++)
        for (let b = 0; b < ts.length; b++) G[ts[a] * m + ts[b]] += vs[a] * vs[b];
    }
  }
  let maxDiag = 0;
  for (let t = 0; t < m; t++) maxDiag = Math.max(maxDiag, G[t * m + t]);
  for (const a of shared) {
    const g = Array.from({ length: K }, (_, l) => index[l * D + a]);
    for (const r of g) for (const c of g) G[r * m + c] += maxDiag;
  }
  const L = new Float64Array(m * m);
  let rank = 0;
  for (let j = 0; j < m; j++) {
    let d = G[j * m + j];
    for (let k = 0; k < j; k++) d -= L[j * m + k] * L[j * m + k];
    if (!(d > 1e-9 * maxDiag)) continue;
    rank++;
    const ljj = Math.sqrt(d);
    L[j * m + j] = ljj;
    for (let i = j + 1; i < m; i++) {
      let s = G[i * m + j];
      for (let k = 0; k < j; k++) s -= L[i * m + k] * L[j * m + k];
      L[i * m + j] = s / ljj;
    }
  }
  return rank;
}

/**
 * Decides whether the NLL of softmax(W·x + b) on features X (n×K, K ≥ 2) with labels y has no
 * minimizer along the given directions of (W, b): whether some direction lowers no label's margin
 * and raises one (see the file's doc). Deterministic (subsets are evenly spaced rows).
 * Constraint generation, as ./separation.ts: the LP ({@link separatingDirection}) first on
 * 8·(K + 1) evenly spaced rows. A separating direction of the subset is checked on every row; rows
 * it lowers (beyond the tolerance of marginOf) are added, at most doubling the LP, until it
 * separates every row (separable), the LP would exceed SEPARATION_LP_CELLS cells or the attempts
 * spend {@link SEPARATION_LP_WORK} (null: not decided). A subset
 * that is not separable proves the whole set is not when the subset's margins reach every direction
 * the whole set's do (equal numerical ranks, {@link marginRank}): a direction lowering no margin of
 * the whole set then has every subset margin 0, so it lies in the subset's null space, which is the
 * whole set's, and raises nothing; else the answer is null.
 * Cost: LPs of 8(K+1)(K−1) rows × (2m + 1) columns (m ≤ K(K+1) unknowns) in the common case
 * (2000 rows of 10 classes, m = 110: under a second), O(nK²) per check, O(n·K³ + m³) per rank.
 * @example linearSeparation(fromRows([[2, 0], [0, 1]]), [0, 1], "full").separable // true
 * @example linearSeparation(fromRows([[1, 0], [1, 0]]), [0, 1], "full").separable // false
 */
export function linearSeparation(
  X: Matrix,
  y: ArrayLike<number>,
  directions: LinearDirections,
): LinearSeparation {
  const { rows: n, cols: K } = X;
  const lay = layoutOf(directions, K);
  const S = standardizedFeatures(X, directions === "full" || directions === "diagonal-bias");
  const pairs = n * (K - 1);
  const maxRows = Math.floor(SEPARATION_LP_CELLS / ((K - 1) * (2 * lay.m + 1)));
  if (maxRows < 1) return { separable: null, raised: 0, pairs, lpRows: 0 };
  const first = Math.min(n, maxRows, FIRST_ROWS_PER_CLASS * (K + 1));
  const budget = { left: SEPARATION_LP_WORK };
  const rows = Array.from({ length: first }, (_, j) => Math.floor((j * n) / first));
  for (;;) {
    const d = separatingDirection(S, lay, y, rows, budget);
    if (d === "cycled") return { separable: null, raised: 0, pairs, lpRows: rows.length };
    if (d === null) {
      // The whole set's rank only when the subset's falls short of every unknown.
      const rank = rows.length === n ? lay.m : marginRank(S, lay, y, rows);
      const everyRow = () => Array.from({ length: n }, (_, i) => i);
      const decided = rank === lay.m || rank === marginRank(S, lay, y, everyRow());
      return { separable: decided ? false : null, raised: 0, pairs, lpRows: rows.length };
    }
    const bad: number[] = [];
    let raised = 0;
    for (let i = 0; i < n; i++) {
      let violated = false;
      for (let k = 0; k < K; k++) {
        if (k === y[i]) continue;
        const { margin, tol } = marginOf(S, lay, d, i, k, y);
        if (margin < -tol) violated = true;
        else if (margin > tol) raised++;
      }
      if (violated) bad.push(i);
    }
    if (bad.length === 0) return { separable: true, raised, pairs, lpRows: rows.length };
    const room = Math.min(maxRows - rows.length, rows.length);
    if (room < 1) return { separable: null, raised: 0, pairs, lpRows: rows.length };
    rows.push(...bad.slice(0, room));
  }
}

/** The directions of (W, b) no penalty reaches (null: none, l2 > 0). */
function unpenalizedDirections(pen: Required<DirichletOptions>): LinearDirections | null {
  if (pen.l2 > 0) return null;
  if (pen.odirLambda > 0) return pen.odirMu > 0 ? "diagonal" : "diagonal-bias";
  return pen.odirMu > 0 ? "weights" : "full";
}

const DIRECTION_WORDS: Record<LinearDirections, { what: string; fix: string }> = {
  full: {
    what: "a direction of (W, b)",
    fix: "pass --odir-lambda λ with --odir-mu μ, or --l2 λ (a penalty toward the identity), or use more calibration data",
  },
  weights: {
    what: "a direction of W (which --odir-mu does not penalize)",
    fix: "pass --odir-lambda λ or --l2 λ (a penalty toward the identity), or use more calibration data",
  },
  "diagonal-bias": {
    what: "a direction of W's diagonal and b (which --odir-lambda does not penalize)",
    fix: "pass --odir-mu μ or --l2 λ (a penalty toward the identity), or use more calibration data",
  },
  diagonal: {
    what: "a direction of W's diagonal (which ODIR does not penalize)",
    fix: "pass --l2 λ (a penalty toward the identity), or use more calibration data",
  },
};

// ---- The fit ---------------------------------------------------------------------------------

/** Details of a {@link DirichletCalibration} or {@link MatrixScaling} fit. */
export interface LinearCalibrationFit {
  /** Mean NLL at the identity (W = I, b = 0): the input's own NLL (Dirichlet; matrix scaling on logits). */
  nllBefore: number;
  /** Mean NLL at the fitted (W, b), without the penalties. */
  nllAfter: number;
  /** The minimized J at the fit: nllAfter + the penalties. */
  objective: number;
  /** ‖∇J‖∞ at the fit. */
  gradient: number;
  /** The stopping rule's 1e-12·s (see the file's doc). */
  gradientTolerance: number;
  /** Iterations of the L-BFGS warm start. */
  iterations: number;
  /** Newton steps after it (dense, or Newton-CG when K(K+1) > NEWTON_MAX_PARAMETERS). */
  newtonSteps: number;
  /** Whether a stopping rule was met (see the file's doc). */
  converged: boolean;
  odirLambda: number;
  odirMu: number;
  l2: number;
  /**
   * The separability test of the directions no penalty reaches (see {@link linearSeparation}):
   * false on a returned fit, or null when it could not decide or when l2 > 0 (nothing to decide:
   * the minimizer exists).
   */
  separable: boolean | null;
}

/** The fitted parameters of {@link fitLinearCalibration}. */
export interface LinearCalibrationResult {
  /** W, row-major K×K. */
  weights: Float64Array;
  bias: Float64Array;
  fit: LinearCalibrationFit;
}

/**
 * The shared kernel of both methods: fits softmax(W·x + b) on features X (n×K full block, K ≥ 2)
 * with labels y (validated, two classes or more) under the penalties (see the file's doc).
 * @throws RunError when an unpenalized direction separates the set, e.g.
 *   `dirichlet: Dirichlet calibration needs a calibration set no unpenalized direction separates; got a direction of (W, b) that lowers no label's margin over another class in any row (and raises ${sep.raised} of ${sep.pairs}), so NLL keeps decreasing along it — pass --odir-lambda λ with --odir-mu μ, or --l2 λ (a penalty toward the identity), or use more calibration data`.
 */
export function fitLinearCalibration(
  X: Matrix,
  y: ArrayLike<number>,
  penalties: DirichletOptions,
  method: Method,
  where: Where,
): LinearCalibrationResult {
  const pen = penaltiesOf(penalties);
  const { rows: n, cols: K, data } = X;
  const D = K + 1;
  const free = unpenalizedDirections(pen);
  const sep = free === null ? null : linearSeparation(X, y, free);
  if (free !== null && sep !== null && sep.separable === true) {
    throw new RunError(
      `${atOf(where)}: ${TITLE[method]} needs a calibration set no unpenalized direction separates; got ${DIRECTION_WORDS[free].what} that lowers no label's margin over another class in any row (and raises ${sep.raised} of ${sep.pairs}), so NLL keeps decreasing along it — ${DIRECTION_WORDS[free].fix}`,
    );
  }
  let largest = 0;
  const meanSquare = new Float64Array(D);
  for (let i = 0, o = 0; i < n; i++, o += K) {
    for (let j = 0; j < K; j++) {
      largest = Math.max(largest, Math.abs(data[o + j]));
      meanSquare[j] += (data[o + j] * data[o + j]) / n;
    }
  }
  meanSquare[K] = 1;
  const gauge = new Float64Array(D);
  const shiftW = pen.odirLambda === 0 && pen.l2 === 0;
  const shiftB = pen.odirMu === 0 && pen.l2 === 0;
  for (let a = 0; a < D; a++) {
    if (a < K ? shiftW : shiftB) gauge[a] = Math.max(meanSquare[a], 1e-300) / K;
  }
  const p: Problem = {
    n,
    K,
    D,
    X: data,
    y,
    cl: pen.odirLambda / (K * (K - 1)),
    cm: pen.odirMu / K,
    l2: pen.l2,
    gauge,
    featureScale: 1 + largest,
  };
  const before = { nll: 0 };
  objective(p, identityParameters(K), null, before);
  const { v, iterations, newtonSteps, converged } = solve(p);
  // Onto the nearest-identity representative exactly (J is constant along these shifts).
  for (let a = 0; a < D; a++) {
    if (gauge[a] === 0) continue;
    const c = columnExcess(v, K, D, a) / K;
    for (let k = 0; k < K; k++) v[k * D + a] -= c;
  }
  gauge.fill(0);
  const g = new Float64Array(K * D);
  const after = { nll: 0 };
  const J = objective(p, v, g, after);
  const weights = new Float64Array(K * K);
  const bias = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    for (let j = 0; j < K; j++) weights[k * K + j] = v[k * D + j];
    bias[k] = v[k * D + K];
  }
  return {
    weights,
    bias,
    fit: {
      nllBefore: before.nll,
      nllAfter: after.nll,
      objective: J,
      gradient: maxAbs(g),
      gradientTolerance: 1e-12 * gradientScale(p, v),
      iterations,
      newtonSteps,
      converged,
      ...pen,
      separable: sep === null ? null : sep.separable,
    },
  };
}

// ---- The recalibrators ----------------------------------------------------------------------

/** Reads "weights" (K rows of K finite numbers), "bias" and the penalties of a JSON object. @throws InputError */
function readJson(
  o: Record<string, unknown>,
  K: number,
  where: string,
): { weights: number[][]; bias: number[]; pen: Required<DirichletOptions> } {
  const w = o.weights;
  if (
    !Array.isArray(w) ||
    w.length !== K ||
    w.some(
      (r) =>
        !Array.isArray(r) || r.length !== K || r.some((x) => typeof x !== "number" || !Number.isFinite(x)),
    )
  ) {
    throw new InputError(
      `${where}: expected "weights" to be ${K} rows of ${K} finite numbers; got ${JSON.stringify(w)?.slice(0, 60)}`,
    );
  }
  const bias = jsonNumbers(o, "bias", where, K);
  const pen = { odirLambda: 0, odirMu: 0, l2: 0 };
  for (const key of ["odirLambda", "odirMu", "l2"] as const) {
    const v = o[key];
    if (!(typeof v === "number" && v >= 0 && Number.isFinite(v)))
      throw new InputError(`${where}: expected "${key}" to be a finite number ≥ 0; got ${JSON.stringify(v)}`);
    pen[key] = v;
  }
  return { weights: (w as number[][]).map((r) => r.slice()), bias: bias.slice(), pen };
}

/** What both classes share: the penalties, the fitted (W, b), and fit/transform/JSON over a feature map. */
abstract class LinearCalibration {
  abstract readonly method: Method;
  /** The penalties {@link fit} uses. */
  readonly odirLambda: number;
  readonly odirMu: number;
  readonly l2: number;
  /** W (K rows of K: row k gives class k's logit), after fit() or fromJSON. */
  weights: number[][] | undefined;
  /** b, after fit() or fromJSON. */
  bias: number[] | undefined;
  /** Details of the last fit. */
  lastFit: LinearCalibrationFit | undefined;

  /** @throws InputError when a penalty is not a finite number ≥ 0, e.g. `odirLambda: expected a finite number ≥ 0; got -1`. */
  constructor(opts: DirichletOptions) {
    const pen = penaltiesOf(opts);
    this.odirLambda = pen.odirLambda;
    this.odirMu = pen.odirMu;
    this.l2 = pen.l2;
  }

  fit(S: Matrix, y: ArrayLike<number>, opts: ScoreOptions = {}, where: Where = this.method): this {
    const { F } = validateCalibrationSet(S, y, opts, where);
    const X = featuresOf(F, opts.logits ?? false, this.method, where);
    const r = fitLinearCalibration(X, y, this, this.method, where);
    const K = X.cols;
    this.weights = Array.from({ length: K }, (_, k) => Array.from(r.weights.subarray(k * K, (k + 1) * K)));
    this.bias = Array.from(r.bias);
    this.lastFit = r.fit;
    return this;
  }

  /** Calibrated logits W·x + b (n×K; n×2 for binary input); `transform` is their softmax. */
  transformLogits(S: Matrix, opts: ScoreOptions = {}, where: Where = this.method): Matrix {
    const { weights, bias } = this;
    if (weights === undefined || bias === undefined) throw notFitted(this.method);
    const F = validateTransformInput(S, bias.length, opts, where);
    return linearCalibratedLogits(
      featuresOf(F, opts.logits ?? false, this.method, where),
      weights.flat(),
      bias,
    );
  }

  /** Calibrated probabilities softmax(W·x + b) (n×K; n×2 for binary input). */
  transform(S: Matrix, opts: ScoreOptions = {}, where: Where = this.method): Matrix {
    const out = this.transformLogits(S, opts, where);
    softmaxRowsKernel(out.data, out.rows, out.cols, out.data);
    return out;
  }

  toJSON(): RecalibratorJSON {
    const { weights, bias } = this;
    if (weights === undefined || bias === undefined) throw notFitted(this.method);
    return recalibratorJson(this.method, bias.length, {
      weights,
      bias,
      odirLambda: this.odirLambda,
      odirMu: this.odirMu,
      l2: this.l2,
    });
  }
}

/**
 * Dirichlet calibration as a {@link Recalibrator}: softmax(W · ln p + b) (see the file's doc).
 * JSON: `{ …, method: "dirichlet", weights: W (K rows of K), bias: b, odirLambda, odirMu, l2 }`.
 * @example new DirichletCalibration({ odirLambda: 1e-3, odirMu: 1e-3 }).fit(P, y).transform(P2)
 */
export class DirichletCalibration extends LinearCalibration implements Recalibrator {
  readonly method = "dirichlet" as const;
  constructor(opts: DirichletOptions = {}) {
    super(opts);
  }

  /** @throws InputError naming `where` for a bad shape, a non-finite number or a bad penalty. */
  static fromJSON(o: Record<string, unknown>, classes: number, where: string): DirichletCalibration {
    const { weights, bias, pen } = readJson(o, classes, where);
    const c = new DirichletCalibration(pen);
    c.weights = weights;
    c.bias = bias;
    return c;
  }
}

/**
 * Matrix scaling as a {@link Recalibrator}: softmax(W · z + b) on logits z (probabilities: z = ln p).
 * JSON: `{ …, method: "matrix", weights: W (K rows of K), bias: b, odirLambda, odirMu, l2 }`.
 */
export class MatrixScaling extends LinearCalibration implements Recalibrator {
  readonly method = "matrix" as const;
  constructor(opts: DirichletOptions = {}) {
    super(opts);
  }

  /** @throws InputError naming `where` for a bad shape, a non-finite number or a bad penalty. */
  static fromJSON(o: Record<string, unknown>, classes: number, where: string): MatrixScaling {
    const { weights, bias, pen } = readJson(o, classes, where);
    const c = new MatrixScaling(pen);
    c.weights = weights;
    c.bias = bias;
    return c;
  }
}
