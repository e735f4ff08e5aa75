/**
 * Binned calibration errors over reliability bins (see bins.ts for the bins and views).
 *
 * With n samples, bins b of size n_b, conf_b = meanPredicted and acc_b = observed:
 * - ECE (L1):  Σ_b (n_b/n)·|acc_b − conf_b|                                (Naeini et al. 2015; Guo et al. 2017 §2)
 * - RMSCE (L2): sqrt(Σ_b (n_b/n)·(acc_b − conf_b)²)                         (Kumar et al. 2019 §3, the ℓ2 calibration error)
 * - MCE (max): max_b |acc_b − conf_b| over non-empty bins                    (Naeini et al. 2015)
 * - class-wise ECE: (1/K) Σ_k ECE of the view (p_k, 1[y = k])                (Kull et al. 2019, NeurIPS, "classwise-ECE")
 * - debiased squared L2 (Kumar et al. 2019, NeurIPS, "Verified Uncertainty Calibration", §5, eq. for
 *   the debiased estimator): Σ_b (n_b/n)·[(acc_b − conf_b)² − acc_b(1 − acc_b)/(n_b − 1)], bins with
 *   n_b < 2 contributing 0; unbiased for the binned squared error when predictions are constant within
 *   bins, so it can be negative. Default equal-mass bins, as the paper recommends.
 * - sweep ECE (Roelofs et al. 2022, AISTATS, "Mitigating bias in calibration error estimation", §4,
 *   ECE_sweep): equal-mass ECE with the largest bin count b* such that the bin accuracies are
 *   monotone non-decreasing, found by increasing b from 1 and stopping at the first b that breaks
 *   monotonicity.
 *
 * References: M. P. Naeini, G. Cooper, M. Hauskrecht (2015), AAAI. C. Guo, G. Pleiss, Y. Sun,
 * K. Q. Weinberger (2017), ICML. A. Kumar, P. Liang, T. Ma (2019), NeurIPS. M. Kull et al. (2019),
 * NeurIPS. R. Roelofs, N. Cain, J. Shlens, M. C. Mozer (2022), AISTATS.
 */

import { InputError } from "../errors.js";
import type { Matrix } from "../linalg/matrix.js";
import {
  type Bin,
  type BinOptions,
  binStatistics,
  classView,
  equalMassCuts,
  resolveBinOptions,
  sortByConfidence,
  topLabelView,
} from "./bins.js";
import { validatePredictions, type Where } from "./validate.js";

/** ECE from bins: Σ_b (n_b/n)|observed_b − meanPredicted_b| with n = Σ_b n_b. O(B). */
export function eceFromBins(bins: readonly Bin[]): number {
  let n = 0;
  let s = 0;
  for (const b of bins) {
    if (b.count === 0) continue;
    n += b.count;
    s += b.count * Math.abs((b.observed as number) - (b.meanPredicted as number));
  }
  return n === 0 ? 0 : s / n;
}

/** MCE from bins: max over non-empty bins of |observed − meanPredicted| (0 if all empty). O(B). */
export function mceFromBins(bins: readonly Bin[]): number {
  let m = 0;
  for (const b of bins) {
    if (b.count === 0) continue;
    m = Math.max(m, Math.abs((b.observed as number) - (b.meanPredicted as number)));
  }
  return m;
}

/** RMS calibration error from bins: sqrt(Σ_b (n_b/n)(observed − meanPredicted)²). O(B). */
export function rmsceFromBins(bins: readonly Bin[]): number {
  let n = 0;
  let s = 0;
  for (const b of bins) {
    if (b.count === 0) continue;
    n += b.count;
    const d = (b.observed as number) - (b.meanPredicted as number);
    s += b.count * d * d;
  }
  return n === 0 ? 0 : Math.sqrt(s / n);
}

/** Debiased squared L2 error from bins (Kumar et al. 2019); may be negative. O(B). */
export function debiasedSquaredErrorFromBins(bins: readonly Bin[]): number {
  let n = 0;
  let s = 0;
  for (const b of bins) {
    n += b.count;
    if (b.count < 2) continue;
    const acc = b.observed as number;
    const d = acc - (b.meanPredicted as number);
    s += b.count * (d * d - (acc * (1 - acc)) / (b.count - 1));
  }
  return n === 0 ? 0 : s / n;
}

function topLabelBins(P: Matrix, y: ArrayLike<number>, opts: BinOptions, where: Where): Bin[] {
  const o = resolveBinOptions(opts);
  const { S } = validatePredictions(P, y, {}, where);
  const v = topLabelView(S, y);
  return binStatistics(v.confidence, v.outcome, o);
}

/**
 * Expected calibration error (top-label, L1): `ECE = Σ_b (n_b/n)·|acc_b − conf_b|`.
 * P: n×K probabilities (n×1 = binary positive class), y: labels 0..K−1. Defaults B = 15, uniform, softcal rule.
 * Lies in [0, 1] and ECE ≤ MCE. @throws InputError on bad input. Cost O(nK).
 * @example expectedCalibrationError(fromRows([[0.2, 0.8], [0.2, 0.8]]), Int32Array.of(1, 0)) // 0.30000000000000004
 */
export function expectedCalibrationError(
  P: Matrix,
  y: ArrayLike<number>,
  opts: BinOptions = {},
  where: Where = "expectedCalibrationError",
): number {
  return eceFromBins(topLabelBins(P, y, opts, where));
}

