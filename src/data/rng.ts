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
  /**
   * Fills `out` with the stream's next `out.length` uniforms: the values `out.length` calls of
   * `next()` would return, in order, and the stream continues after them. Cost O(out.length), ~10×
   * less per value than `next()` (no call per value).
   */
  fill(out: Float64Array): Float64Array;
  /** The raw `() => number` stream (same as `next`), e.g. for simple-statistics' `sampleWithReplacement(x, n, rng)`. */
  readonly random: () => number;
  /** The seed this generator was made from (as given). */
  readonly seed: number | string;
}

const TWO_PI = 2 * Math.PI;
/** Alea's multiplier and scale factors (Baagøe 2010). */
const ALEA_A = 2091639;
const TWO_NEG_32 = 2.3283064365386963e-10;
const TWO_NEG_53 = 1.1102230246251565e-16;

/** Alea's state: three 32-bit fractions and a carry. */
interface AleaState {
  c: number;
  s0: number;
  s1: number;
  s2: number;
}

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
  // seedrandom seeds the generator (Baagøe's Mash hash of the seed string); the steps are taken
  // here, on local variables, with exactly Alea's arithmetic — the same doubles as seedrandom's
  // `alea(seed).double()` (a property test compares the two streams), at a fraction of the cost.
  let { c, s0, s1, s2 } = (
    seedrandomModule.alea(String(seed), { state: true }) as unknown as { state(): AleaState }
  ).state();
  /** One Alea step: a 32-bit output as a double in [0, 1). */
  const step = (): number => {
    const t = ALEA_A * s0 + c * TWO_NEG_32;
    s0 = s1;
    s1 = s2;
    c = t | 0;
    s2 = t - c;
    return s2;
  };
  // Alea's double(): a + ⌊b·2^21⌋·2^-53 for two successive outputs a, b.
  const next = (): number => step() + ((step() * 0x200000) | 0) * TWO_NEG_53;
  const fill = (out: Float64Array): Float64Array => {
    // The same recurrence unrolled on locals (kept in registers), written back at the end.
    let a0 = s0;
    let a1 = s1;
    let a2 = s2;
    let carry = c;
    for (let i = 0; i < out.length; i++) {
      let t = ALEA_A * a0 + carry * TWO_NEG_32;
      carry = t | 0;
      const hi = t - carry;
      t = ALEA_A * a1 + carry * TWO_NEG_32;
      carry = t | 0;
      const lo = t - carry;
      a0 = a2;
      a1 = hi;
      a2 = lo;
      out[i] = hi + ((lo * 0x200000) | 0) * TWO_NEG_53;
    }
    s0 = a0;
    s1 = a1;
    s2 = a2;
    c = carry;
    return out;
  };
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
    fill,
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
