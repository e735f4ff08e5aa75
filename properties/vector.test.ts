/**
 * Contract tests of src/calibration/recalibrators/vector.ts: each case kills a mutant that
 * survived `npm run mutate` (docs/mutation.md maps them): the fitted (w, b) is a stationary point of the documented
 * mean NLL computed naively, every lastFit field against the naive NLL (at the identity start and
 * at the fit), the iteration cap on separable data, log p for probabilities (bit for bit the fit on
 * log p as logits), the transforms against w∘z + b and its softmax, JSON and exact messages.
 */
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import {
  applyVectorScaling,
  VectorScaling,
  vectorScaledLogits,
} from "../src/calibration/recalibrators/vector.js";
import { InputError, RunError } from "../src/errors.js";
import { fromRows, type Matrix } from "../src/linalg/matrix.js";
import { gridRows, gridValue } from "./_shared/arbitraries.js";
import { expectClose } from "./_shared/expectClose.js";
import { softmaxRow } from "./_shared/naive.js";

const m = (rows: number[][]): Matrix => fromRows(rows);

/** Naive mean NLL of softmax(w∘z + b) and its gradient (∂w, ∂b). */
function naive(Z: number[][], y: number[], w: number[], b: number[]) {
  const n = Z.length;
  const K = w.length;
  let f = 0;
  const gw = new Array<number>(K).fill(0);
  const gb = new Array<number>(K).fill(0);
  Z.forEach((z, i) => {
    const u = z.map((v, k) => w[k] * v + b[k]);
    const mx = Math.max(...u);
    const lse = mx + Math.log(u.reduce((s, v) => s + Math.exp(v - mx), 0));
    f += lse - u[y[i]];
    const q = softmaxRow(u);
    for (let k = 0; k < K; k++) {
      const r = q[k] - (k === y[i] ? 1 : 0);
      gw[k] += r * z[k];
      gb[k] += r;
    }
  });
  return { f: f / n, gw: gw.map((v) => v / n), gb: gb.map((v) => v / n) };
}

/** Overlapping classes (not separable): Gaussian-ish logits on a grid, every class present. */
const setArb = fc
  .record({ K: fc.integer({ min: 2, max: 4 }), n: fc.integer({ min: 12, max: 30 }) })
  .chain(({ K, n }) =>
    fc.record({
      Z: gridRows(n, K, gridValue(20, 8)),
      y: fc.array(fc.integer({ min: 0, max: K - 1 }), { minLength: n, maxLength: n }).map((y) => {
        // Every class twice with opposite logit signs below, so no class is separable.
        const z = y.slice();
        for (let k = 0; k < K; k++) {
          z[2 * k] = k;
          z[2 * k + 1] = k;
        }
        return z;
      }),
    }),
  );

