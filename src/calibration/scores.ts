/**
 * Proper scores and accuracy of probabilistic predictions: accuracy, negative log-likelihood,
 * Brier score and its binned Murphy decomposition.
 *
 * Inputs: scores S (n×K probabilities, or logits with `{ logits: true }`; a single column is binary:
 * probabilities [1 − p, p], logits (0, z)) and labels y ∈ 0..K−1.
 */
import { argmaxKernel } from "../kernels/argmax.js";
import { logSumExpKernel, softmaxRowsKernel } from "../kernels/softmax.js";
import type { Matrix } from "../linalg/matrix.js";
import { type BinOptions, binStatistics, classView, resolveBinOptions } from "./bins.js";
import { validatePredictions, type Where } from "./validate.js";

/** Whether scores are logits (default: probabilities). */
export interface ScoreOptions {
  /** The scores are logits (default false: probabilities). */
  logits?: boolean;
}

/** Kernel: probabilities of a full n×K score block (softmax of logits, or the block itself). */
export function toProbabilities(S: Matrix, logits: boolean): Matrix {
  if (!logits) return S;
  const out = new Float64Array(S.data.length);
  softmaxRowsKernel(S.data, S.rows, S.cols, out);
  return { rows: S.rows, cols: S.cols, data: out };
}

/**
 * Accuracy: `(1/n) Σ_i 1[argmax_k s_ik = y_i]`, argmax ties → lowest index (so a binary p = 0.5
 * or z = 0 predicts class 0). Works on probabilities or logits (same argmax; a single column is
 * expanded first). @throws InputError on bad input. Cost O(nK).
 * @example accuracy(fromRows([[0.5, 0.5], [0.1, 0.9]]), Int32Array.of(0, 0)) // 0.5
 */
export function accuracy(
  S: Matrix,
  y: ArrayLike<number>,
  opts: ScoreOptions = {},
  where: Where = "accuracy",
): number {
  const { S: F, K } = validatePredictions(S, y, opts, where);
  let c = 0;
  for (let i = 0; i < F.rows; i++) if (argmaxKernel(F.data, i * K, K) === y[i]) c++;
  return c / F.rows;
}

/**
 * Mean negative log-likelihood (log loss, natural log): `(1/n) Σ_i −log p(y_i | i)`.
 * From logits: `log Σ_k exp z_ik − z_{i,y_i}` (stable log-sum-exp, never log(softmax + ε)).
 * From probabilities: `−log p_{i,y_i}`, which is `+Infinity` when p_{i,y_i} = 0 — no clipping
 * (scikit-learn's log_loss clips at ε; softcal reports the true value). @throws InputError. Cost O(nK).
 * @example nll(fromRows([[0, 0]]), Int32Array.of(1), { logits: true }) // 0.6931471805599453
 */
export function nll(S: Matrix, y: ArrayLike<number>, opts: ScoreOptions = {}, where: Where = "nll"): number {
  const { S: F, K } = validatePredictions(S, y, opts, where);
  return nllKernel(F, y, K, opts.logits ?? false);
}

/** {@link nll} under the name that says it is a loss (scikit-learn's `log_loss`); messages say `logLoss`. */
export function logLoss(
  S: Matrix,
  y: ArrayLike<number>,
  opts: ScoreOptions = {},
  where: Where = "logLoss",
): number {
  return nll(S, y, opts, where);
}

/**
 * How many rows give their label probability exactly 0 — each makes the mean NLL +Infinity.
 * Histogram binning and isotonic regression can output exact zeros (an empty or all-negative bin,
 * a flat isotonic block) for rows their calibration set never saw; count them before averaging.
 * Logits never give 0 here (NLL from logits is computed by log-softmax; see {@link nll}), so with
 * `{ logits: true }` the count is 0 whenever the logits are valid. @throws InputError on bad input.
 * Cost O(n).
 * @example zeroProbabilityRows(fromRows([[1, 0], [0.5, 0.5], [0, 1]]), Int32Array.of(1, 1, 0)) // 2
 */
export function zeroProbabilityRows(
  S: Matrix,
  y: ArrayLike<number>,
  opts: ScoreOptions = {},
  where: Where = "zeroProbabilityRows",
): number {
  const { S: F, K } = validatePredictions(S, y, opts, where);
  if (opts.logits) return 0;
  let c = 0;
  for (let i = 0, o = 0; i < F.rows; i++, o += K) if (F.data[o + y[i]] === 0) c++;
  return c;
}

