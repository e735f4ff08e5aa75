/**
 * Contract tests of src/calibration/bootstrap.ts: each case kills a mutant that survived
 * `npm run mutate` (docs/mutation.md maps them): the interval against a restated percentile bootstrap driven by the same
 * seeded RNG (index i = ⌊u·n⌋ per draw, R vectors of n draws, values sorted numerically, numpy's
 * linear quantile at (1 ∓ level)/2) — bit for bit, with the RNG left in the same state — the
 * estimate on 0..n−1 in order, the defaults, and the exact RangeError messages.
 */
import { fc, test } from "@fast-check/vitest";
import seedrandom from "seedrandom";
import { describe, expect, it } from "vitest";
import { bootstrapInterval } from "../src/calibration/bootstrap.js";

/** numpy.quantile's default ("linear", type 7) on sorted values. */
function linearQuantile(s: number[], q: number): number {
  const h = (s.length - 1) * q;
  const lo = Math.floor(h);
  if (lo === h) return s[lo];
  return s[lo] + (h - lo) * (s[lo + 1] - s[lo]);
}

function restated(
  metric: (idx: Int32Array) => number,
  n: number,
  R: number,
  level: number,
  rng: () => number,
) {
  const values: number[] = [];
  for (let r = 0; r < R; r++) {
    const idx = new Int32Array(n);
    for (let i = 0; i < n; i++) idx[i] = Math.floor(rng() * n);
    values.push(metric(idx));
  }
  values.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return { lower: linearQuantile(values, (1 - level) / 2), upper: linearQuantile(values, (1 + level) / 2) };
}

describe("bootstrapInterval", () => {
  test.prop([
    fc.array(fc.integer({ min: -50, max: 120 }), { minLength: 1, maxLength: 12 }),
    fc.integer({ min: 1, max: 40 }),
    fc.constantFrom(0.5, 0.8, 0.9, 0.95, 0.99, 0.3333),
    fc.string({ minLength: 1, maxLength: 6 }),
  ])("equals the restated percentile bootstrap with the same seeded RNG", (x, R, level, seed) => {
    const n = x.length;
    // A metric whose values have several digits (numeric, not lexicographic, order matters).
    const metric = (idx: Int32Array): number => {
      let s = 0;
      for (const i of idx) s += x[i];
      return s / idx.length;
    };
    const a = seedrandom.alea(seed);
    const b = seedrandom.alea(seed);
    const got = bootstrapInterval(metric, n, { resamples: R, level, rng: a });
    const want = restated(metric, n, R, level, b);
    expect(got).toEqual({ estimate: metric(Int32Array.from(x.keys())), ...want, level, resamples: R });
    // Exactly R·n draws.
    expect(a()).toBe(b());
  });

  it.each([
    [4, 300],
    [30_000, 5],
    [40_000, 3],
    [70_000, 2],
  ])("n = %i, R = %i: each resample's index vector is its own (a metric may keep them all)", (n, R) => {
    // Index vectors are cut from shared blocks (one or more per block depending on n): kept
    // vectors must not overlap or be overwritten by later draws.
    const kept: Int32Array[] = [];
    bootstrapInterval(
      (idx) => {
        kept.push(idx);
        return 0;
      },
      n,
      { resamples: R, rng: seedrandom.alea(`keep-${n}`) },
    );
    const rng = seedrandom.alea(`keep-${n}`);
    expect(kept).toHaveLength(R + 1);
    // The blocks they are cut from hold at most max(n, 64 Ki) indices and, together, exactly the
    // R·n drawn: memory stays bounded and nothing is allocated that no resample uses.
    const blocks = new Set(kept.slice(1).map((idx) => idx.buffer));
    for (const b of blocks) expect(b.byteLength).toBeLessThanOrEqual(4 * Math.max(n, 65536));
    expect([...blocks].reduce((sum, b) => sum + b.byteLength, 0)).toBe(4 * n * R);
    expect(Array.from(kept[0])).toEqual(Array.from({ length: n }, (_, i) => i));
    for (const idx of kept.slice(1)) {
      expect(idx).toBeInstanceOf(Int32Array);
      expect(idx.length).toBe(n);
      const want = Int32Array.from({ length: n }, () => Math.floor(rng() * n));
      expect(idx).toEqual(want);
    }
  });

  it("the estimate sees 0..n−1 in order; resamples see n indices in 0..n−1; level defaults to 0.95", () => {
    const seen: number[][] = [];
    const r = bootstrapInterval(
      (idx) => {
        seen.push(Array.from(idx));
        expect(idx).toBeInstanceOf(Int32Array);
        return seen.length;
      },
      4,
      { resamples: 3, rng: seedrandom.alea("s") },
    );
    expect(seen[0]).toEqual([0, 1, 2, 3]);
    expect(seen.length).toBe(4);
    for (const s of seen.slice(1)) {
      expect(s.length).toBe(4);
      for (const i of s) expect(i >= 0 && i < 4).toBe(true);
    }
    const rng = seedrandom.alea("s");
    const draws = Array.from({ length: 12 }, () => Math.floor(rng() * 4));
    expect(seen.slice(1).flat()).toEqual(draws);
    // Values 2, 3, 4: quantiles 0.025 and 0.975 of three sorted values.
    expect(r).toEqual({
      estimate: 1,
      lower: linearQuantile([2, 3, 4], (1 - 0.95) / 2),
      upper: linearQuantile([2, 3, 4], (1 + 0.95) / 2),
      level: 0.95,
      resamples: 3,
    });
    expect([r.lower, r.upper]).toEqual([2.05, 3.95]);
    expect(bootstrapInterval((idx) => idx.length, 3, { resamples: 10, rng: seedrandom.alea("1") })).toEqual({
      estimate: 3,
      lower: 3,
      upper: 3,
      level: 0.95,
      resamples: 10,
    });
  });

  it("sorts numerically before taking quantiles", () => {
    const vals = [9, 100, 10, -5, 20];
    let c = 0;
    const r = bootstrapInterval(() => vals[c++ % 5], 1, {
      resamples: 5,
      level: 0.5,
      rng: seedrandom.alea("q"),
    });
    // estimate = 9 (first call); resample values 100, 10, −5, 20, 9 → sorted −5, 9, 10, 20, 100.
    expect(r).toEqual({ estimate: 9, lower: 9, upper: 20, level: 0.5, resamples: 5 });
  });

  it("RangeErrors: n, then resamples, then level", () => {
    const rng = seedrandom.alea("e");
    const f = () => 0;
    for (const n of [0, -1, 1.5, Number.NaN]) {
      expect(() => bootstrapInterval(f, n, { resamples: 0, level: 2, rng })).toThrow(
        new RangeError(`bootstrapInterval: n must be an integer ≥ 1; got ${n}`),
      );
    }
    for (const R of [0, 2.5, -3, Number.NaN]) {
      expect(() => bootstrapInterval(f, 1, { resamples: R, level: 2, rng })).toThrow(
        new RangeError(`bootstrapInterval: resamples must be an integer ≥ 1; got ${R}`),
      );
    }
    for (const level of [0, 1, -0.5, 1.5, Number.NaN]) {
      expect(() => bootstrapInterval(f, 1, { resamples: 1, level, rng })).toThrow(
        new RangeError(`bootstrapInterval: level must be a fraction in (0, 1); got ${level}`),
      );
    }
    expect(bootstrapInterval(f, 1, { resamples: 1, level: 1e-9, rng }).level).toBe(1e-9);
  });
});
