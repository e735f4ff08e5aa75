/**
 * Contract tests of src/calibration/validate.ts: each case kills a mutant that survived
 * `npm run mutate` (docs/mutation.md maps them): every check's exact one-line message (plain label and file source, with the
 * defaults of `firstLine`, `columns` and `names`), the first bad row and column named, the
 * boundaries of each accepted range ([0, 1], |Σp − 1| ≤ 1e-6, labels 0..K−1, bins ≥ 1), the order
 * of the checks in validatePredictions and the binary expansions bit for bit.
 */
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import {
  classCount,
  expandBinaryLogits,
  expandBinaryProbabilities,
  ROW_SUM_TOLERANCE,
  validateBins,
  validateChoice,
  validateLabels,
  validateLogits,
  validateNonEmpty,
  validatePredictions,
  validateProbabilities,
} from "../src/calibration/validate.js";
import { InputError } from "../src/errors.js";
import { fromRows, type Matrix } from "../src/linalg/matrix.js";

const m = (rows: number[][]): Matrix => fromRows(rows);
const empty = (n: number): Matrix => ({ rows: n, cols: 0, data: new Float64Array(0) });

/** The message of the InputError `f` throws (fails if it throws nothing or something else). */
function message(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return (e as Error).message;
  }
  return expect.fail("expected an InputError");
}

describe("validateProbabilities", () => {
  it("names the first bad entry (row, column) with a plain label", () => {
    expect(
      message(() =>
        validateProbabilities(
          m([
            [0.5, 0.5],
            [0.2, 1.5],
            [-1, 2],
          ]),
          "ev",
        ),
      ),
    ).toBe("ev: row 1, column 1: expected a probability in [0, 1]; got 1.5");
    expect(message(() => validateProbabilities(m([[NaN, 1]]), "ev"))).toBe(
      "ev: row 0, column 0: expected a probability in [0, 1]; got NaN",
    );
    expect(message(() => validateProbabilities(m([[1, -1e-300]]), "ev"))).toBe(
      "ev: row 0, column 1: expected a probability in [0, 1]; got -1e-300",
    );
    // An entry is checked before its row's sum.
    expect(message(() => validateProbabilities(m([[1.25, -0.25]]), "ev"))).toBe(
      "ev: row 0, column 0: expected a probability in [0, 1]; got 1.25",
    );
  });

  it("names the first row whose sum is off by more than 1e-6, without a column", () => {
    expect(ROW_SUM_TOLERANCE).toBe(1e-6);
    expect(
      message(() =>
        validateProbabilities(
          m([
            [0.5, 0.5],
            [0.3, 0.6],
            [0, 0],
          ]),
          "ev",
        ),
      ),
    ).toBe(
      `ev: row 1: expected probabilities summing to 1 (within 0.000001); got sum ${0.3 + 0.6} (rows are never renormalized)`,
    );
    expect(message(() => validateProbabilities(m([[0.6, 0.6]]), "ev"))).toContain("got sum 1.2 (");
  });

  it("accepts [0, 1] closed, −0, sums within 1e-6 on either side, one column without a sum", () => {
    validateProbabilities(
      m([
        [0, 1],
        [1, 0],
        [-0, 1],
        [0.5, 0.5],
      ]),
      "ev",
    );
    validateProbabilities(
      m([
        [0.5, 0.5 + 0.9e-6],
        [0.5, 0.5 - 0.9e-6],
      ]),
      "ev",
    );
    validateProbabilities(m([[0.3], [0], [1]]), "ev");
    for (const d of [1.1e-6, -1.1e-6]) {
      expect(message(() => validateProbabilities(m([[0.5, 0.5 + d]]), "ev"))).toMatch(
        /^ev: row 0: expected probabilities summing/,
      );
    }
    validateProbabilities({ rows: 0, cols: 2, data: new Float64Array(0) }, "ev");
  });

  it("needs at least one column", () => {
    expect(message(() => validateProbabilities(empty(3), "ev"))).toBe(
      "ev: expected at least 1 probability column; got 0",
    );
    expect(message(() => validateProbabilities(empty(3), { file: "p.csv" }))).toBe(
      "p.csv: expected at least 1 probability column; got 0",
    );
  });

  it("locates errors in a file: line firstLine + i (default i + 2), given or default column, column name", () => {
    const P = m([
      [0.5, 0.5],
      [0.5, 0.5],
      [0.5, 2],
    ]);
    expect(message(() => validateProbabilities(P, { file: "p.csv" }))).toBe(
      "p.csv:4:2: expected a probability in [0, 1]; got 2",
    );
    expect(message(() => validateProbabilities(P, { file: "p.csv", firstLine: 10, columns: [5, 7] }))).toBe(
      "p.csv:12:7: expected a probability in [0, 1]; got 2",
    );
    expect(message(() => validateProbabilities(P, { file: "p.csv", names: ["p_a", "p_b"] }))).toBe(
      'p.csv:4:2: expected a probability in [0, 1]; got 2 (column "p_b")',
    );
    // A name list without this column's name: no name; a column list without it: k + 1.
    expect(message(() => validateProbabilities(P, { file: "p.csv", names: ["p_a"], columns: [9] }))).toBe(
      "p.csv:4:2: expected a probability in [0, 1]; got 2",
    );
    const e = (() => {
      try {
        validateProbabilities(m([[0.5, 0.4]]), { file: "p.csv", names: ["a", "b"], firstLine: 3 });
      } catch (err) {
        return err as InputError;
      }
      return undefined;
    })();
    expect(e?.message).toBe(
      "p.csv:3: expected probabilities summing to 1 (within 0.000001); got sum 0.9 (rows are never renormalized)",
    );
    expect(e?.location).toEqual({ file: "p.csv", line: 3, column: undefined });
  });
});

