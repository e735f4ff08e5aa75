/**
 * Contract tests of src/calibration/recalibrators/isotonic.ts: each case kills a mutant that
 * survived `npm run mutate` (docs/mutation.md maps them): fitIsotonic against a naive pool-adjacent-violators
 * restatement in exact integer arithmetic (bit for bit on distinct inputs, where every block mean
 * is one correctly rounded integer quotient), the pooling of equal inputs, the knots kept for
 * interpolation, evalIsotonic against a linear scan, the recalibrator's per-class maps,
 * transform, JSON and exact messages.
 */
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { evalIsotonic, fitIsotonic, IsotonicCalibration } from "../src/calibration/recalibrators/isotonic.js";
import { recalibratorFromJSON } from "../src/calibration/recalibrators/registry.js";
import { toProbabilities } from "../src/calibration/scores.js";
import { InputError } from "../src/errors.js";
import { fromRows, type Matrix } from "../src/linalg/matrix.js";
import { expectClose } from "./_shared/expectClose.js";

const m = (rows: number[][]): Matrix => fromRows(rows);

/**
 * Naive PAV on points sorted by x with integer outcome sums: blocks {s, w, xs}; merge adjacent
 * blocks while some left mean exceeds its right neighbour's (compared exactly by cross-multiplying).
 * Returns the unique x and, per unique x, its block's (s, w).
 */
function naivePav(x: number[], o: number[]): { ux: number[]; s: number[]; w: number[] } {
  const idx = x.map((_, i) => i).sort((a, b) => x[a] - x[b]);
  let blocks: { s: number; w: number; xs: number[] }[] = [];
  for (const i of idx) {
    const last = blocks[blocks.length - 1];
    if (last !== undefined && last.xs[0] === x[i]) {
      last.s += o[i];
      last.w += 1;
    } else blocks.push({ s: o[i], w: 1, xs: [x[i]] });
  }
  let changed = true;
  while (changed) {
    changed = false;
    for (let b = 0; b + 1 < blocks.length; b++) {
      const L = blocks[b];
      const R = blocks[b + 1];
      if (L.s * R.w > R.s * L.w) {
        const merged = { s: L.s + R.s, w: L.w + R.w, xs: [...L.xs, ...R.xs] };
        blocks = [...blocks.slice(0, b), merged, ...blocks.slice(b + 2)];
        changed = true;
        break;
      }
    }
  }
  const ux: number[] = [];
  const s: number[] = [];
  const w: number[] = [];
  for (const B of blocks)
    for (const v of B.xs) {
      ux.push(v);
      s.push(B.s);
      w.push(B.w);
    }
  return { ux, s, w };
}

/** Knots of the naive fit: every unique x except the interior points of a run of equal means. */
function naiveKnots(x: number[], o: number[]): { x: number[]; y: number[] } {
  const { ux, s, w } = naivePav(x, o);
  const eq = (a: number, b: number): boolean => s[a] * w[b] === s[b] * w[a];
  const kx: number[] = [];
  const ky: number[] = [];
  for (let j = 0; j < ux.length; j++) {
    if (j > 0 && j < ux.length - 1 && eq(j - 1, j) && eq(j + 1, j)) continue;
    kx.push(ux[j]);
    ky.push(s[j] / w[j]);
  }
  return { x: kx, y: ky };
}

/** Linear interpolation by scanning, constant outside the knots. */
function naiveEval(k: { x: number[]; y: number[] }, p: number): number {
  const { x, y } = k;
  if (p <= x[0]) return y[0];
  if (p >= x[x.length - 1]) return y[y.length - 1];
  let j = 0;
  while (!(x[j] <= p && p < x[j + 1])) j++;
  return y[j] + ((p - x[j]) / (x[j + 1] - x[j])) * (y[j + 1] - y[j]);
}

/** Distinct inputs (shuffled) with 0/1 outcomes. */
const distinctArb = fc
  .uniqueArray(fc.integer({ min: 0, max: 1000 }), { minLength: 1, maxLength: 30 })
  .chain((xs) =>
    fc.record({
      x: fc.constant(xs.map((v) => v / 1000)),
      o: fc.array(fc.integer({ min: 0, max: 1 }), { minLength: xs.length, maxLength: xs.length }),
    }),
  );

/** Inputs on a coarse grid (many equal values), outcomes 0/1. */
const tiedArb = fc.integer({ min: 1, max: 40 }).chain((n) =>
  fc.record({
    x: fc.array(
      fc.integer({ min: 0, max: 6 }).map((v) => v / 6),
      { minLength: n, maxLength: n },
    ),
    o: fc.array(fc.integer({ min: 0, max: 1 }), { minLength: n, maxLength: n }),
  }),
);

