/**
 * Vector scaling (Guo, Pleiss, Sun & Weinberger 2017, ICML, §4.2): calibrated probabilities
 * softmax(w ∘ z + b) with a per-class scale w ∈ ℝᴷ and bias b ∈ ℝᴷ, fitted by minimizing the
 * calibration set's mean NLL, optionally plus an L2 penalty toward the identity (w = 1, b = 0):
 *   J(w, b) = (1/n) Σ_i [log Σ_k exp(w_k z_ik + b_k) − w_{y_i} z_{i,y_i} − b_{y_i}]
 *             + (λ/2) (Σ_k (w_k − 1)² + Σ_k b_k²),
 *   ∂J/∂w_k = (1/n) Σ_i (q_ik − 1[y_i = k]) z_ik + λ(w_k − 1),  ∂J/∂b_k = (1/n) Σ_i (q_ik − 1[y_i = k]) + λ b_k,
 * which is convex in (w, b) (log-sum-exp of affine maps), strictly so when λ > 0. Solved by L-BFGS
 * (memory 10, Armijo backtracking) from the identity to ‖∇J‖∞ ≤ 1e-10 or 1000 iterations; every
 * step lowers J, so with λ = 0 the fitted NLL is never above the input's. With λ = 0, b is defined
 * up to a common shift (the optimizer keeps whichever one it reaches); λ > 0 picks the one nearest 0.
 *
 * Separable calibration sets (λ = 0). When some direction of (w, b) raises no row's label margin
 * and raises some, the NLL has no minimizer: the scales grow until the gradient falls below the
 * tolerance, and the "fit" is an over-confident map (fit-set NLL near its infimum, often 0;
 * held-out NLL large or infinite). Before fitting, {@link vectorScalingSeparation} decides this
 * exactly by a linear program (./separation.ts: the theorem, the LP, its tolerance); a separable
 * set is a RunError (exit 1) naming the reason and suggesting `--l2`. With λ > 0 the penalized
 * objective is strongly convex and always has a unique finite minimizer, so the fit always
 * succeeds; `lastFit.separable` still says what the unpenalized problem would have done.
 *
 * Inputs: logits, or probabilities with Z = log p — which must then be > 0 everywhere (log 0 = −∞
 * times a scale w_k is undefined for w_k ≤ 0): pass logits instead.
 */
import { InputError, RunError } from "../../errors.js";
import { softmaxNllRowKernel, softmaxRowsKernel } from "../../kernels/softmax.js";
import type { Matrix } from "../../linalg/matrix.js";
import { lbfgs } from "../../optim/lbfgs.js";
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
import { vectorScalingSeparation } from "./separation.js";

function finiteLogits(F: Matrix, logits: boolean, where: Where): Matrix {
  if (logits) return F;
  const out = new Float64Array(F.data.length);
  for (let i = 0; i < out.length; i++) {
    out[i] = Math.log(F.data[i]);
    if (out[i] === -Infinity) {
      const at = typeof where === "string" ? where : where.file;
      const r = Math.floor(i / F.cols);
      throw new InputError(
        `${at}: row ${r}, column ${i - r * F.cols}: vector scaling needs probabilities > 0 (it works on log p); got 0 — pass logits instead`,
      );
    }
  }
  return { rows: F.rows, cols: F.cols, data: out };
}

/** Kernel: softmax(w ∘ z + b) of a full n×K block. O(nK). */
export function applyVectorScaling(Z: Matrix, w: ArrayLike<number>, b: ArrayLike<number>): Matrix {
  const out = vectorScaledLogits(Z, w, b);
  softmaxRowsKernel(out.data, out.rows, out.cols, out.data);
  return out;
}

/** Kernel: the vector-scaled logits w∘z + b of a full n×K block. O(nK). */
export function vectorScaledLogits(Z: Matrix, w: ArrayLike<number>, b: ArrayLike<number>): Matrix {
  const { rows: n, cols: K, data } = Z;
  const out = new Float64Array(n * K);
  for (let i = 0, o = 0; i < n; i++, o += K)
    for (let k = 0; k < K; k++) out[o + k] = w[k] * data[o + k] + b[k];
  return { rows: n, cols: K, data: out };
}

/** Details of a {@link VectorScaling} fit. */
export interface VectorFit {
  /** Mean NLL at the identity (w = 1, b = 0): the input as given. */
  nllBefore: number;
  /** Mean NLL at the fitted (w, b) (without the penalty). */
  nllAfter: number;
  /** The minimized objective J at the fit: nllAfter + the L2 penalty (= nllAfter when λ = 0). */
  objective: number;
  /** ‖∇J‖∞ at the fit. */
  gradient: number;
  iterations: number;
  /** Whether ‖∇J‖∞ ≤ 1e-10 (or ≤ 1e-7 once no decrease of J is representable). */
  converged: boolean;
  /** The L2 strength λ toward the identity (0: none). */
  l2: number;
  /**
   * Whether the unpenalized NLL has no minimizer on this calibration set (see
   * {@link vectorScalingSeparation}); null when the set was too large to decide. With λ = 0 a fit
   * only returns when this is false or null.
   */
  separable: boolean | null;
}

/** Vector scaling as a {@link Recalibrator}. JSON: `{ …, method: "vector", scale: w, bias: b }`. */
export class VectorScaling implements Recalibrator {
  readonly method = "vector" as const;
  scale: number[] | undefined;
  bias: number[] | undefined;
  /** L2 strength λ ≥ 0 toward the identity used by {@link fit} (default 0: plain NLL). */
  readonly l2: number;
  /** Details of the last fit. */
  lastFit: VectorFit | undefined;

