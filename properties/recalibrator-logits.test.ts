/**
 * Calibrated logits: for temperature and vector scaling, `transform` is exactly the softmax of
 * `transformLogits` (same operations, so bit for bit), and an NLL from those logits stays finite
 * where the probabilities underflow to 0.
 */
import { fc, test } from "@fast-check/vitest";
import { expect, it } from "vitest";
import { createRecalibrator } from "../src/calibration/recalibrators/registry.js";
import { nll } from "../src/calibration/scores.js";
import { softmax } from "../src/kernels/softmax.js";
import { fromRows, type Matrix } from "../src/linalg/matrix.js";

const logitRows = (K: number) =>
  fc.array(fc.array(fc.double({ min: -30, max: 30, noNaN: true }), { minLength: K, maxLength: K }), {
    minLength: 8,
    maxLength: 30,
  });

test.prop([
  fc.integer({ min: 2, max: 5 }).chain((K) => fc.tuple(fc.constant(K), logitRows(K))),
  fc.constantFrom("temperature", "vector"),
])("transform = softmax(transformLogits), bit for bit", ([K, rows], method) => {
  const Z: Matrix = fromRows(rows);
  // Labels: argmax for all rows but every third (a mistake), so the set is neither separable nor useless.
  const y = Int32Array.from(rows, (r, i) => {
    const top = r.indexOf(Math.max(...r));
    return i % 3 === 0 ? (top + 1) % K : top;
  });
  fc.pre(new Set(y).size >= 2);
  let rec: ReturnType<typeof createRecalibrator>;
  try {
    rec = createRecalibrator(method).fit(Z, y, { logits: true });
  } catch {
    fc.pre(false); // a calibration set temperature scaling rejects (e.g. separable): not this property
    return;
  }
  const P = rec.transform(Z, { logits: true });
  const L = rec.transformLogits?.(Z, { logits: true });
  expect(L).toBeDefined();
  expect(Array.from(softmax(L as Matrix).data)).toEqual(Array.from(P.data));
});

it("NLL from calibrated logits is finite where the probability of the label underflows to 0", () => {
  // Fit on moderate logits (T* near 1), then recalibrate a confidently wrong row (gap 4000).
  const Zfit = fromRows([
    [0, 2],
    [0, 1],
    [1, 0],
    [2, 0],
    [0, 3],
    [3, 0],
  ]);
  const yFit = Int32Array.of(1, 0, 0, 0, 1, 1);
  const Z = fromRows([[0, 4000]]);
  const y = Int32Array.of(0);
  const rec = createRecalibrator("temperature").fit(Zfit, yFit, { logits: true });
  const T = Number(rec.toJSON().temperature);
  expect(4000 / T).toBeGreaterThan(746); // so exp(−4000/T) underflows to 0
  const P = rec.transform(Z, { logits: true });
  const L = rec.transformLogits?.(Z, { logits: true }) as Matrix;
  expect(P.data[0]).toBe(0);
  expect(nll(P, y)).toBe(Number.POSITIVE_INFINITY);
  // log-softmax: −log p_0 = log(1 + e^{4000/T}) ≈ 4000/T, finite.
  expect(nll(L, y, { logits: true })).toBeCloseTo(4000 / T, 6);
});
