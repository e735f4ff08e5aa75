/**
 * Vector scaling (Guo, Pleiss, Sun & Weinberger 2017, ICML, §4.2): calibrated probabilities
 * softmax(w ∘ z + b) with a per-class scale w ∈ ℝᴷ and bias b ∈ ℝᴷ, fitted by minimizing the
 * calibration set's mean NLL
 *   L(w, b) = (1/n) Σ_i [log Σ_k exp(w_k z_ik + b_k) − w_{y_i} z_{i,y_i} − b_{y_i}],
 *   ∂L/∂w_k = (1/n) Σ_i (q_ik − 1[y_i = k]) z_ik,  ∂L/∂b_k = (1/n) Σ_i (q_ik − 1[y_i = k]),
 * which is convex in (w, b) (log-sum-exp of affine maps). Solved by L-BFGS (memory 10, Armijo
 * backtracking) from the identity w = 1, b = 0 to ‖∇L‖∞ ≤ 1e-10 or 1000 iterations; every step
 * lowers L, so the fitted NLL is never above the input's. b is defined up to a common shift (the
 * optimizer keeps whichever one it reaches). Separable data have no minimizer: w grows until the
 * gradient falls below the tolerance, so the fit ends `converged: true` with a training NLL near 0
 * (e.g. 8e-11 after 32 iterations) — an over-confident map, visible in `lastFit.nllAfter`.
 *
 * Inputs: logits, or probabilities with Z = log p — which must then be > 0 everywhere (log 0 = −∞
 * times a scale w_k is undefined for w_k ≤ 0): pass logits instead.
 */
import { InputError } from "../../errors.js";
import type { Matrix } from "../../linalg/matrix.js";
import { softmaxRowsKernel } from "../../linalg/softmax.js";
import { lbfgs } from "../_internals/lbfgs.js";
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

/** Vector scaling as a {@link Recalibrator}. JSON: `{ …, method: "vector", scale: w, bias: b }`. */
export class VectorScaling implements Recalibrator {
  readonly method = "vector" as const;
  scale: number[] | undefined;
  bias: number[] | undefined;
  /** Details of the last fit. */
  lastFit: { nllBefore: number; nllAfter: number; iterations: number; converged: boolean } | undefined;

  constructor(scale?: number[], bias?: number[]) {
    this.scale = scale;
    this.bias = bias;
  }

  /**
   * Fits w, b on a calibration set. Cost O(nK) per L-BFGS iteration.
   * @throws InputError on bad input, a single-class set, or probabilities with zeros.
   */
  fit(S: Matrix, y: ArrayLike<number>, opts: ScoreOptions = {}, where: Where = "vector"): this {
    const { F, K } = validateCalibrationSet(S, y, opts, where);
    const Z = finiteLogits(F, opts.logits ?? false, where);
    const n = Z.rows;
    const zd = Z.data;
    const u = new Float64Array(K);
    const fg = (x: Float64Array, g: Float64Array): number => {
      g.fill(0);
      let f = 0;
      for (let i = 0, o = 0; i < n; i++, o += K) {
        let mx = -Infinity;
        for (let k = 0; k < K; k++) {
          u[k] = x[k] * zd[o + k] + x[K + k];
          if (u[k] > mx) mx = u[k];
        }
        let s = 0;
        for (let k = 0; k < K; k++) {
          u[k] = Math.exp(u[k] - mx);
          s += u[k];
        }
        const yi = y[i];
        f += mx + Math.log(s) - (x[yi] * zd[o + yi] + x[K + yi]);
        for (let k = 0; k < K; k++) {
          const r = u[k] / s - (k === yi ? 1 : 0);
          g[k] += r * zd[o + k];
          g[K + k] += r;
        }
      }
      for (let j = 0; j < 2 * K; j++) g[j] /= n;
      return f / n;
    };
    const x0 = new Float64Array(2 * K);
    x0.fill(1, 0, K);
    const g0 = new Float64Array(2 * K);
    const nllBefore = fg(x0, g0);
    const r = lbfgs(fg, x0, { maxIter: 1000, gtol: 1e-10 });
    this.scale = Array.from(r.x.subarray(0, K));
    this.bias = Array.from(r.x.subarray(K));
    this.lastFit = { nllBefore, nllAfter: r.f, iterations: r.iterations, converged: r.converged };
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
