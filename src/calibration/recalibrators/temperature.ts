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
 *   when available (src/kernels/wasmTemperature.ts; else the TypeScript `nllDerivatives`). On large
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
import { MAX_WASM_BYTES, wasmUnavailableReason } from "../../kernels/wasmModule.js";
import {
  type MomentSums,
  wasmTemperatureBytes,
  wasmTemperaturePrepare,
} from "../../kernels/wasmTemperature.js";
import type { Matrix } from "../../linalg/matrix.js";
import { softmaxRowsKernel } from "../../linalg/softmax.js";
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

/** Per-row shifted logits s_ik = z_ik − max_k z_ik (≤ 0, may be −∞) and s_{i,y_i}. */
function shiftedLogits(F: Matrix, y: ArrayLike<number>, where: Where): { s: Float64Array; sy: Float64Array } {
  const { rows: n, cols: K, data } = F;
  const s = new Float64Array(n * K);
  const sy = new Float64Array(n);
  for (let i = 0, o = 0; i < n; i++, o += K) {
    let mx = data[o];
    for (let k = 1; k < K; k++) if (data[o + k] > mx) mx = data[o + k];
    for (let k = 0; k < K; k++) s[o + k] = data[o + k] - mx;
    sy[i] = s[o + y[i]];
    if (sy[i] === -Infinity) throw labelProbabilityZero(where, i);
  }
  return { s, sy };
}

function labelProbabilityZero(where: Where, i: number): RunError {
  const at = typeof where === "string" ? where : where.file;
  return new RunError(
    `${at}: temperature scaling needs p(label) > 0 in every row; got p = 0 for the label at row ${i} (NLL is +Infinity for every T)`,
  );
}

/** NLL(β) = f and its derivatives g = NLL′, h = NLL″, t = NLL‴ (all means over rows). */
export interface NllDerivatives {
  f: number;
  g: number;
  h: number;
  t: number;
}

/**
 * Kernel (the reference, and the fallback when WebAssembly is unavailable): NLL(β) and its first
 * three derivatives over shifted logits (−∞ entries have weight 0 for β > 0): NLL′ = mean(E[s] − s_y),
 * NLL″ = mean Var[s], NLL‴ = mean of the third central moment of s under softmax(βs). O(nK), n·K exps.
 * @example nllDerivatives(Float64Array.of(0, -2, 0, -2), Float64Array.of(0, -2), 2, 2, 1)
 *   // { f: 1.1269280110429727, g: 0.7615941559557649, h: 0.419974341614026, t: -0.6397000084492245 }
 */
export function nllDerivatives(
  s: Float64Array,
  sy: Float64Array,
  n: number,
  K: number,
  beta: number,
): NllDerivatives {
  let f = 0;
  let g = 0;
  let h = 0;
  let t = 0;
  for (let i = 0, o = 0; i < n; i++, o += K) {
    let z = 0;
    let m1 = 0;
    let m2 = 0;
    let m3 = 0;
    for (let k = 0; k < K; k++) {
      const v = s[o + k];
      if (v === -Infinity) continue;
      const w = Math.exp(beta * v);
      const wv = w * v;
      const wv2 = wv * v;
      z += w;
      m1 += wv;
      m2 += wv2;
      m3 += wv2 * v;
    }
    const e1 = m1 / z;
    const e2 = m2 / z;
    f += Math.log(z) - beta * sy[i];
    g += e1 - sy[i];
    h += e2 - e1 * e1;
    t += m3 / z - 3 * e1 * e2 + 2 * e1 * e1 * e1;
  }
  return { f: f / n, g: g / n, h: Math.max(h / n, 0), t: t / n };
}

/** A calibration set prepared for the solver (see {@link temperaturePasses}). */
export interface TemperaturePasses {
  /** NLL′ at β → 0⁺: mean_i (mean_k s_ik − s_{i,y_i}), over finite s_ik. */
  slopeAtZero: number;
  /** NLL′ at β → ∞: −mean_i s_{i,y_i} (≥ 0). */
  slopeAtInfinity: number;
  /** NLL(β), NLL′, NLL″, NLL‴ over all n rows (β > 0). O(nK), n·K exps. */
  at(beta: number): NllDerivatives;
  /**
   * The same over a fixed subsample of about 1024 rows (every stride-th row pair), or null (small
   * sets, or the plain-TypeScript kernel): a cheap first estimate of β*.
   */
  subsample: ((beta: number) => NllDerivatives) | null;
}

