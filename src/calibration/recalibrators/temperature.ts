/**
 * Temperature scaling (Guo, Pleiss, Sun & Weinberger 2017, "On Calibration of Modern Neural
 * Networks", ICML, §4.2): calibrated probabilities softmax(z / T) with one scalar T > 0 fitted by
 * minimizing the calibration set's NLL.
 *
 * Solver. With β = 1/T, NLL(β) = (1/n) Σ_i [log Σ_k exp(β z_ik) − β z_{i,y_i}] is convex in β:
 * NLL′(β) = (1/n) Σ_i (E_{softmax(βz_i)}[z_i] − z_{i,y_i}) and NLL″(β) = (1/n) Σ_i Var_{softmax(βz_i)}[z_i] ≥ 0.
 * - NLL′(0⁺) = (1/n) Σ_i (mean_k z_ik − z_{i,y_i}). If it is ≥ 0 the minimum over β > 0 is not
 *   attained at any finite T > 0 (the optimum is at β ≤ 0: worse-than-chance logits) ⇒ RunError.
 * - NLL′(∞) = (1/n) Σ_i (max_k z_ik − z_{i,y_i}) ≥ 0, and = 0 exactly when every label attains its
 *   row's maximum logit: separable data, NLL keeps decreasing as T → 0 ⇒ RunError.
 * - Otherwise the root β* of NLL′ is unique; it is found by Halley's method on β (NLL‴, the mean
 *   third central moment, costs no extra exp; src/optim/root1d.ts), falling back to Newton's step and then to bisection
 *   (geometric, or ÷4/×4 while a side of the bracket [lo, hi] is open) whenever a step leaves the
 *   bracket, until |dNLL/dlog T| = |β·NLL′(β)| ≤ 1e-11 or the bracket collapses to
 *   a few ulps. Each iteration is one O(nK) pass with n·K exps, on the WebAssembly SIMD kernel
 *   when available (src/kernels/temperatureWasm.ts; else the TypeScript `nllDerivatives`). On large
 *   sets (n ≥ 4096) the first step is refined on a ~1024-row subsample first, which lands within
 *   its sampling error of β* and saves a full pass or more; 10k×10 logits take 1–2 ms.
 *
 * Conventions.
 * - Binary logits given as one column z mean logits (0, z), i.e. p₁ = sigmoid(z / T). scikit-learn
 *   and some papers use (−z, z) for a decision value z, which is sigmoid(2z / T′): their T′ = 2T.
 * - Probabilities are turned into logits Z = log p. A class with p = 0 gets logit −∞, which stays
 *   probability 0 at every T (fine); but if a *label's* probability is 0 the NLL is +∞ for every T
 *   ⇒ RunError naming the row.
 */
import { InputError, RunError } from "../../errors.js";
import { softmaxRowsKernel } from "../../kernels/softmax.js";
import { temperaturePasses } from "../../kernels/temperature.js";
import type { Matrix } from "../../linalg/matrix.js";
import { increasingRoot } from "../../optim/root1d.js";
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

/** The result of {@link temperatureScale}. */
export interface TemperatureFit {
  /** T* > 0. */
  temperature: number;
  /** β* = 1/T*. */
  beta: number;
  /** NLL at T = 1 (the input as given). */
  nllBefore: number;
  /** NLL at T*. */
  nllAfter: number;
  /** dNLL/dlog T at T* (≈ 0). */
  gradient: number;
  /** Halley/Newton/bisection steps taken (evaluations − 1). */
  iterations: number;
  /** Whether |dNLL/dlog T| ≤ 1e-11 (or the bracket collapsed to floating-point resolution). */
  converged: boolean;
}

/**
 * Fits the temperature T* = argmin_{T>0} NLL(softmax(Z/T)) on a calibration set.
 * S: n×K logits (`{ logits: true }`) or probabilities (then Z = log p); n×1 = binary (0, z).
 * @throws InputError on bad input (see validatePredictions) or a single-class calibration set.
 * @throws RunError for separable data (T → 0), worse-than-chance logits (optimum at β ≤ 0), or a
 *   label with probability 0.
 * Cost O(nK) per iteration, typically 4–10 iterations.
 * @example temperatureScale(fromRows([[0, 2], [0, 2], [0, 2], [0, 2]]), Int32Array.of(1, 1, 1, 0), { logits: true }).temperature
 *   // 1.8204784532536746 = 2 / log 3 (sigmoid(2/T) = 3/4, the observed frequency)
 */
