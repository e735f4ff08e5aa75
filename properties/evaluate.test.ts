/**
 * Contract tests of src/calibration/evaluate.ts: each case kills a mutant that survived
 * `npm run mutate` (docs/mutation.md maps them): every field of evaluatePredictions against the naive formulas (accuracy by
 * argmax of the scores themselves — logits, not their rounded softmax — NLL, Brier) and against
 * the public reliability-bin functions for the same options (top-label and class-wise bins, ECE,
 * MCE, class-wise ECE as the mean over classes), defaults, and the exact messages.
 */
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import type { Bin } from "../src/calibration/bins.js";
import { classwiseReliabilityBins, reliabilityBins } from "../src/calibration/bins.js";
import { evaluatePredictions } from "../src/calibration/evaluate.js";
import { toProbabilities } from "../src/calibration/scores.js";
import { InputError } from "../src/errors.js";
import { fromRows, type Matrix } from "../src/linalg/matrix.js";
import { gridRows, gridValue } from "./_shared/arbitraries.js";
import { expectClose } from "./_shared/expectClose.js";

const m = (rows: number[][]): Matrix => fromRows(rows);

const naiveEce = (bins: Bin[], n: number): number =>
  bins.reduce((a, b) => a + (b.count === 0 ? 0 : (b.count / n) * Math.abs(b.gap as number)), 0);
const naiveMce = (bins: Bin[]): number =>
  bins.reduce((a, b) => (b.count === 0 ? a : Math.max(a, Math.abs(b.gap as number))), 0);
const firstMax = (r: number[]): number => r.indexOf(Math.max(...r));

/** Logits on a coarse grid (ties), K ≥ 2 (K = 2 sometimes as one column), labels. */
const setArb = fc
  .record({ n: fc.integer({ min: 1, max: 14 }), K: fc.integer({ min: 2, max: 4 }), one: fc.boolean() })
  .chain(({ n, K, one }) =>
    fc.record({
      Z: gridRows(n, K, gridValue(4, 2)),
      y: fc.array(fc.integer({ min: 0, max: K - 1 }), { minLength: n, maxLength: n }),
      one: fc.constant(one && K === 2),
      opts: fc
        .record(
          {
            bins: fc.integer({ min: 1, max: 6 }),
            strategy: fc.constantFrom("uniform" as const, "quantile" as const),
            binRule: fc.constantFrom("softcal" as const, "sklearn" as const),
          },
          { requiredKeys: [] },
        )
        .map((o) => (o.strategy === "quantile" ? { bins: o.bins, strategy: o.strategy } : o)),
    }),
  );