/**
 * Maximum calibration error (top-label): `MCE = max_b |acc_b − conf_b|` over non-empty bins.
 * Same inputs/defaults as {@link expectedCalibrationError}. Cost O(nK).
 */
export function maxCalibrationError(
  P: Matrix,
  y: ArrayLike<number>,
  opts: BinOptions = {},
  where: Where = "maxCalibrationError",
): number {
  return mceFromBins(topLabelBins(P, y, opts, where));
}

/**
 * Root-mean-square calibration error (top-label, plug-in L2): `sqrt(Σ_b (n_b/n)(acc_b − conf_b)²)`.
 * Biased upward by sampling noise; see {@link debiasedL2CalibrationError}. Cost O(nK).
 */
export function rmsCalibrationError(
  P: Matrix,
  y: ArrayLike<number>,
  opts: BinOptions = {},
  where: Where = "rmsCalibrationError",
): number {
  return rmsceFromBins(topLabelBins(P, y, opts, where));
}

/**
 * Class-wise ECE: the mean over classes k of the ECE of (p_k, 1[y = k]) with the given bins.
 * For K = 2 the two classes' views mirror each other. Cost O(nK).
 */
export function classwiseCalibrationError(
  P: Matrix,
  y: ArrayLike<number>,
  opts: BinOptions = {},
  where: Where = "classwiseCalibrationError",
): number {
  const o = resolveBinOptions(opts);
  const { S, K } = validatePredictions(P, y, {}, where);
  let s = 0;
  for (let k = 0; k < K; k++) {
    const v = classView(S, y, k);
    s += eceFromBins(binStatistics(v.confidence, v.outcome, o));
  }
  return s / K;
}

/** Result of {@link debiasedL2CalibrationError}. */
export interface DebiasedL2 {
  /** The debiased estimate of the squared binned L2 error (may be negative). */
  squared: number;
  /** sqrt(max(squared, 0)): the debiased L2 calibration error as Kumar et al. report it. */
  value: number;
}

/**
 * Debiased L2 calibration error, top-label (Kumar, Liang & Ma 2019, "Verified Uncertainty
 * Calibration", NeurIPS, §5): `squared = Σ_b (n_b/n)·[(acc_b − conf_b)² − acc_b(1 − acc_b)/(n_b − 1)]`
 * (bins with n_b < 2 add 0), `value = sqrt(max(squared, 0))`. Subtracting the binomial variance of
 * acc_b removes the plug-in estimator's upward bias. Defaults: B = 15, strategy "quantile"
 * (equal mass, as the paper recommends). Cost O(nK + n log n).
 */
export function debiasedL2CalibrationError(
  P: Matrix,
  y: ArrayLike<number>,
  opts: BinOptions = {},
  where: Where = "debiasedL2CalibrationError",
): DebiasedL2 {
  const bins = topLabelBins(P, y, { strategy: "quantile", ...opts }, where);
  const squared = debiasedSquaredErrorFromBins(bins);
  return { squared, value: Math.sqrt(Math.max(squared, 0)) };
}

/** Result of {@link sweepCalibrationError}. */
export interface SweepEce {
  /** The equal-mass ECE (L1, or L2 when norm = 2) at b* bins. */
  value: number;
  /** b*: the chosen number of bins. */
  bins: number;
}

/**
 * Monotone-sweep ECE, top-label (Roelofs, Cain, Shlens & Mozer 2022, AISTATS, §4, ECE_sweep):
 * for b = 1, 2, …, n, bin the samples into b equal-mass bins; b* is the last b before the first
 * one whose non-empty bins' accuracies are not non-decreasing in confidence. Returns the ECE with
 * b* bins — L1 by default (`norm: 1`), or the root-mean-square version with `norm: 2`.
 * Cost O(nK + n log n + n·b*).
 * @throws InputError on bad input.
 */
export function sweepCalibrationError(
  P: Matrix,
  y: ArrayLike<number>,
  opts: { norm?: 1 | 2 } = {},
  where: Where = "sweepCalibrationError",
): SweepEce {
  const norm = opts.norm ?? 1;
  if (norm !== 1 && norm !== 2) throw new InputError(`norm: expected 1 or 2; got ${norm}`);
  const { S } = validatePredictions(P, y, {}, where);
  const v = topLabelView(S, y);
  const n = v.confidence.length;
  const order = sortByConfidence(v.confidence);
  const sc = new Float64Array(n);
  const so = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    sc[r] = v.confidence[order[r]];
    so[r] = v.outcome[order[r]];
  }
  const errorAt = (B: number): number | null => {
    const cut = equalMassCuts(sc, B);
    let prev = -Infinity;
    let s = 0;
    for (let b = 0; b < B; b++) {
      const lo = cut[b];
      const hi = cut[b + 1];
      if (hi === lo) continue;
      let c = 0;
      let o = 0;
      for (let r = lo; r < hi; r++) {
        c += sc[r];
        o += so[r];
      }
      const nb = hi - lo;
      const acc = o / nb;
      if (acc < prev) return null;
      prev = acc;
      const d = Math.abs(acc - c / nb);
      s += nb * (norm === 1 ? d : d * d);
    }
    return norm === 1 ? s / n : Math.sqrt(s / n);
  };
  let best = errorAt(1) as number;
  let bStar = 1;
  for (let B = 2; B <= n; B++) {
    const e = errorAt(B);
    if (e === null) break;
    best = e;
    bStar = B;
  }
  return { value: best, bins: bStar };
}
