/**
 * A tiny command-line driver over the toy experiments, for tests that need a real separate
 * process (kill -9, SIGINT, two processes on one folder):
 *   node --import tsx properties/_shared/toyDriver.ts --out DIR [--seeds N] [--jobs N]
 *        [--shard I/N] [--resume] [--force] [--only toy|toy2] [--flush-ms MS]
 *        [--parallel-min-ms MS (default 0: workers start at once)]
 * Exit code: the run's (0, 1, 130) or the error's (2 for InputError).
 */
import { parseArgs } from "node:util";
import { SoftcalError } from "../../src/errors.js";
import { runExperiments } from "../../src/experiment/runner.js";
import { parseShard } from "../../src/experiment/shard.js";
import { experiments } from "./toyExperiments.js";

const { values } = parseArgs({
  options: {
    out: { type: "string" },
    seeds: { type: "string", default: "3" },
    jobs: { type: "string", default: "1" },
    shard: { type: "string" },
    resume: { type: "boolean", default: false },
    force: { type: "boolean", default: false },
    only: { type: "string" },
    "flush-ms": { type: "string" },
    "parallel-min-ms": { type: "string", default: "0" },
  },
});

try {
  const result = await runExperiments({
    experiments: values.only ? experiments.filter((e) => e.name === values.only) : experiments,
    registryUrl: new URL("./toyExperiments.ts", import.meta.url),
    out: values.out ?? "toy-results",
    seeds: Number(values.seeds),
    jobs: Number(values.jobs),
    ...(values.shard ? { shard: parseShard(values.shard) } : {}),
    resume: values.resume,
    force: values.force,
    ...(values["flush-ms"] === undefined ? {} : { flushMs: Number(values["flush-ms"]) }),
    parallelMinMs: Number(values["parallel-min-ms"]),
    figures: false,
    progress: (e) => process.stderr.write(`progress ${e.experiment} ${e.done}/${e.total}\n`),
  });
  process.exitCode = result.exitCode;
} catch (err) {
  if (err instanceof SoftcalError) {
    process.stderr.write(`softcal: ${err.message}\n`);
    process.exitCode = err.exitCode;
  } else {
    throw err;
  }
}
