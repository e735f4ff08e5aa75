/**
 * Properties of src/kernels/softmax.ts: pinned edge cases (overflow, huge gaps, infinite logits)
 * and finiteness for any finite logits; then contract tests — each case kills a mutant that
 * survived `npm run mutate` (docs/mutation.md maps them): log-softmax and log-sum-exp against a
 * naive reference, row independence of the kernels inside a larger buffer (rows of very different
 * scales), the n×K block bound, and the exact validation errors.
 */
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { InputError } from "../src/errors.js";
import {
  logSoftmax,
  logSoftmaxRowsKernel,
  logSumExpKernel,
  softmax,
  softmaxRowsKernel,
} from "../src/kernels/softmax.js";
import { fromRows, type Matrix } from "../src/linalg/matrix.js";
import { expectClose } from "./_shared/expectClose.js";

/** Logits in [−30, 30]: exp never overflows, so the unshifted (naive) formulas are a valid reference. */
const moderate = fc.double({ min: -30, max: 30, noNaN: true });
const moderateMatrix = fc
  .record({ n: fc.integer({ min: 1, max: 4 }), K: fc.integer({ min: 1, max: 6 }) })
  .chain(({ n, K }) =>
    fc.array(fc.array(moderate, { minLength: K, maxLength: K }), { minLength: n, maxLength: n }),
  );

/** Rows of very different scales: each row is moderate logits plus its own offset up to ±1e5. */
const scaledMatrix = fc
  .record({ n: fc.integer({ min: 2, max: 5 }), K: fc.integer({ min: 1, max: 6 }) })
  .chain(({ n, K }) =>
    fc.array(
      fc
        .tuple(
          fc.array(moderate, { minLength: K, maxLength: K }),
          fc.constantFrom(0, 1000, -1000, 1e5, -1e5, 745, -745),
        )
        .map(([row, c]) => row.map((v) => v + c)),
      { minLength: n, maxLength: n },
    ),
  );

const naiveLse = (row: number[]): number => Math.log(row.reduce((s, v) => s + Math.exp(v), 0));

type Kernel = (z: Float64Array, n: number, K: number, out: Float64Array) => void;
const kernels: [string, Kernel][] = [
  ["softmaxRowsKernel", softmaxRowsKernel],
  ["logSoftmaxRowsKernel", logSoftmaxRowsKernel],
];

describe("logSoftmax / logSumExp values", () => {
  test.prop([moderateMatrix])("logSoftmax = z − log Σ exp z (naive, no overflow for |z| ≤ 30)", (rows) => {
    const got = logSoftmax(fromRows(rows)).data;
    const want = rows.flatMap((row) => row.map((v) => v - naiveLse(row)));
    // |z| ≤ 30 and K ≤ 6: Σ exp ≤ 6e13, log of it ≤ 32; each side rounds the sum (K·ε relative ⇒
    // ≤ 6ε absolute after the log), the log (≤ 32ε) and the subtraction (≤ 64ε): < 1e-13 apart.
    expectClose(got, want, { atol: 1e-12 }, "logSoftmax");
  });

  test.prop([moderateMatrix])(
    "logSumExpKernel of each row = log Σ exp (naive), at any row offset",
    (rows) => {
      const K = rows[0].length;
      const z = Float64Array.from(rows.flat());
      rows.forEach((row, i) => {
        // Same error budget as above: both ≤ 32 in size, < 1e-13 apart.
        expectClose(logSumExpKernel(z, i * K, K), naiveLse(row), { atol: 1e-12 }, `lse row ${i}`);
      });
    },
  );

  it("large gaps stay exact: the maximum dominates wherever it is in the row", () => {
    const z = Float64Array.from([5, 0, 1000, -1000, 3, 2000, 7, -5]);
    // Row [0, 1000]: 1000 + log(1 + e^−1000) = 1000 exactly in doubles.
    expect(logSumExpKernel(z, 1, 2)).toBe(1000);
    expect(logSumExpKernel(z, 3, 3)).toBe(2000);
    expect(logSumExpKernel(z, 0, 1)).toBe(5);
    // The maximum first, a smaller last entry: shifting by the last one would overflow.
    expect(logSumExpKernel(Float64Array.of(1000, 0), 0, 2)).toBe(1000);
    expect(Array.from(logSoftmax(fromRows([[0, 1000]])).data)).toEqual([-1000, 0]);
    expect(Array.from(logSoftmax(fromRows([[1000, 0, -1000]])).data)).toEqual([0, -1000, -2000]);
  });

  it("a single column: softmax is 1 and logSoftmax 0 (K = 1 is valid)", () => {
    const z = fromRows([[3], [-7.5]]);
    expect(Array.from(softmax(z).data)).toEqual([1, 1]);
    expect(Array.from(logSoftmax(z).data)).toEqual([0, 0]);
  });
});

