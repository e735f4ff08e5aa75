/**
 * Replayable property failures: the fast-check reporter installed by properties/setup.ts appends
 * the exact command that replays a failing property —
 *   Replay: FC_SEED=<seed> FC_PATH=<path> npx vitest run <file> -t '<test name>'
 * — and `runs(n)` scales a property's own numRuns like the global one (FC_NUM_RUNS_FACTOR, which
 * `npm run test:thorough` sets to 100).
 */
import * as path from "node:path";
import fc from "fast-check";
import { expect } from "vitest";

/** FC_NUM_RUNS_FACTOR (default 1). */
export const RUNS_FACTOR = Number(process.env.FC_NUM_RUNS_FACTOR ?? "1") || 1;

/** A property's numRuns scaled by FC_NUM_RUNS_FACTOR (at least 1). */
export function runs(n: number): number {
  return Math.max(1, Math.round(n * RUNS_FACTOR));
}

/** True under `npm run test:thorough` (SOFTCAL_THOROUGH=1, or a numRuns factor above 1). */
export const THOROUGH = process.env.SOFTCAL_THOROUGH === "1" || RUNS_FACTOR > 1;

/**
 * The working directory the run started in (this module loads in the setup file, before any
 * test): replay commands are relative to it even when a test has changed directory meanwhile
 * (the CLI fuzz runs in a temp folder).
 */
const START_DIR = process.cwd();

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function regexEscape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * The command that replays a failure: `FC_SEED=… FC_PATH=… npx vitest run <file> -t '<name>'`.
 * `file` is made relative to the directory the run started in; `-t` gets the test's own name (without
 * the `(with seed=…)` suffix @fast-check/vitest adds), regex-escaped, so only that property runs.
 */
export function replayCommand(
  seed: number,
  counterexamplePath: string | null | undefined,
  testPath?: string,
  testName?: string,
): string {
  const parts = [`FC_SEED=${seed}`];
  if (counterexamplePath) parts.push(`FC_PATH=${counterexamplePath}`);
  parts.push("npx vitest run");
  if (testPath) parts.push(path.relative(START_DIR, testPath) || testPath);
  if (testName) {
    const leaf = testName.split(" > ").pop() ?? testName;
    const name = leaf.replace(/ \(with seed=-?\d+\)$/, "");
    if (name) parts.push("-t", shellQuote(regexEscape(name)));
  }
  return parts.join(" ");
}

/**
 * fast-check reporter: on failure, throws fast-check's own report followed by the replay
 * command (the property error stays attached as `cause`). Used for sync and async properties.
 */
export function replayReporter(details: fc.RunDetails<unknown>): void {
  if (!details.failed) return;
  let testPath: string | undefined;
  let testName: string | undefined;
  try {
    const state = expect.getState();
    testPath = state.testPath;
    testName = state.currentTestName;
  } catch {
    // outside a test: no file or name to print
  }
  const report = fc.defaultReportMessage(details) ?? "Property failed";
  const line = `Replay: ${replayCommand(details.seed, details.counterexamplePath, testPath, testName)}`;
  throw new Error(`${report}\n\n${line}`, { cause: details.errorInstance ?? undefined });
}
