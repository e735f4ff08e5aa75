import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { logSoftmax, softmax, softmaxRowsKernel } from "../src/kernels/softmax.js";
import { fromRows } from "../src/linalg/matrix.js";

describe("softmax edge cases (pinned)", () => {
  it("overflow [100,100] → [0.5,0.5]; huge gap [-1000,1000] → [0,1]", () => {
    expect(Array.from(softmax(fromRows([[100, 100]])).data)).toEqual([0.5, 0.5]);
    expect(Array.from(softmax(fromRows([[-1000, 1000]])).data)).toEqual([0, 1]);
  });
  test.prop([fc.double({ noNaN: true, noDefaultInfinity: true })])("any finite logit pair is finite", (a) => {
    const p = softmax(fromRows([[a, -a]])).data;
    expect(Number.isFinite(p[0]) && Number.isFinite(p[1])).toBe(true);
    expect(Number.isFinite(logSoftmax(fromRows([[a, 0]])).data[1]) || a > 0).toBe(true);
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