/** As scaledMatrix, with some entries replaced by ±∞ or NaN (the kernels' limits, see softmax.ts). */
const specialMatrix = scaledMatrix.chain((rows) =>
  fc
    .array(fc.constantFrom(Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN, null), {
      minLength: rows.length * rows[0].length,
      maxLength: rows.length * rows[0].length,
    })
    .map((special) => rows.map((row, i) => row.map((v, k) => special[i * row.length + k] ?? v))),
);

describe.each(kernels)("%s works row by row on an n×K block", (_name, kernel) => {
  test.prop([specialMatrix])("with ±∞ and NaN entries too, each row's result = that row alone", (rows) => {
    const n = rows.length;
    const K = rows[0].length;
    const out = new Float64Array(n * K).fill(7);
    kernel(Float64Array.from(rows.flat()), n - 1, K, out);
    expect(Array.from(out.subarray((n - 1) * K))).toEqual(new Array(K).fill(7));
    rows.slice(0, n - 1).forEach((row, i) => {
      const one = new Float64Array(K);
      kernel(Float64Array.from(row), 1, K, one);
      expect(Array.from(out.subarray(i * K, (i + 1) * K)), `row ${i}`).toEqual(Array.from(one));
    });
  });

  it("+∞ entries share the mass (softmax), whatever the next row holds", () => {
    const z = Float64Array.of(Infinity, 0, Infinity, Infinity, 1, Number.NaN, -Infinity, -Infinity, Infinity);
    const out = new Float64Array(9);
    softmaxRowsKernel(z, 3, 3, out);
    expect(Array.from(out)).toEqual([0.5, 0, 0.5, Number.NaN, Number.NaN, Number.NaN, 0, 0, 1]);
  });

  test.prop([scaledMatrix])(
    "each row's result = that row alone (bit for bit), whatever its neighbours",
    (rows) => {
      const n = rows.length;
      const K = rows[0].length;
      const out = new Float64Array(n * K);
      kernel(Float64Array.from(rows.flat()), n, K, out);
      rows.forEach((row, i) => {
        const one = new Float64Array(K);
        kernel(Float64Array.from(row), 1, K, one);
        expect(Array.from(out.subarray(i * K, (i + 1) * K)), `row ${i}`).toEqual(Array.from(one));
      });
    },
  );

  test.prop([scaledMatrix, fc.integer({ min: 0, max: 4 })])(
    "only the first n rows of larger buffers are read or written",
    (rows, nRaw) => {
      const K = rows[0].length;
      const n = Math.min(nRaw, rows.length - 1);
      const z = Float64Array.from(rows.flat());
      const out = new Float64Array(z.length).fill(7);
      kernel(z, n, K, out);
      expect(Array.from(out.subarray(n * K))).toEqual(new Array(z.length - n * K).fill(7));
      const alone = new Float64Array(n * K);
      kernel(z.slice(0, n * K), n, K, alone);
      expect(Array.from(out.subarray(0, n * K))).toEqual(Array.from(alone));
    },
  );
});

