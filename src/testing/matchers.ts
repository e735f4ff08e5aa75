/**
 * vitest matchers for probabilities, calibration and gradients. Install them once (e.g. in a
 * vitest `setupFiles` module) with
 *
 * ```ts
 * import { expect } from "vitest";
 * import { softcalMatchers } from "softcal/testing";
 * expect.extend(softcalMatchers);
 * ```
 *
 * then `expect(P).toBeOnSimplex()`, `expect({ probs, labels }).toBeCalibrated({ maxEce: 0.05 })`
 * and `expect(fn).toHaveGradientMatchingFiniteDifferences(theta)`. Importing this module also
 * declares the matchers' types on vitest's `Assertion` (and asymmetric matchers).
 *
 * Bad arguments (a value that is not a matrix, labels of the wrong length, a missing `maxEce`)
 * throw, so the assertion fails with the reason under `.not` too.
 */
import type { MatcherState } from "vitest";
import type { Bin, BinStrategy } from "../calibration/bins.js";
import { evaluatePredictions } from "../calibration/evaluate.js";
import { ROW_SUM_TOLERANCE } from "../calibration/validate.js";
import type { Matrix } from "../linalg/matrix.js";
import { checkGradient, type GradientCheckOptions, type LossWithGradient } from "./gradientCheck.js";

/** Options of `toBeOnSimplex`. */
export interface SimplexOptions {
  /** Largest allowed |Σ_k p_k − 1| per row (default 1e-6, what softcal accepts as probabilities). */
  tol?: number;
}

/** Options of `toBeCalibrated`. */
export interface CalibratedOptions {
  /**
   * Largest allowed top-label ECE (required). A perfectly calibrated model's ECE on n samples is
   * not 0 but about `(1/n) Σ_b √(2 n_b c_b (1 − c_b) / π) ≤ 0.4·√(B/n)` (binomial noise in each
   * bin); pick maxEce above that, e.g. 0.05 needs n ≳ 1000 with B = 15.
   */
  maxEce: number;
  /** Number of bins B (default 15). */
  bins?: number;
  /** "uniform" (equal width, default) or "quantile" (equal mass). */
  strategy?: BinStrategy;
  /** The scores are logits, not probabilities (default false). */
  logits?: boolean;
}

/** What `toBeCalibrated` expects: scores (n×K matrix or rows) and labels in 0..K−1. */
export interface PredictionsWithLabels {
  probs: Matrix | readonly (readonly number[])[];
  labels: ArrayLike<number>;
}

/** The matchers' types, merged into vitest's `Assertion` by this module. */
export interface SoftcalMatchers<R = unknown> {
  /**
   * Every row is a probability vector: entries finite and in [0, 1], each row summing to 1
   * within `tol` (default 1e-6). Accepts a softcal `Matrix`, an array of rows, or one row.
   * @example expect(softmax(fromRows([[1, 2, 3]]))).toBeOnSimplex();
   */
  toBeOnSimplex(options?: SimplexOptions): R;
  /**
   * `{ probs, labels }` has top-label ECE ≤ `maxEce` (B bins, default 15 uniform).
   * @example expect({ probs: P, labels: y }).toBeCalibrated({ maxEce: 0.05, bins: 10 });
   */
  toBeCalibrated(options: CalibratedOptions): R;
  /**
   * The function's gradient matches central finite differences at `at` (one point, or an array
   * of points), within `rtol`/`atol` (see `checkGradient`).
   * @example expect(({ length }) => …).toHaveGradientMatchingFiniteDifferences([0.5, -1]);
   */
  toHaveGradientMatchingFiniteDifferences(
    at: ArrayLike<number> | readonly ArrayLike<number>[],
    options?: GradientCheckOptions,
  ): R;
}

/** What a matcher returns (vitest's synchronous expectation result). */
interface SyncExpectationResult {
  pass: boolean;
  message: () => string;
  actual?: unknown;
  expected?: unknown;
}

declare module "vitest" {
  // biome-ignore lint/suspicious/noExplicitAny: vitest's own declaration uses `T = any`
  interface Matchers<T = any> extends SoftcalMatchers<T> {}
}

function isMatrix(x: unknown): x is Matrix {
  return (
    typeof x === "object" &&
    x !== null &&
    "rows" in x &&
    "cols" in x &&
    "data" in x &&
    (x as Matrix).data instanceof Float64Array
  );
}

function isArrayLikeOfNumbers(x: unknown): x is ArrayLike<number> {
  if (ArrayBuffer.isView(x) && !(x instanceof DataView)) return true;
  return Array.isArray(x) && x.every((v) => typeof v === "number");
}

