/**
 * The recalibrator registry: create one by method name, or rebuild a fitted one from its JSON.
 */
import { InputError } from "../../errors.js";
import { validateChoice } from "../validate.js";
import { BetaCalibration, type BetaVariant } from "./beta.js";
import { DirichletCalibration, MatrixScaling } from "./dirichlet.js";
import { HistogramBinning } from "./histogram.js";
import { IsotonicCalibration } from "./isotonic.js";
import { PlattScaling } from "./platt.js";
import {
  RECALIBRATION_METHODS,
  RECALIBRATOR_FORMAT,
  RECALIBRATOR_VERSION,
  type RecalibrationMethod,
  type Recalibrator,
} from "./recalibrator.js";
import { TemperatureScaling } from "./temperature.js";
import { VectorScaling } from "./vector.js";

/** Options for {@link createRecalibrator}; each applies to one method and is ignored by others. */
export interface RecalibratorOptions {
  /** histogram: number of equal-width bins B (default 15). */
  bins?: number;
  /** platt: Platt's target smoothing (default true). */
  targetSmoothing?: boolean;
  /** vector, matrix, dirichlet: L2 strength λ ≥ 0 toward the identity (default 0: refuse separable sets instead). */
  l2?: number;
  /** beta: the variant "abm" (default), "am" or "ab". */
  variant?: BetaVariant;
  /** matrix, dirichlet: ODIR penalty λ ≥ 0 on the off-diagonal entries of W (default 0). */
  odirLambda?: number;
  /** matrix, dirichlet: ODIR penalty μ ≥ 0 on the intercepts b (default 0). */
  odirMu?: number;
}

/**
 * An unfitted recalibrator by name: "temperature", "vector", "matrix", "dirichlet", "histogram",
 * "isotonic", "platt" or "beta".
 * @throws InputError `method: expected one of temperature, vector, matrix, dirichlet, histogram, isotonic, platt, beta; got "foo"`,
 *   or for bad options (histogram bins not an integer ≥ 1, an L2 or ODIR penalty not a finite
 *   number ≥ 0, an unknown beta variant).
 * @example createRecalibrator("temperature").fit(Z, y, { logits: true }).transform(Ztest, { logits: true })
 */
export function createRecalibrator(
  method: string,
  opts: RecalibratorOptions = {},
  where = "method",
): Recalibrator {
  const m = validateChoice<RecalibrationMethod>(method, RECALIBRATION_METHODS, where);
  switch (m) {
    case "temperature":
      return new TemperatureScaling();
    case "vector":
      return new VectorScaling(undefined, undefined, { l2: opts.l2 ?? 0 });
    case "histogram":
      return new HistogramBinning(opts.bins ?? 15);
    case "isotonic":
      return new IsotonicCalibration();
    case "platt":
      return new PlattScaling({ targetSmoothing: opts.targetSmoothing ?? true });
    case "beta":
      return new BetaCalibration({ variant: opts.variant ?? "abm" });
    case "matrix":
      return new MatrixScaling(penalties(opts));
    case "dirichlet":
      return new DirichletCalibration(penalties(opts));
  }
}

function penalties(opts: RecalibratorOptions): { l2: number; odirLambda: number; odirMu: number } {
  return { l2: opts.l2 ?? 0, odirLambda: opts.odirLambda ?? 0, odirMu: opts.odirMu ?? 0 };
}

/**
 * Rebuilds a fitted recalibrator from `toJSON()` output (an object, or its JSON text).
 * `where` names the source in messages (e.g. the file name).
 * @throws InputError when the JSON is not a softcal recalibrator of a known method and version 1,
 *   or a parameter is missing or malformed, e.g. `cal.json: expected "temperature" to be a finite number; got null`.
 */
export function recalibratorFromJSON(json: unknown, where = "recalibrator JSON"): Recalibrator {
  let o: unknown = json;
  if (typeof json === "string") {
    try {
      o = JSON.parse(json);
    } catch (e) {
      throw new InputError(`${where}: expected JSON text; got a parse error (${(e as Error).message})`);
    }
  }
  if (typeof o !== "object" || o === null || Array.isArray(o)) {
    throw new InputError(`${where}: expected a JSON object; got ${JSON.stringify(o)?.slice(0, 40)}`);
  }
  const r = o as Record<string, unknown>;
  if (r["format"] !== RECALIBRATOR_FORMAT || r["version"] !== RECALIBRATOR_VERSION) {
    throw new InputError(
      `${where}: expected format "softcal-recalibrator" version 1; got format ${JSON.stringify(r["format"])} version ${JSON.stringify(r["version"])}`,
    );
  }
  const method = validateChoice<RecalibrationMethod>(
    String(r["method"]),
    RECALIBRATION_METHODS,
    `${where}: method`,
  );
  const classes = r["classes"];
  if (typeof classes !== "number" || !Number.isInteger(classes) || classes < 2) {
    throw new InputError(`${where}: expected "classes" to be an integer ≥ 2; got ${JSON.stringify(classes)}`);
  }
  switch (method) {
    case "temperature":
      return TemperatureScaling.fromJSON(r, classes, where);
    case "vector":
      return VectorScaling.fromJSON(r, classes, where);
    case "histogram":
      return HistogramBinning.fromJSON(r, classes, where);
    case "isotonic":
      return IsotonicCalibration.fromJSON(r, classes, where);
    case "platt":
      if (classes !== 2) throw new InputError(`${where}: expected "classes" 2 for platt; got ${classes}`);
      return PlattScaling.fromJSON(r, where);
    case "beta":
      return BetaCalibration.fromJSON(r, classes, where);
    case "matrix":
      return MatrixScaling.fromJSON(r, classes, where);
    case "dirichlet":
      return DirichletCalibration.fromJSON(r, classes, where);
  }
}
