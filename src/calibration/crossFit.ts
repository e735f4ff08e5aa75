/**
 * Cross-fitted calibration, as scikit-learn's `CalibratedClassifierCV(cv=K)`: no data is set aside
 * for a calibration split. The samples are divided into K stratified folds (scikit-learn's rule:
 * `stratifiedKFold`); for each fold f the base model is fitted on the other K − 1 folds and the
 * recalibrator on the base model's scores for fold f.
 *
 * - `ensemble: true` (scikit-learn's default): the K pairs (base model f, recalibrator f) are all
 *   kept, and the calibrated probability is their mean, p(x) = (1/K) Σ_f r_f(s_f(x)).
 * - `ensemble: false`: the K base models only produce out-of-fold scores for every sample (each
 *   sample scored by the model that did not see it); one recalibrator is fitted on all of them,
 *   and applied to a base model refitted on all the data, p(x) = r(s(x)).
 *
 * Scores passed to the recalibrator are the base model's logits for softmax regression and its
 * probabilities for one-vs-rest, as `calibrate` takes them. The base model fitted on all the data
 * is always returned too (the saved model's top-level Θ: what an uncalibrated `predict` would
 * use). Standardization, when wanted, is the caller's, fitted once on all the data.
 */

import type { Rng } from "../data/rng.js";
import { stratifiedKFold } from "../data/split.js";
import { InputError, RunError } from "../errors.js";
import { type Matrix, takeRows } from "../linalg/matrix.js";
import { type FitOptions, type FitResult, fit, type LinearModel } from "../model/fit.js";
import { decisionFunction, predictProba } from "../model/predict.js";
import type { Recalibrator } from "./recalibrators/recalibrator.js";
import {
  createRecalibrator,
  type RecalibratorOptions,
  recalibratorFromJSON,
} from "./recalibrators/registry.js";
import type { ScoreOptions } from "./scores.js";

/** One fitted pair: a base model's Θ (absent: the top-level model's) and its recalibrator. */
export interface CalibratedMember {
  theta?: Float64Array;
  recalibrator: Recalibrator;
}

/** A cross-fitted recalibration of a base model. */
export interface CrossFitCalibration {
  method: string;
  /** The number of folds K. */
  cv: number;
  ensemble: boolean;
  /** K members (ensemble), or one without Θ (not ensemble). */
  members: CalibratedMember[];
}

export interface CrossFitOptions {
  /** A recalibrator name (`createRecalibrator`). */
  method: string;
  recalibrator?: RecalibratorOptions;
  /** K ≥ 2 folds, at most the smallest class's size. */
  cv: number;
  /** Default true (scikit-learn's default). */
  ensemble?: boolean;
  /** Options of every base-model fit. */
  fit?: FitOptions;
  /** Shuffles each class's fold list (deterministic under a seed); none: scikit-learn's unshuffled rule. */
  rng?: Rng;
}

/** The scores a recalibrator of this model kind takes, and how. */
function baseScores(model: LinearModel, X: Matrix): { S: Matrix; opts: ScoreOptions } {
  return model.model === "softmax"
    ? { S: decisionFunction(model, X), opts: { logits: true } }
    : { S: predictProba(model, X), opts: {} };
}

/**
 * Fits the base model on all of (X, y) and a cross-fitted recalibration of it (see the module
 * doc). Deterministic: the folds depend only on y, K and the rng's state.
 * @throws InputError for a bad method, options or K (e.g. more folds than the smallest class has
 *   samples); RunError naming the fold when a fold's base model or recalibrator cannot be fitted.
 * Cost: K + 1 base-model fits and K (or 1) recalibrator fits.
 * @example
 * const { base, calibration } = crossFitCalibration(X, y, 3, { method: "temperature", cv: 5 });
 * calibratedProba(base, calibration, Xnew) // rows on the simplex
 */
export function crossFitCalibration(
  X: Matrix,
  y: Int32Array,
  nClasses: number,
  options: CrossFitOptions,
): { base: FitResult; calibration: CrossFitCalibration } {
  const ensemble = options.ensemble ?? true;
  createRecalibrator(options.method, options.recalibrator); // bad names and options first
  const folds = stratifiedKFold(y, nClasses, options.cv, options.rng);
  const base = fit(X, y, nClasses, options.fit);
  const members: CalibratedMember[] = [];
  const oof: { rows: number[]; S: Matrix }[] = [];
  let opts: ScoreOptions = {};
  for (let f = 0; f < options.cv; f++) {
    const train: number[] = [];
    const held: number[] = [];
    for (let i = 0; i < y.length; i++) (folds[i] === f ? held : train).push(i);
    const foldModel = inFold(f, options.cv, () =>
      fit(
        takeRows(X, train),
        Int32Array.from(train, (i) => y[i]),
        nClasses,
        options.fit,
      ),
    );
    const scores = baseScores(foldModel, takeRows(X, held));
    opts = scores.opts;
    if (ensemble) {
      const r = createRecalibrator(options.method, options.recalibrator).fit(
        scores.S,
        Int32Array.from(held, (i) => y[i]),
        scores.opts,
        `--cv: fold ${f + 1} of ${options.cv}`,
      );
      members.push({ theta: foldModel.theta, recalibrator: r });
    } else {
      oof.push({ rows: held, S: scores.S });
    }
  }
  if (!ensemble) {
    // Every sample's out-of-fold scores, in sample order.
    const K = oof[0].S.cols;
    const S = new Float64Array(y.length * K);
    for (const part of oof) {
      part.rows.forEach((i, r) => {
        S.set(part.S.data.subarray(r * K, (r + 1) * K), i * K);
      });
    }
    const r = createRecalibrator(options.method, options.recalibrator).fit(
      { rows: y.length, cols: K, data: S },
      y,
      opts,
      `--cv: the out-of-fold scores of ${options.cv} folds`,
    );
    members.push({ recalibrator: r });
  }
  return { base, calibration: { method: options.method, cv: options.cv, ensemble, members } };
}

