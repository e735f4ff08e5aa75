/**
 * The saved model format: versioned JSON holding everything `predict` needs to reproduce the
 * fitted probabilities exactly — kind, Θ (K×(d+1), bias first), class names, feature names and the
 * standardization applied to the features before Θ.
 *
 * ```json
 * { "format": "softcal-model", "version": 1, "model": "softmax",
 *   "classes": ["setosa", …], "label": "species", "features": ["sepal_length", …],
 *   "standardization": { "mean": […], "scale": […] } | null,
 *   "theta": [[b_0, w_01, …], …], "training": { … } }
 * ```
 * `"label"` names the label column the model was trained on (so `predict` finds it in new data);
 * files written before it existed have none, and read as before (`predict` then looks for `label`).
 *
 * Version 2 is version 1 plus a `"calibration"` object (a cross-fitted recalibration: `fit
 * --calibrate METHOD --cv K`; its members are read and checked by the calibration layer,
 * src/calibration/crossFit.ts). Only a calibrated model is written as version 2, so a softcal that
 * reads version 1 only refuses it rather than predicting uncalibrated probabilities.
 * Numbers are written in shortest round-trip form (and −0 as `-0`), so `read(write(m))` equals
 * `m` bit for bit; names are JSON strings, so any class or column name round-trips exactly.
 */
import { InputError } from "../errors.js";
import { type LinearModel, MODEL_KINDS, type ModelKind } from "./fit.js";

export const MODEL_FORMAT = "softcal-model";
export const MODEL_VERSION = 1;
/** The version of a model file that holds a `"calibration"` object. */
export const CALIBRATED_MODEL_VERSION = 2;

export interface Standardization {
  mean: number[];
  scale: number[];
}

/** A model as saved: the linear model plus the names and preprocessing needed to apply it. */
export interface ModelBundle extends LinearModel {
  classNames: string[];
  /** The label column of the training data (absent in files written before softcal recorded it). */
  labelColumn?: string;
  featureNames: string[];
  standardization: Standardization | null;
  /** Free-form record of how it was trained (optimizer, λ, objective, …); informational. */
  training: Record<string, string | number | boolean | null>;
  /**
   * A cross-fitted recalibration (version 2 files), as parsed JSON: the calibration layer checks
   * and applies it (src/calibration/crossFit.ts).
   */
  calibration?: Record<string, unknown>;
}

function num(x: number): string {
  return Object.is(x, -0) ? "-0" : JSON.stringify(x);
}

function numArray(xs: ArrayLike<number>): string {
  return `[${Array.from(xs, num).join(", ")}]`;
}

/**
 * Serializes a model bundle (deterministic: same model ⇒ same bytes). `calibrationJson`, the
 * JSON text of a cross-fitted recalibration, makes it a version 2 file.
 */
export function modelToJson(m: ModelBundle, calibrationJson?: string): string {
  const w = m.nFeatures + 1;
  const rows: string[] = [];
  for (let k = 0; k < m.nClasses; k++) rows.push(`    ${numArray(m.theta.subarray(k * w, (k + 1) * w))}`);
  const std = m.standardization
    ? `{ "mean": ${numArray(m.standardization.mean)}, "scale": ${numArray(m.standardization.scale)} }`
    : "null";
  return [
    "{",
    `  "format": ${JSON.stringify(MODEL_FORMAT)},`,
    `  "version": ${calibrationJson === undefined ? MODEL_VERSION : CALIBRATED_MODEL_VERSION},`,
    `  "model": ${JSON.stringify(m.model)},`,
    `  "classes": ${JSON.stringify(m.classNames)},`,
    ...(m.labelColumn === undefined ? [] : [`  "label": ${JSON.stringify(m.labelColumn)},`]),
    `  "features": ${JSON.stringify(m.featureNames)},`,
    `  "standardization": ${std},`,
    `  "theta": [\n${rows.join(",\n")}\n  ],`,
    `  "training": ${JSON.stringify(m.training)}${calibrationJson === undefined ? "" : ","}`,
    ...(calibrationJson === undefined ? [] : [`  "calibration": ${calibrationJson}`]),
    "}",
    "",
  ].join("\n");
}

/**
 * Parses and validates a saved model.
 * @throws InputError naming `file` (and the line and column for malformed JSON) and what was expected.
 */
