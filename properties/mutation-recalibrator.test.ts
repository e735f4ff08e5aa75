/**
 * Properties of src/calibration/recalibrators/recalibrator.ts added to kill mutants that survived
 * `npm run mutate` (docs/mutation.md): the shared checks' exact messages (calibration set with a
 * single class, transform input), the JSON header and field readers, row renormalization against
 * its formula (all-zero rows uniform), and the method list.
 */
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import {
  jsonNumber,
  jsonNumbers,
  notFitted,
  RECALIBRATION_METHODS,
  RECALIBRATOR_FORMAT,
  RECALIBRATOR_VERSION,
  recalibratorJson,
  renormalizeRows,
  validateCalibrationSet,
  validateTransformInput,
} from "../src/calibration/recalibrators/recalibrator.js";
import { InputError } from "../src/errors.js";
import { fromRows, type Matrix } from "../src/linalg/matrix.js";

const m = (rows: number[][]): Matrix => fromRows(rows);
const single = (c: number) =>
  `expected at least two classes among the calibration labels; got only class ${c} — use a larger or stratified calibration split`;

describe("validateCalibrationSet", () => {
  test.prop([
    fc.integer({ min: 1, max: 12 }),
    fc.integer({ min: 0, max: 2 }),
    fc.integer({ min: 0, max: 11 }),
  ])("one class fails with its label; a second class anywhere passes", (n, c, at) => {
    const P = m(Array.from({ length: n }, () => [0.2, 0.3, 0.5]));
    const y = new Array<number>(n).fill(c);
    expect(() => validateCalibrationSet(P, y, {}, "cal")).toThrow(new InputError(`cal: ${single(c)}`));
    expect(() => validateCalibrationSet(P, y, {}, { file: "v.csv", firstLine: 9 })).toThrow(
      new InputError(`v.csv: ${single(c)}`),
    );
    if (n >= 2) {
      const z = y.slice();
      z[1 + (at % (n - 1))] = (c + 1) % 3;
      const r = validateCalibrationSet(P, z, {}, "cal");
      expect(r.K).toBe(3);
      expect(r.F).toBe(P);
    }
  });

  it("validates first (labels, values) and expands a binary column", () => {
    expect(() => validateCalibrationSet(m([[0.5, 0.5]]), [2], {}, "cal")).toThrow(
      new InputError("cal: row 0: expected a label in 0..1; got 2"),
    );
    const r = validateCalibrationSet(m([[1.5], [-2]]), [1, 0], { logits: true }, "cal");
    expect([r.K, Array.from(r.F.data)]).toEqual([2, [0, 1.5, 0, -2]]);
    const q = validateCalibrationSet(m([[0.25], [0.5]]), [1, 0], {}, "cal");
    expect(Array.from(q.F.data)).toEqual([0.75, 0.25, 0.5, 0.5]);
  });
});

describe("validateTransformInput", () => {
  it("checks the class count, rows and values; expands binary columns", () => {
    expect(() => validateTransformInput(m([[0.2, 0.8]]), 3, {}, "t")).toThrow(
      new InputError("t: expected 3 columns (one per class); got 2"),
    );
    expect(() => validateTransformInput({ rows: 0, cols: 2, data: new Float64Array(0) }, 2, {}, "t")).toThrow(
      new InputError("t: expected at least 1 row; got 0"),
    );
    expect(() => validateTransformInput(m([[0.2, 0.9]]), 2, {}, "t")).toThrow(InputError);
    expect(() => validateTransformInput(m([[0.2, NaN]]), 2, { logits: true }, "t")).toThrow(
      new InputError("t: row 0, column 1: expected a finite logit; got NaN"),
    );
    expect(Array.from(validateTransformInput(m([[3], [-1]]), 2, { logits: true }, "t").data)).toEqual([
      0, 3, 0, -1,
    ]);
    expect(Array.from(validateTransformInput(m([[0.25]]), 2, {}, "t").data)).toEqual([0.75, 0.25]);
    // Logits are not probabilities: 3 is fine as a logit only.
    expect(() => validateTransformInput(m([[3]]), 2, {}, "t")).toThrow(
      new InputError("t: row 0, column 0: expected a probability in [0, 1]; got 3"),
    );
    const W = m([[0.2, 0.8]]);
    expect(validateTransformInput(W, 2, {}, "t")).toBe(W);
    const Z = m([[7, 8, 9]]);
    expect(validateTransformInput(Z, 3, { logits: true }, "t")).toBe(Z);
  });
});