describe("fitIsotonic, evalIsotonic", () => {
  test.prop([distinctArb])("distinct inputs: knots equal the naive PAV bit for bit", ({ x, o }) => {
    const f = fitIsotonic(x, o);
    expect(f).toEqual(naiveKnots(x, o));
  });

  test.prop([tiedArb])(
    "equal inputs are pooled first: same map as the naive fit (within rounding)",
    ({ x, o }) => {
      const f = fitIsotonic(Float64Array.from(x), Float64Array.from(o));
      const k = naiveKnots(x, o);
      // Knots: increasing unique inputs, first and last kept; no run of three equal values.
      for (let j = 1; j < f.x.length; j++) expect(f.x[j]).toBeGreaterThan(f.x[j - 1]);
      expect(f.x[0]).toBe(k.x[0]);
      expect(f.x[f.x.length - 1]).toBe(k.x[k.x.length - 1]);
      for (const v of f.x) expect(x).toContain(v);
      for (let j = 2; j < f.y.length; j++)
        expect(f.y[j] === f.y[j - 1] && f.y[j - 1] === f.y[j - 2]).toBe(false);
      // Values: a pooled mean c/w is multiplied back by w and re-divided, a few roundings of
      // numbers ≤ 40, so 1e-14 absolute on values in [0, 1].
      for (let g = -1; g <= 13; g++) {
        const p = g / 12;
        expectClose(evalIsotonic(f, p), naiveEval(k, p), { atol: 1e-14 }, `m(${p})`);
      }
    },
  );

  it("the documented example, unsorted input, pooling and dropped interior knots", () => {
    expect(fitIsotonic([0.1, 0.2, 0.3, 0.4], [0, 1, 0, 1])).toEqual({
      x: [0.1, 0.2, 0.3, 0.4],
      y: [0, 0.5, 0.5, 1],
    });
    expect(fitIsotonic([0.4, 0.1, 0.3, 0.2], [1, 0, 0, 1])).toEqual({
      x: [0.1, 0.2, 0.3, 0.4],
      y: [0, 0.5, 0.5, 1],
    });
    expect(fitIsotonic([0.5, 0.5, 0.5, 0.2], [1, 0, 0, 1])).toEqual({ x: [0.2, 0.5], y: [0.5, 0.5] });
    expect(fitIsotonic([0.1, 0.2, 0.3, 0.4, 0.5], [1, 0, 1, 0, 1])).toEqual({
      x: [0.1, 0.4, 0.5],
      y: [0.5, 0.5, 1],
    });
    expect(fitIsotonic([0.3], [1])).toEqual({ x: [0.3], y: [1] });
    expect(fitIsotonic([0.2, 0.2], [1, 0])).toEqual({ x: [0.2], y: [0.5] });
  });

  test.prop([
    fc.uniqueArray(fc.integer({ min: 0, max: 100 }), { minLength: 1, maxLength: 8 }),
    fc.array(fc.integer({ min: 0, max: 100 }), { minLength: 8, maxLength: 8 }),
  ])("evalIsotonic equals a linear scan at knots, between and outside them", (xs, ys) => {
    const x = xs.sort((a, b) => a - b).map((v) => v / 100);
    const y = ys
      .slice(0, x.length)
      .sort((a, b) => a - b)
      .map((v) => v / 100);
    const k = { x, y };
    const probes = [-0.5, 1.5, ...x];
    for (let j = 0; j + 1 < x.length; j++) probes.push((x[j] + x[j + 1]) / 2, x[j] + (x[j + 1] - x[j]) / 3);
    for (const p of probes) expect(evalIsotonic(k, p)).toBe(naiveEval(k, p));
  });

  it("evalIsotonic at the knots returns the knot values exactly (no interpolation rounding)", () => {
    // 0.03 + (0.29 − 0.03) is not 0.29 in doubles: the last knot must be returned as is.
    const k = { x: [0.2, 0.6], y: [0.03, 0.29] };
    expect([evalIsotonic(k, 0.2), evalIsotonic(k, 0.6), evalIsotonic(k, 0.9), evalIsotonic(k, 0)]).toEqual([
      0.03, 0.29, 0.29, 0.03,
    ]);
    expect(evalIsotonic({ x: [0.5], y: [0.25] }, 0.5)).toBe(0.25);
  });
});