  /** @throws InputError when l2 is not a finite number ≥ 0. */
  constructor(scale?: number[], bias?: number[], opts: { l2?: number } = {}) {
    this.scale = scale;
    this.bias = bias;
    const l2 = opts.l2 ?? 0;
    if (!(l2 >= 0 && Number.isFinite(l2)))
      throw new InputError(`l2: expected a finite number ≥ 0; got ${l2}`);
    this.l2 = l2;
  }

  /**
   * Fits w, b on a calibration set. Cost: the separability LP (./separation.ts), then O(nK) per
   * L-BFGS iteration.
   * @throws InputError on bad input, a single-class set, or probabilities with zeros.
   * @throws RunError when λ = 0 and the set is separable (the NLL has no minimizer), e.g.
   *   `vector: vector scaling needs a non-separable calibration set; got scales and biases that raise no label's margin below another class's in any row (and raise 12 of 40), so NLL keeps decreasing as they grow — pass --l2 λ (a penalty toward the identity) or use more calibration data`.
   */
  fit(S: Matrix, y: ArrayLike<number>, opts: ScoreOptions = {}, where: Where = "vector"): this {
    const { F, K } = validateCalibrationSet(S, y, opts, where);
    const Z = finiteLogits(F, opts.logits ?? false, where);
    const n = Z.rows;
    const zd = Z.data;
    const sep = vectorScalingSeparation(Z, y);
    const lambda = this.l2;
    if (sep.separable === true && lambda === 0) {
      const at = typeof where === "string" ? where : where.file;
      const { raised, pairs } = raisedMargins(Z, y, sep.direction as Float64Array);
      throw new RunError(
        `${at}: vector scaling needs a non-separable calibration set; got scales and biases that lower no label's margin over another class in any row (and raise ${raised} of ${pairs}), so NLL keeps decreasing as they grow — pass --l2 λ (a penalty toward the identity) or use more calibration data`,
      );
    }
    const u = new Float64Array(K);
    const fg = (x: Float64Array, g: Float64Array): number => {
      g.fill(0);
      let f = 0;
      for (let i = 0, o = 0; i < n; i++, o += K) {
        for (let k = 0; k < K; k++) u[k] = x[k] * zd[o + k] + x[K + k];
        f += softmaxNllRowKernel(u, K, y[i]);
        for (let k = 0; k < K; k++) {
          g[k] += u[k] * zd[o + k];
          g[K + k] += u[k];
        }
      }
      for (let j = 0; j < 2 * K; j++) g[j] /= n;
      f /= n;
      if (lambda > 0) {
        let pen = 0;
        for (let k = 0; k < K; k++) {
          const dw = x[k] - 1;
          const db = x[K + k];
          pen += dw * dw + db * db;
          g[k] += lambda * dw;
          g[K + k] += lambda * db;
        }
        f += (lambda / 2) * pen;
      }
      return f;
    };
    const x0 = new Float64Array(2 * K);
    x0.fill(1, 0, K);
    const g0 = new Float64Array(2 * K);
    const nllBefore = fg(x0, g0);
    const r = lbfgs(
      { size: 2 * K, evaluate: (x, g) => fg(x, g!) },
      { theta0: x0, maxIter: 1000, tol: 1e-10, lineSearch: "backtracking" },
    );
    const x = r.theta;
    this.scale = Array.from(x.subarray(0, K));
    this.bias = Array.from(x.subarray(K));
    let penalty = 0;
    for (let k = 0; k < K; k++) penalty += (x[k] - 1) ** 2 + x[K + k] ** 2;
    this.lastFit = {
      nllBefore,
      nllAfter: lambda > 0 ? r.objective - (lambda / 2) * penalty : r.objective,
      objective: r.objective,
      gradient: r.gradMaxAbs,
      iterations: r.iterations,
      converged: r.converged,
      l2: lambda,
      separable: sep.separable,
    };
    return this;
  }

  transform(S: Matrix, opts: ScoreOptions = {}, where: Where = "vector"): Matrix {
    if (this.scale === undefined || this.bias === undefined) throw notFitted(this.method);
    const F = validateTransformInput(S, this.scale.length, opts, where);
    return applyVectorScaling(finiteLogits(F, opts.logits ?? false, where), this.scale, this.bias);
  }

  transformLogits(S: Matrix, opts: ScoreOptions = {}, where: Where = "vector"): Matrix {
    if (this.scale === undefined || this.bias === undefined) throw notFitted(this.method);
    const F = validateTransformInput(S, this.scale.length, opts, where);
    return vectorScaledLogits(finiteLogits(F, opts.logits ?? false, where), this.scale, this.bias);
  }

  toJSON(): RecalibratorJSON {
    if (this.scale === undefined || this.bias === undefined) throw notFitted(this.method);
    return recalibratorJson(this.method, this.scale.length, { scale: this.scale, bias: this.bias });
  }

  static fromJSON(o: Record<string, unknown>, classes: number, where: string): VectorScaling {
    return new VectorScaling(jsonNumbers(o, "scale", where, classes), jsonNumbers(o, "bias", where, classes));
  }
}

/** How many label margins direction d raises (> 0), of all n·(K − 1) (for the RunError's text). */
function raisedMargins(Z: Matrix, y: ArrayLike<number>, d: Float64Array): { raised: number; pairs: number } {
  const { rows: n, cols: K, data } = Z;
  let raised = 0;
  for (let i = 0, o = 0; i < n; i++, o += K) {
    const yi = y[i];
    for (let k = 0; k < K; k++) {
      if (k !== yi && d[yi] * data[o + yi] + d[K + yi] - d[k] * data[o + k] - d[K + k] > 0) raised++;
    }
  }
  return { raised, pairs: n * (K - 1) };
}
