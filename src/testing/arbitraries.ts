/**
 * fast-check arbitraries for property-testing classifiers and calibration code: logit matrices,
 * probability matrices, labelled data sets and predictions that are calibrated by construction.
 *
 * Every arbitrary returns softcal's {@link Matrix} (`{ rows, cols, data: Float64Array }`,
 * row-major), shrinks towards small shapes and small values, and is deterministic for a given
 * fast-check seed (no unseeded global randomness).
 *
 * Reference: fast-check (N. Dubien), "Arbitraries" — https://fast-check.dev/docs/core-blocks/arbitraries/.
 */
import fc from "fast-check";
import { softmaxRowsKernel } from "../kernels/softmax.js";
import type { Matrix } from "../linalg/matrix.js";

/** The shape of a generated n×K matrix (rows = samples, columns = classes). */
export interface MatrixShapeOptions {
  /** Fewest rows (default 1). */
  minRows?: number;
  /** Most rows (default 20). */
  maxRows?: number;
  /** Fewest classes K (default 2). */
  minClasses?: number;
  /** Most classes K (default 5). */
  maxClasses?: number;
}

/** Options of {@link logitMatrix}. */
export interface LogitMatrixOptions extends MatrixShapeOptions {
  /** Largest |logit| (default 30, so that softmax probabilities span e^-60 … 1). */
  maxAbs?: number;
}

/** Options of {@link probabilityMatrix}. */
export interface ProbabilityMatrixOptions extends MatrixShapeOptions {
  /** Largest |logit| the rows are the softmax of (default 30). */
  maxLogit?: number;
  /**
   * Mix in edge rows (default true): one-hot rows (exact zeros and an exact 1) and uniform rows
   * (exact ties). Turn off when your code may not see zeros (e.g. a finite-NLL property).
   */
  extremes?: boolean;
}

/** A labelled data set: features X (n×d), labels y in 0..K−1 and the class count K. */
export interface LabelledDataset {
  X: Matrix;
  y: Int32Array;
  nClasses: number;
}

/** Options of {@link labelledDataset}. */
export interface LabelledDatasetOptions {
  /** Fewest samples (default 1; raised to K when every class must appear). */
  minSamples?: number;
  /** Most samples (default 30). */
  maxSamples?: number;
  /** Fewest features d (default 1). */
  minFeatures?: number;
  /** Most features d (default 4). */
  maxFeatures?: number;
  /** Fewest classes K (default 2). */
  minClasses?: number;
  /** Most classes K (default 4). */
  maxClasses?: number;
  /** Largest |feature| (default 5). */
  maxAbs?: number;
  /** Every class 0..K−1 has at least one sample (default true; what `fit` requires). */
  everyClass?: boolean;
}

/** Predicted probabilities (n×K) with the true labels (n of them, in 0..K−1). */
export interface LabelledPredictions {
  probs: Matrix;
  labels: Int32Array;
}

/** Options of {@link calibratedPredictions}. */
export interface CalibratedPredictionsOptions {
  /** Fewest classes K (default 2). */
  minClasses?: number;
  /** Most classes K (default 4). */
  maxClasses?: number;
  /** Most groups of identical predictions (default 8; at least 1). */
  maxGroups?: number;
  /** Most samples of one class in one group (default 10). */
  maxCount?: number;
}

function shape(o: MatrixShapeOptions) {
  const minRows = o.minRows ?? 1;
  const maxRows = o.maxRows ?? Math.max(20, minRows);
  const minClasses = o.minClasses ?? 2;
  const maxClasses = o.maxClasses ?? Math.max(5, minClasses);
  checkRange("rows", minRows, maxRows, 0);
  checkRange("classes", minClasses, maxClasses, 1);
  return fc.record({
    n: fc.integer({ min: minRows, max: maxRows }),
    K: fc.integer({ min: minClasses, max: maxClasses }),
  });
}

function checkRange(what: string, min: number, max: number, least: number): void {
  if (!(Number.isInteger(min) && Number.isInteger(max) && min >= least && min <= max)) {
    throw new RangeError(`${what}: expected integers ${least} <= min <= max; got min ${min}, max ${max}`);
  }
}

function checkPositive(what: string, v: number): void {
  if (!(v > 0 && Number.isFinite(v))) throw new RangeError(`${what}: expected a finite number > 0; got ${v}`);
}