describe("IsotonicCalibration", () => {
  const K3 = m([
    [0.7, 0.2, 0.1],
    [0.1, 0.8, 0.1],
    [0.2, 0.2, 0.6],
    [0.5, 0.3, 0.2],
    [0.3, 0.3, 0.4],
    [0.6, 0.1, 0.3],
  ]);
  const y3 = [0, 1, 2, 1, 2, 0];

  it("fits one map per class on its probability column (binary: class 1 only)", () => {
    const iso = new IsotonicCalibration().fit(K3, y3);
    expect(iso.classes).toBe(3);
    for (let k = 0; k < 3; k++) {
      const col = [0, 1, 2, 3, 4, 5].map((i) => K3.data[3 * i + k]);
      expect(iso.maps?.[k]).toEqual(
        fitIsotonic(
          col,
          y3.map((v) => (v === k ? 1 : 0)),
        ),
      );
    }
    const p = [0.1, 0.4, 0.35, 0.8, 0.9];
    const yb = [0, 1, 0, 0, 1];
    const b = new IsotonicCalibration().fit(m(p.map((v) => [v])), yb);
    expect(b.classes).toBe(2);
    expect(b.maps).toEqual([fitIsotonic(p, yb)]);
    // Logits: the maps are fitted on their softmax.
    const z = [-2, 0.5, -0.3, 1.2, 3];
    const bl = new IsotonicCalibration().fit(m(z.map((v) => [v])), yb, { logits: true });
    const sz = toProbabilities(m(z.map((v) => [0, v])), true);
    expect(bl.maps).toEqual([
      fitIsotonic(
        z.map((_, i) => sz.data[2 * i + 1]),
        yb,
      ),
    ]);
  });

  it("transform: binary [1 − q, q]; multiclass renormalized, all-zero rows uniform", () => {
    const iso = new IsotonicCalibration().fit(K3, y3);
    const T = m([
      [0.7, 0.2, 0.1],
      [0.05, 0.9, 0.05],
      [0.4, 0.35, 0.25],
    ]);
    const Q = iso.transform(T);
    expect([Q.rows, Q.cols]).toEqual([3, 3]);
    for (let i = 0; i < 3; i++) {
      const q = [0, 1, 2].map((k) =>
        evalIsotonic(iso.maps?.[k] as { x: number[]; y: number[] }, T.data[3 * i + k]),
      );
      const s = q[0] + q[1] + q[2];
      const want = s > 0 ? q.map((v) => v / s) : [1 / 3, 1 / 3, 1 / 3];
      expect(Array.from(Q.data.subarray(3 * i, 3 * i + 3))).toEqual(want);
    }
    // A row every map sends to 0 becomes uniform.
    const zero = new IsotonicCalibration(3, [
      { x: [0, 1], y: [0, 0] },
      { x: [0, 1], y: [0, 0] },
      { x: [0, 1], y: [0, 1] },
    ]).transform(
      m([
        [0.5, 0.5, 0],
        [0.2, 0.3, 0.5],
      ]),
    );
    expect(Array.from(zero.data)).toEqual([1 / 3, 1 / 3, 1 / 3, 0, 0, 1]);
    const b = new IsotonicCalibration(2, [{ x: [0.2, 0.6], y: [0.1, 0.9] }]);
    const q4 = 0.1 + ((0.4 - 0.2) / (0.6 - 0.2)) * (0.9 - 0.1);
    expect(Array.from(b.transform(m([[0.4], [0.8], [0]])).data)).toEqual([
      1 - q4,
      q4,
      1 - 0.9,
      0.9,
      0.9,
      0.1,
    ]);
    const q5 = 0.1 + ((0.5 - 0.2) / (0.6 - 0.2)) * (0.9 - 0.1);
    expect(Array.from(b.transform(m([[0]]), { logits: true }).data)).toEqual([1 - q5, q5]);
  });

  it("JSON round trip and the exact messages", () => {
    const iso = new IsotonicCalibration().fit(K3, y3);
    const j = iso.toJSON();
    expect(j).toEqual({
      format: "softcal-recalibrator",
      version: 1,
      method: "isotonic",
      classes: 3,
      maps: iso.maps,
    });
    const back = recalibratorFromJSON(JSON.stringify(j));
    expect(back).toBeInstanceOf(IsotonicCalibration);
    expect(Array.from(back.transform(K3).data)).toEqual(Array.from(iso.transform(K3).data));
    expect(() => new IsotonicCalibration().toJSON()).toThrow(
      new RangeError("isotonic: call fit() before transform() or toJSON()"),
    );
    expect(() => new IsotonicCalibration().transform(K3)).toThrow(
      new RangeError("isotonic: call fit() before transform() or toJSON()"),
    );
    expect(() => new IsotonicCalibration(3).transform(K3)).toThrow(RangeError);
    expect(() => new IsotonicCalibration(undefined, []).transform(K3)).toThrow(RangeError);
    expect(() => new IsotonicCalibration(undefined, []).toJSON()).toThrow(RangeError);
    expect(() => new IsotonicCalibration(3).toJSON()).toThrow(RangeError);
    expect(() => iso.transform(m([[0.5, 0.5]]))).toThrow(
      new InputError("isotonic: expected 3 columns (one per class); got 2"),
    );
    expect(() => new IsotonicCalibration().fit(m([[0.5], [0.6]]), [1, 1])).toThrow(
      new InputError(
        "isotonic: expected at least two classes among the calibration labels; got only class 1 — use a larger or stratified calibration split",
      ),
    );
    const msg = (nc: number, got: string): string =>
      `f.json: expected "maps" to be ${nc} objects {x, y} with increasing x and non-decreasing y in [0, 1]; got ${got}`;
    const good = { x: [0.1, 0.5], y: [0.2, 0.2] };
    expect(IsotonicCalibration.fromJSON({ maps: [good] }, 2, "f.json").maps).toEqual([good]);
    expect(IsotonicCalibration.fromJSON({ maps: [{ x: [0.3], y: [1] }] }, 2, "f.json").classes).toBe(2);
    expect(IsotonicCalibration.fromJSON({ maps: [good, good, good] }, 3, "f.json").classes).toBe(3);
    const bad: [unknown, number, string][] = [
      [undefined, 2, "undefined"],
      [good, 2, JSON.stringify(good)],
      [[good, good], 2, JSON.stringify([good, good])],
      [[good], 3, JSON.stringify([good])],
      [[null], 2, "[null]"],
      [[3], 2, "[3]"],
      [[{ x: [], y: [] }], 2, '[{"x":[],"y":[]}]'],
      [[{ x: [0.1], y: [] }], 2, '[{"x":[0.1],"y":[]}]'],
      [[{ x: [0.1, 0.2], y: [0.5] }], 2, '[{"x":[0.1,0.2],"y":[0.5]}]'],
      [[{ x: [0.1], y: [0.5, 0.6] }], 2, '[{"x":[0.1],"y":[0.5,0.6]}]'],
      [[{ x: [0.1, "a"], y: [0, 1] }], 2, '[{"x":[0.1,"a"],"y":[0,1]}]'],
      [[{ x: [0.1, 0.2], y: [0, Infinity] }], 2, '[{"x":[0.1,0.2],"y":[0,null]}]'],
      [[{ x: [0.1, 0.2], y: ["0", 1] }], 2, '[{"x":[0.1,0.2],"y":["0",1]}]'],
      [[{ x: [0.2, 0.2], y: [0, 1] }], 2, '[{"x":[0.2,0.2],"y":[0,1]}]'],
      [[{ x: [0.3, 0.2], y: [0, 1] }], 2, '[{"x":[0.3,0.2],"y":[0,1]}]'],
      [[{ x: [0.1, 0.2], y: [0.6, 0.5] }], 2, '[{"x":[0.1,0.2],"y":[0.6,0.5]}]'],
      [[{ x: [0.1, 0.2], y: [-0.1, 0.5] }], 2, '[{"x":[0.1,0.2],"y":[-0.1,0.5]}]'],
      [[{ x: [0.1, 0.2], y: [0.5, 1.5] }], 2, '[{"x":[0.1,0.2],"y":[0.5,1.5]}]'],
      [[{ y: [0.5] }], 2, '[{"y":[0.5]}]'],
      // Non-finite knots are rejected even where the order checks would pass.
      [[{ x: [Number.NaN], y: [0.5] }], 2, '[{"x":[null],"y":[0.5]}]'],
      [[{ x: [0.2, Infinity], y: [0.1, 0.2] }], 2, '[{"x":[0.2,null],"y":[0.1,0.2]}]'],
      // Every map is checked, not just one.
      [
        [good, { x: [0.2, 0.1], y: [0, 1] }, good],
        3,
        JSON.stringify([good, { x: [0.2, 0.1], y: [0, 1] }, good]),
      ],
      [[good, good, null], 3, JSON.stringify([good, good, null])],
    ];
    for (const [maps, nc, got] of bad) {
      expect(() => IsotonicCalibration.fromJSON({ maps }, nc, "f.json")).toThrow(
        new InputError(msg(nc === 2 ? 1 : nc, got.slice(0, 60))),
      );
    }
    const long = [{ x: Array.from({ length: 30 }, (_, i) => i), y: [] }];
    expect(() => IsotonicCalibration.fromJSON({ maps: long }, 2, "f.json")).toThrow(
      new InputError(msg(1, JSON.stringify(long).slice(0, 60))),
    );
  });
});
