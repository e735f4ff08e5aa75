/**
 * Vitest `globalSetup`: one fast-check seed per `npm test` (or `npx vitest run …`) invocation.
 *
 * Unless FC_SEED is set, a fresh seed is drawn here, once, and put in FC_SEED before any test
 * file starts, so every file (properties/setup.ts hands it to fast-check) and every process a
 * test spawns uses the same one; it is printed once, with the command that replays the whole run.
 * A fresh seed each time makes the suite explore new cases on every run; the printed seed (or a
 * failing property's own `Replay:` line) makes any failure reproducible. CI derives FC_SEED from
 * the commit it tests (.ci/run): the same for that commit, new for the next.
 */
import { randomInt } from "node:crypto";

export default function setup(): void {
  const given = process.env.FC_SEED;
  if (given !== undefined && given !== "") {
    if (!/^-?\d+$/.test(given) || !Number.isSafeInteger(Number(given)))
      throw new Error(`FC_SEED: expected an integer; got "${given}"`);
    console.log(`FC_SEED=${given} (from the environment)`);
    return;
  }
  const seed = randomInt(2 ** 31 - 1);
  process.env.FC_SEED = String(seed);
  console.log(`FC_SEED=${seed} (fresh for this run; replay it with: FC_SEED=${seed} npm test)`);
}
