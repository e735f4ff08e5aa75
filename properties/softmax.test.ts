import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { fromRows } from "../src/linalg/matrix.js";
import { logSoftmax, softmax } from "../src/linalg/softmax.js";

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