/** Kernel: mean NLL of a full validated block. */
export function nllKernel(F: Matrix, y: ArrayLike<number>, K: number, logits: boolean): number {
  let s = 0;
  const d = F.data;
  for (let i = 0, o = 0; i < F.rows; i++, o += K) {
    s += logits ? logSumExpKernel(d, o, K) - d[o + y[i]] : -Math.log(d[o + y[i]]);
  }
  return s / F.rows;
}

/**
 * Brier score, summed over classes (DESIGN.md): `(1/n) Σ_i Σ_k (p_ik − 1[y_i = k])²` ∈ [0, 2].
 * For K = 2 this is **twice** scikit-learn's binary `brier_score_loss` (which scores the positive
 * class only). Logits are turned into probabilities by softmax first. @throws InputError. Cost O(nK).
 * @example brier(fromRows([[0.2, 0.8]]), Int32Array.of(1)) // 0.07999999999999999
 */
export function brier(
  S: Matrix,
  y: ArrayLike<number>,
  opts: ScoreOptions = {},
  where: Where = "brier",
): number {
  const { S: F, K } = validatePredictions(S, y, opts, where);
  return brierKernel(toProbabilities(F, opts.logits ?? false), y, K);
}

/** {@link brier} under the name that says it is a loss (summed over classes, as `brier`); messages say `brierLoss`. */
export function brierLoss(
  S: Matrix,
  y: ArrayLike<number>,
  opts: ScoreOptions = {},
  where: Where = "brierLoss",
): number {
  return brier(S, y, opts, where);
}

/** Kernel: Brier score of a full probability block. */
export function brierKernel(P: Matrix, y: ArrayLike<number>, K: number): number {
  let s = 0;
  const d = P.data;
  for (let i = 0, o = 0; i < P.rows; i++, o += K) {
    for (let k = 0; k < K; k++) {
      const t = d[o + k] - (y[i] === k ? 1 : 0);
      s += t * t;
    }
  }
  return s / P.rows;
}

/** Murphy's decomposition of the Brier score, binned, summed over classes. */
export interface BrierDecomposition {
  /** The Brier score itself (summed over classes). */
  brier: number;
  /** Σ_k (1/n) Σ_b n_b (p̄_bk − ō_bk)²: lower is better. */
  reliability: number;
  /** Σ_k (1/n) Σ_b n_b (ō_bk − ō_k)²: higher is better. */
  resolution: number;
  /** Σ_k ō_k (1 − ō_k): the Brier score of always predicting the class frequencies. */
  uncertainty: number;
  /**
   * brier − (reliability − resolution + uncertainty) = Σ_k (1/n) Σ_b Σ_{i∈b} [(p_ik − p̄_bk)² −
   * 2(p_ik − p̄_bk)(o_ik − ō_bk)]: the within-bin variance and covariance terms (Stephenson et al. 2008);
   * exactly 0 when predictions are constant within each bin.
   */
  withinBin: number;
}

/**
 * Binned Murphy decomposition of the Brier score (Murphy 1973, J. Appl. Meteor.; Stephenson, Coelho
 * & Jolliffe 2008, Weather and Forecasting): for each class k, bin the samples on p_k (class-wise
 * view, same bins as class-wise ECE) and sum over classes
 * `brier = reliability − resolution + uncertainty + withinBin`.
 * The three-term identity `brier = REL − RES + UNC` is exact only when forecasts are constant
 * within bins; `withinBin` reports the difference. Defaults B = 15, uniform, softcal rule.
 * @throws InputError on bad input or options. Cost O(nK).
 */
export function brierDecomposition(
  S: Matrix,
  y: ArrayLike<number>,
  opts: BinOptions & ScoreOptions = {},
  where: Where = "brierDecomposition",
): BrierDecomposition {
  const o = resolveBinOptions(opts);
  const { S: F, K } = validatePredictions(S, y, opts, where);
  const P = toProbabilities(F, opts.logits ?? false);
  const n = P.rows;
  let reliability = 0;
  let resolution = 0;
  let uncertainty = 0;
  for (let k = 0; k < K; k++) {
    const v = classView(P, y, k);
    let ok = 0;
    for (let i = 0; i < n; i++) ok += v.outcome[i];
    ok /= n;
    uncertainty += ok * (1 - ok);
    for (const b of binStatistics(v.confidence, v.outcome, o)) {
      if (b.count === 0) continue;
      const g = (b.meanPredicted as number) - (b.observed as number);
      const r = (b.observed as number) - ok;
      reliability += (b.count * g * g) / n;
      resolution += (b.count * r * r) / n;
    }
  }
  const bs = brierKernel(P, y, K);
  return {
    brier: bs,
    reliability,
    resolution,
    uncertainty,
    withinBin: bs - (reliability - resolution + uncertainty),
  };
}