/** A matrix from a Matrix, an array of rows, or one row; throws TypeError otherwise. */
function toMatrix(x: unknown, what: string): Matrix {
  if (isMatrix(x)) {
    if (!(Number.isInteger(x.rows) && Number.isInteger(x.cols) && x.data.length === x.rows * x.cols)) {
      throw new TypeError(
        `${what}: expected a Matrix with data of length rows·cols = ${x.rows * x.cols}; got ${x.data.length}`,
      );
    }
    return x;
  }
  if (Array.isArray(x) && x.length > 0 && x.every((r) => isArrayLikeOfNumbers(r))) {
    const cols = (x[0] as ArrayLike<number>).length;
    const data = new Float64Array(x.length * cols);
    x.forEach((r: ArrayLike<number>, i) => {
      if (r.length !== cols)
        throw new TypeError(`${what}: expected rows of ${cols} entries; row ${i} has ${r.length}`);
      data.set(Array.from(r), i * cols);
    });
    return { rows: x.length, cols, data };
  }
  if (isArrayLikeOfNumbers(x)) return { rows: 1, cols: x.length, data: Float64Array.from(x) };
  throw new TypeError(
    `${what}: expected a softcal Matrix, an array of rows, or one row of numbers; got ${describe(x)}`,
  );
}

