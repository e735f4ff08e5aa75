/**
 * Platt scaling, binary only (Platt 1999, "Probabilistic outputs for support vector machines and
 * comparisons to regularized likelihood methods", in Advances in Large Margin Classifiers):
 * p₁ = sigmoid(a·f + b) for a score f, with (a, b) minimizing the cross-entropy
 *   F(a, b) = Σ_i softplus(u_i) − t_i u_i,  u_i = a f_i + b,
 * against targets t_i. Platt writes 1/(1 + exp(A f + B)), i.e. A = −a, B = −b.
 *
 * Target smoothing (Platt's, the default, as scikit-learn does): t_i = (N₊ + 1)/(N₊ + 2) for
 * positives and 1/(N₋ + 2) for negatives (a MAP estimate under a uniform prior on each label's
 * probability — it keeps the fit finite on separable data). With `targetSmoothing: false`,
 * t_i = y_i: plain maximum likelihood (logistic regression on f), which has no minimizer on
 * separable data: a grows until the gradient (≈ e^{−a·margin}) falls below the stopping tolerance,
 * so the fit ends `converged: true` with a large slope (e.g. a ≈ 27 after 28 steps on a set with
 * margin ~1) — check `a` (or use the default smoothing), not `converged`, for separation.
 *
 * Solver: Newton's method with backtracking (src/optim/newton2.ts; Lin, Lin & Weng 2007, "A note
 * on Platt's probabilistic outputs for support vector machines", Machine Learning 68), started at a = 0,
 * b = log((N₊ + 1)/(N₋ + 1)), stopped when the mean gradient's max-norm is ≤ 1e-12 or after 100
 * iterations. F is convex, every step decreases it.
 *
 * Score f: a one-column logit z (f = z); two-column logits (f = z₁ − z₀); probabilities
 * f = log p₁ − log p₀ (which must be finite at fit time: p ∈ {0, 1} ⇒ InputError, pass logits).
 */
import { InputError } from "../../errors.js";
import { sigmoid, softplus } from "../../kernels/sigmoid.js";
import type { Matrix } from "../../linalg/matrix.js";
import { type Derivatives2, dampedNewton2 } from "../../optim/newton2.js";
import type { ScoreOptions } from "../scores.js";
import type { Where } from "../validate.js";
import {
  jsonNumber,
  notFitted,
  type Recalibrator,
  type RecalibratorJSON,
  recalibratorJson,
  validateCalibrationSet,
  validateTransformInput,
} from "./recalibrator.js";

/** Options of {@link PlattScaling}. */
export interface PlattOptions {
  /** Platt's target smoothing (default true). */
  targetSmoothing?: boolean;
}

/** Kernel: the score f of each row of a full n×2 block (logits or probabilities). */
function scores(F: Matrix, logits: boolean): Float64Array {
  const f = new Float64Array(F.rows);
  for (let i = 0; i < F.rows; i++) {
    f[i] = logits ? F.data[2 * i + 1] - F.data[2 * i] : Math.log(F.data[2 * i + 1]) - Math.log(F.data[2 * i]);
  }
  return f;
}

function requireBinary(K: number, where: Where): void {
  if (K !== 2) {
    const at = typeof where === "string" ? where : where.file;
    throw new InputError(
      `${at}: Platt scaling is binary-only: expected 1 or 2 score columns; got ${K} classes — use temperature or vector scaling`,
    );
  }
}

/** Platt scaling as a {@link Recalibrator}. JSON: `{ …, method: "platt", a, b, targetSmoothing }`. */
export class PlattScaling implements Recalibrator {
  readonly method = "platt" as const;
  readonly targetSmoothing: boolean;
  a: number | undefined;
  b: number | undefined;
  lastFit: { iterations: number; converged: boolean } | undefined;

  constructor(opts: PlattOptions = {}, a?: number, b?: number) {
    this.targetSmoothing = opts.targetSmoothing ?? true;
    this.a = a;
    this.b = b;
  }

