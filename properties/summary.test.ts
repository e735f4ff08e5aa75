/**
 * Honest summaries over seeds (src/experiment/stats.ts): every value is counted once — finite,
 * failed, undefined or non-finite — intervals stay in the metric's range, quantiles take
 * infinities without producing NaN, and the notes say what was left out.
 */
import { fc, test } from "@fast-check/vitest";
import { quantileSorted as ssQuantileSorted } from "simple-statistics";
import { describe, expect, it } from "vitest";
import { describeMetric, describeNotes, quantileSorted, summarize } from "../src/experiment/stats.js";

const finite = fc.double({ min: -1e6, max: 1e6, noNaN: true });
const value = fc.oneof(
  { weight: 8, arbitrary: finite },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.constantFrom(Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN) },
);

describe("quantileSorted", () => {
  test.prop([fc.array(finite, { minLength: 1, maxLength: 30 }), fc.double({ min: 0, max: 1, noNaN: true })])(
    "equals simple-statistics' (numpy's default) on finite values",
    (xs, p) => {
      const sorted = Float64Array.from(xs).sort();
      const ours = quantileSorted(sorted, p) as number;
      const theirs = ssQuantileSorted([...sorted], p);
      // Both interpolate between the same two ranks; the formulas round differently by a few ulps
      // of the values' magnitude (≤ 1e6 here).
      expect(Math.abs(ours - theirs)).toBeLessThanOrEqual(1e-9);
    },
  );

  test.prop([
    fc.array(fc.oneof(finite, fc.constantFrom(Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY)), {
      minLength: 1,
      maxLength: 30,
    }),
    fc.double({ min: 0, max: 1, noNaN: true }),
  ])("with infinities: never NaN, and between the neighbouring ranks", (xs, p) => {
    const sorted = Float64Array.from(xs).sort();
    const q = quantileSorted(sorted, p) as number;
    expect(Number.isNaN(q)).toBe(false);
    const h = (sorted.length - 1) * p;
    expect(q).toBeGreaterThanOrEqual(sorted[Math.floor(h)]);
    expect(q).toBeLessThanOrEqual(sorted[Math.ceil(h)]);
  });

  it("pins small cases", () => {
    expect(quantileSorted([1, 2, Number.POSITIVE_INFINITY], 0.5)).toBe(2);
    expect(quantileSorted([1, 2, Number.POSITIVE_INFINITY], 0.75)).toBe(Number.POSITIVE_INFINITY);
    expect(quantileSorted([Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY], 0.5)).toBe(
      Number.POSITIVE_INFINITY,
    );
    expect(quantileSorted([], 0.5)).toBeNull();
  });
});

describe("describeMetric", () => {
  test.prop([
    fc.array(fc.tuple(value, fc.boolean()), { maxLength: 25 }),
    fc.option(
      fc.tuple(fc.double({ min: -10, max: 10, noNaN: true }), fc.double({ min: 0, max: 20, noNaN: true })),
      {
        nil: undefined,
      },
    ),
  ])("counts every value once, summarizes the finite ones, clips only into the range", (pairs, bounds) => {
    const values = pairs.map((p) => p[0]);
    const failed = pairs.map((p) => p[1]);
    const range = bounds === undefined ? {} : { min: bounds[0], max: bounds[0] + bounds[1] };
    const d = describeMetric(values, failed, range);
    expect(d.planned).toBe(values.length);
    expect(d.n + d.failed + d.undefined + d.nonFinite).toBe(values.length);
    expect(d.failed).toBe(values.filter((v, i) => v === null && failed[i]).length);
    const finiteValues = values.filter((v): v is number => v !== null && Number.isFinite(v));
    expect(d.n).toBe(finiteValues.length);
    const plain = summarize(finiteValues);
    expect(d.mean).toBe(plain.mean);
    expect(d.sd).toBe(plain.sd);
    if (plain.ci95Lo === null || plain.ci95Hi === null) {
      expect([d.ci95Lo, d.ci95Hi, d.clipped]).toEqual([null, null, false]);
    } else {
      const lo = d.ci95Lo as number;
      const hi = d.ci95Hi as number;
      if (range.min !== undefined) expect(lo).toBeGreaterThanOrEqual(range.min);
      if (range.max !== undefined) expect(hi).toBeLessThanOrEqual(range.max);
      const outside =
        (range.min !== undefined && plain.ci95Lo < range.min) ||
        (range.max !== undefined && plain.ci95Hi > range.max);
      expect(d.clipped).toBe(outside);
      if (!outside) expect([lo, hi]).toEqual([plain.ci95Lo, plain.ci95Hi]);
    }
    // Quantiles keep the infinities (not NaN), so they lie within the kept values.
    const kept = values.filter((v): v is number => v !== null && !Number.isNaN(v));
    if (kept.length === 0) expect(d.median).toBeNull();
    else {
      expect(d.median as number).toBeGreaterThanOrEqual(Math.min(...kept));
      expect(d.median as number).toBeLessThanOrEqual(Math.max(...kept));
      expect(d.q25 as number).toBeLessThanOrEqual(d.median as number);
      expect(d.median as number).toBeLessThanOrEqual(d.q75 as number);
    }
    // The notes name every kind of value left out.
    const notes = describeNotes("m", d, range).join("; ");
    if (d.undefined < d.planned) {
      if (d.failed > 0) expect(notes).toContain(`m: ${d.failed} of ${d.planned} failed`);
      if (d.nonFinite > 0) expect(notes).toContain(`m: ${d.nonFinite} of ${d.planned} non-finite`);
      if (d.clipped) expect(notes).toContain("ci95 clipped");
    } else {
      expect(notes).toBe("");
    }
  });

  it("an NLL that is infinite on some seeds: a finite mean of the rest, the count, and a median", () => {
    const d = describeMetric([0.2, Number.POSITIVE_INFINITY, 0.4, 0.3, Number.POSITIVE_INFINITY], [], {
      min: 0,
    });
    expect([d.n, d.nonFinite, d.mean]).toEqual([3, 2, 0.3]);
    expect(d.median).toBe(0.4);
    expect(d.q75).toBe(Number.POSITIVE_INFINITY);
    expect(describeNotes("nll", d, { min: 0 })).toEqual([
      "nll: 2 of 5 non-finite, left out of mean/sd/ci95 (median and quartiles keep them)",
    ]);
  });

  it("an accuracy near 1: the Student-t interval is clipped to [0, 1] and says so", () => {
    const d = describeMetric([1, 1, 0.9], [], { min: 0, max: 1 });
    expect(d.ci95Hi).toBe(1);
    expect(d.clipped).toBe(true);
    expect(describeNotes("accuracy", d, { min: 0, max: 1 })).toEqual(["accuracy: ci95 clipped to [0, 1]"]);
  });
});
