/**
 * Paired comparisons: the sign-flip permutation test (exact by meet-in-the-middle, Monte Carlo
 * beyond) against brute-force enumeration, the paired effect's counts, and paired.csv's rows.
 */
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { createRng } from "../src/data/rng.js";
import {
  EXACT_SIGN_FLIP_MAX,
  pairedEffect,
  pairedTable,
  resolveComparisons,
  signFlipTest,
} from "../src/experiment/paired.js";
import type { CompletedRun, GridPoint } from "../src/experiment/types.js";

/** Brute force: the fraction of all 2^n sign assignments with |Σ s·d| ≥ |Σ d| (integers: no rounding). */
function bruteForce(d: readonly number[]): number {
  const observed = Math.abs(d.reduce((a, b) => a + b, 0));
  let extreme = 0;
  for (let mask = 0; mask < 2 ** d.length; mask++) {
    let s = 0;
    for (let i = 0; i < d.length; i++) s += mask & (1 << i) ? -d[i] : d[i];
    if (Math.abs(s) >= observed) extreme++;
  }
  return extreme / 2 ** d.length;
}

// Small integers: many exact ties between assignments, the case a tie rule gets wrong.
const intDiffs = (max: number) => fc.array(fc.integer({ min: -6, max: 6 }), { minLength: 1, maxLength: max });

describe("signFlipTest", () => {
  test.prop([intDiffs(14)])("exact p-value equals brute-force enumeration (ties included)", (d) => {
    expect(signFlipTest(d).pValue).toBe(bruteForce(d));
  });

  test.prop([fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 1, maxLength: 12 })])(
    "exact p-value of real differences is a multiple of 2^-n in (0, 1], invariant under order and sign",
    (d) => {
      const p = signFlipTest(d).pValue as number;
      expect(p).toBeGreaterThan(0);
      expect(p).toBeLessThanOrEqual(1);
      expect(Number.isInteger(p * 2 ** d.length)).toBe(true);
      // The all-plus and all-minus assignments always reach the observed |sum|.
      expect(p).toBeGreaterThanOrEqual(2 / 2 ** d.length);
      expect(signFlipTest(d.map((x) => -x)).pValue).toBe(p);
      expect(signFlipTest([...d].reverse()).pValue).toBe(p);
    },
  );

  it("pins small cases", () => {
    expect(signFlipTest([1, 1, 1])).toEqual({ pValue: 0.25, test: "exact sign-flip (2^3 assignments)" });
    expect(signFlipTest([0, 0]).pValue).toBe(1);
    expect(signFlipTest([]).pValue).toBeNull();
    expect(signFlipTest([1, Number.POSITIVE_INFINITY]).pValue).toBeNull();
  });

  it("stays exact up to 30 pairs and is reproducible", () => {
    const d = Array.from({ length: EXACT_SIGN_FLIP_MAX }, (_, i) => ((i * 7) % 5) - 1.5);
    const a = signFlipTest(d);
    expect(a.test).toBe("exact sign-flip (2^30 assignments)");
    expect(signFlipTest(d)).toEqual(a);
  });

  test.prop([intDiffs(12), fc.nat()])(
    "Monte Carlo agrees with the exact p-value within its sampling error, and is reproducible",
    (d, seed) => {
      const R = 4000;
      const exact = bruteForce(d);
      const mc = signFlipTest(d, { exactUpTo: 0, resamples: R, seed });
      expect(mc.test).toBe(`monte-carlo sign-flip (${R} resamples, seed ${seed})`);
      const p = mc.pValue as number;
      // p = (1 + X)/(1 + R) with X ~ Binomial(R, exact): within 6 binomial sd (false alarm < 1e-8)
      // plus the +1 correction's shift of at most 1/(R + 1).
      const sd = Math.sqrt((exact * (1 - exact)) / R);
      expect(Math.abs(p - exact)).toBeLessThanOrEqual(6 * sd + 1 / (R + 1) + 1e-12);
      expect(p).toBeGreaterThanOrEqual(1 / (R + 1));
      expect(signFlipTest(d, { exactUpTo: 0, resamples: R, seed })).toEqual(mc);
    },
  );

  test.prop([
    fc.array(fc.oneof(fc.integer({ min: -6, max: 6 }), fc.double({ min: -1, max: 1, noNaN: true })), {
      minLength: 1,
      maxLength: 100,
    }),
    fc.nat(),
    fc.integer({ min: 1, max: 300 }),
  ])(
    "Monte Carlo draws its signs as documented: bit i mod 32 of ⌊u·2^32⌋, one draw per 32 pairs",
    (d, seed, R) => {
      // The documented rule, one call per draw and one branch per sign: the p-value must be this one
      // exactly, so a faster implementation cannot change a recorded paired.csv.
      const rng = createRng(seed);
      const absSum = d.reduce((a, x) => a + Math.abs(x), 0);
      const threshold = Math.abs(d.reduce((a, x) => a + x, 0)) - 1e-12 * absSum;
      let extreme = 0;
      for (let r = 0; r < R; r++) {
        let s = 0;
        let bits = 0;
        for (let i = 0; i < d.length; i++) {
          if (i % 32 === 0) bits = rng.int(2 ** 32);
          s += (bits >>> (i % 32)) & 1 ? -d[i] : d[i];
        }
        if (Math.abs(s) >= threshold) extreme++;
      }
      expect(signFlipTest(d, { exactUpTo: 0, resamples: R, seed }).pValue).toBe((1 + extreme) / (1 + R));
    },
  );

  it("handles more than 30 pairs (Monte Carlo) without throwing", () => {
    const d = Array.from({ length: 100 }, (_, i) => 0.01 + ((i % 3) - 1) * 0.001);
    const r = signFlipTest(d);
    expect(r.test).toBe("monte-carlo sign-flip (10000 resamples, seed 0)");
    // Every difference is positive: only the all-plus/all-minus assignments reach the sum.
    expect(r.pValue).toBe(1 / 10001);
  });
});

