/**
 * Shared pieces of the experiment-engine tests: a silent logger, the toy sweep's run options, and
 * a byte snapshot of a run folder (what "byte-identical" is checked against).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { Logger } from "../../src/experiment/aggregate.js";
import type { RunExperimentsOptions } from "../../src/experiment/runner.js";
import { toy, toy2 } from "./toyExperiments.js";

export const silent: Logger = { info() {}, warn() {} };

/** The toy sweep, in-process, quiet, without figures or signal handlers. */
export const toyRun: RunExperimentsOptions = {
  experiments: [toy, toy2],
  seeds: 3,
  jobs: 1,
  figures: false,
  progress: false,
  logger: silent,
  handleSignals: false,
};

/** Every file under a run folder except manifests and locks (they hold times and pids): path → bytes. */
export function snapshot(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) walk(full);
      else if (!e.name.startsWith("manifest") && !e.name.startsWith(".lock")) {
        files[path.relative(dir, full)] = fs.readFileSync(full, "latin1");
      }
    }
  };
  walk(dir);
  return files;
}
