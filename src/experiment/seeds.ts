/**
 * Per-run seeds derived from one root seed, and the canonical key of a grid point.
 */
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
 * 32-bit FNV-1a over the UTF-8 bytes of `text`, finished with MurmurHash3's `fmix32` avalanche.
 *
 * FNV-1a: `h = 2166136261; for each byte b: h = (h XOR b) · 16777619 mod 2³²` (Fowler, Noll &
 * Vo; IETF draft-eastlake-fnv). fmix32: `h ^= h>>>16; h *= 0x85ebca6b; h ^= h>>>13;
 * h *= 0xc2b2ae35; h ^= h>>>16` (Appleby, MurmurHash3), so nearby inputs give unrelated seeds.
 * Returns an unsigned 32-bit integer. Cost: O(length).
 *
 * @example
 * hash32("") // 2872998923
 * hash32("softcal") // 3992118324
 */
export function hash32(text: string): number {
  const bytes = Buffer.from(text, "utf8");
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i];
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The seed of one run: `hash32(rootSeed + "\0" + experiment + "\0" + pointKey + "\0" + seedIndex)`
 * with numbers in decimal and {@link hash32} as defined there — a uint32 in [0, 2³²).
 *
 * Deterministic across platforms and Node versions (integer arithmetic on UTF-8 bytes only).
 * Seeds depend on the point, so runs at different points are independent draws; the same
 * (rootSeed, experiment, point, seedIndex) always gets the same seed, whatever the grid order,
 * sharding or resume. Errors: RangeError if `rootSeed` or `seedIndex` is not a safe integer ≥ 0.
 * Cost: O(length of the key).
 *
 * @example
 * deriveSeed(0, "baseline", pointKey({ l2: 0 }), 0) // 752861148
 */
export function deriveSeed(rootSeed: number, experiment: string, key: string, seedIndex: number): number {
  if (!Number.isSafeInteger(rootSeed) || rootSeed < 0) {
    throw new RangeError(`deriveSeed: rootSeed must be a safe integer >= 0; got ${rootSeed}`);
  }
  if (!Number.isSafeInteger(seedIndex) || seedIndex < 0) {
    throw new RangeError(`deriveSeed: seedIndex must be a safe integer >= 0; got ${seedIndex}`);
  }
  return hash32(`${rootSeed}\0${experiment}\0${key}\0${seedIndex}`);
}
