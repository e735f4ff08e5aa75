/**
 * Contract tests of src/linalg/matrix.ts: each case kills a mutant that survived
 * `npm run mutate` (docs/mutation.md maps them): `matrix`, `fromRows`, `toRows`, `row` and `takeRows` against the documented
 * row-major layout (element (i, j) at `data[i·cols + j]`), restated naively on nested arrays; which
 * calls share storage and which copy; the exact RangeError messages.
 */
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { fromRows, matrix, row, takeRows, toRows } from "../src/linalg/matrix.js";

/** rows×cols nested arrays of distinct small integers (so a misplaced element shows). */
const nestedArb = fc
  .record({ rows: fc.integer({ min: 0, max: 6 }), cols: fc.integer({ min: 0, max: 5 }) })
  .chain(({ rows, cols }) =>
    fc.array(fc.array(fc.integer({ min: -1000, max: 1000 }), { minLength: cols, maxLength: cols }), {
      minLength: rows,
      maxLength: rows,
    }),
  );

/** The naive flattening: element (i, j) at i·cols + j. */
const flatten = (rows: number[][]): number[] => {
  const out: number[] = [];
  for (const r of rows) for (const v of r) out.push(v);
  return out;
};

describe("matrix", () => {
  test.prop([fc.integer({ min: 0, max: 7 }), fc.integer({ min: 0, max: 7 })])(
    "without data: zeros of length rows·cols; with data: that very array",
    (r, c) => {
      const z = matrix(r, c);
      expect([z.rows, z.cols]).toEqual([r, c]);
      expect(z.data).toBeInstanceOf(Float64Array);
      expect(Array.from(z.data)).toEqual(new Array(r * c).fill(0));
      const d = Float64Array.from({ length: r * c }, (_, i) => i + 1);
      const m = matrix(r, c, d);
      expect(m.data).toBe(d);
      expect([m.rows, m.cols]).toEqual([r, c]);
    },
  );

  it("rejects sizes that are not non-negative integers, naming both", () => {
    for (const [r, c] of [
      [-1, 2],
      [2, -1],
      [1.5, 2],
      [2, 0.5],
      [Number.NaN, 1],
      [1, Number.POSITIVE_INFINITY],
    ]) {
      expect(() => matrix(r, c)).toThrow(
        new RangeError(`matrix: sizes must be non-negative integers; got ${r}×${c}`),
      );
    }
    // Zero is a size.
    expect(matrix(0, 3).data.length).toBe(0);
    expect(matrix(3, 0).data.length).toBe(0);
  });

  it("rejects data whose length is not rows·cols, with the expected and actual length", () => {
    expect(() => matrix(2, 3, new Float64Array(5))).toThrow(
      new RangeError("matrix: data length must be rows·cols, that is 6; got 5"),
    );
    expect(() => matrix(2, 3, new Float64Array(7))).toThrow(
      new RangeError("matrix: data length must be rows·cols, that is 6; got 7"),
    );
    expect(() => matrix(0, 0, new Float64Array(1))).toThrow(
      new RangeError("matrix: data length must be rows·cols, that is 0; got 1"),
    );
  });
});

describe("fromRows / toRows / row / takeRows", () => {
  test.prop([nestedArb])("fromRows lays rows out row-major; toRows and row read them back", (rows) => {
    const m = fromRows(rows);
    const cols = rows.length === 0 ? 0 : rows[0].length;
    expect([m.rows, m.cols]).toEqual([rows.length, cols]);
    expect(m.data).toBeInstanceOf(Float64Array);
    expect(Array.from(m.data)).toEqual(flatten(rows));
    expect(toRows(m)).toEqual(rows);
    for (let i = 0; i < rows.length; i++) {
      const v = row(m, i);
      expect(Array.from(v)).toEqual(rows[i]);
      // A view: writing through it changes the matrix.
      if (cols > 0) {
        v[cols - 1] = 0.5;
        expect(m.data[i * cols + cols - 1]).toBe(0.5);
      }
    }
    // toRows copies.
    const out = toRows(m);
    if (out.length > 0 && cols > 0) {
      out[0][0] = 12345;
      expect(m.data[0]).not.toBe(12345);
    }
  });

  test.prop([nestedArb.filter((r) => r.length > 0), fc.array(fc.nat(), { maxLength: 8 })])(
    "takeRows picks rows in the given order (repeats allowed) into a new array",
    (rows, picks) => {
      const m = fromRows(rows);
      const idx = picks.map((p) => p % rows.length);
      for (const indices of [idx, Int32Array.from(idx)]) {
        const t = takeRows(m, indices);
        expect([t.rows, t.cols]).toEqual([idx.length, m.cols]);
        expect(toRows(t)).toEqual(idx.map((i) => rows[i]));
        expect(Array.from(t.data)).toEqual(flatten(idx.map((i) => rows[i])));
        expect(t.data).not.toBe(m.data);
        if (t.data.length > 0) {
          t.data[0] = 0.25;
          expect(Array.from(m.data)).toEqual(flatten(rows));
        }
      }
    },
  );

  it("fromRows: no rows gives 0×0; a ragged row is named with its length", () => {
    const e = fromRows([]);
    expect([e.rows, e.cols, e.data.length]).toEqual([0, 0, 0]);
    expect(toRows(e)).toEqual([]);
    expect(() => fromRows([[1, 2], [3, 4], [5]])).toThrow(
      new RangeError("fromRows: every row must have 2 entries; row 2 has 1"),
    );
    expect(() => fromRows([[1], [2, 3]])).toThrow(
      new RangeError("fromRows: every row must have 1 entries; row 1 has 2"),
    );
    // Rows of zero columns.
    const z = fromRows([[], [], []]);
    expect([z.rows, z.cols]).toEqual([3, 0]);
    expect(toRows(z)).toEqual([[], [], []]);
    expect(Array.from(row(z, 1))).toEqual([]);
  });
});