describe("pairedEffect", () => {
  const value = fc.oneof(
    { weight: 6, arbitrary: fc.double({ min: -10, max: 10, noNaN: true }) },
    { weight: 1, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: fc.constantFrom(Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY) },
  );
  test.prop([fc.array(fc.tuple(value, value), { maxLength: 15 })])(
    "counts every pair once, uses only finite pairs, and negates under swap",
    (pairs) => {
      const t = pairs.map((p) => p[0]);
      const r = pairs.map((p) => p[1]);
      const e = pairedEffect(t, r);
      expect(e.n + e.failed + e.nonFinite).toBe(pairs.length);
      const finite = pairs.filter(
        ([a, b]) => a !== null && b !== null && Number.isFinite(a) && Number.isFinite(b),
      ) as [number, number][];
      expect(e.n).toBe(finite.length);
      expect(e.failed).toBe(pairs.filter(([a, b]) => a === null || b === null).length);
      if (finite.length > 0) {
        const mean = finite.reduce((s, [a, b]) => s + (a - b), 0) / finite.length;
        expect(Math.abs((e.meanDiff as number) - mean)).toBeLessThanOrEqual(1e-12 * 20);
        const swapped = pairedEffect(r, t);
        expect(swapped.pValue).toBe(e.pValue);
        expect(Math.abs((swapped.meanDiff as number) + (e.meanDiff as number))).toBeLessThanOrEqual(
          1e-12 * 20,
        );
      } else {
        expect(e.meanDiff).toBeNull();
        expect(e.pValue).toBeNull();
      }
    },
  );

  it("refuses lists of different lengths", () => {
    expect(() => pairedEffect([1], [1, 2])).toThrow(RangeError);
  });
});

describe("pairedTable", () => {
  const points: GridPoint[] = [];
  for (const data of ["a", "b"]) for (const method of ["none", "x", "y"]) points.push({ data, method });
  const seeds = 4;
  const runs: CompletedRun[] = [];
  points.forEach((point, pointIndex) => {
    for (let s = 0; s < seeds; s++) {
      const base = s + (point.data === "b" ? 10 : 0);
      const shift = point.method === "x" ? 1 : point.method === "y" ? -2 : 0;
      runs.push({
        point,
        pointIndex,
        seedIndex: s,
        seed: s,
        result: { metrics: { m: base + shift, f: point.method === "y" && s === 0 ? null : base } },
      });
    }
  });

  it("pairs each level with the reference at the same other parameters, by seed index", () => {
    const t = pairedTable(
      [{ axis: "method", reference: "none", metrics: ["m", "f"] }],
      ["data", "method"],
      points,
      runs,
      seeds,
    );
    expect(t.name).toBe("paired");
    expect(t.columns.slice(0, 6)).toEqual(["data", "method", "axis", "reference", "metric", "n"]);
    expect(t.rows).toHaveLength(2 * 2 * 2);
    const row = (data: string, method: string, metric: string) =>
      t.rows.find((r) => r[0] === data && r[1] === method && r[4] === metric) as (string | number | null)[];
    // Paired: the seed-to-seed variation cancels exactly, so the interval has zero width.
    expect(row("a", "x", "m").slice(5, 9)).toEqual([4, 1, 1, 1]);
    expect(row("b", "y", "m").slice(5, 9)).toEqual([4, -2, -2, -2]);
    // A missing value is counted, not dropped unseen.
    expect(row("a", "y", "f")[5]).toBe(3);
    expect(row("a", "y", "f")[11]).toBe(1);
  });

  it("chooses the reference by a rule over the levels", () => {
    const comparisons = resolveComparisons(
      {
        name: "toy",
        comparisons: [{ axis: "method", reference: (levels) => levels[levels.length - 1], metrics: ["m"] }],
      },
      points,
      ["data", "method"],
      ["m", "f"],
    );
    expect(comparisons).toEqual([{ axis: "method", reference: "y", metrics: ["m"] }]);
    const t = pairedTable(comparisons, ["data", "method"], points, runs, seeds);
    expect(new Set(t.rows.map((r) => r[3]))).toEqual(new Set(["y"]));
    expect(t.rows.map((r) => r[1])).toEqual(["none", "x", "none", "x"]);
  });

  it("refuses a comparison on an unknown axis, metric or level (a programming error)", () => {
    const resolve = (c: { axis: string; reference: string; metrics: string[] }) =>
      resolveComparisons({ name: "toy", comparisons: [c] }, points, ["data", "method"], ["m"]);
    expect(() => resolve({ axis: "nope", reference: "none", metrics: ["m"] })).toThrow(
      /expected a parameter/,
    );
    expect(() => resolve({ axis: "method", reference: "none", metrics: ["z"] })).toThrow(/metric "z"/);
    expect(() => resolve({ axis: "method", reference: "zz", metrics: ["m"] })).toThrow(/not in the grid/);
  });
});
