/**
 * `softcal/testing`: property-testing helpers for your own vitest suites — fast-check arbitraries
 * (logit matrices, probability matrices, labelled data sets, predictions calibrated by
 * construction), a finite-difference gradient checker, and vitest matchers
 * (`toBeOnSimplex`, `toBeCalibrated`, `toHaveGradientMatchingFiniteDifferences`).
 *
 * fast-check and vitest are optional peer dependencies of softcal: install them in the project
 * that imports this entry point (`npm i -D vitest fast-check`).
 *
 * @example
 * // my-model.test.ts
 * import { fc, test } from "@fast-check/vitest";
 * import { expect } from "vitest";
 * import { softmax } from "softcal";
 * import { logitMatrix, softcalMatchers } from "softcal/testing";
 * expect.extend(softcalMatchers);
 * test.prop([logitMatrix()])("softmax rows are probabilities", (Z) => {
 *   expect(softmax(Z)).toBeOnSimplex();
 * });
 */
export {
  type CalibratedPredictionsOptions,
  calibratedPredictions,
  type LabelledDataset,
  type LabelledDatasetOptions,
  type LabelledPredictions,
  type LogitMatrixOptions,
  labelledDataset,
  logitMatrix,
  type MatrixShapeOptions,
  type ProbabilityMatrixOptions,
  probabilityMatrix,
} from "./arbitraries.js";
export {
  checkGradient,
  DEFAULT_GRADIENT_STEP,
  type GradientCheckOptions,
  type GradientCheckResult,
  type GradientCoordinate,
  type LossWithGradient,
} from "./gradientCheck.js";
export {
  type CalibratedOptions,
  type PredictionsWithLabels,
  type SimplexOptions,
  type SoftcalMatchers,
  softcalMatchers,
} from "./matchers.js";
