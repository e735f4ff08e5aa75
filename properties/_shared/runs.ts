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

/**
 * The toy sweep, in-process, quiet, without figures or signal handlers; each unit is written at
 * once in its own file (`flushMs: 0`), so a test can stop the run after exactly k unit files, and
 * with `jobs` > 1 the workers start at once (`parallelMinMs: 0`; the toy's microsecond units would
 * not be worth one). Batching and the workers' delayed start have their own tests.
 */
export const toyRun: RunExperimentsOptions = {
  experiments: [toy, toy2],
  seeds: 3,
  jobs: 1,
  figures: false,
  progress: false,
  logger: silent,
  handleSignals: false,
  flushMs: 0,
  parallelMinMs: 0,
};

/**
 * Every file under a run folder except manifests and locks (they hold times and pids): path →
 * bytes. Unit files appear as one entry per unit record, `units/<key>` → its line, whatever batch
 * file holds it (batches depend on timing; the records must not); lines that do not parse are no
 * records and are left out.
 */
export function snapshot(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) walk(full);
      else if (path.basename(d) === "units" && !e.name.startsWith(".")) {
        for (const line of fs.readFileSync(full, "latin1").split("\n")) {
          let key: string;
          try {
            key = (JSON.parse(line) as { key: string }).key;
          } catch {
            continue; // damaged (a power loss; see the resume tests): not a record
          }
          files[path.join(path.relative(dir, d), key)] = line;
        }
      } else if (!e.name.startsWith("manifest") && !e.name.startsWith(".lock")) {
        files[path.relative(dir, full)] = fs.readFileSync(full, "latin1");
      }
    }
  };
  walk(dir);
  return files;
}

/** The number of unit records in a run folder's `units/` (0 if it has none). */
export function unitRecordCount(runDir: string): number {
  if (!fs.existsSync(path.join(runDir, "units"))) return 0;
  return Object.keys(snapshot(runDir)).filter((f) => f.startsWith(`units${path.sep}`)).length;
}
