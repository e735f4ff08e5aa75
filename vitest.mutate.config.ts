/**
 * Vitest configuration for mutation testing only (`npm run mutate`, see stryker.config.json and
 * docs/mutation.md). It runs just the properties that exercise the mutated modules — linalg,
 * model (objective, optimizers, fit, predict, model file) and calibration — with the fast-check
 * seed pinned so that the dry run and every mutant run see the same cases (Stryker requires
 * deterministic tests) and FC_NUM_RUNS = 25 (a quarter of CI's 100) to keep a run affordable on
 * two shared cores. The reported score is for this configuration.
 *
 * MUTATE_SCOPE=core narrows the files to the direct properties of the most important modules
 * (softmax, objective, bins/metrics, temperature scaling): no optimizer/fit/model-file/kernel
 * suites, whose module imports dominate each mutant's run time.
 *
 * MUTATE_TESTS=a,b,… (comma-separated test files or globs) replaces the file list altogether: a
 * run over one module then loads only that module's properties, and concurrent runs over
 * different modules do not see each other's test files.
 */
import { defineConfig } from "vitest/config";

const FC_SEED = process.env.FC_SEED ?? "424242";
const FC_NUM_RUNS = process.env.FC_NUM_RUNS ?? "25";
// Worker threads copy process.env when they start; `test.env` sets it inside each test file too.
process.env.FC_SEED = FC_SEED;
process.env.FC_NUM_RUNS = FC_NUM_RUNS;

const core = [
  // The subjects' property files that hold the mutation-driven contract tests (docs/mutation.md).
  "properties/matrix.test.ts",
  "properties/softmax.test.ts",
  "properties/objective.test.ts",
  "properties/gradientDescent.test.ts",
  "properties/lbfgs.test.ts",
  "properties/root1d.test.ts",
  "properties/fit.test.ts",
  "properties/predict.test.ts",
  "properties/modelFile.test.ts",
  "properties/bins.test.ts",
  "properties/bootstrap.test.ts",
  "properties/evaluate.test.ts",
  "properties/scores.test.ts",
  "properties/validate.test.ts",
  "properties/histogram.test.ts",
  "properties/isotonic.test.ts",
  "properties/platt.test.ts",
  "properties/registry.test.ts",
  "properties/temperature.test.ts",
  "properties/vector.test.ts",
  "properties/calibration.test.ts",
  "properties/calibration-reference.test.ts",
  "properties/recalibrators.test.ts",
  "properties/kernels-temperature.test.ts",
];
const all = [
  ...core,
  "properties/optimizer.test.ts",
  "properties/ovr.test.ts",
  "properties/kernels.test.ts",
  "properties/temperature-model.test.ts",
  // Not properties/sklearn.test.ts (digits under instrumentation exceeds 60 s per test) nor
  // properties/parity.test.ts (spawns python per run).
];

export default defineConfig({
  test: {
    include: process.env.MUTATE_TESTS
      ? process.env.MUTATE_TESTS.split(",").map((f) => f.trim())
      : process.env.MUTATE_SCOPE === "core"
        ? core
        : all,
    setupFiles: ["properties/setup.ts"],
    env: { FC_SEED, FC_NUM_RUNS },
    // Modules stay loaded between test files (mutant switching reads the active mutant at run
    // time, so this is safe); it cut the dry run from 64 s to 13 s here.
    isolate: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
