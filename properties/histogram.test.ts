/**
 * Contract tests of src/calibration/recalibrators/histogram.ts: each case kills a mutant that
 * survived `npm run mutate` (docs/mutation.md maps them): the fitted bin frequencies against the documented formula
 * (bin b = [b/B, (b+1)/B), last closed; value = positives / count, null when empty), transform
 * (a value per bin, identity for an empty bin, binary [1 − q, q], multiclass renormalized with
 * all-zero rows uniform), the one-vs-rest helpers, JSON and the exact messages.
 */
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { applyOneVsRest, HistogramBinning, ovrClasses } from "../src/calibration/recalibrators/histogram.js";
import { recalibratorFromJSON } from "../src/calibration/recalibrators/registry.js";
import { toProbabilities } from "../src/calibration/scores.js";
import { InputError } from "../src/errors.js";
import { fromRows, type Matrix } from "../src/linalg/matrix.js";

const m = (rows: number[][]): Matrix => fromRows(rows);

/** The documented bin of p: the largest b ≤ B − 1 with b/B ≤ p. */
function naiveBin(p: number, B: number): number {
  let b = 0;
  for (let c = 1; c < B; c++) if (c / B <= p) b = c;
  return b;
}

/** Documented fit: per calibrated class, positives/count per bin (null if empty). */
function naiveValues(P: number[][], y: number[], B: number): (number | null)[][] {
  const K = P[0].length;
  const classes = K === 2 ? [1] : P[0].map((_, k) => k);
  return classes.map((k) => {
    const cnt = new Array<number>(B).fill(0);
    const pos = new Array<number>(B).fill(0);
    P.forEach((r, i) => {
      const b = naiveBin(r[k], B);
      cnt[b] += 1;
      if (y[i] === k) pos[b] += 1;
    });
    return cnt.map((c, b) => (c === 0 ? null : pos[b] / c));
  });
}

/** Probability rows on a grid that includes bin edges (k/12 with B dividing 12 or not). */
const setArb = fc
  .record({ K: fc.integer({ min: 2, max: 4 }), B: fc.integer({ min: 1, max: 7 }) })
  .chain(({ K, B }) =>
    fc
      .array(
        fc.record({
          w: fc.array(fc.integer({ min: 0, max: 12 }), { minLength: K, maxLength: K }),
          y: fc.integer({ min: 0, max: K - 1 }),
        }),
        { minLength: B + 2, maxLength: 24 },
      )
      .map((rows) => {
        const P = rows.map(({ w }) => {
          const s = w.reduce((a, b) => a + b, 0);
          // Binary rows are [1 − p, p] with p = w₁/12 exactly on the grid; K ≥ 3 normalized weights.
          if (K === 2) return [1 - w[1] / 12, w[1] / 12];
          return s === 0 ? w.map(() => 1 / K) : w.map((v) => v / s);
        });
        const y = rows.map((r, i) => (i === 0 ? 0 : i === 1 ? 1 : r.y));
        return { P, y, K, B };
      }),
  );