export function temperatureScale(
  S: Matrix,
  y: ArrayLike<number>,
  opts: ScoreOptions = {},
  where: Where = "temperature",
): TemperatureFit {
  const { F: F0 } = validateCalibrationSet(S, y, opts, where);
  const F1 = opts.logits ? F0 : logOf(F0);
  // Logit spreads far from 1 (e.g. ±1e308, whose differences and squares overflow; or 3e4, where
  // β = 1 is deep in saturation) are solved on
  // (z − max z)/c for a power of two c: softmax(z/T) = softmax(z′/(T/c)), so T* = c·T′*.
  const c = logitRescale(F1);
  const F = c === 1 ? F1 : shiftedScaled(F1, c);
  const passes = temperaturePasses(F, y, where);
  const at = typeof where === "string" ? where : where.file;
  // NLL′ at β → 0⁺ and β → ∞.
  const g0 = passes.slopeAtZero;
  const gInf = passes.slopeAtInfinity;
  if (!(g0 < 0)) {
    throw new RunError(
      gInf === 0
        ? `${at}: temperature scaling needs informative logits; got logits equal within every row (NLL is the same for every T)`
        : `${at}: temperature scaling needs better-than-chance logits; got dNLL/dβ = ${g0} ≥ 0 at β = 1/T = 0, so the optimum is at β ≤ 0 (T ≤ 0 or T = ∞) — check that the columns are in class order and match the labels`,
    );
  }
  if (gInf === 0) {
    throw new RunError(
      `${at}: temperature scaling needs a non-separable calibration set; got every label at its row's largest logit, so NLL keeps decreasing as T → 0 — use more calibration data`,
    );
  }
  const before = passes.at(1);
  const { x: beta, last, iterations, converged } = increasingRoot(passes.at, passes.subsample, 1, before);
  if (c === 1) {
    return {
      temperature: 1 / beta,
      beta,
      nllBefore: before.f,
      nllAfter: last.f,
      gradient: -beta * last.g,
      iterations,
      converged,
    };
  }
  const temperature = c / beta;
  if (!(temperature > 0 && temperature < Infinity)) {
    throw new RunError(
      `${at}: temperature scaling needs a temperature within the floating-point range; got T* = 2^${Math.log2(c)} / ${beta} (${temperature}) for logits whose largest in-row spread is at least 2^${Math.log2(c) + 1} — rescale the logits`,
    );
  }
  return {
    temperature,
    beta: beta / c,
    nllBefore: meanLogitNll(F1, y),
    nllAfter: last.f,
    gradient: -beta * last.g,
    iterations,
    converged,
  };
}

/**
 * Row spreads (max − min of the finite logits) beyond which {@link temperatureScale} rescales.
 * Above ~2⁹ the solver's start β = 1 sits deep in saturation (NLL″ ≈ 1e-168 at a spread of 3e4):
 * Halley's steps there are tiny and 200 of them did not reach β* (a 20-row sample scaled by 256
 * ended at "converged: false"); below 2⁻¹⁶ β* is so large that the ×4 bracket expansion spends
 * its steps getting there.
 */
const RESCALE_ABOVE = 2 ** 9;
const RESCALE_BELOW = 2 ** -16;

/**
 * The power of two c that brings the largest in-row spread of the finite logits into [2, 4) when
 * that spread lies outside [2⁻¹⁶, 2⁹], else 1 (the logits are used as given, so results on
 * ordinary logits stay bit-identical). Spreads are computed from halves (max/2 − min/2), which do
 * not overflow for logits near ±1.8e308.
 */
function logitRescale(F: Matrix): number {
  const { rows: n, cols: K, data } = F;
  let half = 0;
  for (let i = 0, o = 0; i < n; i++, o += K) {
    let hi = -Infinity;
    let lo = Infinity;
    for (let k = 0; k < K; k++) {
      const v = data[o + k];
      if (v === -Infinity) continue;
      if (v > hi) hi = v;
      if (v < lo) lo = v;
    }
    if (hi / 2 - lo / 2 > half) half = hi / 2 - lo / 2;
  }
  if (half === 0 || (2 * half >= RESCALE_BELOW && 2 * half <= RESCALE_ABOVE)) return 1;
  return 2 ** Math.floor(Math.log2(half)); // ≤ 2^1023 (half ≤ 1.8e308): finite
}

