/**
 * `evaluatePredictions`: every calibration number of a prediction file in one pass, in the shape
 * of `softcal evaluate --json` (DESIGN.md).
 */

import { argmaxKernel } from "../kernels/argmax.js";
import type { Matrix } from "../linalg/matrix.js";
import {
  type Bin,
  type BinOptions,
  binStatistics,
  classView,
  resolveBinOptions,
  topLabelView,
} from "./bins.js";
import { eceFromBins, mceFromBins } from "./metrics.js";
import { brierKernel, nllKernel, toProbabilities } from "./scores.js";
import { validatePredictions, type Where } from "./validate.js";

/** Options of {@link evaluatePredictions}. */
export interface EvaluateOptions extends BinOptions {
  /** The scores are logits (softmax is applied; NLL from log-softmax). Default false. */
  logits?: boolean;
  /** Expected number of classes; when given, the column count must match (1 column allowed for 2). */
  classes?: number;
}

/** The `evaluate --json` object. */
export interface Evaluation {
  n: number;
  K: number;
  accuracy: number;
  nll: number;
  brier: number;
  ece: number;
  mce: number;
  classwiseEce: number;
  /** Top-label reliability bins. */
  bins: Bin[];
  /** One bin list per class (class-wise view), in class order. */
  classwise: Bin[][];
}

/**
 * Evaluates predictions: accuracy (argmax, ties → lowest index), NLL (from log-softmax for logits;
 * `−log p_y` for probabilities, +Infinity if some p_y = 0), Brier (summed over classes), top-label
 * ECE and MCE, class-wise ECE, and the reliability bins behind them.
 * Defaults: B = 15, strategy "uniform", binRule "softcal", logits false.
 * @throws InputError for probabilities outside [0, 1] or rows not summing to 1 (within 1e-6),
 *   non-finite logits, labels outside 0..K−1, a column count not matching `classes`, bins not an
 *   integer ≥ 1, an unknown strategy or rule, or no rows.
 * Cost O(nK) (+ O(Kn log n) for quantile bins).
 * @example evaluatePredictions(fromRows([[0.2, 0.8]]), Int32Array.of(1), { bins: 2 }).ece // 0.19999999999999996
 */
export function evaluatePredictions(
  S: Matrix,
  y: ArrayLike<number>,
  opts: EvaluateOptions = {},
  where: Where = "evaluate",
): Evaluation {
  const o = resolveBinOptions(opts);
  const logits = opts.logits ?? false;
  const { S: F, K } = validatePredictions(S, y, { logits, classes: opts.classes }, where);
  const n = F.rows;
  const P = toProbabilities(F, logits);
  let correct = 0;
  for (let i = 0; i < n; i++) if (argmaxKernel(F.data, i * K, K) === y[i]) correct++;
  const top = topLabelView(P, y);
  const bins = binStatistics(top.confidence, top.outcome, o);
  const classwise: Bin[][] = [];
  let cw = 0;
  for (let k = 0; k < K; k++) {
    const v = classView(P, y, k);
    const b = binStatistics(v.confidence, v.outcome, o);
    classwise.push(b);
    cw += eceFromBins(b);
  }
  return {
    n,
    K,
    accuracy: correct / n,
    nll: nllKernel(F, y, K, logits),
    brier: brierKernel(P, y, K),
    ece: eceFromBins(bins),
    mce: mceFromBins(bins),
    classwiseEce: cw / K,
    bins,
    classwise,
  };
}