describe("HistogramBinning", () => {
  test.prop([setArb])(
    "fit: values equal positives/count per documented bin (null when empty)",
    ({ P, y, K, B }) => {
      const h = new HistogramBinning(B).fit(m(P), y);
      expect(h.classes).toBe(K);
      expect(h.values).toEqual(naiveValues(P, y, B));
      // Binary: one column p means [1 − p, p]: the same fit.
      if (K === 2) expect(new HistogramBinning(B).fit(m(P.map((r) => [r[1]])), y).values).toEqual(h.values);
    },
  );

  test.prop([setArb, fc.array(fc.integer({ min: 0, max: 24 }), { minLength: 1, maxLength: 6 })])(
    "transform: each class's bin value (identity when empty), then [1 − q, q] or renormalized rows",
    ({ P, y, K, B }, grid) => {
      const h = new HistogramBinning(B).fit(m(P), y);
      const values = naiveValues(P, y, B);
      const T = grid.map((g, i) => {
        const p = g / 24;
        if (K === 2) return [1 - p, p];
        const r = new Array<number>(K).fill(0);
        r[i % K] = p;
        r[(i + 1) % K] = 1 - p;
        return r;
      });
      const Q = h.transform(m(T));
      expect([Q.rows, Q.cols]).toEqual([T.length, K]);
      const want = T.flatMap((r) => {
        if (K === 2) {
          const q = values[0][naiveBin(r[1], B)] ?? r[1];
          return [1 - q, q];
        }
        const q = r.map((p, k) => values[k][naiveBin(p, B)] ?? p);
        const s = q.reduce((a, b) => a + b, 0);
        return s > 0 ? q.map((v) => v / s) : q.map(() => 1 / K);
      });
      expect(Array.from(Q.data)).toEqual(want);
    },
  );

  it("logits are binned on their softmax; B defaults to 15", () => {
    const Z = m([[-3], [-1], [0], [0.5], [2], [4]]);
    const y = [0, 0, 1, 0, 1, 1];
    const h = new HistogramBinning(3).fit(Z, y, { logits: true });
    const P = toProbabilities(
      m([
        [0, -3],
        [0, -1],
        [0, 0],
        [0, 0.5],
        [0, 2],
        [0, 4],
      ]),
      true,
    );
    const rows = [0, 1, 2, 3, 4, 5].map((i) => [P.data[2 * i], P.data[2 * i + 1]]);
    expect(h.values).toEqual(naiveValues(rows, y, 3));
    expect(Array.from(h.transform(Z, { logits: true }).data)).toEqual(Array.from(h.transform(m(rows)).data));
    expect(new HistogramBinning().bins).toBe(15);
    const n15 = Array.from({ length: 15 }, (_, i) => [i / 15]);
    const y15 = n15.map((_, i) => i % 2);
    expect(new HistogramBinning().fit(m(n15), y15).values?.[0]).toEqual(y15);
  });

  it("transform bins with softcal's edges b/B (not b·(1/B)): p = 0.3 is in bin 3 of 10", () => {
    // 3/10 = 0.3 but 3·(1/10) = 0.30000000000000004: the two edge formulas disagree exactly at p = 0.3.
    const h = new HistogramBinning(10, 2, [[0.05, 0.15, 0.2, 0.9, 0.45, 0.55, 0.65, 0.75, 0.85, 0.95]]);
    expect(Array.from(h.transform(m([[0.3], [0.29]])).data)).toEqual([1 - 0.9, 0.9, 1 - 0.2, 0.2]);
    const fitted = new HistogramBinning(10).fit(
      m([[0.3], [0.25], [0.5], [0.7], [0.1], [0.9], [0], [0.4], [0.6], [0.8]]),
      [1, 0, 0, 1, 0, 1, 0, 0, 1, 1],
    );
    expect(fitted.values?.[0][3]).toBe(1);
    expect(fitted.values?.[0][2]).toBe(0);
  });

  it("needs at least B rows; bins must be an integer ≥ 1", () => {
    const P = m([[0.1], [0.9], [0.4]]);
    expect(new HistogramBinning(3).fit(P, [0, 1, 0]).values).toEqual([[0, 0, 1]]);
    expect(() => new HistogramBinning(4).fit(P, [0, 1, 0])).toThrow(
      new InputError(
        "histogram: expected at least 4 calibration rows (one per bin); got 3 — use fewer bins or more rows",
      ),
    );
    expect(() => new HistogramBinning(4).fit(P, [0, 1, 0], {}, { file: "v.csv" })).toThrow(
      new InputError(
        "v.csv: expected at least 4 calibration rows (one per bin); got 3 — use fewer bins or more rows",
      ),
    );
    expect(() => new HistogramBinning(2).fit(P, [0, 0, 0])).toThrow(
      new InputError(
        "histogram: expected at least two classes among the calibration labels; got only class 0 — use a larger or stratified calibration split",
      ),
    );
    for (const b of [0, 1.5, -2]) {
      expect(() => new HistogramBinning(b)).toThrow(
        new InputError(`bins: expected an integer ≥ 1; got ${b}`),
      );
    }
    const h = new HistogramBinning(1).fit(P, [0, 1, 0]);
    expect(h.values).toEqual([[1 / 3]]);
    expect(() => h.transform(m([[0.2, 0.3, 0.5]]))).toThrow(
      new InputError("histogram: expected 1 or 2 columns (binary); got 3"),
    );
    expect(() => new HistogramBinning(2).transform(P)).toThrow(
      new RangeError("histogram: call fit() before transform() or toJSON()"),
    );
    expect(() => new HistogramBinning(2, 2).transform(P)).toThrow(RangeError);
    expect(() => new HistogramBinning(2, undefined, [[0, 1]]).transform(P)).toThrow(RangeError);
    expect(() => new HistogramBinning(2, 2).toJSON()).toThrow(
      new RangeError("histogram: call fit() before transform() or toJSON()"),
    );
    expect(() => new HistogramBinning(2, undefined, [[0, 1]]).toJSON()).toThrow(RangeError);
  });

  it("JSON: header, bins, values; fromJSON checks and messages", () => {
    const h = new HistogramBinning(3).fit(m([[0.1], [0.9], [0.4], [0.45]]), [0, 1, 0, 1]);
    expect(h.toJSON()).toEqual({
      format: "softcal-recalibrator",
      version: 1,
      method: "histogram",
      classes: 2,
      bins: 3,
      values: [[0, 0.5, 1]],
    });
    const back = recalibratorFromJSON(JSON.stringify(h.toJSON()));
    expect(back).toBeInstanceOf(HistogramBinning);
    expect((back as HistogramBinning).bins).toBe(3);
    expect(Array.from(back.transform(m([[0.2], [0.5]])).data)).toEqual([1, 0, 0.5, 0.5]);
    expect(HistogramBinning.fromJSON({ bins: 1, values: [[0.5]] }, 2, "h.json").bins).toBe(1);
    const ok = HistogramBinning.fromJSON(
      {
        bins: 2,
        values: [
          [null, 0],
          [1, 0.5],
          [0, 0],
        ],
      },
      3,
      "h.json",
    );
    expect([ok.bins, ok.classes, ok.values]).toEqual([
      2,
      3,
      [
        [null, 0],
        [1, 0.5],
        [0, 0],
      ],
    ]);
    for (const bins of [0, 1.5, "2", null, undefined]) {
      expect(() => HistogramBinning.fromJSON({ bins, values: [[0]] }, 2, "h.json")).toThrow(
        new InputError(`h.json: expected "bins" to be an integer ≥ 1; got ${JSON.stringify(bins)}`),
      );
    }
    const msg = (nc: number, B: number, got: string): InputError =>
      new InputError(
        `h.json: expected "values" to be ${nc} arrays of ${B} probabilities or nulls; got ${got}`,
      );
    const bad: [unknown, number][] = [
      [undefined, 2],
      [[0, 1], 2],
      [[[0, 1]], 3],
      [
        [
          [0, 1],
          [0, 1],
        ],
        2,
      ],
      [[[0]], 2],
      [[[0, 1, 1]], 2],
      [[[0, 1.5]], 2],
      [[[-0.5, 1]], 2],
      [[["0", 1]], 2],
      [[[0, undefined]], 2],
      [[{ length: 2 }], 2],
      // Every class's array is checked, not just one.
      [
        [
          [0, 1],
          [0, 2],
          [0, 1],
        ],
        3,
      ],
      [[[0, 1], [0, 1], [0]], 3],
    ];
    for (const [values, classes] of bad) {
      expect(() => HistogramBinning.fromJSON({ bins: 2, values }, classes, "h.json")).toThrow(
        msg(classes === 2 ? 1 : classes, 2, `${JSON.stringify(values)?.slice(0, 60)}`),
      );
    }
    const long = [Array.from({ length: 40 }, () => 0.125)];
    expect(() => HistogramBinning.fromJSON({ bins: 2, values: long }, 2, "h.json")).toThrow(
      msg(1, 2, JSON.stringify(long).slice(0, 60)),
    );
  });
});

