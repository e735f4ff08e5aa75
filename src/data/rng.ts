/**
 * softcal's one source of randomness: a seeded Alea generator (seedrandom's `alea`), never
 * autoseeded and never installed as the global random source. Everything random in softcal (cluster draws,
 * splits, bootstrap resamples) takes an {@link Rng} made here, so the same seed gives the same bytes.
 *
 * References: J. Baagøe (2010), "Alea" PRNG (seedrandom 3.0.5 `lib/alea.js`);
 * G. E. P. Box & M. E. Muller (1958), "A note on the generation of random normal deviates",
 * Ann. Math. Statist. 29(2); R. A. Fisher & F. Yates (1938) / R. Durstenfeld (1964), CACM 7(7);
 * G. Fowler, L. C. Noll, K.-P. Vo, "FNV hash" (FNV-1a, 32-bit); A. Appleby, MurmurHash3 `fmix32`.
 */
import { createRequire } from "node:module";
import type SeedRandom from "seedrandom";

// seedrandom loads on the first generator made, not when softcal is imported.
const require = createRequire(import.meta.url);
let seedrandomModule: typeof SeedRandom | undefined;

/** A seeded random number generator. Methods advance one shared stream. */
export interface Rng {
  /** A uniform double in [0, 1) with 53 random bits (two Alea outputs). */
  next(): number;
  /** A uniform integer in 0..n-1 (n a positive integer ≤ 2^32). */
  int(n: number): number;
  /** A standard normal deviate N(0, 1) (Box–Muller, see {@link createRng}). */
  normal(): number;
  /** Shuffles `array` in place (Fisher–Yates) and returns it. */
  shuffle<T extends { length: number; [i: number]: unknown }>(array: T): T;
  /** The raw `() => number` stream (same as `next`), e.g. for simple-statistics' `sampleWithReplacement(x, n, rng)`. */
  readonly random: () => number;
  /** The seed this generator was made from (as given). */
  readonly seed: number | string;
}

const TWO_PI = 2 * Math.PI;

/**
 * Makes a seeded {@link Rng} over seedrandom's Alea generator.
 *
 * - `next()` = Alea's `double()`: `u = a + ⌊b·2^21⌋·2^-53` with `a, b` two successive 32-bit
 *   outputs — a double in [0, 1) with 53 random bits.
 * - `int(n) = ⌊next()·n⌋`: bias at most n·2^-53 per value (negligible for n ≤ 2^32).
 * - `normal()`: basic Box–Muller. From `u₁ = 1 − next() ∈ (0, 1]` and `u₂ = next()`,
 *   `r = √(−2 ln u₁)`, returns `r·cos(2πu₂)` and caches `r·sin(2πu₂)` for the next call; so
 *   normals come in pairs and use two uniforms per pair. The cache is part of the stream state.
 * - `shuffle(a)`: Durstenfeld's Fisher–Yates, `for i = n−1..1: swap(a[i], a[int(i+1)])`.
 *
 * Seeds: Alea hashes the seed's *string* form (`String(seed)`), so `42` and `"42"` give the
 * same stream. A different generator from numpy's: softcal's draws never equal the notebook's.
 *
 * @param seed a finite number or a string (the empty string is allowed).
 * @throws TypeError if `seed` is neither a finite number nor a string (in particular
 *   `undefined`, which would make seedrandom autoseed from the clock).
 * Cost: O(1) per call; `shuffle` O(n).
 * @example
 * const a = createRng(42), b = createRng(42);
 * a.next() === b.next(); // true
 */
export function createRng(seed: number | string): Rng {
  if (!(typeof seed === "string" || (typeof seed === "number" && Number.isFinite(seed)))) {
    throw new TypeError(`createRng: seed must be a finite number or a string; got ${String(seed)}`);
  }
  seedrandomModule ??= require("seedrandom") as typeof SeedRandom;
  const prng = seedrandomModule.alea(String(seed));
  const next = (): number => prng.double();
  let spare = 0;
  let haveSpare = false;
  const int = (n: number): number => {
    if (!(Number.isInteger(n) && n >= 1 && n <= 2 ** 32)) {
      throw new RangeError(`Rng.int: n must be an integer in 1..2^32; got ${n}`);
    }
    return Math.floor(next() * n);
  };
  return {
    seed,
    random: next,
    next,
    int,
    normal(): number {
      if (haveSpare) {
        haveSpare = false;
        return spare;
      }
      const u1 = 1 - next();
      const u2 = next();
      const r = Math.sqrt(-2 * Math.log(u1));
      const t = TWO_PI * u2;
      spare = r * Math.sin(t);
      haveSpare = true;
      return r * Math.cos(t);
    },
    shuffle<T extends { length: number; [i: number]: unknown }>(a: T): T {
      for (let i = a.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
      }
      return a;
    },
  };
}

/**
 * A per-run seed derived from a root seed and any labels (experiment name, grid point, replicate).
 *
 * Hash: the parts are encoded as `JSON.stringify([root, ...parts])` (so `("a", 1)`, `("a1")` and
 * `("a", "1")` all differ), UTF-8 encoded, hashed with 32-bit FNV-1a
 * (`h = 2166136261; for each byte b: h = (h ⊕ b)·16777619 mod 2^32`) and finished with
 * MurmurHash3's `fmix32` avalanche, so that nearby inputs give unrelated seeds.
 *
 * @returns an unsigned 32-bit integer (0 ≤ s < 2^32), stable across platforms and versions.
 * @throws TypeError if `root` is not a finite number or a part is not a string or finite number.
 * Cost: O(total length of the parts).
 * @example
 * deriveSeed(42, "l2-sweep", 3) === deriveSeed(42, "l2-sweep", 3); // true
 */
export function deriveSeed(root: number, ...parts: (string | number)[]): number {
  if (!(typeof root === "number" && Number.isFinite(root))) {
    throw new TypeError(`deriveSeed: root must be a finite number; got ${String(root)}`);
  }
  for (const p of parts) {
    if (!(typeof p === "string" || (typeof p === "number" && Number.isFinite(p)))) {
      throw new TypeError(`deriveSeed: parts must be strings or finite numbers; got ${String(p)}`);
    }
  }
  return hash32(JSON.stringify([root, ...parts]));
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
  const bytes = new TextEncoder().encode(text);
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