describe("VectorScaling.fit", () => {
  test.prop([setArb], { numRuns: 15 })(
    "a stationary point of the naive mean NLL; lastFit fields equal the naive NLL",
    ({ Z, y }) => {
      const K = Z[0].length;
      const Zs = Z.map((r, i) => (i < 2 * K ? r.map((v, k) => (k === y[i] ? (i % 2 ? 2 : -2) : v)) : r));
      const v = new VectorScaling().fit(m(Zs), y, { logits: true });
      const w = v.scale as number[];
      const b = v.bias as number[];
      expect([w.length, b.length]).toEqual([K, K]);
      const at = naive(Zs, y, w, b);
      const start = naive(
        Zs,
        y,
        w.map(() => 1),
        b.map(() => 0),
      );
      const lf = v.lastFit;
      expect(lf?.converged).toBe(true);
      expect(lf?.iterations).toBeGreaterThan(0);
      expect(lf?.iterations).toBeLessThan(1000);
      // Mean NLL of ≤ 30 rows with logits ≤ 2.5·|w|: a few roundings per term, so 1e-13 relative.
      expectClose(lf?.nllBefore as number, start.f, { rtol: 1e-13 }, "nllBefore");
      expectClose(lf?.nllAfter as number, at.f, { rtol: 1e-13 }, "nllAfter");
      expect(lf?.nllAfter).toBeLessThanOrEqual(lf?.nllBefore as number);
      // The solver stops at ‖∇L‖∞ ≤ 1e-10, or at ≤ 1e-7 once no decrease of L is representable
      // (lbfgs' floating-point optimum); the naive gradient adds ~n·ε·max|z| ≈ 1e-14.
      for (const g of [...at.gw, ...at.gb]) expect(Math.abs(g)).toBeLessThanOrEqual(1.001e-7);
    },
  );

  it("separable data: a RunError with the reason; with l2 > 0 the scales grow but stay finite", () => {
    const Z = [
      [2, 0],
      [1, 0],
      [0, 1],
      [0, 3],
    ];
    const y = [0, 0, 1, 1];
    expect(() => new VectorScaling().fit(m(Z), y, { logits: true })).toThrow(
      new RunError(
        "vector: vector scaling needs a non-separable calibration set; got scales and biases that lower no label's margin over another class in any row (and raise 3 of 4), so NLL keeps decreasing as they grow — pass --l2 λ (a penalty toward the identity) or use more calibration data",
      ),
    );
    const v = new VectorScaling(undefined, undefined, { l2: 1e-6 }).fit(m(Z), y, { logits: true });
    const w = v.scale as number[];
    expect(Math.min(...w)).toBeGreaterThan(5);
    expect(v.lastFit?.separable).toBe(true);
    expect(v.lastFit?.nllAfter).toBeLessThan(1e-3);
    // The label's logit is each row's maximum, so the NLL is log1p of a small sum on both sides.
    expectClose(
      v.lastFit?.nllAfter as number,
      naive(Z, y, w, v.bias as number[]).f,
      { rtol: 1e-9 },
      "nllAfter",
    );
    expectClose(v.lastFit?.nllBefore as number, naive(Z, y, [1, 1], [0, 0]).f, { rtol: 1e-14 }, "nllBefore");
  });

  it("rows whose logits differ by more than exp's range: the NLL is shifted by the row maximum", () => {
    // Gaps of ~800 overflow exp unless each row is shifted by its largest entry (not its last one).
    // Each row twice with both labels: not separable (the Stiemke weights w = 1 balance it).
    const Z = [
      [800, 0],
      [0, 790],
      [795, 3],
      [2, 805],
      [800, 0],
      [0, 790],
      [795, 3],
      [2, 805],
    ];
    const y = [0, 1, 1, 0, 1, 0, 0, 1];
    const v = new VectorScaling().fit(m(Z), y, { logits: true });
    const start = naive(Z, y, [1, 1], [0, 0]);
    expect(Number.isFinite(start.f)).toBe(true);
    // Four terms ≈ 800 and four ≈ 0: rounding of values ≈ 800 over n = 8.
    expectClose(v.lastFit?.nllBefore as number, start.f, { rtol: 1e-14 }, "nllBefore");
    expect(Number.isFinite(v.lastFit?.nllAfter)).toBe(true);
    expect(v.lastFit?.nllAfter).toBeLessThanOrEqual(start.f);
  });

  it("the iteration cap is 1000: a non-separable set (found by a search) that needs more than 500 iterations converges", () => {
    const Z = [
      [-211.59379517235521, 38.83975569152307],
      [-17.54058306715146, 568.8358208506172],
      [2.775169692919377, -4.773084437865096],
      [-174.49693821131626, -0.553606676656613],
      [0.57052054688661, -3.6755097998733532],
      [-0.48683161950751913, 0.3730975403507289],
      [-1648.4023000532068, -215.9504197992308],
      [8.22393962972382, 0.14400525767322453],
      [-6632.369215221304, 14439.263419870951],
    ];
    const v = new VectorScaling().fit(m(Z), [0, 0, 1, 0, 0, 1, 0, 0, 0], { logits: true });
    expect(v.lastFit?.separable).toBe(false);
    expect(v.lastFit?.converged).toBe(true);
    expect(v.lastFit?.iterations).toBeGreaterThan(500);
    expect(v.lastFit?.iterations).toBeLessThan(1000);
  });

  it("probabilities are fitted on log p (bit for bit); a zero probability is an InputError", () => {
    const P = [
      [0.7, 0.2, 0.1],
      [0.1, 0.8, 0.1],
      [0.2, 0.2, 0.6],
      [0.5, 0.3, 0.2],
      [0.3, 0.3, 0.4],
      [0.6, 0.1, 0.3],
      [0.2, 0.5, 0.3],
    ];
    const y = [0, 1, 2, 1, 2, 0, 0];
    // This set is separable (class 2 by p₂ ≥ 0.4): l2 > 0 makes the fit finite.
    const a = new VectorScaling(undefined, undefined, { l2: 0.01 }).fit(m(P), y);
    const b = new VectorScaling(undefined, undefined, { l2: 0.01 }).fit(m(P.map((r) => r.map(Math.log))), y, {
      logits: true,
    });
    expect([a.scale, a.bias, a.lastFit]).toEqual([b.scale, b.bias, b.lastFit]);
    expect(Array.from(a.transform(m(P)).data)).toEqual(
      Array.from(a.transform(m(P.map((r) => r.map(Math.log))), { logits: true }).data),
    );
    const Z3 = [
      [0.5, 0.5, 0],
      [0.2, 0.3, 0.5],
    ];
    const msg = (at: string, r: number, c: number): InputError =>
      new InputError(
        `${at}: row ${r}, column ${c}: vector scaling needs probabilities > 0 (it works on log p); got 0 — pass logits instead`,
      );
    expect(() => new VectorScaling().fit(m([Z3[1], Z3[0]]), [0, 1])).toThrow(msg("vector", 1, 2));
    expect(() => new VectorScaling().fit(m([[0.4], [1]]), [0, 1], {}, { file: "v.csv" })).toThrow(
      msg("v.csv", 1, 0),
    );
    expect(() => new VectorScaling().fit(m([[0.4], [0]]), [0, 1])).toThrow(msg("vector", 1, 1));
    expect(() => a.transform(m(Z3))).toThrow(msg("vector", 0, 2));
    expect(() => a.transformLogits(m(Z3), {}, "t")).toThrow(msg("t", 0, 2));
    // Logits may be anything finite, including 0.
    expect(Array.from(a.transformLogits(m(Z3), { logits: true }).data)).toEqual(
      Array.from(vectorScaledLogits(m(Z3), a.scale as number[], a.bias as number[]).data),
    );
  });
});