function doubles(n: number, maxAbs: number): fc.Arbitrary<Float64Array> {
  return fc
    .array(fc.double({ min: -maxAbs, max: maxAbs, noNaN: true }), { minLength: n, maxLength: n })
    .map((a) => Float64Array.from(a, (v) => v + 0)); // + 0 turns −0 into 0
}

/**
 * Logit matrices: n×K finite scores, each in [−maxAbs, maxAbs] (defaults: 1–20 rows, 2–5
 * classes, maxAbs 30). Shrinks towards 1×minClasses and logits 0.
 *
 * @throws RangeError for an empty or inverted shape range, or maxAbs not > 0.
 * Cost: O(nK) per value.
 * @example
 * import { fc } from "@fast-check/vitest";
 * fc.assert(fc.property(logitMatrix({ maxClasses: 3 }), (Z) => Z.cols >= 2 && Z.cols <= 3));
 */
export function logitMatrix(options: LogitMatrixOptions = {}): fc.Arbitrary<Matrix> {
  const maxAbs = options.maxAbs ?? 30;
  checkPositive("maxAbs", maxAbs);
  return shape(options).chain(({ n, K }) =>
    doubles(n * K, maxAbs).map((data): Matrix => ({ rows: n, cols: K, data })),
  );
}

/**
 * Probability matrices: n×K rows on the simplex — each the softmax of logits in
 * [−maxLogit, maxLogit] (entries in (0, 1), row sums 1 within K·2^-52), mixed (unless
 * `extremes: false`) with one-hot rows and uniform rows 1/K (exact ties).
 *
 * Formula: `p_ik = exp(z_ik − max_j z_ij) / Σ_j exp(z_ij − max_j z_ij)`.
 * @throws RangeError for an empty or inverted shape range, or maxLogit not > 0.
 * Cost: O(nK) per value.
 * @example
 * fc.assert(fc.property(probabilityMatrix(), (P) => { expect(P).toBeOnSimplex(); }));
 */
export function probabilityMatrix(options: ProbabilityMatrixOptions = {}): fc.Arbitrary<Matrix> {
  const maxLogit = options.maxLogit ?? 30;
  checkPositive("maxLogit", maxLogit);
  const extremes = options.extremes ?? true;
  return shape(options).chain(({ n, K }) => {
    const soft = doubles(K, maxLogit).map((z) => {
      const p = new Float64Array(K);
      softmaxRowsKernel(z, 1, K, p);
      return p;
    });
    const row = extremes
      ? fc.oneof(
          { weight: 6, arbitrary: soft },
          {
            weight: 1,
            arbitrary: fc.integer({ min: 0, max: K - 1 }).map((k) => {
              const p = new Float64Array(K);
              p[k] = 1;
              return p;
            }),
          },
          { weight: 1, arbitrary: fc.constant(new Float64Array(K).fill(1 / K)) },
        )
      : soft;
    return fc.array(row, { minLength: n, maxLength: n }).map((rows): Matrix => {
      const data = new Float64Array(n * K);
      rows.forEach((r, i) => {
        data.set(r, i * K);
      });
      return { rows: n, cols: K, data };
    });
  });
}

/**
 * Labelled data sets for classifiers: X (n×d, features in [−maxAbs, maxAbs]), labels y in 0..K−1
 * and K; with `everyClass` (default) the first K samples carry labels 0..K−1 so every class is
 * present, as `fit` requires. Defaults: 1–30 samples, 1–4 features, 2–4 classes, maxAbs 5.
 *
 * @throws RangeError for an empty or inverted range, or maxAbs not > 0.
 * Cost: O(nd) per value.
 * @example
 * fc.assert(fc.property(labelledDataset({ maxClasses: 3 }), ({ X, y, nClasses }) => {
 *   const model = fit(X, y, nClasses, { l2: 0.1 });
 *   expect(predictProba(model, X)).toBeOnSimplex();
 * }));
 */