describe("validateLogits", () => {
  it("names the first non-finite logit; accepts any finite value; needs a column", () => {
    validateLogits(
      m([
        [-1e308, 1e308],
        [0, -0],
      ]),
      "z",
    );
    expect(
      message(() =>
        validateLogits(
          m([
            [0, 1],
            [2, Infinity],
            [NaN, 0],
          ]),
          "z",
        ),
      ),
    ).toBe("z: row 1, column 1: expected a finite logit; got Infinity");
    expect(message(() => validateLogits(m([[-Infinity, 1]]), "z"))).toBe(
      "z: row 0, column 0: expected a finite logit; got -Infinity",
    );
    expect(message(() => validateLogits(m([[1], [NaN]]), { file: "z.csv", firstLine: 7 }))).toBe(
      "z.csv:8:1: expected a finite logit; got NaN",
    );
    expect(message(() => validateLogits(empty(2), "z"))).toBe("z: expected at least 1 logit column; got 0");
  });
});

describe("classCount, validateLabels, validateBins, validateChoice, validateNonEmpty", () => {
  it("classCount: one column means 2 classes; a mismatch names what was expected", () => {
    expect(classCount(m([[0.5]]), "c")).toBe(2);
    expect(classCount(m([[0.5]]), "c", 2)).toBe(2);
    expect(classCount(m([[0.5, 0.5]]), "c", 2)).toBe(2);
    expect(classCount(m([[0.2, 0.3, 0.5]]), "c")).toBe(3);
    expect(message(() => classCount(m([[0.2, 0.3, 0.5]]), "c", 2))).toBe(
      "c: expected 1 or 2 columns (binary); got 3",
    );
    expect(message(() => classCount(m([[0.5]]), "c", 3))).toBe(
      "c: expected 3 columns (one per class); got 1",
    );
    expect(message(() => classCount(m([[0.5, 0.5]]), { file: "s.csv" }, 4))).toBe(
      "s.csv: expected 4 columns (one per class); got 2",
    );
    expect(message(() => classCount(empty(1), "c"))).toBe("c: expected at least 1 score column; got 0");
    expect(message(() => classCount(empty(1), "c", 0))).toBe("c: expected at least 1 score column; got 0");
  });

  test.prop([fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 8 }), fc.integer({ min: 0, max: 7 })])(
    "validateLabels: integers 0..K−1 pass; the first bad one is named",
    (K, n, at) => {
      const i = at % n;
      const y = Array.from({ length: n }, (_, j) => j % K);
      validateLabels(y, n, K, "l");
      validateLabels(Int32Array.from(y), n, K, "l");
      for (const bad of [K, -1, 0.5, NaN, K + 0.5]) {
        const z = y.slice();
        z[i] = bad;
        if (i + 1 < n) z[i + 1] = -7;
        expect(message(() => validateLabels(z, n, K, "l"))).toBe(
          `l: row ${i}: expected a label in 0..${K - 1}; got ${bad}`,
        );
      }
    },
  );

  it("validateLabels: one label per row; file sources name the line", () => {
    expect(message(() => validateLabels([0, 1], 3, 2, "l"))).toBe(
      "l: expected 3 labels (one per row); got 2",
    );
    expect(message(() => validateLabels([0, 1, 0, 1], 3, 2, "l"))).toBe(
      "l: expected 3 labels (one per row); got 4",
    );
    expect(message(() => validateLabels([0, 2], 2, 2, { file: "y.csv" }))).toBe(
      "y.csv:3: expected a label in 0..1; got 2",
    );
  });

  it("validateBins: integers ≥ 1", () => {
    validateBins(1);
    validateBins(15, "--bins");
    for (const b of [0, -1, 2.5, NaN, Infinity]) {
      expect(message(() => validateBins(b))).toBe(`bins: expected an integer ≥ 1; got ${b}`);
    }
    expect(message(() => validateBins(0, "--bins"))).toBe("--bins: expected an integer ≥ 1; got 0");
  });

  it("validateChoice: returns the value or lists the allowed ones", () => {
    expect(validateChoice("b", ["a", "b"], "opt")).toBe("b");
    expect(message(() => validateChoice("c", ["a", "b"], "opt"))).toBe('opt: expected one of a, b; got "c"');
    expect(message(() => validateChoice("", ["a"], "opt"))).toBe('opt: expected one of a; got ""');
  });

  it("validateNonEmpty: at least one row", () => {
    validateNonEmpty(1, "e");
    expect(message(() => validateNonEmpty(0, "e"))).toBe("e: expected at least 1 row; got 0");
    expect(message(() => validateNonEmpty(0, { file: "e.csv", firstLine: 5 }))).toBe(
      "e.csv: expected at least 1 row; got 0",
    );
  });
});

