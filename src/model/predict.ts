/**
 * Predictions of a fitted linear model: logits, probabilities, labels.
 * Softmax: p = softmax(Θ x̃). One-vs-rest: p_k = σ(θ_k·x̃) / Σ_j σ(θ_j·x̃) (scikit-learn's OvR
 * normalization), computed as softmax(log σ(θ_k·x̃)) so it stays finite for any finite logits.
 */
import { RunError } from "../errors.js";
import { argmaxKernel } from "../kernels/argmax.js";
import { logitsKernel } from "../kernels/logits.js";
import { softmaxRowsKernel } from "../kernels/softmax.js";
import type { Matrix } from "../linalg/matrix.js";
import type { LinearModel } from "./fit.js";

function checkShape(model: LinearModel, X: Matrix, name: string): void {
  if (X.cols !== model.nFeatures) {
    throw new RangeError(
      `${name}: X must have the model's ${model.nFeatures} feature columns, that is (n, ${model.nFeatures}); got (${X.rows}, ${X.cols})`,
    );
  }
}

/** The n×K matrix of linear scores Θ x̃ (softmax logits, or the K binary logits of OvR). */
export function decisionFunction(model: LinearModel, X: Matrix): Matrix {
  checkShape(model, X, "decisionFunction");
  const out = new Float64Array(X.rows * model.nClasses);
  logitsKernel(X.data, X.rows, X.cols, model.theta, model.nClasses, out);
  return { rows: X.rows, cols: model.nClasses, data: out };
}

/**
 * The n×K matrix of class probabilities (rows on the simplex). O(n·K·d).
 * A logit that overflows to ±∞ gets softmax's limit (one-hot on +∞).
 * @throws RunError when a logit is ∞ − ∞ (NaN): the weights are too large for these features.
 */
export function predictProba(model: LinearModel, X: Matrix): Matrix {
  const z = decisionFunction(model, X);
  for (let i = 0; i < z.data.length; i++) {
    if (Number.isNaN(z.data[i])) {
      throw new RunError(
        `predict: row ${Math.floor(i / z.cols)}: the logit of class ${i % z.cols} is ∞ − ∞ (Θ·x̃ overflows); the model's weights are too large for these features`,
      );
    }
  }
  const K = model.nClasses;
  const p = z.data;
  if (model.model === "softmax") {
    softmaxRowsKernel(p, X.rows, K, p);
  } else {
    // p_k = σ_k / Σ_j σ_j = softmax(log σ)_k, with log σ(z) = min(z, 0) − log1p(e^{−|z|}):
    // no underflow to 0/0 when every logit is very negative.
    for (let i = 0; i < p.length; i++) p[i] = Math.min(p[i], 0) - Math.log1p(Math.exp(-Math.abs(p[i])));
    softmaxRowsKernel(p, X.rows, K, p);
  }
  return z;
}

/** Index of the largest entry of each row (ties → the lowest index). */
export function argmaxRows(P: Matrix): Int32Array {
  const out = new Int32Array(P.rows);
  const K = P.cols;
  for (let i = 0, o = 0; i < P.rows; i++, o += K) out[i] = argmaxKernel(P.data, o, K);
  return out;
}

/** Predicted labels: argmax of the probabilities (ties → lowest index). */
export function predictLabels(model: LinearModel, X: Matrix): Int32Array {
  return argmaxRows(predictProba(model, X));
}