describe("JSON header and readers", () => {
  it("header, methods, notFitted", () => {
    expect(RECALIBRATOR_FORMAT).toBe("softcal-recalibrator");
    expect(RECALIBRATOR_VERSION).toBe(1);
    expect(RECALIBRATION_METHODS).toEqual([
      "temperature",
      "vector",
      "matrix",
      "dirichlet",
      "histogram",
      "isotonic",
      "platt",
      "beta",
    ]);
    expect(recalibratorJson("vector", 4, { scale: [1], bias: [2] })).toEqual({
      format: "softcal-recalibrator",
      version: 1,
      method: "vector",
      classes: 4,
      scale: [1],
      bias: [2],
    });
    expect(Object.keys(recalibratorJson("platt", 2, { a: 1 }))).toEqual([
      "format",
      "version",
      "method",
      "classes",
      "a",
    ]);
    const e = notFitted("vector");
    expect(e).toBeInstanceOf(RangeError);
    expect(e.message).toBe("vector: call fit() before transform() or toJSON()");
  });

  it("jsonNumber: finite numbers only", () => {
    expect(jsonNumber({ t: -2.5 }, "t", "w")).toBe(-2.5);
    expect(jsonNumber({ t: 0 }, "t", "w")).toBe(0);
    for (const v of [undefined, null, "1", Infinity, NaN, [1], true]) {
      expect(() => jsonNumber({ t: v }, "t", "w")).toThrow(
        new InputError(`w: expected "t" to be a finite number; got ${JSON.stringify(v)}`),
      );
    }
  });

  it("jsonNumbers: arrays of finite numbers, of the given length", () => {
    expect(jsonNumbers({ s: [1, -2, 0] }, "s", "w")).toEqual([1, -2, 0]);
    expect(jsonNumbers({ s: [] }, "s", "w")).toEqual([]);
    expect(jsonNumbers({ s: [1, 2] }, "s", "w", 2)).toEqual([1, 2]);
    const bad = (v: unknown): InputError =>
      new InputError(
        `w: expected "s" to be an array of finite numbers; got ${JSON.stringify(v)?.slice(0, 60)}`,
      );
    for (const v of [undefined, 3, "12", [1, "2"], [1, null], [Infinity], [1, NaN], { 0: 1, length: 1 }]) {
      expect(() => jsonNumbers({ s: v }, "s", "w")).toThrow(bad(v));
    }
    const long = Array.from({ length: 40 }, (_, i) => i + 0.5).concat([NaN]);
    expect(() => jsonNumbers({ s: long }, "s", "w")).toThrow(bad(long));
    expect(() => jsonNumbers({ s: [1, 2, 3] }, "s", "w", 2)).toThrow(
      new InputError('w: expected "s" to have 2 entries; got 3'),
    );
    expect(() => jsonNumbers({ s: [1] }, "s", "w", 2)).toThrow(
      new InputError('w: expected "s" to have 2 entries; got 1'),
    );
  });
});

describe("renormalizeRows", () => {
  test.prop([
    fc.integer({ min: 1, max: 5 }),
    fc.array(fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 5, maxLength: 5 }), {
      minLength: 1,
      maxLength: 6,
    }),
  ])("q_ik / Σ_j q_ij per row, all-zero rows uniform 1/K, only the n×K block", (K, rowsRaw) => {
    const rows = rowsRaw.map((r) => r.slice(0, K).map((v) => v / 4));
    const n = rows.length;
    const q = Float64Array.from([...rows.flat(), 7, 7]);
    renormalizeRows(q, n, K);
    const want = rows.flatMap((r) => {
      const s = r.reduce((a, b) => a + b, 0);
      return s > 0 ? r.map((v) => v / s) : r.map(() => 1 / K);
    });
    expect(Array.from(q)).toEqual([...want, 7, 7]);
  });
});
