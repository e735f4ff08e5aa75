/**
 * Contract tests of src/calibration/scores.ts: each case kills a mutant that survived
 * `npm run mutate` (docs/mutation.md maps them): argmax (ties → lowest index, only the row's K entries read), accuracy, NLL
 * and Brier against naive formulas on probabilities, logits and single binary columns, and the
 * binned Murphy decomposition restated with its own bin assignment (probabilities kept away from bin
 * edges so that the assignment is unambiguous).
 */
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { accuracy, brier, brierDecomposition, nll, toProbabilities } from "../src/calibration/scores.js";
import { argmaxKernel } from "../src/kernels/argmax.js";
import { fromRows, type Matrix } from "../src/linalg/matrix.js";
import { expectClose } from "./_shared/expectClose.js";
import { softmaxRow } from "./_shared/naive.js";

const m = (rows: number[][]): Matrix => fromRows(rows);

/** n×K logits on a coarse grid (many ties), labels. */
const logitSetArb = fc
  .record({ n: fc.integer({ min: 1, max: 10 }), K: fc.integer({ min: 2, max: 5 }) })
  .chain(({ n, K }) =>
    fc.record({
      rows: fc.array(fc.array(fc.integer({ min: -3, max: 3 }), { minLength: K, maxLength: K }), {
        minLength: n,
        maxLength: n,
      }),
      y: fc.array(fc.integer({ min: 0, max: K - 1 }), { minLength: n, maxLength: n }),
    }),
  );

const naiveArgmax = (r: number[]): number => r.indexOf(Math.max(...r));

describe("argmax, accuracy, NLL, Brier", () => {
  test.prop([logitSetArb])(
    "argmaxKernel: first maximum of the row at offset o, K entries only",
    ({ rows }) => {
      const K = rows[0].length;
      // Padding before and after with a value larger than every logit: must not be read.
      const d = Float64Array.from([99, ...rows.flat(), 99]);
      for (let i = 0; i < rows.length; i++) expect(argmaxKernel(d, 1 + i * K, K)).toBe(naiveArgmax(rows[i]));
    },
  );

  // Tolerance: a mean of n terms each a few roundings (exp, log, divide) of values ≤ 10.
  test.prop([logitSetArb])("on logits and on their softmax equal the naive formulas", ({ rows, y }) => {
    const n = rows.length;
    const P = rows.map(softmaxRow);
    const acc = rows.filter((r, i) => naiveArgmax(r) === y[i]).length / n;
    expect(accuracy(m(rows), y, { logits: true })).toBe(acc);
    const accP = P.filter((r, i) => naiveArgmax(r) === y[i]).length / n;
    expect(accuracy(m(P), y)).toBe(accP);
    const nllWant =
      rows.reduce((a, r, i) => a + Math.log(r.reduce((s, z) => s + Math.exp(z), 0)) - r[y[i]], 0) / n;
    expectClose(nll(m(rows), y, { logits: true }), nllWant, { rtol: 1e-13, atol: 1e-15 }, "nll(logits)");
    expectClose(nll(m(P), y), P.reduce((a, r, i) => a - Math.log(r[y[i]]), 0) / n, { rtol: 1e-13 }, "nll(p)");
    const brierWant =
      P.reduce((a, r, i) => a + r.reduce((s, p, k) => s + (p - (k === y[i] ? 1 : 0)) ** 2, 0), 0) / n;
    expectClose(brier(m(P), y), brierWant, { rtol: 1e-13, atol: 1e-16 }, "brier(p)");
    expectClose(
      brier(m(rows), y, { logits: true }),
      brierWant,
      { rtol: 1e-12, atol: 1e-15 },
      "brier(logits)",
    );
    const T = toProbabilities(m(rows), true);
    expect([T.rows, T.cols]).toEqual([n, rows[0].length]);
    expectClose(T.data, P.flat(), { rtol: 1e-14, atol: 1e-17 }, "toProbabilities");
    const same = m(P);
    expect(toProbabilities(same, false)).toBe(same);
  });

  it("a single column is binary: probabilities [1 − p, p], logits (0, z); ties predict class 0", () => {
    expect(accuracy(m([[0.5], [0.9], [0.2]]), [0, 1, 1])).toBe(2 / 3);
    expect(accuracy(m([[0], [3], [-1]]), [0, 1, 1], { logits: true })).toBe(2 / 3);
    expect(accuracy(m([[0.5, 0.5]]), [1])).toBe(0);
    expectClose(
      nll(m([[0.25], [0.5]]), [1, 0]),
      (-Math.log(0.25) - Math.log(0.5)) / 2,
      { rtol: 1e-15 },
      "nll",
    );
    expectClose(
      nll(m([[2], [0]]), [0, 1], { logits: true }),
      (Math.log(1 + Math.exp(2)) + Math.log(2)) / 2,
      { rtol: 1e-15 },
      "nll logits",
    );
    expect(nll(m([[0], [0.5]]), [1, 1])).toBe(Infinity);
    expectClose(brier(m([[0.2]]), [1]), 2 * 0.8 ** 2, { rtol: 1e-15 }, "brier binary");
    expect(brier(m([[0.2, 0.8]]), [1])).toBe(0.07999999999999999);
  });

  it("names the default function in input errors", () => {
    const bad = m([[0.5, 0.6]]);
    for (const [f, name] of [
      [accuracy, "accuracy"],
      [nll, "nll"],
      [brier, "brier"],
      [brierDecomposition, "brierDecomposition"],
    ] as const) {
      expect(() => f(bad, [0])).toThrowError(new RegExp(`^${name}: `));
      expect(() => f(bad, [0], {}, "mine")).toThrowError(/^mine: /);
    }
  });
});