  /** Fits (a, b). Cost O(n) per Newton iteration. @throws InputError on bad input, K ≠ 2, a single class, or infinite scores. */
  fit(S: Matrix, y: ArrayLike<number>, opts: ScoreOptions = {}, where: Where = "platt"): this {
    requireBinary(S.cols === 1 ? 2 : S.cols, where);
    const { F } = validateCalibrationSet(S, y, opts, where);
    const f = scores(F, opts.logits ?? false);
    const n = f.length;
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(f[i])) {
        const at = typeof where === "string" ? where : where.file;
        throw new InputError(
          `${at}: row ${i}: Platt scaling needs probabilities strictly inside (0, 1); got ${F.data[2 * i + 1]} — pass logits instead`,
        );
      }
    }
    let nPos = 0;
    for (let i = 0; i < n; i++) if (y[i] === 1) nPos++;
    const nNeg = n - nPos;
    const tPos = this.targetSmoothing ? (nPos + 1) / (nPos + 2) : 1;
    const tNeg = this.targetSmoothing ? 1 / (nNeg + 2) : 0;
    const obj = (a: number, b: number): number => {
      let s = 0;
      for (let i = 0; i < n; i++) {
        const u = a * f[i] + b;
        s += softplus(u) - (y[i] === 1 ? tPos : tNeg) * u;
      }
      return s / n;
    };
    /** Mean gradient and Hessian of F/n at (a, b); the Hessian's sums start at 1e-12 (kept invertible). */
    const derivatives = (a: number, b: number): Derivatives2 => {
      let ga = 0;
      let gb = 0;
      let haa = 1e-12;
      let hab = 0;
      let hbb = 1e-12;
      for (let i = 0; i < n; i++) {
        const p = sigmoid(a * f[i] + b);
        const r = p - (y[i] === 1 ? tPos : tNeg);
        const w = p * (1 - p);
        ga += r * f[i];
        gb += r;
        haa += w * f[i] * f[i];
        hab += w * f[i];
        hbb += w;
      }
      return { ga: ga / n, gb: gb / n, haa: haa / n, hab: hab / n, hbb: hbb / n };
    };
    const b0 = Math.log((nPos + 1) / (nNeg + 1));
    const { a, b, iterations, converged } = dampedNewton2(obj, derivatives, 0, b0, obj(0, b0), {
      gtol: 1e-12,
      maxIter: 100,
      minStep: 1e-10,
    });
    this.a = a;
    this.b = b;
    this.lastFit = { iterations, converged };
    return this;
  }

  transform(S: Matrix, opts: ScoreOptions = {}, where: Where = "platt"): Matrix {
    if (this.a === undefined || this.b === undefined) throw notFitted(this.method);
    requireBinary(S.cols === 1 ? 2 : S.cols, where);
    const F = validateTransformInput(S, 2, opts, where);
    const f = scores(F, opts.logits ?? false);
    const out = new Float64Array(2 * f.length);
    for (let i = 0; i < f.length; i++) {
      // f = ±∞ (a probability of exactly 0 or 1) maps to the limit of the sigmoid.
      const u = Number.isFinite(f[i]) ? this.a * f[i] + this.b : this.a === 0 ? this.b : this.a * f[i];
      const q = sigmoid(u);
      out[2 * i] = 1 - q;
      out[2 * i + 1] = q;
    }
    return { rows: f.length, cols: 2, data: out };
  }

  toJSON(): RecalibratorJSON {
    if (this.a === undefined || this.b === undefined) throw notFitted(this.method);
    return recalibratorJson(this.method, 2, { a: this.a, b: this.b, targetSmoothing: this.targetSmoothing });
  }

  static fromJSON(o: Record<string, unknown>, where: string): PlattScaling {
    const ts = o["targetSmoothing"];
    if (typeof ts !== "boolean") {
      throw new InputError(
        `${where}: expected "targetSmoothing" to be true or false; got ${JSON.stringify(ts)}`,
      );
    }
    return new PlattScaling({ targetSmoothing: ts }, jsonNumber(o, "a", where), jsonNumber(o, "b", where));
  }
}
