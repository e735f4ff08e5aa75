// Prints vitest's JSON report as the plain closing line CI reads: "N passed, N failed, N skipped"
// (after a failure, the line before it says how to replay the run: its FC_SEED).
import { existsSync, readFileSync } from "node:fs";

const file = process.argv[2];
if (!existsSync(file)) {
  console.log("0 passed, 1 failed");
  console.error(`no test report at ${file}: the tests did not run (see the output above)`);
  process.exit(1);
}
const r = JSON.parse(readFileSync(file, "utf8"));
const failed = r.numFailedTests + (r.numRuntimeErrorTestSuites ?? 0);
// The seed every property ran with (.ci/run derives it from the commit), so a failure replays.
const seed = process.env.FC_SEED;
if (failed > 0 && seed) console.log(`replay: FC_SEED=${seed} npm test`);
console.log(`${r.numPassedTests} passed, ${failed} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
process.exit(failed > 0 ? 1 : 0);