export function modelFromJson(text: string, file: string): ModelBundle {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    const offset = jsonErrorOffset(text, (e as Error).message);
    if (offset !== undefined) {
      const before = text.slice(0, offset);
      const line = before.split("\n").length;
      const column = offset - before.lastIndexOf("\n");
      throw new InputError("expected a softcal model (valid JSON)", { file, line, column });
    }
    throw new InputError("expected a softcal model (valid JSON); the file is empty or cut short", { file });
  }
  const bad = (what: string, got: unknown): never => {
    throw new InputError(`expected ${what}; got ${describe(got)}`, { file });
  };
  if (typeof raw !== "object" || raw === null || Array.isArray(raw))
    bad("a JSON object (a softcal model)", raw);
  const o = raw as Record<string, unknown>;
  if (o.format !== MODEL_FORMAT) bad(`"format": "${MODEL_FORMAT}"`, o.format);
  if (o.version !== MODEL_VERSION && o.version !== CALIBRATED_MODEL_VERSION)
    bad(`"version": 1, or 2 for a calibrated model (this softcal reads versions 1 and 2)`, o.version);
  const calibration = o.calibration;
  if (o.version === CALIBRATED_MODEL_VERSION) {
    if (typeof calibration !== "object" || calibration === null || Array.isArray(calibration))
      bad('"calibration": an object (a version 2 model is a calibrated one)', calibration);
  } else if (calibration !== undefined) {
    bad('no "calibration" in a version 1 model (a calibrated model is version 2)', calibration);
  }
  if (!MODEL_KINDS.includes(o.model as ModelKind)) bad(`"model" one of ${MODEL_KINDS.join(", ")}`, o.model);
  const classes = o.classes;
  if (!isStringArray(classes) || classes.length < 2)
    bad('"classes": an array of at least 2 class names', classes);
  const features = o.features;
  if (!isStringArray(features)) bad('"features": an array of feature names', features);
  const label = o.label;
  if (
    label !== undefined &&
    (typeof label !== "string" || label === "" || (features as string[]).includes(label))
  )
    bad('"label": the name of the label column (a non-empty string, not a feature)', label);
  const K = (classes as string[]).length;
  const d = (features as string[]).length;
  const theta = o.theta;
  if (!Array.isArray(theta) || theta.length !== K) bad(`"theta": ${K} rows (one per class)`, theta);
  const flat = new Float64Array(K * (d + 1));
  (theta as unknown[]).forEach((r, k) => {
    if (!isFiniteArray(r, d + 1)) bad(`"theta"[${k}]: ${d + 1} finite numbers (bias first)`, r);
    flat.set(r as number[], k * (d + 1));
  });
  let standardization: Standardization | null = null;
  if (o.standardization !== null && o.standardization !== undefined) {
    const s = o.standardization as Record<string, unknown>;
    if (typeof s !== "object" || !isFiniteArray(s.mean, d) || !isFiniteArray(s.scale, d)) {
      bad(`"standardization": { mean, scale } with ${d} finite numbers each`, s);
    }
    if ((s.scale as number[]).some((v) => !(v > 0))) bad('"standardization".scale entries > 0', s.scale);
    standardization = { mean: s.mean as number[], scale: s.scale as number[] };
  }
  const training = o.training;
  if (
    training !== undefined &&
    (typeof training !== "object" || training === null || Array.isArray(training))
  ) {
    bad('"training": an object', training);
  }
  for (const v of Object.values((training ?? {}) as object)) {
    if (v !== null && typeof v !== "string" && typeof v !== "number" && typeof v !== "boolean")
      bad('"training": an object of strings, numbers, booleans and nulls', training);
  }
  return {
    model: o.model as ModelKind,
    nClasses: K,
    nFeatures: d,
    theta: flat,
    classNames: classes as string[],
    ...(label === undefined ? {} : { labelColumn: label as string }),
    featureNames: features as string[],
    standardization,
    training: (training ?? {}) as ModelBundle["training"],
    ...(o.version === CALIBRATED_MODEL_VERSION
      ? { calibration: calibration as Record<string, unknown> }
      : {}),
  };
}

/**
 * Where JSON.parse stopped: V8 gives "at position N" for most errors, but only the token for an
 * unexpected one (`Unexpected token 'N', "…" is not valid JSON`); that token's first occurrence
 * outside a string literal is then the place. Undefined at the end of the input.
 */
function jsonErrorOffset(text: string, message: string): number | undefined {
  const pos = /position (\d+)/.exec(message);
  if (pos) return Number(pos[1]);
  const token = /Unexpected token '(.)'/.exec(message);
  if (!token) return undefined;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
    } else if (c === token[1]) {
      return i;
    }
  }
  return undefined;
}

function isStringArray(x: unknown): x is string[] {
  return Array.isArray(x) && x.every((s) => typeof s === "string");
}

function isFiniteArray(x: unknown, n: number): x is number[] {
  return Array.isArray(x) && x.length === n && x.every((v) => typeof v === "number" && Number.isFinite(v));
}

/**
 * A value from the file, for a message: its JSON cut to 60 characters. A value nested too deep for
 * `JSON.stringify` (its recursion overflows the stack — JSON.parse itself is not recursive) is
 * named by kind instead.
 */
function describe(x: unknown): string {
  let s: string | undefined;
  try {
    s = JSON.stringify(x);
  } catch {
    return Array.isArray(x) ? "an array nested too deep to show" : "an object nested too deep to show";
  }
  if (s === undefined) return String(x);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
