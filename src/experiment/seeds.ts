/**
 * Seeds of a run — one per seed index, shared by every grid point (common random numbers) — the
 * named streams derived from them, and the canonical key of a grid point.
 */
import { deriveSeed, hash32 } from "../data/rng.js";
import { type DataFile, loadRunData, verifiedDataFile } from "./dataFiles.js";
import type { GridPoint, RunContext } from "./types.js";

/**
 * The canonical text of a grid point: JSON of its entries with keys sorted by UTF-16 code
 * units, numbers in JavaScript's shortest round-trip form (`JSON.stringify`). Two points are
 * the same iff their keys are equal. Cost: O(size of the point).
 *
 * @example
 * pointKey({ model: "softmax", l2: 0.01 }) // '{"l2":0.01,"model":"softmax"}'
 */
export function pointKey(point: GridPoint): string {
  const keys = Object.keys(point).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(point[k])}`).join(",")}}`;
}

/**
 * The seed of seed index `seedIndex`: `hash32(rootSeed + "\0" + seedIndex)` with numbers in
 * decimal and {@link hash32} (src/data/rng.ts) — a uint32 in [0, 2³²).
 *
 * It depends on neither the experiment nor the grid point: every unit at one seed index gets the
 * same seed, so comparisons across a sweep are paired (common random numbers). What a unit draws
 * from it is split into named streams by purpose ({@link streamSeed}): e.g. the built-in
 * experiments draw data and split it from `("data", dataName)` and resample from
 * `("bootstrap", dataName)`, so every λ, method and model at one (data, seed index) sees the same
 * split and the same resamples. Deterministic across platforms and Node versions (integer
 * arithmetic on UTF-8 bytes only). Errors: RangeError if `rootSeed` or `seedIndex` is not a safe
 * integer ≥ 0. Cost: O(1).
 *
 * @example
 * deriveRunSeed(0, 0) // 2731949278
 */
export function deriveRunSeed(rootSeed: number, seedIndex: number): number {
  if (!Number.isSafeInteger(rootSeed) || rootSeed < 0) {
    throw new RangeError(`deriveRunSeed: rootSeed must be a safe integer >= 0; got ${rootSeed}`);
  }
  if (!Number.isSafeInteger(seedIndex) || seedIndex < 0) {
    throw new RangeError(`deriveRunSeed: seedIndex must be a safe integer >= 0; got ${seedIndex}`);
  }
  return hash32(`${rootSeed}\0${seedIndex}`);
}

/**
 * The seed of one named stream of a unit: `deriveSeed(seed, purpose, ...parts)` (src/data/rng.ts:
 * FNV-1a + fmix32 over `JSON.stringify([seed, purpose, ...parts])`). Two units with the same seed
 * index, purpose and parts draw the same numbers whatever their grid point or experiment; a
 * different purpose or part gives an unrelated stream. Errors: TypeError for a non-finite part.
 *
 * @example
 * streamSeed(deriveRunSeed(0, 0), "data", "iris") === streamSeed(deriveRunSeed(0, 0), "data", "iris") // true
 */
export function streamSeed(seed: number, purpose: string, ...parts: (string | number)[]): number {
  return deriveSeed(seed, purpose, ...parts);
}

/** How seeds and streams are derived, in words (recorded in config.json as `seedDerivation`). */
export const SEED_DERIVATION =
  'seed = fmix32(fnv1a32(utf8(rootSeed + "\\0" + seedIndex))), the same for every grid point and experiment; ' +
  "a stream's seed = fmix32(fnv1a32(utf8(JSON.stringify([seed, purpose, ...parts]))))";

/**
 * The context a unit runs with (the same on every thread): its seed index's seed, its streams, and
 * its data sets (`files`: the CSV files config.json records).
 */
export function unitContext(
  plan: { seed: number; seedIndex: number },
  quick: boolean,
  files: readonly DataFile[] = [],
): RunContext {
  const { seed, seedIndex } = plan;
  return {
    seed,
    seedIndex,
    quick,
    stream: (purpose, ...parts) => streamSeed(seed, purpose, ...parts),
    dataset: (name) => loadRunData(name, files),
    file: (name) => verifiedDataFile(name, files),
  };
}