describe("evaluatePredictions", () => {
  test.prop([setArb])(
    "every field equals the naive formulas and the public bin functions",
    ({ Z, y, one, opts }) => {
      const n = Z.length;
      const K = Z[0].length;
      const full = one ? Z.map((r) => [0, r[1] - r[0]]) : Z;
      const S = one ? m(full.map((r) => [r[1]])) : m(full);
      const P = toProbabilities(m(full), true);
      const Prows = full.map((_, i) => Array.from(P.data.subarray(i * K, (i + 1) * K)));
      for (const [scores, logits] of [
        [S, true],
        [m(Prows), false],
      ] as const) {
        const ev = evaluatePredictions(scores, y, { ...opts, logits });
        expect([ev.n, ev.K]).toEqual([n, K]);
        const rows = logits ? full : Prows;
        expect(ev.accuracy).toBe(rows.filter((r, i) => firstMax(r) === y[i]).length / n);
        const nll = logits
          ? full.reduce((a, r, i) => a + Math.log(r.reduce((s, z) => s + Math.exp(z), 0)) - r[y[i]], 0) / n
          : Prows.reduce((a, r, i) => a - Math.log(r[y[i]]), 0) / n;
        // Means of n ≤ 14 terms of a few roundings each on values ≤ 10.
        expectClose(ev.nll, nll, { rtol: 1e-13, atol: 1e-15 }, "nll");
        const brier =
          Prows.reduce((a, r, i) => a + r.reduce((s, p, k) => s + (p - (k === y[i] ? 1 : 0)) ** 2, 0), 0) / n;
        expectClose(ev.brier, brier, { rtol: 1e-13, atol: 1e-16 }, "brier");
        expect(ev.bins).toEqual(reliabilityBins(m(Prows), y, opts));
        expect(ev.classwise).toEqual(classwiseReliabilityBins(m(Prows), y, opts));
        expect(ev.bins.length).toBe(opts.bins ?? 15);
        // Sums of ≤ 15 bin terms, each count/n·|gap| with |gap| ≤ 1.
        expectClose(ev.ece, naiveEce(ev.bins, n), { atol: 1e-15 }, "ece");
        expect(ev.mce).toBe(naiveMce(ev.bins));
        const cw = ev.classwise.reduce((a, b) => a + naiveEce(b, n), 0) / K;
        expectClose(ev.classwiseEce, cw, { atol: 1e-15 }, "classwiseEce");
      }
    },
  );

  it("accuracy is the argmax of the scores given (logits tie-broken before softmax rounding)", () => {
    // softmax([0, 1e-17]) is [0.5, 0.5] in doubles: the logits still predict class 1.
    const ev = evaluatePredictions(
      m([
        [0, 1e-17],
        [1e-17, 0],
      ]),
      [1, 0],
      { logits: true },
    );
    expect(ev.accuracy).toBe(1);
    // A single logit column: z > 0 predicts 1, z = 0 predicts 0 (tie → lowest index).
    expect(evaluatePredictions(m([[0.5], [0], [-2]]), [1, 0, 0], { logits: true }).accuracy).toBe(1);
    expect(evaluatePredictions(m([[0.5], [0], [-2]]), [1, 1, 1], { logits: true }).accuracy).toBe(1 / 3);
    // Probabilities exactly 0 on a label: NLL +∞.
    expect(evaluatePredictions(m([[1, 0]]), [1]).nll).toBe(Infinity);
  });

  it("defaults: 15 uniform softcal bins, probabilities, `where` = evaluate", () => {
    const P = m([
      [0.2, 0.8],
      [0.6, 0.4],
      [0.5, 0.5],
    ]);
    const y = [1, 1, 0];
    const ev = evaluatePredictions(P, y);
    expect(ev.bins).toEqual(reliabilityBins(P, y, { bins: 15, strategy: "uniform", binRule: "softcal" }));
    expect(ev.bins.length).toBe(15);
    expect(ev.classwise.length).toBe(2);
    expect(ev).toEqual(evaluatePredictions(P, y, { logits: false }));
    expect(evaluatePredictions(m([[0.2, 0.8]]), Int32Array.of(1), { bins: 2 }).ece).toBe(0.19999999999999996);
    expect(() => evaluatePredictions(m([[0.2, 0.3, 0.5]]), [0], { classes: 2 })).toThrow(
      new InputError("evaluate: expected 1 or 2 columns (binary); got 3"),
    );
    expect(evaluatePredictions(m([[0.2, 0.3, 0.5]]), [0], { classes: 3 }).K).toBe(3);
    expect(() => evaluatePredictions(m([[2, 3]]), [0])).toThrow(
      new InputError("evaluate: row 0, column 0: expected a probability in [0, 1]; got 2"),
    );
    expect(() => evaluatePredictions(m([[0.5, 0.5]]), [0], { bins: 0 }, "ev.csv")).toThrow(InputError);
    expect(() => evaluatePredictions(m([[0.5, 0.5]]), [3], {}, { file: "p.csv" })).toThrow(
      /^p\.csv:2: expected a label in 0\.\.1; got 3$/,
    );
    expect(() => evaluatePredictions(m([[0.5, NaN]]), [0], { logits: true }, "e")).toThrow(
      new InputError("e: row 0, column 1: expected a finite logit; got NaN"),
    );
  });
});