describe("one-vs-rest helpers", () => {
  it("ovrClasses: [1] for binary, 0..K−1 otherwise", () => {
    expect(ovrClasses(2)).toEqual([1]);
    expect(ovrClasses(3)).toEqual([0, 1, 2]);
    expect(ovrClasses(5)).toEqual([0, 1, 2, 3, 4]);
  });

  it("applyOneVsRest: binary maps column 1 only; multiclass renormalizes; all-zero rows uniform", () => {
    const seen: number[] = [];
    const B = applyOneVsRest(
      m([
        [0.3, 0.7],
        [0.9, 0.1],
      ]),
      [
        (p) => {
          seen.push(p);
          return p / 2;
        },
      ],
    );
    expect(seen).toEqual([0.7, 0.1]);
    expect([B.rows, B.cols]).toEqual([2, 2]);
    expect(Array.from(B.data)).toEqual([1 - 0.35, 0.35, 1 - 0.05, 0.05]);
    const M = applyOneVsRest(
      m([
        [0.2, 0.3, 0.5],
        [0.1, 0.1, 0.8],
        [0.4, 0.4, 0.2],
      ]),
      [(p) => p * 2, () => 0, (p) => (p > 0.7 ? 0 : p)],
    );
    expect([M.rows, M.cols]).toEqual([3, 3]);
    expect(Array.from(M.data)).toEqual([0.4 / 0.9, 0, 0.5 / 0.9, 1, 0, 0, 0.8 / 1, 0, 0.2 / 1]);
    const Z = applyOneVsRest(m([[0.5, 0.25, 0.25, 0]]), [() => 0, () => 0, () => 0, () => 0]);
    expect(Array.from(Z.data)).toEqual([0.25, 0.25, 0.25, 0.25]);
  });
});
