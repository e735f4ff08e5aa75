/**
 * Contract tests of src/model/predict.ts: each case kills a mutant that survived
 * `npm run mutate` (docs/mutation.md maps them): logits, probabilities (softmax and one-vs-rest normalization) and labels
 * against naive formulas, only the n×K block written, ties → lowest index, the shape check's and
 * the ∞ − ∞ error's exact messages, and OvR finite where every logit is very negative.
 */
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { RunError } from "../src/errors.js";
import { logitsKernel } from "../src/kernels/logits.js";
import { fromRows, type Matrix } from "../src/linalg/matrix.js";
import type { LinearModel } from "../src/model/fit.js";
import { argmaxRows, decisionFunction, predictLabels, predictProba } from "../src/model/predict.js";
import { gridValue } from "./_shared/arbitraries.js";
import { expectClose } from "./_shared/expectClose.js";

const setArb = fc
  .record({
    n: fc.integer({ min: 1, max: 6 }),
    d: fc.integer({ min: 0, max: 4 }),
    K: fc.integer({ min: 1, max: 4 }),
  })
  .chain(({ n, d, K }) =>
    fc.record({
      n: fc.constant(n),
      d: fc.constant(d),
      K: fc.constant(K),
      X: fc.array(gridValue(4, 2), { minLength: n * d, maxLength: n * d }),
      theta: fc.array(gridValue(6, 4), { minLength: K * (d + 1), maxLength: K * (d + 1) }),
      kind: fc.constantFrom("softmax" as const, "ovr" as const),
    }),
  );

type Case = { n: number; d: number; K: number; X: number[]; theta: number[]; kind: "softmax" | "ovr" };

const model = (s: Case): LinearModel => ({
  model: s.kind,
  nClasses: s.K,
  nFeatures: s.d,
  theta: Float64Array.from(s.theta),
});
const Xm = (s: Case): Matrix => ({ rows: s.n, cols: s.d, data: Float64Array.from(s.X) });

function naiveLogits(s: Case): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < s.n; i++) {
    const row: number[] = [];
    for (let k = 0; k < s.K; k++) {
      let z = s.theta[k * (s.d + 1)];
      for (let j = 0; j < s.d; j++) z += s.theta[k * (s.d + 1) + 1 + j] * s.X[i * s.d + j];
      row.push(z);
    }
    out.push(row);
  }
  return out;
}

describe("predict", () => {
  test.prop([setArb])("logits, probabilities and labels equal the naive formulas", (s) => {
    const Z = naiveLogits(s);
    const dz = decisionFunction(model(s), Xm(s));
    expect([dz.rows, dz.cols]).toEqual([s.n, s.K]);
    // Exact: the same sums in the same order.
    expect(Array.from(dz.data)).toEqual(Z.flat());
    const P = Z.map((r) => {
      const q = s.kind === "softmax" ? r.map((z) => Math.exp(z)) : r.map((z) => 1 / (1 + Math.exp(-z)));
      const t = q.reduce((a, b) => a + b, 0);
      return q.map((v) => v / t);
    });
    const p = predictProba(model(s), Xm(s));
    expect([p.rows, p.cols]).toEqual([s.n, s.K]);
    // Tolerance: logits ≤ 13 in size; exp/log1p/divide, a few roundings relative to each entry.
    expectClose(p.data, P.flat(), { rtol: 1e-13, atol: 1e-16 }, "probabilities");
    const labels = predictLabels(model(s), Xm(s));
    const pd = Array.from(p.data);
    const want = Array.from({ length: s.n }, (_, i) => {
      const r = pd.slice(i * s.K, (i + 1) * s.K);
      return r.indexOf(Math.max(...r));
    });
    expect(Array.from(labels)).toEqual(want);
  });

  it("logitsKernel writes only the n×K block and overwrites what it held", () => {
    const out = Float64Array.from([7, 7, 7, 7, 7, 7, 7]);
    // n = 2, d = 1, K = 3: θ rows (bias, w) = (1, 2), (0, −1), (3, 0.5).
    logitsKernel(Float64Array.of(1, -2, 99), 2, 1, Float64Array.of(1, 2, 0, -1, 3, 0.5, 99, 99), 3, out);
    expect(Array.from(out)).toEqual([3, -1, 3.5, -3, 2, 2, 7]);
  });

  it("argmaxRows: ties go to the lowest index; every row and column is read", () => {
    const P = fromRows([
      [0.2, 0.4, 0.4],
      [0.5, 0.2, 0.3],
      [0.1, 0.2, 0.7],
      [0.3, 0.3, 0.4],
    ]);
    expect(Array.from(argmaxRows(P))).toEqual([1, 0, 2, 2]);
    expect(Array.from(argmaxRows(fromRows([[1], [2]])))).toEqual([0, 0]);
  });

  it("OvR stays normalized where every σ underflows (logits ≈ −800)", () => {
    const m: LinearModel = {
      model: "ovr",
      nClasses: 2,
      nFeatures: 1,
      theta: Float64Array.of(-800, 0, -801, 0),
    };
    const p = predictProba(m, fromRows([[1]]));
    // σ(−800)/σ(−801) = e: p = (e, 1)/(e + 1).
    expectClose(p.data, [Math.E / (Math.E + 1), 1 / (Math.E + 1)], { rtol: 1e-14 }, "ovr tail");
    const big: LinearModel = {
      model: "ovr",
      nClasses: 2,
      nFeatures: 1,
      theta: Float64Array.of(800, 0, 0, 0),
    };
    // σ(800) = 1, σ(0) = 1/2: p = (2/3, 1/3).
    expectClose(predictProba(big, fromRows([[1]])).data, [2 / 3, 1 / 3], { rtol: 1e-15 }, "ovr positive");
  });

  it("+∞ logits are one-hot; ∞ − ∞ names the row and class; wrong shapes name the function", () => {
    const m: LinearModel = {
      model: "softmax",
      nClasses: 2,
      nFeatures: 2,
      theta: Float64Array.of(0, 1e308, 1e308, 0, 0, 0),
    };
    expect(Array.from(predictProba(m, fromRows([[1e308, 0]])).data)).toEqual([1, 0]);
    expect(() =>
      predictProba(
        m,
        fromRows([
          [0, 0],
          [1e308, -1e308],
        ]),
      ),
    ).toThrowError(
      new RunError(
        "predict: row 1: the logit of class 0 is ∞ − ∞ (Θ·x̃ overflows); the model's weights are too large for these features",
      ),
    );
    const m3: LinearModel = {
      model: "ovr",
      nClasses: 3,
      nFeatures: 2,
      theta: Float64Array.of(0, 0, 0, 0, 0, 0, 0, 1e308, 1e308),
    };
    expect(() => predictProba(m3, fromRows([[1e308, -1e308]]))).toThrowError(
      /row 0: the logit of class 2 is/,
    );
    expect(() => decisionFunction(m, fromRows([[1, 2, 3]]))).toThrowError(
      new RangeError(
        "decisionFunction: X must have the model's 2 feature columns, that is (n, 2); got (1, 3)",
      ),
    );
    expect(() => predictLabels(m, fromRows([[1]]))).toThrowError(/^decisionFunction: .*got \(1, 1\)$/);
  });
});