/** Runs one fold's base-model fit, naming the fold in a RunError's message. */
function inFold<T>(f: number, cv: number, body: () => T): T {
  try {
    return body();
  } catch (err) {
    if (err instanceof RunError)
      throw new RunError(`--cv: the base model on the folds other than ${f + 1} of ${cv}: ${err.message}`);
    throw err;
  }
}

/**
 * Calibrated class probabilities of a cross-fitted model for the rows of X: the mean over the
 * members of their recalibrated probabilities (one member when not an ensemble). O(K·n·K·d).
 */
export function calibratedProba(base: LinearModel, calibration: CrossFitCalibration, X: Matrix): Matrix {
  const out = new Float64Array(X.rows * base.nClasses);
  for (const m of calibration.members) {
    const model = m.theta === undefined ? base : { ...base, theta: m.theta };
    const { S, opts } = baseScores(model, X);
    const P = m.recalibrator.transform(S, opts, "predict");
    for (let i = 0; i < out.length; i++) out[i] += P.data[i];
  }
  const n = calibration.members.length;
  if (n > 1) for (let i = 0; i < out.length; i++) out[i] /= n;
  return { rows: X.rows, cols: base.nClasses, data: out };
}

function num(x: number): string {
  return Object.is(x, -0) ? "-0" : JSON.stringify(x);
}

/**
 * The JSON text of a cross-fitted recalibration for a model file (`modelToJson`'s second
 * argument), Θ rows as the model file writes them (shortest round-trip numbers): reading it back
 * gives the same probabilities bit for bit.
 */
export function calibrationToJson(c: CrossFitCalibration, base: LinearModel): string {
  const w = base.nFeatures + 1;
  const members = c.members.map((m) => {
    const parts: string[] = [];
    if (m.theta !== undefined) {
      const rows: string[] = [];
      for (let k = 0; k < base.nClasses; k++)
        rows.push(`[${Array.from(m.theta.subarray(k * w, (k + 1) * w), num).join(", ")}]`);
      parts.push(`"theta": [${rows.join(", ")}]`);
    }
    parts.push(`"recalibrator": ${JSON.stringify(m.recalibrator.toJSON())}`);
    return `    { ${parts.join(", ")} }`;
  });
  return `{ "method": ${JSON.stringify(c.method)}, "cv": ${c.cv}, "ensemble": ${c.ensemble}, "members": [\n${members.join(",\n")}\n  ] }`;
}

/** The most folds a model file may hold (a bound on what reading one can cost). */
export const MAX_FOLDS = 100;

/**
 * Checks a model file's `"calibration"` object (untrusted) against its base model and rebuilds it.
 * @throws InputError naming `file` and what was expected.
 */
export function calibrationFromJson(
  raw: Record<string, unknown>,
  base: LinearModel,
  file: string,
): CrossFitCalibration {
  const bad = (what: string, got: unknown): never => {
    let shown = String(got);
    try {
      shown = JSON.stringify(got)?.slice(0, 60) ?? String(got);
    } catch {
      // too deep to show
    }
    throw new InputError(`${file}: expected "calibration".${what}; got ${shown}`);
  };
  const { method, cv, ensemble, members } = raw;
  if (typeof method !== "string") bad("method: a recalibration method", method);
  if (!(typeof cv === "number" && Number.isInteger(cv) && cv >= 2 && cv <= MAX_FOLDS))
    bad(`cv: an integer from 2 to ${MAX_FOLDS}`, cv);
  if (typeof ensemble !== "boolean") bad("ensemble: true or false", ensemble);
  const count = ensemble ? (cv as number) : 1;
  if (!Array.isArray(members) || members.length !== count)
    bad(`members: ${count} member${count === 1 ? "" : "s"} (cv ${cv}, ensemble ${ensemble})`, members);
  const w = base.nFeatures + 1;
  const out: CalibratedMember[] = (members as unknown[]).map((m, j) => {
    if (typeof m !== "object" || m === null || Array.isArray(m)) bad(`members[${j}]: an object`, m);
    const o = m as Record<string, unknown>;
    let theta: Float64Array | undefined;
    if (ensemble) {
      const rows = o.theta;
      if (
        !Array.isArray(rows) ||
        rows.length !== base.nClasses ||
        rows.some(
          (r) =>
            !Array.isArray(r) ||
            r.length !== w ||
            r.some((v) => typeof v !== "number" || !Number.isFinite(v)),
        )
      )
        bad(`members[${j}].theta: ${base.nClasses} rows of ${w} finite numbers`, rows);
      theta = Float64Array.from((rows as number[][]).flat());
    } else if (o.theta !== undefined) {
      bad(`members[${j}]: no theta (not an ensemble: the top-level theta is the base model)`, o.theta);
    }
    const recalibrator = recalibratorFromJSON(
      o.recalibrator,
      `${file}: "calibration".members[${j}].recalibrator`,
    );
    if (recalibrator.method !== method)
      bad(`members[${j}].recalibrator.method: "${method}"`, recalibrator.method);
    const classes = (recalibrator.toJSON() as { classes: number }).classes;
    if (classes !== base.nClasses) bad(`members[${j}].recalibrator.classes: ${base.nClasses}`, classes);
    return theta === undefined ? { recalibrator } : { theta, recalibrator };
  });
  return { method: method as string, cv: cv as number, ensemble: ensemble as boolean, members: out };
}