/** (z − max_k z)/c per row, computed as (z/2 − max/2)/(c/2) so nothing overflows; −∞ stays −∞. */
function shiftedScaled(F: Matrix, c: number): Matrix {
  const { rows: n, cols: K, data } = F;
  const out = new Float64Array(n * K);
  const h = c / 2;
  for (let i = 0, o = 0; i < n; i++, o += K) {
    let hi = data[o];
    for (let k = 1; k < K; k++) if (data[o + k] > hi) hi = data[o + k];
    for (let k = 0; k < K; k++) out[o + k] = (data[o + k] / 2 - hi / 2) / h;
  }
  return { rows: n, cols: K, data: out };
}

/** Mean NLL at T = 1 by log-sum-exp (z − max may round to −∞: that term is then 0, as it should be). */
function meanLogitNll(F: Matrix, y: ArrayLike<number>): number {
  const { rows: n, cols: K, data } = F;
  let f = 0;
  for (let i = 0, o = 0; i < n; i++, o += K) {
    let hi = data[o];
    for (let k = 1; k < K; k++) if (data[o + k] > hi) hi = data[o + k];
    let z = 0;
    for (let k = 0; k < K; k++) z += Math.exp(data[o + k] - hi);
    f += hi + Math.log(z) - data[o + y[i]];
  }
  return f / n;
}

/** log of a full probability block (p = 0 ⇒ −∞). */
function logOf(P: Matrix): Matrix {
  const out = new Float64Array(P.data.length);
  for (let i = 0; i < out.length; i++) out[i] = Math.log(P.data[i]);
  return { rows: P.rows, cols: P.cols, data: out };
}

/**
 * Kernel: softmax(Z / T) of a full n×K logit block (−∞ logits allowed when each row has a finite
 * maximum). O(nK).
 */
export function applyTemperature(F: Matrix, T: number): Matrix {
  const out = new Float64Array(F.data.length);
  const inv = 1 / T;
  // 1/T loses precision (subnormal) or overflows for T beyond ~4e307 or below ~5e-309: divide then.
  if (inv >= 2 ** -1022 && inv < Infinity) for (let i = 0; i < out.length; i++) out[i] = F.data[i] * inv;
  else for (let i = 0; i < out.length; i++) out[i] = F.data[i] / T;
  softmaxRowsKernel(out, F.rows, F.cols, out);
  return { rows: F.rows, cols: F.cols, data: out };
}

/** Temperature scaling as a {@link Recalibrator}. JSON: `{ …, method: "temperature", temperature }`. */
export class TemperatureScaling implements Recalibrator {
  readonly method = "temperature" as const;
  temperature: number | undefined;
  classes: number | undefined;
  /** Details of the last fit (iterations, convergence, NLL before/after). */
  lastFit: TemperatureFit | undefined;

  constructor(temperature?: number, classes?: number) {
    this.temperature = temperature;
    this.classes = classes;
  }

  fit(S: Matrix, y: ArrayLike<number>, opts: ScoreOptions = {}, where: Where = "temperature"): this {
    const r = temperatureScale(S, y, opts, where);
    this.temperature = r.temperature;
    this.classes = S.cols === 1 ? 2 : S.cols;
    this.lastFit = r;
    return this;
  }

  transform(S: Matrix, opts: ScoreOptions = {}, where: Where = "temperature"): Matrix {
    if (this.temperature === undefined || this.classes === undefined) throw notFitted(this.method);
    const F = validateTransformInput(S, this.classes, opts, where);
    return applyTemperature(opts.logits ? F : logOf(F), this.temperature);
  }

  transformLogits(S: Matrix, opts: ScoreOptions = {}, where: Where = "temperature"): Matrix {
    if (this.temperature === undefined || this.classes === undefined) throw notFitted(this.method);
    const F = validateTransformInput(S, this.classes, opts, where);
    const Z = opts.logits ? F : logOf(F);
    const T = this.temperature;
    const inv = 1 / T;
    const exact = inv >= 2 ** -1022 && inv < Infinity;
    return { rows: Z.rows, cols: Z.cols, data: Z.data.map((z) => (exact ? z * inv : z / T)) };
  }

  toJSON(): RecalibratorJSON {
    if (this.temperature === undefined || this.classes === undefined) throw notFitted(this.method);
    return recalibratorJson(this.method, this.classes, { temperature: this.temperature });
  }

  /** From {@link toJSON}'s output (already checked for format/method/classes by the registry). */
  static fromJSON(o: Record<string, unknown>, classes: number, where: string): TemperatureScaling {
    const T = jsonNumber(o, "temperature", where);
    if (!(T > 0)) throw new InputError(`${where}: expected "temperature" > 0; got ${T}`);
    return new TemperatureScaling(T, classes);
  }
}