describe("expansions and validatePredictions", () => {
  test.prop([fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 8 })])(
    "a single column p becomes [1 − p, p] and z becomes (0, z); wider matrices are returned as is",
    (p) => {
      const P = m(p.map((v) => [v]));
      const E = expandBinaryProbabilities(P);
      expect([E.rows, E.cols]).toEqual([p.length, 2]);
      expect(Array.from(E.data)).toEqual(p.flatMap((v) => [1 - v, v]));
      const L = expandBinaryLogits(P);
      expect([L.rows, L.cols]).toEqual([p.length, 2]);
      expect(Array.from(L.data)).toEqual(p.flatMap((v) => [0, v]));
      const W = m(p.map((v) => [1 - v, v]));
      expect(expandBinaryProbabilities(W)).toBe(W);
      expect(expandBinaryLogits(W)).toBe(W);
    },
  );

  it("checks the column count, then rows, then values, then labels; returns the full block and K", () => {
    // Column count first (the values and labels are bad too).
    expect(message(() => validatePredictions(m([[2, 2, 2]]), [5], { classes: 2 }, "v"))).toBe(
      "v: expected 1 or 2 columns (binary); got 3",
    );
    expect(
      message(() => validatePredictions({ rows: 0, cols: 2, data: new Float64Array(0) }, [], {}, "v")),
    ).toBe("v: expected at least 1 row; got 0");
    expect(message(() => validatePredictions(m([[2, 0]]), [5], {}, "v"))).toBe(
      "v: row 0, column 0: expected a probability in [0, 1]; got 2",
    );
    expect(message(() => validatePredictions(m([[0.5, 0.5]]), [2], {}, "v"))).toBe(
      "v: row 0: expected a label in 0..1; got 2",
    );
    // Logits: any finite value, no sum; non-finite ones fail.
    const r = validatePredictions(m([[2], [-3]]), [1, 0], { logits: true }, "v");
    expect(r.K).toBe(2);
    expect(Array.from(r.S.data)).toEqual([0, 2, 0, -3]);
    expect(message(() => validatePredictions(m([[2, NaN]]), [1], { logits: true }, "v"))).toBe(
      "v: row 0, column 1: expected a finite logit; got NaN",
    );
    const q = validatePredictions(m([[0.25]]), [1], {}, "v");
    expect(q.K).toBe(2);
    expect(Array.from(q.S.data)).toEqual([0.75, 0.25]);
    const P = m([[0.2, 0.3, 0.5]]);
    const w = validatePredictions(P, [2], { classes: 3 }, "v");
    expect(w.K).toBe(3);
    expect(w.S).toBe(P);
    const Z = m([[7, -9, 1e6]]);
    expect(validatePredictions(Z, [0], { logits: true }, "v").S).toBe(Z);
  });
});
