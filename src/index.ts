/**
 * softcal's public API: the one export list (`import { … } from "softcal"`) — the math, data,
 * calibration and plot specs. Everything not exported here is internal. The other entries:
 * `softcal/experiments` (the experiment engine and the built-in experiments' building blocks),
 * `softcal/cli` (`runCli`: the command line in-process) and `softcal/testing` (helpers for your
 * own property tests). This entry loads no CLI and no experiment; vega and resvg load only when a
 * figure is rendered.
 */

// Calibration: bins, metrics, scores and losses, evaluation, bootstrap intervals, recalibrators.
export {
  type Bin,
  type BinOptions,
  type BinRule,
  type BinStrategy,
  binaryReliabilityBins,
  classwiseReliabilityBins,
  type ReliabilityBin,
  reliabilityBins,
  uniformEdges,
} from "./calibration/bins.js";
export { type BootstrapInterval, type BootstrapOptions, bootstrapInterval } from "./calibration/bootstrap.js";
export {
  type CalibratedMember,
  type CrossFitCalibration,
  type CrossFitOptions,
  calibratedProba,
  calibrationFromJson,
  calibrationToJson,
  crossFitCalibration,
} from "./calibration/crossFit.js";
export { type EvaluateOptions, type Evaluation, evaluatePredictions } from "./calibration/evaluate.js";
export {
  classwiseCalibrationError,
  debiasedL2CalibrationError,
  expectedCalibrationError,
  maxCalibrationError,
  rmsCalibrationError,
  sweepCalibrationError,
} from "./calibration/metrics.js";
export { type Predictions, readPredictions } from "./calibration/predictions.js";
export {
  BETA_VARIANTS,
  BetaCalibration,
  type BetaOptions,
  type BetaVariant,
} from "./calibration/recalibrators/beta.js";
export {
  DirichletCalibration,
  type DirichletOptions,
  MatrixScaling,
} from "./calibration/recalibrators/dirichlet.js";
export { HistogramBinning } from "./calibration/recalibrators/histogram.js";
export { IsotonicCalibration } from "./calibration/recalibrators/isotonic.js";
export { PlattScaling } from "./calibration/recalibrators/platt.js";
export type {
  RecalibrationMethod,
  Recalibrator,
  RecalibratorJSON,
} from "./calibration/recalibrators/recalibrator.js";
export { createRecalibrator, recalibratorFromJSON } from "./calibration/recalibrators/registry.js";
export {
  type TemperatureFit,
  TemperatureScaling,
  temperatureScale,
} from "./calibration/recalibrators/temperature.js";
export { VectorScaling } from "./calibration/recalibrators/vector.js";
export {
  accuracy,
  brier,
  brierDecomposition,
  brierLoss,
  logLoss,
  nll,
  zeroProbabilityRows,
} from "./calibration/scores.js";
export {
  type MatrixSource,
  validateLabels,
  validateLogits,
  validateProbabilities,
  type Where,
} from "./calibration/validate.js";
// Data: built-in data sets, CSV, the lesson's clusters, seeded randomness, splits, standardization.
export { builtinNames, loadBuiltin } from "./data/builtin.js";
export { type CsvTable, parseCsvTable, readCsvFile } from "./data/csv.js";
export { type CsvColumns, readCsvColumns } from "./data/csvStream.js";
export { csvField, csvRecords } from "./data/csvWrite.js";
export {
  type Dataset,
  datasetFromCsvFile,
  datasetFromTable,
  featuresFromCsvFile,
  featuresFromTable,
  requireTwoClasses,
} from "./data/dataset.js";
export { cholesky, lessonClusters, multivariateNormal } from "./data/gaussian.js";
export { createRng, deriveSeed, type Rng } from "./data/rng.js";
export { type Split, type SplitFractions, stratifiedKFold, stratifiedSplit, subset } from "./data/split.js";
export { applyStandardizer, fitStandardizer, type Standardizer } from "./data/standardize.js";
// Errors: every error a user can cause (exit code 2 for bad input, 1 for a failed run).
export { InputError, RunError, SoftcalError, type SourceLocation } from "./errors.js";
// Files: atomic writes.
export { writeFileAtomic } from "./io/atomic.js";
// Kernels: the WebAssembly SIMD objectives (the default for softmax fits; bit-identical for any
// thread count), stable softmax and log-softmax.
export {
  CHUNK_ROWS,
  defaultThreads,
  type WasmObjective,
  type WasmObjectiveOptions,
  wasmOvrObjective,
  wasmSoftmaxObjective,
} from "./kernels/objectiveWasm.js";
export { logSoftmax, softmax } from "./kernels/softmax.js";
export { wasmUnavailableReason } from "./kernels/wasmModule.js";
// Linear algebra: the matrix type.
export { fromRows, type Matrix, matrix, takeRows, toRows } from "./linalg/matrix.js";
// Models: fitting, objectives, prediction, the saved model format.
export {
  type FitOptions,
  type FitResult,
  fit,
  type LinearModel,
  type ModelKind,
  type OptimizerName,
} from "./model/fit.js";
export { type ModelBundle, modelFromJson, modelToJson, type Standardization } from "./model/modelFile.js";
export {
  lipschitzBound,
  ovrObjective,
  softmaxObjective,
  type TrainingData,
} from "./model/objective.js";
export { argmaxRows, decisionFunction, predictLabels, predictProba } from "./model/predict.js";
// Optimizers: gradient descent, L-BFGS and their types.
export { gradientDescent } from "./optim/gradientDescent.js";
export { type LbfgsSearchOptions, type LineSearch, lbfgs } from "./optim/lbfgs.js";
export type {
  DifferentiableObjective,
  GradientDescentOptions,
  LbfgsOptions,
  OptimizerResult,
} from "./optim/types.js";
// Plots: vega-lite specs, headless SVG/PNG rendering, offline HTML pages.
export { barSpec } from "./plot/bar.js";
export { writeFigureFile, writeFigureFiles } from "./plot/figureFile.js";
export {
  type HtmlFigure,
  type HtmlPageContent,
  type HtmlSection,
  type HtmlTable,
  htmlPage,
} from "./plot/html.js";
export { lossCurveSpec } from "./plot/lossCurve.js";
export { metricSweepSpec } from "./plot/metricSweep.js";
export { reliabilityDiagramSpec, sideBySideReliabilitySpec } from "./plot/reliability.js";
export { renderFigure, renderSvg, svgToPng } from "./plot/render.js";
export { type RenderedFigure, type RenderPool, renderPool } from "./plot/renderPool.js";
export { decisionRegionsSpec, scatterSpec } from "./plot/scatter.js";
export type { BarRow, GridCell, LossRow, ReliabilityPanel, ScatterPoint, SweepRow } from "./plot/types.js";
export { VERSION } from "./version.js";
