/**
 * Global fast-check settings for every property (vitest `setupFiles`).
 * - FC_NUM_RUNS sets numRuns (default 100); `npm run test:thorough` sets FC_NUM_RUNS_FACTOR=100.
 * - FC_SEED is the seed of every property: one per `npm test`, drawn fresh and printed by
 *   properties/globalSetup.ts unless set (CI derives it from the commit: .ci/run); FC_PATH with
 *   FC_SEED replays one failing case.
 * A failing property prints fast-check's `{ seed, path }` report followed by the exact command
 * that replays it (properties/_shared/replay.ts), e.g.
 *   Replay: FC_SEED=<seed> FC_PATH=<path> npx vitest run properties/x.test.ts -t '<test name>'
 */
import fc from "fast-check";
import { replayReporter } from "./_shared/replay.js";

const factor = Number(process.env.FC_NUM_RUNS_FACTOR ?? "1");
const numRuns = Math.round(Number(process.env.FC_NUM_RUNS ?? "100") * factor);
const seed = process.env.FC_SEED === undefined ? undefined : Number(process.env.FC_SEED);
const path = process.env.FC_PATH;

fc.configureGlobal({
  numRuns,
  reporter: replayReporter,
  ...(seed === undefined ? {} : { seed }),
  ...(path === undefined ? {} : { path, endOnFailure: true }),
});
