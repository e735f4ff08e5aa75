/**
 * The one interface every recalibrator implements, and checks they share.
 *
 * A recalibrator is fitted on a calibration set (scores + labels) and then maps new scores to
 * calibrated probabilities. Scores are n×K probabilities, or logits with `{ logits: true }`; a
 * single column means binary (probabilities [1 − p, p], logits (0, z)). `transform` always returns
 * the full n×K probability matrix (n×2 for binary), rows on the simplex.
 */
import { InputError } from "../../errors.js";
import type { Matrix } from "../../linalg/matrix.js";
import type { ScoreOptions } from "../scores.js";
import {
  classCount,
  expandBinaryLogits,
  expandBinaryProbabilities,
  validateLogits,
  validateNonEmpty,
  validatePredictions,
  validateProbabilities,
  type Where,
} from "../validate.js";

/** The methods softcal knows. */
export type RecalibrationMethod =
  | "temperature"
  | "vector"
  | "matrix"
  | "dirichlet"
  | "histogram"
  | "isotonic"
  | "platt"
  | "beta";
export const RECALIBRATION_METHODS: readonly RecalibrationMethod[] = [
  "temperature",
  "vector",
  "matrix",
  "dirichlet",
  "histogram",
  "isotonic",
  "platt",
  "beta",
];

/** The format tag and version every recalibrator JSON carries. */
export const RECALIBRATOR_FORMAT = "softcal-recalibrator";
export const RECALIBRATOR_VERSION = 1;

/** The JSON form of a fitted recalibrator (see each method for its extra fields). */
export interface RecalibratorJSON {
  format: "softcal-recalibrator";
  version: 1;
  method: RecalibrationMethod;
  /** Number of classes K it was fitted on. */
  classes: number;
  [key: string]: unknown;
}

/** Fit on a calibration set, transform new predictions, serialize. */
export interface Recalibrator {
  readonly method: RecalibrationMethod;
  /** Fits on scores S (n×K, or n×1 binary) with labels y ∈ 0..K−1; returns this. */
  fit(S: Matrix, y: ArrayLike<number>, opts?: ScoreOptions, where?: Where): this;
  /** Calibrated n×K probabilities for new scores (same K as at fit). */
  transform(S: Matrix, opts?: ScoreOptions, where?: Where): Matrix;
  /**
   * Calibrated n×K logits, for the methods that have them (temperature: Z/T; vector scaling:
   * w∘z + b): `transform` is their softmax, and an NLL computed from them by log-softmax stays
   * finite where a probability underflows to 0.
   */
  transformLogits?(S: Matrix, opts?: ScoreOptions, where?: Where): Matrix;
  /** The fitted parameters as plain JSON. @throws RangeError if not fitted. */
  toJSON(): RecalibratorJSON;
}

/**
 * Validates a calibration set and returns its full n×K scores. Besides the usual checks (see
 * validatePredictions), the labels must contain at least two classes.
 * @throws InputError `--fit val.csv: expected at least two classes among the calibration labels; got only class 1 — use a larger or stratified calibration split`.
 */
export function validateCalibrationSet(
  S: Matrix,
  y: ArrayLike<number>,
  opts: ScoreOptions,
  where: Where,
): { F: Matrix; K: number } {
  const { S: F, K } = validatePredictions(S, y, opts, where);
  const first = y[0];
  let two = false;
  for (let i = 1; i < y.length; i++) {
    if (y[i] !== first) {
      two = true;
      break;
    }
  }
  if (!two) {
    const at = typeof where === "string" ? where : where.file;
    throw new InputError(
      `${at}: expected at least two classes among the calibration labels; got only class ${first} — use a larger or stratified calibration split`,
    );
  }
  return { F, K };
}

/** Validates scores to transform against the fitted class count; returns the full n×K block. */
export function validateTransformInput(S: Matrix, K: number, opts: ScoreOptions, where: Where): Matrix {
  classCount(S, where, K);
  validateNonEmpty(S.rows, where);
  if (opts.logits) {
    validateLogits(S, where);
    return expandBinaryLogits(S);
  }
  validateProbabilities(S, where);
  return expandBinaryProbabilities(S);
}

/** A fitted recalibrator's JSON: the common header (format, version, method, classes), then its parameters. */
export function recalibratorJson(
  method: RecalibrationMethod,
  classes: number,
  parameters: Record<string, unknown>,
): RecalibratorJSON {
  return { format: RECALIBRATOR_FORMAT, version: RECALIBRATOR_VERSION, method, classes, ...parameters };
}

/** A RangeError for using an unfitted recalibrator (a programming error). */
export function notFitted(method: string): RangeError {
  return new RangeError(`${method}: call fit() before transform() or toJSON()`);
}

/** Reads a field of a JSON object that must be a finite number. @throws InputError */
export function jsonNumber(o: Record<string, unknown>, key: string, where: string): number {
  const v = o[key];
  if (typeof v !== "number" || !Number.isFinite(v)) {
    throw new InputError(`${where}: expected "${key}" to be a finite number; got ${JSON.stringify(v)}`);
  }
  return v;
}

/** Reads a field that must be an array of numbers (nulls allowed when `nullable`). @throws InputError */
export function jsonNumbers(
  o: Record<string, unknown>,
  key: string,
  where: string,
  length?: number,
): number[] {
  const v = o[key];
  if (!Array.isArray(v) || v.some((x) => typeof x !== "number" || !Number.isFinite(x))) {
    throw new InputError(
      `${where}: expected "${key}" to be an array of finite numbers; got ${JSON.stringify(v)?.slice(0, 60)}`,
    );
  }
  if (length !== undefined && v.length !== length) {
    throw new InputError(`${where}: expected "${key}" to have ${length} entries; got ${v.length}`);
  }
  return v as number[];
}

/**
 * Row-normalizes one-vs-rest calibrated class probabilities in place:
 * q_ik ← q_ik / Σ_j q_ij, and a row whose q's are all 0 becomes uniform 1/K (scikit-learn's
 * CalibratedClassifierCV rule).
 */
export function renormalizeRows(q: Float64Array, n: number, K: number): void {
  for (let i = 0, o = 0; i < n; i++, o += K) {
    let s = 0;
    for (let k = 0; k < K; k++) s += q[o + k];
    if (s > 0) for (let k = 0; k < K; k++) q[o + k] /= s;
    else for (let k = 0; k < K; k++) q[o + k] = 1 / K;
  }
}