function describe(x: unknown): string {
  if (typeof x === "function") return "a function";
  let s: string;
  try {
    s = JSON.stringify(x) ?? String(x);
  } catch {
    s = String(x);
  }
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function num(x: number): string {
  if (!Number.isFinite(x) || x === 0) return String(x);
  const a = Math.abs(x);
  return a < 1e-4 || a >= 1e6 ? x.toExponential(3).replace(/\.?0+e/, "e") : String(Number(x.toPrecision(6)));
}

function rowText(m: Matrix, i: number): string {
  const r = Array.from(m.data.subarray(i * m.cols, (i + 1) * m.cols));
  const shown = r.slice(0, 8).map(num).join(", ");
  return `[${shown}${r.length > 8 ? ", …" : ""}]`;
}

/**
 * `toBeOnSimplex`: every row's entries are finite numbers in [0, 1] and sum to 1 within `tol`.
 * Cost O(nK).
 */
function toBeOnSimplex(
  this: MatcherState,
  received: unknown,
  options: SimplexOptions = {},
): SyncExpectationResult {
  const tol = options.tol ?? ROW_SUM_TOLERANCE;
  if (!(tol >= 0)) throw new TypeError(`toBeOnSimplex: tol: expected a number >= 0; got ${tol}`);
  const P = toMatrix(received, "toBeOnSimplex");
  let problem: string | undefined;
  if (P.cols < 1 || P.rows < 1) problem = `it has shape ${P.rows}×${P.cols} (no probabilities)`;
  for (let i = 0; i < P.rows && problem === undefined; i++) {
    let s = 0;
    for (let k = 0; k < P.cols; k++) {
      const v = P.data[i * P.cols + k];
      if (!(v >= 0 && v <= 1)) {
        problem = `row ${i}, column ${k} is ${num(v)}, outside [0, 1]: ${rowText(P, i)}`;
        break;
      }
      s += v;
    }
    if (problem === undefined && !(Math.abs(s - 1) <= tol)) {
      problem = `row ${i} sums to ${s} (off by ${num(s - 1)}, tolerance ${num(tol)}): ${rowText(P, i)}`;
    }
  }
  const shapeText = `${P.rows}×${P.cols}`;
  return {
    pass: problem === undefined,
    message: () =>
      problem === undefined
        ? `expected the ${shapeText} matrix not to be on the probability simplex, but every row is (entries in [0, 1], sums within ${num(tol)} of 1)`
        : `expected every row on the probability simplex (entries in [0, 1], sums within ${num(tol)} of 1); ${problem}`,
  };
}

/** The calibration gap sampling noise alone gives a calibrated model with these bins. */
function noiseFloor(bins: readonly Bin[], n: number): number {
  let s = 0;
  for (const b of bins) {
    if (b.count === 0 || b.meanPredicted === null) continue;
    const c = Math.min(1, Math.max(0, b.meanPredicted));
    s += Math.sqrt((2 * b.count * c * (1 - c)) / Math.PI);
  }
  return n === 0 ? 0 : s / n;
}

/**
 * `toBeCalibrated`: top-label ECE (softcal's `evaluatePredictions`) ≤ maxEce; the failure message
 * names the ECE, the worst bin and the ECE sampling noise alone would give. Cost O(nK).
 */
function toBeCalibrated(
  this: MatcherState,
  received: unknown,
  options: CalibratedOptions,
): SyncExpectationResult {
  if (options === undefined || typeof options.maxEce !== "number" || !(options.maxEce >= 0)) {
    throw new TypeError(
      `toBeCalibrated: expected options { maxEce: number >= 0, bins?, strategy?, logits? }; got ${describe(options)}`,
    );
  }
  if (
    typeof received !== "object" ||
    received === null ||
    !("probs" in received) ||
    !("labels" in received)
  ) {
    throw new TypeError(`toBeCalibrated: expected { probs, labels }; got ${describe(received)}`);
  }
  const r = received as PredictionsWithLabels;
  const P = toMatrix(r.probs, "toBeCalibrated: probs");
  if (!(Array.isArray(r.labels) || ArrayBuffer.isView(r.labels))) {
    throw new TypeError(
      `toBeCalibrated: labels: expected an array of class indices; got ${describe(r.labels)}`,
    );
  }
  const bins = options.bins ?? 15;
  const strategy = options.strategy ?? "uniform";
  const ev = evaluatePredictions(
    P,
    r.labels,
    { bins, strategy, logits: options.logits ?? false },
    "toBeCalibrated",
  );
  let worst: Bin | undefined;
  for (const b of ev.bins) {
    if (b.count === 0) continue;
    const gap = Math.abs(b.gap as number);
    if (worst === undefined || gap * b.count > Math.abs(worst.gap as number) * worst.count) worst = b;
  }
  const pass = ev.ece <= options.maxEce;
  const how = `${bins} ${strategy === "uniform" ? "equal-width" : "equal-mass"} bins, n = ${ev.n}`;
  const worstText =
    worst === undefined
      ? ""
      : `; the largest contribution is bin [${num(worst.lower)}, ${num(worst.upper)}]: mean confidence ${num(
          worst.meanPredicted as number,
        )}, accuracy ${num(worst.observed as number)} (${worst.count} samples)`;
  const noise = `; sampling noise alone gives a calibrated model about ${num(noiseFloor(ev.bins, ev.n))}`;
  return {
    pass,
    message: () =>
      pass
        ? `expected predictions not to be calibrated, but top-label ECE ${num(ev.ece)} <= maxEce ${num(options.maxEce)} (${how})`
        : `expected predictions to be calibrated: top-label ECE ${num(ev.ece)} > maxEce ${num(options.maxEce)} (${how})${worstText}${noise}`,
    actual: ev.ece,
    expected: options.maxEce,
  };
}

/**
 * `toHaveGradientMatchingFiniteDifferences`: `checkGradient(fn, point, options)` passes at every
 * given point; the message names the point, the coordinate and both values. Cost: see checkGradient.
 */
function toHaveGradientMatchingFiniteDifferences(
  this: MatcherState,
  received: unknown,
  at: ArrayLike<number> | readonly ArrayLike<number>[],
  options: GradientCheckOptions = {},
): SyncExpectationResult {
  if (typeof received !== "function") {
    throw new TypeError(
      `toHaveGradientMatchingFiniteDifferences: expected a function (params) => { loss, grad }; got ${describe(received)}`,
    );
  }
  if (at === undefined || typeof at !== "object") {
    throw new TypeError(
      `toHaveGradientMatchingFiniteDifferences: expected the parameters to check at (numbers, or an array of points); got ${describe(at)}`,
    );
  }
  const points: ArrayLike<number>[] =
    Array.isArray(at) && at.length > 0 && typeof at[0] === "object"
      ? (at as ArrayLike<number>[])
      : [at as ArrayLike<number>];
  const fn = received as LossWithGradient;
  let failure: string | undefined;
  let lastSummary = "";
  for (let p = 0; p < points.length && failure === undefined; p++) {
    const r = checkGradient(fn, points[p], options);
    lastSummary = r.summary;
    if (!r.ok) {
      const where = points.length > 1 ? ` at point ${p} of ${points.length}` : "";
      failure = `${where}: ${r.summary}`;
    }
  }
  return {
    pass: failure === undefined,
    message: () =>
      failure === undefined
        ? `expected the gradient not to match finite differences, but it does (${lastSummary})`
        : `expected the gradient to match central finite differences${failure}`,
  };
}

/** The matchers to pass to vitest's `expect.extend`. */
export const softcalMatchers = {
  toBeOnSimplex,
  toBeCalibrated,
  toHaveGradientMatchingFiniteDifferences,
};