/** Rows (pairs × 2) the subsample aims at; it is used only when n ≥ 4 × this. */
const SUBSAMPLE_PAIRS = 512;

/**
 * Kernel: shifts each row of the n×K logits F by its maximum and returns the solver's passes —
 * on the WebAssembly SIMD kernel (src/kernels/wasmTemperature.ts: the same per-row arithmetic as
 * {@link nllDerivatives}, rows summed in another order, so the two agree to the rounding of the
 * sums) when `kernel` is "wasm", or "auto" (default) and wasm is available; else on
 * {@link nllDerivatives}. The slopes at 0⁺ and ∞ are bit-identical on both kernels.
 * @throws RunError when a label's logit is −∞ (probability 0); Error for kernel "wasm" when the
 *   wasm kernels are unavailable.
 * Cost: O(nK) once, then O(nK) per `at` (spread over threads for ≥ 50 000 logits).
 * @example const p = temperaturePasses(fromRows([[0, 2], [0, 2], [0, 2], [0, 2]]), [1, 1, 1, 0]);
 *   p.slopeAtZero // -0.5
 *   p.at(1).g // 0.2615941559557649 (NLL′ at T = 1; > 0, so T* > 1)
 */
export function temperaturePasses(
  F: Matrix,
  y: ArrayLike<number>,
  where: Where = "temperature",
  kernel: "auto" | "wasm" | "js" = "auto",
): TemperaturePasses {
  const { rows: n, cols: K } = F;
  // Logits beyond the wasm kernel's 2 GiB of memory go to the TypeScript passes (same arithmetic).
  const tooLarge = wasmTemperatureBytes(n, K) > MAX_WASM_BYTES;
  if (kernel === "wasm" && tooLarge) {
    throw new InputError(
      `${where}: expected logits that fit the wasm kernel's ${MAX_WASM_BYTES / 2 ** 30} GiB of memory; got ${n} rows × ${K} classes — use the js kernel`,
    );
  }
  if (kernel === "js" || (kernel === "auto" && (tooLarge || wasmUnavailableReason() !== null))) {
    const { s, sy } = shiftedLogits(F, y, where);
    let g0 = 0;
    let gInf = 0;
    for (let i = 0, o = 0; i < n; i++, o += K) {
      let m = 0;
      let c = 0;
      for (let k = 0; k < K; k++) {
        if (s[o + k] === -Infinity) continue;
        m += s[o + k];
        c++;
      }
      g0 += m / c - sy[i];
      gInf -= sy[i];
    }
    return {
      slopeAtZero: g0 / n,
      slopeAtInfinity: gInf / n,
      at: (beta) => nllDerivatives(s, sy, n, K, beta),
      subsample: null,
    };
  }
  const w = wasmTemperaturePrepare(F.data, y, n, K);
  if (w.badRow >= 0) throw labelProbabilityZero(where, w.badRow);
  const sumY = -w.slopeAtInfinity;
  const derivatives = (r: MomentSums, beta: number, m: number, sY: number): NllDerivatives => ({
    f: (r.logZ - beta * sY) / m,
    g: (r.mean - sY) / m,
    h: Math.max(r.variance / m, 0),
    t: r.third / m,
  });
  const stride = Math.floor(w.nPairs / SUBSAMPLE_PAIRS);
  let subsample: TemperaturePasses["subsample"] = null;
  if (stride >= 4) {
    // The subsample's rows and Σ s_y (its labels' shifted logits).
    const { data } = F;
    let rows = 0;
    let sY = 0;
    for (let p = 0; p < w.nPairs; p += stride) {
      for (let i = 2 * p; i < Math.min(2 * p + 2, n); i++) {
        const o = i * K;
        let mx = data[o];
        for (let k = 1; k < K; k++) if (data[o + k] > mx) mx = data[o + k];
        sY += data[o + y[i]] - mx;
        rows++;
      }
    }
    subsample = (beta) => derivatives(w.subsample(beta, stride), beta, rows, sY);
  }
  return {
    slopeAtZero: w.slopeAtZero / n,
    slopeAtInfinity: w.slopeAtInfinity / n,
    at: (beta) => derivatives(w.at(beta), beta, n, sumY),
    subsample,
  };
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