describe("validation", () => {
  const bad = fc
    .record({
      n: fc.integer({ min: 1, max: 4 }),
      K: fc.integer({ min: 1, max: 5 }),
      value: fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY),
    })
    .chain(({ n, K, value }) =>
      fc.record({
        n: fc.constant(n),
        K: fc.constant(K),
        value: fc.constant(value),
        at: fc.integer({ min: 0, max: n * K - 1 }),
      }),
    );

  test.prop([bad])(
    "a non-finite logit is an InputError naming the function, row, column and value",
    ({ n, K, value, at }) => {
      const data = new Float64Array(n * K).fill(0.5);
      data[at] = value;
      // Make every later entry non-finite too: the message must name the first one.
      for (let i = at + 1; i < data.length; i++) data[i] = Number.NaN;
      const z: Matrix = { rows: n, cols: K, data };
      const what = `row ${Math.floor(at / K)}, column ${at % K}: expected a finite logit; got ${value}`;
      for (const [f, name] of [
        [softmax, "softmax"],
        [logSoftmax, "logSoftmax"],
      ] as const) {
        expect(() => f(z)).toThrow(new InputError(`${name}: ${what}`));
        expect(() => f(z)).toThrow(InputError);
      }
    },
  );

  it("zero columns is an InputError", () => {
    const z: Matrix = { rows: 2, cols: 0, data: new Float64Array(0) };
    expect(() => softmax(z)).toThrow(
      new InputError("softmax: expected logits with at least 1 column; got 0"),
    );
    expect(() => logSoftmax(z)).toThrow(
      new InputError("logSoftmax: expected logits with at least 1 column; got 0"),
    );
    expect(() => softmax(z)).toThrow(InputError);
  });
});

describe("softmax edge cases (pinned)", () => {
  it("overflow [100,100] → [0.5,0.5]; huge gap [-1000,1000] → [0,1]", () => {
    expect(Array.from(softmax(fromRows([[100, 100]])).data)).toEqual([0.5, 0.5]);
    expect(Array.from(softmax(fromRows([[-1000, 1000]])).data)).toEqual([0, 1]);
  });
  test.prop([fc.double({ noNaN: true, noDefaultInfinity: true })])("any finite logit pair is finite", (a) => {
    const p = softmax(fromRows([[a, -a]])).data;
    expect(Number.isFinite(p[0]) && Number.isFinite(p[1])).toBe(true);
    // log p₂ = −(max(a, 0) + log(1 + e^{−|a|})): finite and ≤ 0 for every finite a (the shift keeps
    // the sum in [1, 2]), down to −1.8e308 at a = MAX_VALUE.
    const l = logSoftmax(fromRows([[a, 0]])).data[1];
    expect(Number.isFinite(l)).toBe(true);
    expect(l).toBeLessThanOrEqual(0);
  });
});

describe("softmax kernel at infinite logits (an overflowed Θ·x̃) takes the limit", () => {
  const row = (z: number[]) => {
    const out = new Float64Array(z.length);
    softmaxRowsKernel(Float64Array.from(z), 1, z.length, out);
    return Array.from(out);
  };
  it("+∞ entries share the mass; a row of −∞ is uniform; NaN stays NaN", () => {
    expect(row([Number.POSITIVE_INFINITY, 0, -5])).toEqual([1, 0, 0]);
    expect(row([Number.POSITIVE_INFINITY, 3, Number.POSITIVE_INFINITY, 0])).toEqual([0.5, 0, 0.5, 0]);
    expect(row([Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY])).toEqual([0.5, 0.5]);
    expect(row([Number.NEGATIVE_INFINITY, 2])).toEqual([0, 1]);
    expect(row([Number.POSITIVE_INFINITY, Number.NaN]).every(Number.isNaN)).toBe(true);
    expect(row([1, Number.NaN]).every(Number.isNaN)).toBe(true);
  });
});
