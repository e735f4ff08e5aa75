/**
 * `softcal/experiments`: the experiment engine and what the built-in experiments are made of —
 * the one export list for writing, running, sharding and merging your own sweeps. The built-in
 * experiments (experiments/*.ts) import only this entry and `softcal`, so they double as worked
 * examples. Loading it loads no CLI; figures load vega and resvg only when rendered.
 */

// Tracking across runs: the runs index, comparisons (paired by seed index, or Welch) and the gate.
export {
  type ComparisonRow,
  compareRuns,
  type Pairing,
  pairing,
  type RunComparison,
} from "../tracking/compare.js";
export {
  checkRun,
  type GateReport,
  type GateResult,
  type GateRule,
  type GateRuleKind,
  parseRule,
  parseWhere,
} from "../tracking/gate.js";
export { gateJUnit, type JUnitCase, type JUnitSuite, junitXml, xmlEscape } from "../tracking/junit.js";
export { comparisonMarkdown, gateMarkdown, markdownCell } from "../tracking/markdown.js";
export { type RunFolder, readRunFolder } from "../tracking/runFolder.js";
export { indexRuns, type RunIndexEntry } from "../tracking/runIndex.js";
export { type WelchResult, welchTest } from "../tracking/welch.js";
// Axes, grids and user modules.
export {
  type Axis,
  type AxisValues,
  axisValues,
  isNamedData,
  MAX_AXIS_VALUES,
  parseAxisValue,
  parseSetFlag,
  product,
  type RunInputs,
  resolveAxisValues,
  resolveRunInputs,
} from "./axes.js";
export {
  type DataFile,
  fingerprintDataFile,
  loadRunData,
  sha256File,
  verifiedDataFile,
} from "./dataFiles.js";
export { listRuns, type MergeOptions, mergeRuns, type RunInfo } from "./merge.js";
export { defineExperiment, isModuleSpec, loadExperimentModule } from "./module.js";
// Paired comparisons and honest summaries.
export {
  type Comparison,
  EXACT_SIGN_FLIP_MAX,
  PAIRED_EFFECT_COLUMNS,
  type PairedEffect,
  pairedEffect,
  pairedEffectCells,
  pairedTable,
  type ResolvedComparison,
  resolveComparisons,
  SIGN_FLIP_RESAMPLES,
  type SignFlipResult,
  signFlipTest,
} from "./paired.js";
// Running: the engine, seeds and streams, shards.
export { type RunExperimentsOptions, type RunExperimentsResult, runExperiments } from "./runner.js";
export { deriveRunSeed, pointKey, SEED_DERIVATION, streamSeed, unitContext } from "./seeds.js";
export { parseShard, type Shard } from "./shard.js";
export {
  describeMetric,
  describeNotes,
  type MetricDescription,
  type MetricRange,
  type MetricSummary,
  quantileSorted,
  studentTCdf,
  studentTQuantile,
  summarize,
} from "./stats.js";
// The built-in experiments' building blocks.
export {
  BINS,
  BOOTSTRAP_RESAMPLES,
  baseModel,
  bootstrapSeed,
  DATA_NAMES,
  DATASETS,
  dataAxis,
  dataSlug,
  dataSlugs,
  decisionGrid,
  describeRuns,
  type EffectRow,
  effectRows,
  type FigureRows,
  fitOn,
  HELD_OUT_METRICS,
  HELD_OUT_RANGES,
  heldOutMetrics,
  LeftOut,
  l2Axis,
  MODEL_RANGES,
  modelMetrics,
  type RunData,
  resampledEce,
  round6,
  runData,
  SPLIT,
  STREAMS,
  SYNTHETIC,
  scatterPoints,
  sweepRows,
  unitData,
  weightNorm,
} from "./toolkit.js";
export type {
  Bin,
  CompletedRun,
  Experiment,
  Figure,
  GridPoint,
  ParamValue,
  RunContext,
  RunResult,
  Table,
} from "./types.js";