/**
 * Binary probabilities p = (j + 0.3)/B (j = 0..B−1): never on a bin edge, and 1 − p =
 * (B − 1 − j + 0.7)/B neither, so uniform bin b = ⌊p·B⌋ is unambiguous for both classes.
 */
const decompArb = fc
  .record({ B: fc.integer({ min: 1, max: 20 }), n: fc.integer({ min: 1, max: 30 }) })
  .chain(({ B, n }) =>
    fc.record({
      B: fc.constant(B),
      js: fc.array(fc.integer({ min: 0, max: B - 1 }), { minLength: n, maxLength: n }),
      shift: fc.array(fc.constantFrom(0.3, 0.6), { minLength: n, maxLength: n }),
      y: fc.array(fc.integer({ min: 0, max: 1 }), { minLength: n, maxLength: n }),
    }),
  );

describe("brierDecomposition", () => {
  // Tolerance: sums of n ≤ 30 terms ≤ 1 each, a few roundings per term.
  test.prop([decompArb])(
    "equals the Murphy/Stephenson terms over uniform bins (K = 2)",
    ({ B, js, shift, y }) => {
      const n = js.length;
      const p1 = js.map((j, i) => (j + shift[i]) / B);
      const P = p1.map((p) => [1 - p, p]);
      const r = brierDecomposition(m(P), y, { bins: B });
      let rel = 0;
      let res = 0;
      let unc = 0;
      let within = 0;
      for (let k = 0; k < 2; k++) {
        const pk = P.map((row) => row[k]);
        const ok = y.map((v) => (v === k ? 1 : 0));
        const obar = ok.reduce((a: number, b) => a + b, 0) / n;
        unc += obar * (1 - obar);
        for (let b = 0; b < B; b++) {
          const idx = pk.map((_, i) => i).filter((i) => Math.min(B - 1, Math.floor(pk[i] * B)) === b);
          if (idx.length === 0) continue;
          const pb = idx.reduce((a, i) => a + pk[i], 0) / idx.length;
          const ob = idx.reduce((a, i) => a + ok[i], 0) / idx.length;
          rel += (idx.length * (pb - ob) ** 2) / n;
          res += (idx.length * (ob - obar) ** 2) / n;
          for (const i of idx) within += ((pk[i] - pb) ** 2 - 2 * (pk[i] - pb) * (ok[i] - ob)) / n;
        }
      }
      const bs =
        P.reduce((a, row, i) => a + row.reduce((s, p, k) => s + (p - (k === y[i] ? 1 : 0)) ** 2, 0), 0) / n;
      expectClose(r.brier, bs, { rtol: 1e-13, atol: 1e-15 }, "brier");
      expectClose(r.reliability, rel, { rtol: 1e-12, atol: 1e-14 }, "reliability");
      expectClose(r.resolution, res, { rtol: 1e-12, atol: 1e-14 }, "resolution");
      expectClose(r.uncertainty, unc, { rtol: 1e-13, atol: 1e-15 }, "uncertainty");
      expectClose(r.withinBin, within, { atol: 1e-13 }, "withinBin");
      expect(r.withinBin).toBe(r.brier - (r.reliability - r.resolution + r.uncertainty));
    },
  );

  it("from logits, with default 15 bins, equals the decomposition of the softmax", () => {
    const Z = [
      [2, 0, -1],
      [0, 1.5, 0.5],
      [1, 0.5, -2],
      [0, 2, 1],
    ];
    const y = [0, 1, 2, 1];
    const a = brierDecomposition(m(Z), y, { logits: true });
    const b = brierDecomposition(m(Z.map(softmaxRow)), y, { bins: 15 });
    for (const key of ["brier", "reliability", "resolution", "uncertainty", "withinBin"] as const) {
      expectClose(a[key], b[key], { rtol: 1e-12, atol: 1e-15 }, key);
    }
    // Other bins give other terms here, so the agreement above pins the default B = 15.
    const c = brierDecomposition(m(Z.map(softmaxRow)), y, { bins: 2 });
    expect(c.reliability).not.toBe(b.reliability);
    expect(() => brierDecomposition(m(Z), y, { logits: true, bins: 0 })).toThrowError();
  });
});
