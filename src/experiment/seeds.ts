/**
 * Per-run seeds derived from one root seed, and the canonical key of a grid point.
 */
import { hash32 } from "../data/rng.js";
import type { GridPoint } from "./types.js";

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
 * The seed of one run: `hash32(rootSeed + "\0" + experiment + "\0" + pointKey + "\0" + seedIndex)`
 * with numbers in decimal and {@link hash32} (src/data/rng.ts) — a uint32 in [0, 2³²).
 *
 * Deterministic across platforms and Node versions (integer arithmetic on UTF-8 bytes only).
 * Seeds depend on the point, so runs at different points are independent draws; the same
 * (rootSeed, experiment, point, seedIndex) always gets the same seed, whatever the grid order,
 * sharding or resume. Errors: RangeError if `rootSeed` or `seedIndex` is not a safe integer ≥ 0.
 * Cost: O(length of the key).
 *
 * @example
 * deriveRunSeed(0, "baseline", pointKey({ l2: 0 }), 0) // 752861148
 */
export function deriveRunSeed(rootSeed: number, experiment: string, key: string, seedIndex: number): number {
  if (!Number.isSafeInteger(rootSeed) || rootSeed < 0) {
    throw new RangeError(`deriveRunSeed: rootSeed must be a safe integer >= 0; got ${rootSeed}`);
  }
  if (!Number.isSafeInteger(seedIndex) || seedIndex < 0) {
    throw new RangeError(`deriveRunSeed: seedIndex must be a safe integer >= 0; got ${seedIndex}`);
  }
  return hash32(`${rootSeed}\0${experiment}\0${key}\0${seedIndex}`);
}
