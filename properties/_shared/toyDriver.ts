/**
 * A tiny command-line driver over the toy experiments, for tests that need a real separate
 * process (kill -9, SIGINT, two processes on one folder):
 *   node --import tsx properties/_shared/toyDriver.ts --out DIR [--seeds N] [--jobs N]
 *        [--shard I/N] [--resume] [--force] [--only toy|toy2] [--flush-ms MS]
 *        [--parallel-min-ms MS (default 0: workers start at once)] [--events] [--die-at N]
 * Exit code: the run's (0, 1, 130) or the error's (2 for InputError).
 *
 * Events (the points a test can wait for, or kill the run at): a unit finished (`unit <experiment>
 * <key>`), a file about to be renamed into place by an atomic write — its temp file is complete
 * (`rename <path under --out>`), a batch of units on disk (`batch <experiment> <file> <units>`).
 * `--events` prints each as `event <n> <what>` on stderr, numbered from 1 in the order they happen;
 * `--die-at N` makes the process SIGKILL itself at event N (after printing it): a `kill -9` at an
 * exact point of the run, chosen by the test, not by a timer.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { SoftcalError } from "../../src/errors.js";
import { runExperiments } from "../../src/experiment/runner.js";
import { parseShard } from "../../src/experiment/shard.js";
import { type AtomicFs, writeFileAtomic } from "../../src/io/atomic.js";
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
    events: { type: "boolean", default: false },
    "die-at": { type: "string" },
  },
});

const out = values.out ?? "toy-results";
const dieAt = values["die-at"] === undefined ? undefined : Number(values["die-at"]);
let events = 0;
function event(what: string): void {
  events++;
  if (values.events) process.stderr.write(`event ${events} ${what}\n`);
  if (events === dieAt) process.kill(process.pid, "SIGKILL");
}
const eventFs: AtomicFs = {
  ...fs,
  renameSync(from, to) {
    event(`rename ${path.relative(out, to)}`);
    fs.renameSync(from, to);
  },
};
const counted = values.events || dieAt !== undefined;

try {
  const result = await runExperiments({
    experiments: values.only ? experiments.filter((e) => e.name === values.only) : experiments,
    registryUrl: new URL("./toyExperiments.ts", import.meta.url),
    out,
    seeds: Number(values.seeds),
    jobs: Number(values.jobs),
    ...(values.shard ? { shard: parseShard(values.shard) } : {}),
    resume: values.resume,
    force: values.force,
    ...(values["flush-ms"] === undefined ? {} : { flushMs: Number(values["flush-ms"]) }),
    parallelMinMs: Number(values["parallel-min-ms"]),
    figures: false,
    progress: (e) => {
      process.stderr.write(`progress ${e.experiment} ${e.done}/${e.total}\n`);
      if (counted && e.unit !== undefined) event(`unit ${e.experiment} ${e.unit}`);
    },
    ...(counted
      ? {
          writeFile: (file: string, data: string | Uint8Array, options?: { durable?: boolean }) =>
            writeFileAtomic(file, data, { ...options, fs: eventFs }),
          onBatch: (e: { experiment: string; file: string; units: string[] }) =>
            event(`batch ${e.experiment} ${path.relative(out, e.file)} ${e.units.length}`),
        }
      : {}),
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