export function labelledDataset(options: LabelledDatasetOptions = {}): fc.Arbitrary<LabelledDataset> {
  const minClasses = options.minClasses ?? 2;
  const maxClasses = options.maxClasses ?? Math.max(4, minClasses);
  const minFeatures = options.minFeatures ?? 1;
  const maxFeatures = options.maxFeatures ?? Math.max(4, minFeatures);
  const everyClass = options.everyClass ?? true;
  const minSamples = options.minSamples ?? 1;
  const maxSamples = options.maxSamples ?? Math.max(30, minSamples, everyClass ? maxClasses : 0);
  const maxAbs = options.maxAbs ?? 5;
  checkRange("classes", minClasses, maxClasses, 1);
  checkRange("features", minFeatures, maxFeatures, 0);
  checkRange("samples", minSamples, maxSamples, 0);
  checkPositive("maxAbs", maxAbs);
  if (everyClass && maxSamples < minClasses) {
    throw new RangeError(
      `samples: expected maxSamples >= minClasses when every class must appear; got ${maxSamples} < ${minClasses}`,
    );
  }
  return fc
    .integer({ min: minClasses, max: everyClass ? Math.min(maxClasses, maxSamples) : maxClasses })
    .chain((K) =>
      fc.record({
        K: fc.constant(K),
        d: fc.integer({ min: minFeatures, max: maxFeatures }),
        n: fc.integer({ min: everyClass ? Math.max(minSamples, K) : minSamples, max: maxSamples }),
      }),
    )
    .chain(({ K, d, n }) => {
      const forced = everyClass ? K : 0;
      return fc.record({
        X: doubles(n * d, maxAbs),
        rest: fc.array(fc.integer({ min: 0, max: K - 1 }), { minLength: n - forced, maxLength: n - forced }),
        K: fc.constant(K),
        d: fc.constant(d),
        n: fc.constant(n),
      });
    })
    .map(({ X, rest, K, d, n }) => {
      const y = new Int32Array(n);
      const forced = everyClass ? K : 0;
      for (let k = 0; k < forced; k++) y[k] = k;
      y.set(rest, forced);
      return { X: { rows: n, cols: d, data: X }, y, nClasses: K };
    });
}

/**
 * Predictions that are calibrated by construction, exactly: G groups, each a count vector
 * c ∈ ℕ^K (Σc = m ≥ 1) giving m identical rows p = c/m whose labels are c_k copies of class k,
 * rows shuffled. Within every group the frequency of class k is exactly p_k — hence so is the
 * top-label accuracy (argmax, ties → lowest index) — so any binning (uniform or equal-mass, any
 * B, top-label or class-wise) has ECE 0 up to rounding (below 1e-12 for these sizes).
 * Defaults: 2–4 classes, 1–8 groups, 0–10 samples per class per group.
 *
 * @throws RangeError for an empty or inverted range.
 * Cost: O(nK) per value.
 * @example
 * fc.assert(fc.property(calibratedPredictions(), ({ probs, labels }) => {
 *   expect({ probs, labels }).toBeCalibrated({ maxEce: 1e-12, bins: 10 });
 * }));
 */
export function calibratedPredictions(
  options: CalibratedPredictionsOptions = {},
): fc.Arbitrary<LabelledPredictions> {
  const minClasses = options.minClasses ?? 2;
  const maxClasses = options.maxClasses ?? Math.max(4, minClasses);
  const maxGroups = options.maxGroups ?? 8;
  const maxCount = options.maxCount ?? 10;
  checkRange("classes", minClasses, maxClasses, 1);
  checkRange("groups", 1, maxGroups, 1);
  checkRange("count", 1, maxCount, 1);
  return fc
    .integer({ min: minClasses, max: maxClasses })
    .chain((K) =>
      fc.record({
        K: fc.constant(K),
        groups: fc.array(
          fc
            .array(fc.integer({ min: 0, max: maxCount }), { minLength: K, maxLength: K })
            .filter((c) => c.some((v) => v > 0)),
          { minLength: 1, maxLength: maxGroups },
        ),
      }),
    )
    .chain(({ K, groups }) => {
      const rows: { p: Float64Array; label: number }[] = [];
      for (const c of groups) {
        const m = c.reduce((s, v) => s + v, 0);
        const p = Float64Array.from(c, (v) => v / m);
        c.forEach((count, k) => {
          for (let j = 0; j < count; j++) rows.push({ p, label: k });
        });
      }
      return fc
        .shuffledSubarray(rows, { minLength: rows.length, maxLength: rows.length })
        .map((order): LabelledPredictions => {
          const n = order.length;
          const data = new Float64Array(n * K);
          const labels = new Int32Array(n);
          order.forEach((r, i) => {
            data.set(r.p, i * K);
            labels[i] = r.label;
          });
          return { probs: { rows: n, cols: K, data }, labels };
        });
    });
}