describe("vector scaling transforms, JSON, messages", () => {
  test.prop([
    fc.array(fc.array(fc.double({ min: -30, max: 30, noNaN: true }), { minLength: 3, maxLength: 3 }), {
      minLength: 1,
      maxLength: 6,
    }),
    fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: 6, maxLength: 6 }),
  ])("w∘z + b exactly; its softmax within rounding; only the n×K block", (Z, wb) => {
    const w = wb.slice(0, 3);
    const b = wb.slice(3);
    const L = vectorScaledLogits(m(Z), w, b);
    expect([L.rows, L.cols]).toEqual([Z.length, 3]);
    expect(Array.from(L.data)).toEqual(Z.flatMap((z) => z.map((v, k) => w[k] * v + b[k])));
    const P = applyVectorScaling(m(Z), w, b);
    expect([P.rows, P.cols]).toEqual([Z.length, 3]);
    // softmax of values ≤ 120 in magnitude: exp of the shifted value and a divide, ≤ 1e-15 abs.
    expectClose(
      P.data,
      Z.flatMap((z) => softmaxRow(z.map((v, k) => w[k] * v + b[k]))),
      { atol: 1e-15, rtol: 1e-13 },
      "p",
    );
    const v = new VectorScaling(w, b);
    expect(Array.from(v.transformLogits(m(Z), { logits: true }).data)).toEqual(Array.from(L.data));
    expect(Array.from(v.transform(m(Z), { logits: true }).data)).toEqual(Array.from(P.data));
  });

  it("binary: a single column is (0, z) or [1 − p, p]", () => {
    const v = new VectorScaling([2, 0.5], [0.25, -1]);
    expect(Array.from(v.transformLogits(m([[3]]), { logits: true }).data)).toEqual([0.25, 0.5]);
    expect(Array.from(v.transformLogits(m([[0.25]])).data)).toEqual([
      2 * Math.log(0.75) + 0.25,
      0.5 * Math.log(0.25) - 1,
    ]);
  });

  it("JSON and unfitted / wrong-shape messages", () => {
    const v = new VectorScaling([1.5, 0.5, 2], [0, -1, 1]);
    expect(v.toJSON()).toEqual({
      format: "softcal-recalibrator",
      version: 1,
      method: "vector",
      classes: 3,
      scale: [1.5, 0.5, 2],
      bias: [0, -1, 1],
    });
    const back = VectorScaling.fromJSON({ scale: [1, 2], bias: [3, 4] }, 2, "j");
    expect([back.scale, back.bias]).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(() => VectorScaling.fromJSON({ scale: [1, 2], bias: [3, 4] }, 3, "j")).toThrow(
      new InputError('j: expected "scale" to have 3 entries; got 2'),
    );
    expect(() => VectorScaling.fromJSON({ scale: [1, 2], bias: [3] }, 2, "j")).toThrow(
      new InputError('j: expected "bias" to have 2 entries; got 1'),
    );
    const none = new RangeError("vector: call fit() before transform() or toJSON()");
    const Z = m([[1, 2]]);
    for (const r of [new VectorScaling(), new VectorScaling([1, 1]), new VectorScaling(undefined, [0, 0])]) {
      expect(() => r.toJSON()).toThrow(none);
      expect(() => r.transform(Z, { logits: true })).toThrow(none);
      expect(() => r.transformLogits(Z, { logits: true })).toThrow(none);
    }
    expect(() => v.transform(Z, { logits: true })).toThrow(
      new InputError("vector: expected 3 columns (one per class); got 2"),
    );
    expect(() => v.transformLogits(Z, { logits: true })).toThrow(
      new InputError("vector: expected 3 columns (one per class); got 2"),
    );
    expect(() => new VectorScaling().fit(m([[0.5, 0.5]]), [1])).toThrow(
      new InputError(
        "vector: expected at least two classes among the calibration labels; got only class 1 — use a larger or stratified calibration split",
      ),
    );
  });
});
