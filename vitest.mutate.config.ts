/**
 * Vitest configuration for mutation testing only (`npm run mutate`, see stryker.config.json and
 * docs/mutation.md). It runs just the properties that exercise the mutated modules — linalg,
 * model (objective, optimizers, fit, predict, model file) and calibration — with the fast-check
 * seed pinned so that the dry run and every mutant run see the same cases (Stryker requires
 * deterministic tests). The reported mutation score is for this configuration: these files, this
 * seed, FC_NUM_RUNS as set below (default 100, the CI default).
 */
import { defineConfig } from "vitest/config";

const FC_SEED = process.env.FC_SEED ?? "424242";
const FC_NUM_RUNS = process.env.FC_NUM_RUNS ?? "25";
// Worker threads copy process.env when they start; `test.env` sets it inside each test file too.
process.env.FC_SEED = FC_SEED;
process.env.FC_NUM_RUNS = FC_NUM_RUNS;

export default defineConfig({
  test: {
    include: [
      "properties/softmax.test.ts",
      "properties/objective.test.ts",
      "properties/optimizer.test.ts",
      "properties/ovr.test.ts",
      "properties/kernels.test.ts",
      "properties/modelFile.test.ts",
      "properties/temperature-model.test.ts",
      "properties/calibration.test.ts",
      "properties/calibration-reference.test.ts",
      "properties/recalibrators.test.ts",
      "properties/mutation-*.test.ts",
    ],
    setupFiles: ["properties/setup.ts"],
    env: { FC_SEED, FC_NUM_RUNS },
    isolate: process.env.MUTATE_ISOLATE === "1",
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
