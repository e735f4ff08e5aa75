/**
 * Contract tests of src/calibration/bins.ts and src/calibration/metrics.ts: each case kills a mutant that survived
 * `npm run mutate` (docs/mutation.md maps them): every bin list equals a naive re-statement of the
 * documented rules (uniform softcal/sklearn edges, equal-mass cuts moved off runs of ties, empty
 * bins), bit for bit since sums run in sample order; the metrics equal their formulas over those
 * bins; option errors are exact.
 */
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import {
  type Bin,
  type BinOptions,
  binaryReliabilityBins,
  binStatistics,
  classwiseReliabilityBins,
  reliabilityBins,
  resolveBinOptions,
  sortByConfidence,
  uniformBinIndex,
  uniformEdges,
} from "../src/calibration/bins.js";
import {
  classwiseCalibrationError,
  debiasedL2CalibrationError,
  debiasedSquaredErrorFromBins,
  eceFromBins,
  expectedCalibrationError,
  maxCalibrationError,
  mceFromBins,
  rmsCalibrationError,
  rmsceFromBins,
  sweepCalibrationError,
} from "../src/calibration/metrics.js";
import { InputError } from "../src/errors.js";
import type { Matrix } from "../src/linalg/matrix.js";
import { predictionsArb } from "./_shared/arbitraries.js";
import { expectClose } from "./_shared/expectClose.js";

/** Few-ulp agreement of values in [0, 1] computed by the same terms (see the uses). */
const TOL = { rtol: 1e-14, atol: 1e-15 };

/** Softcal edges b/B; sklearn edges b·(1/B) (np.linspace); both end at exactly 1. */
function edgesOf(B: number, rule: "softcal" | "sklearn"): number[] {
  return Array.from({ length: B + 1 }, (_, b) => (b === B ? 1 : rule === "softcal" ? b / B : b * (1 / B)));
}

/** Softcal: the last b with e_b ≤ c. sklearn: np.searchsorted(edges[1:-1], c, "left") = #{interior e < c}. */
function uniformBin(c: number, e: number[], rule: "softcal" | "sklearn"): number {
  const B = e.length - 1;
  let b = 0;
  for (let j = 1; j < B; j++) if (rule === "softcal" ? e[j] <= c : e[j] < c) b = j;
  return b;
}

/** Equal-mass cuts as documented: ⌊b·n/B⌋, moved to the nearer end of a run of ties (upper on a tie). */
function quantileCuts(sorted: number[], B: number): number[] {
  const n = sorted.length;
  const cut = [0];
  for (let b = 1; b < B; b++) {
    let c = Math.floor((b * n) / B);
    if (c > 0 && c < n && sorted[c - 1] === sorted[c]) {
      const v = sorted[c];
      const start = sorted.indexOf(v);
      const end = sorted.lastIndexOf(v) + 1;
      c = c - start < end - c ? start : end;
    }
    cut.push(Math.max(c, cut[b - 1]));
  }
  cut.push(n);
  return cut;
}

/** The bins of (confidence, outcome) pairs, restated naively. */
function naiveBins(
  conf: number[],
  out: number[],
  B: number,
  strategy: string,
  rule: "softcal" | "sklearn",
): Bin[] {
  const n = conf.length;
  const index = new Array<number>(n);
  const lower: number[] = [];
  const upper: number[] = [];
  if (strategy === "uniform") {
    const e = edgesOf(B, rule);
    for (let b = 0; b < B; b++) {
      lower.push(e[b]);
      upper.push(e[b + 1]);
    }
    conf.forEach((c, i) => {
      index[i] = uniformBin(c, e, rule);
    });
  } else {
    const order = conf.map((_, i) => i).sort((a, b) => conf[a] - conf[b] || a - b);
    const sorted = order.map((i) => conf[i]);
    const cut = quantileCuts(sorted, B);
    for (let b = 0; b < B; b++) {
      for (let r = cut[b]; r < cut[b + 1]; r++) index[order[r]] = b;
      if (cut[b + 1] > cut[b]) {
        lower.push(sorted[cut[b]]);
        upper.push(sorted[cut[b + 1] - 1]);
      } else {
        const v = n === 0 ? 0 : sorted[Math.min(cut[b], n - 1)];
        lower.push(v);
        upper.push(v);
      }
    }
  }
  return lower.map((lo, b) => {
    let count = 0;
    let sc = 0;
    let so = 0;
    for (let i = 0; i < n; i++) {
      if (index[i] !== b) continue;
      count++;
      sc += conf[i];
      so += out[i];
    }
    const mp = count > 0 ? sc / count : null;
    const ob = count > 0 ? so / count : null;
    return {
      lower: lo,
      upper: upper[b],
      count,
      meanPredicted: mp,
      observed: ob,
      gap: mp === null || ob === null ? null : mp - ob,
    };
  });
}

/** Top-label pairs: the max probability (first index on ties) and whether it is the label. */
function topLabel(P: Matrix, y: Int32Array): { conf: number[]; out: number[] } {
  const conf: number[] = [];
  const out: number[] = [];
  for (let i = 0; i < P.rows; i++) {
    const row = Array.from(P.data.subarray(i * P.cols, (i + 1) * P.cols));
    const mx = Math.max(...row);
    conf.push(mx);
    out.push(row.indexOf(mx) === y[i] ? 1 : 0);
  }
  return { conf, out };
}

const optionsArb = fc.oneof(
  fc.record({
    bins: fc.integer({ min: 1, max: 12 }),
    strategy: fc.constant("uniform" as const),
    binRule: fc.constantFrom("softcal" as const, "sklearn" as const),
  }),
  fc.record({
    bins: fc.integer({ min: 1, max: 12 }),
    strategy: fc.constant("quantile" as const),
    binRule: fc.constant("softcal" as const),
  }),
);

/** Positive-class probabilities with many exact edges (k/B for small B, both edge formulas) and ties. */
const binaryArb = fc.array(
  fc.tuple(
    fc.oneof(
      fc
        .integer({ min: 0, max: 12 })
        .chain((B) => fc.integer({ min: 0, max: B }).map((b) => (B === 0 ? 0 : b / B))),
      fc.integer({ min: 1, max: 12 }).chain((B) => fc.integer({ min: 0, max: B }).map((b) => b * (1 / B))),
      fc.double({ min: 0, max: 1, noNaN: true }),
    ),
    fc.integer({ min: 0, max: 1 }),
  ),
  { minLength: 1, maxLength: 40 },
);

const ece = (bins: Bin[], n: number) =>
  bins.reduce(
    (s, b) => s + (b.count === 0 ? 0 : b.count * Math.abs((b.observed ?? 0) - (b.meanPredicted ?? 0))),
    0,
  ) / n;

describe("bins = the documented rules, restated naively", () => {
  test.prop([predictionsArb({ maxN: 40 }), optionsArb])(
    "top-label and class-wise bins, bit for bit",
    ({ P, y, K }, o) => {
      const { conf, out } = topLabel(P, y);
      expect(reliabilityBins(P, y, o)).toEqual(naiveBins(conf, out, o.bins, o.strategy, o.binRule));
      const cw = classwiseReliabilityBins(P, y, o);
      expect(cw.length).toBe(K);
      cw.forEach((bins, k) => {
        const c = Array.from({ length: P.rows }, (_, i) => P.data[i * K + k]);
        const t = Array.from(y, (l) => (l === k ? 1 : 0));
        expect(bins, `class ${k}`).toEqual(naiveBins(c, t, o.bins, o.strategy, o.binRule));
      });
    },
  );

  test.prop([binaryArb, optionsArb])("positive-class bins (p on edges, ties), bit for bit", (pairs, o) => {
    const p = pairs.map(([c]) => c);
    const y = pairs.map(([, l]) => l);
    expect(binaryReliabilityBins(p, y, o)).toEqual(naiveBins(p, y, o.bins, o.strategy, o.binRule));
  });

  test.prop([fc.integer({ min: 1, max: 60 })])("uniform edges of both rules, bit for bit", (B) => {
    expect(Array.from(uniformEdges(B))).toEqual(edgesOf(B, "softcal"));
    expect(Array.from(uniformEdges(B, "softcal"))).toEqual(edgesOf(B, "softcal"));
    expect(Array.from(uniformEdges(B, "sklearn"))).toEqual(edgesOf(B, "sklearn"));
  });

  it("defaults: 15 uniform bins, softcal rule", () => {
    expect(resolveBinOptions()).toEqual({ bins: 15, strategy: "uniform", binRule: "softcal" });
    expect(resolveBinOptions({})).toEqual({ bins: 15, strategy: "uniform", binRule: "softcal" });
    expect(reliabilityBins({ rows: 1, cols: 2, data: Float64Array.of(0.3, 0.7) }, [1]).length).toBe(15);
  });

  it("option errors are exact one-line InputErrors", () => {
    const e = (o: BinOptions) => () => resolveBinOptions(o);
    expect(e({ binRule: "sklearn", strategy: "quantile" })).toThrow(
      new InputError(
        `binRule: expected "softcal" with strategy "quantile" (the sklearn rule is for uniform bins); got "sklearn"`,
      ),
    );
    expect(e({ binRule: "sklearn", strategy: "quantile" })).toThrow(InputError);
    expect(e({ binRule: "sklearn" })).not.toThrow();
    expect(e({ strategy: "quantile" })).not.toThrow();
  });
});

describe("metrics = their formulas over the naive bins", () => {
  test.prop([predictionsArb({ maxN: 40 }), optionsArb])(
    "ECE, MCE, RMSCE, class-wise ECE",
    ({ P, y, K }, o) => {
      const { conf, out } = topLabel(P, y);
      const bins = naiveBins(conf, out, o.bins, o.strategy, o.binRule);
      const n = P.rows;
      const gaps = bins
        .filter((b) => b.count > 0)
        .map((b) => Math.abs((b.observed ?? 0) - (b.meanPredicted ?? 0)));
      // The same terms summed in the same bin order, only a product associated differently
      // (count·d·d vs count·d²): a few ulps of values ≤ 1 ⇒ TOL.
      expectClose(expectedCalibrationError(P, y, o), ece(bins, n), TOL, "ECE");
      expect(maxCalibrationError(P, y, o)).toBe(Math.max(0, ...gaps));
      const rms = Math.sqrt(
        bins.reduce(
          (s, b) => s + (b.count === 0 ? 0 : b.count * ((b.observed ?? 0) - (b.meanPredicted ?? 0)) ** 2),
          0,
        ) / n,
      );
      expectClose(rmsCalibrationError(P, y, o), rms, TOL, "RMSCE");
      let cw = 0;
      for (let k = 0; k < K; k++) {
        const c = Array.from({ length: n }, (_, i) => P.data[i * K + k]);
        const t = Array.from(y, (l) => (l === k ? 1 : 0));
        cw += ece(naiveBins(c, t, o.bins, o.strategy, o.binRule), n);
      }
      expectClose(classwiseCalibrationError(P, y, o), cw / K, TOL, "class-wise ECE");
    },
  );

  test.prop([predictionsArb({ maxN: 40 }), fc.option(optionsArb, { nil: undefined })])(
    "debiased L2: Σ (n_b/n)[(acc − conf)² − acc(1 − acc)/(n_b − 1)] over bins with n_b ≥ 2 (quantile by default)",
    ({ P, y }, o) => {
      const { conf, out } = topLabel(P, y);
      const strategy = o?.strategy ?? "quantile";
      const bins = naiveBins(conf, out, o?.bins ?? 15, strategy, o?.binRule ?? "softcal");
      let s = 0;
      for (const b of bins) {
        if (b.count < 2) continue;
        const acc = b.observed ?? 0;
        s += b.count * ((acc - (b.meanPredicted ?? 0)) ** 2 - (acc * (1 - acc)) / (b.count - 1));
      }
      const got = debiasedL2CalibrationError(P, y, o);
      // Same terms, same order (TOL as above; the difference of two terms may cancel to ~0).
      expectClose(got.squared, s / P.rows, TOL, "squared");
      expect(got.value).toBe(Math.sqrt(Math.max(got.squared, 0)));
    },
  );

  test.prop([predictionsArb({ maxN: 30 }), fc.constantFrom(1 as const, 2 as const, undefined)])(
    "sweep ECE: the largest monotone equal-mass bin count before the first non-monotone one, L1 or L2",
    ({ P, y }, norm) => {
      const { conf, out } = topLabel(P, y);
      const n = P.rows;
      const at = (B: number) => naiveBins(conf, out, B, "quantile", "softcal").filter((b) => b.count > 0);
      const monotone = (bins: Bin[]) =>
        bins.every((b, i) => i === 0 || (b.observed ?? 0) >= (bins[i - 1].observed ?? 0));
      let bStar = 1;
      while (bStar + 1 <= n && monotone(at(bStar + 1))) bStar++;
      const bins = at(bStar);
      const value =
        norm === 2
          ? Math.sqrt(
              bins.reduce((s, b) => s + b.count * ((b.observed ?? 0) - (b.meanPredicted ?? 0)) ** 2, 0) / n,
            )
          : ece(bins, n);
      const got = sweepCalibrationError(P, y, norm === undefined ? {} : { norm });
      expect(got.bins).toBe(bStar);
      // There the sums run in sorted order, here in sample order: ≤ 30 terms ≤ 1 differ by at
      // most ~30ε ≈ 7e-15 in each bin mean ⇒ 1e-13 absolute on a value ≤ 1.
      expectClose(got.value, value, { atol: 1e-13 }, "sweep ECE");
    },
  );

  it("no samples (no bins, or only empty ones): every bin-level error is 0, not 0/0", () => {
    const empty: Bin = { lower: 0, upper: 1, count: 0, meanPredicted: null, observed: null, gap: null };
    for (const bins of [[], [empty, empty]]) {
      expect(eceFromBins(bins)).toBe(0);
      expect(mceFromBins(bins)).toBe(0);
      expect(rmsceFromBins(bins)).toBe(0);
      expect(debiasedSquaredErrorFromBins(bins)).toBe(0);
    }
  });

  it("quantile bins of no samples are empty with lower = upper = 0", () => {
    const none = new Float64Array(0);
    const bins = binStatistics(none, none, { bins: 3, strategy: "quantile", binRule: "softcal" });
    const empty: Bin = { lower: 0, upper: 0, count: 0, meanPredicted: null, observed: null, gap: null };
    expect(bins).toEqual([empty, empty, empty]);
  });

  it("sweep ECE rejects other norms with an exact message", () => {
    const P: Matrix = { rows: 1, cols: 2, data: Float64Array.of(0.5, 0.5) };
    expect(() => sweepCalibrationError(P, [0], { norm: 3 as 1 })).toThrow(
      new InputError("norm: expected 1 or 2; got 3"),
    );
  });
});

/** The neighbouring doubles of x (x itself when it is 0 or 1 and the neighbour leaves [0, 1]). */
function ulpNeighbours(x: number): number[] {
  const f = new Float64Array(1);
  const i = new BigInt64Array(f.buffer);
  f[0] = x;
  const at = (d: bigint) => {
    i[0] += d;
    const v = f[0];
    i[0] -= d;
    return v;
  };
  return [x, x > 0 ? at(-1n) : x, x < 1 ? at(1n) : x].filter((v) => v >= 0 && v <= 1);
}

describe("uniformBinIndex at and one ulp around every edge", () => {
  it("agrees with the edge comparison for B = 1..60, both edge formulas, both rules", () => {
    // Exhaustive: c·B rounding is where floor(c·B) and the edges disagree (e.g. (1/49)·49 < 1).
    for (let B = 1; B <= 60; B++) {
      for (const rule of ["softcal", "sklearn"] as const) {
        const e = uniformEdges(B, rule);
        const ref = edgesOf(B, rule);
        for (let b = 0; b <= B; b++) {
          for (const c of [...ulpNeighbours(b / B), ...ulpNeighbours(b * (1 / B))]) {
            expect(uniformBinIndex(c, e, rule), `B=${B} ${rule} c=${c}`).toBe(uniformBin(c, ref, rule));
          }
        }
      }
    }
  });
});

describe("sortByConfidence", () => {
  // Documented as a stable order: by confidence, ties by input position. Bins never depend on the
  // order within ties (docs/mutation.md), so the kernel's own contract is checked here.
  test.prop([fc.array(fc.constantFrom(0, 0.25, 0.5, 1, 0.1, 0.3), { maxLength: 40 })])(
    "equals indices sorted by (confidence, index)",
    (conf) => {
      const want = conf
        .map((_, i) => i)
        .sort((a, b) => (conf[a] === conf[b] ? a - b : conf[a] < conf[b] ? -1 : 1));
      expect(Array.from(sortByConfidence(Float64Array.from(conf)))).toEqual(want);
    },
  );

  it("keeps input order within ties", () => {
    expect(Array.from(sortByConfidence(Float64Array.of(0.5, 0.2, 0.5, 0.2, 0.5)))).toEqual([1, 3, 0, 2, 4]);
  });
});

describe("uniformBinIndex on other increasing edges", () => {
  // The documented result is the edge comparison alone; floor(c·B) is a starting guess. On
  // uniform edges the guess is never below the bin under the sklearn rule (no input found, see
  // docs/mutation.md), so edges far from uniform are what exercise the upward walk.
  const edgesArb = fc
    .uniqueArray(fc.double({ min: 0, max: 1, noNaN: true, noDefaultInfinity: true }), {
      minLength: 0,
      maxLength: 12,
    })
    .map((inner) => [0, ...inner.filter((v) => v > 0 && v < 1).sort((a, b) => a - b), 1]);
  test.prop([edgesArb, fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 20 }), fc.nat()])(
    "softcal: e_b ≤ c < e_{b+1}, sklearn: e_b < c ≤ e_{b+1}, for any strictly increasing 0 = e_0 < … < e_B = 1",
    (ref, cs, pick) => {
      const e = Float64Array.from(ref);
      const B = ref.length - 1;
      // The edges themselves (the ties that decide between the rules) and arbitrary points.
      for (const c of [...cs, ref[pick % (B + 1)], ...ref]) {
        for (const rule of ["softcal", "sklearn"] as const) {
          expect(uniformBinIndex(c, e, rule), `${rule} c=${c} edges=${ref}`).toBe(uniformBin(c, ref, rule));
        }
      }
    },
  );

  it("walks up past a guess that is bins low, and down past one that is high", () => {
    // Edges bunched near 0 (B = 5): c = 0.5 guesses ⌊2.5⌋ = 2 and belongs to bin 4 (above 0.04).
    const low = Float64Array.of(0, 0.01, 0.02, 0.03, 0.04, 1);
    for (const rule of ["softcal", "sklearn"] as const) expect(uniformBinIndex(0.5, low, rule)).toBe(4);
    // At an edge the rules differ: 0.03 is bin 3 (softcal, [e_3, e_4)) or bin 2 (sklearn, (e_2, e_3]).
    expect(uniformBinIndex(0.03, low, "softcal")).toBe(3);
    expect(uniformBinIndex(0.03, low, "sklearn")).toBe(2);
    // Edges bunched near 1 (B = 4): c = 0.5 guesses 2 and walks down to 0; 0.97 guesses 3 → bin 2.
    const high = Float64Array.of(0, 0.9, 0.95, 0.99, 1);
    for (const rule of ["softcal", "sklearn"] as const) {
      expect(uniformBinIndex(0.5, high, rule)).toBe(0);
      expect(uniformBinIndex(0.97, high, rule)).toBe(2);
    }
  });
});

describe("default labels in messages", () => {
  const P: Matrix = { rows: 1, cols: 2, data: Float64Array.of(2, -1) };
  const msg = (where: string) =>
    new InputError(`${where}: row 0, column 0: expected a probability in [0, 1]; got 2`);
  it.each([
    ["reliabilityBins", () => reliabilityBins(P, [0])],
    ["classwiseReliabilityBins", () => classwiseReliabilityBins(P, [0])],
    ["binaryReliabilityBins", () => binaryReliabilityBins([2], [0])],
    ["expectedCalibrationError", () => expectedCalibrationError(P, [0])],
    ["maxCalibrationError", () => maxCalibrationError(P, [0])],
    ["rmsCalibrationError", () => rmsCalibrationError(P, [0])],
    ["classwiseCalibrationError", () => classwiseCalibrationError(P, [0])],
    ["debiasedL2CalibrationError", () => debiasedL2CalibrationError(P, [0])],
    ["sweepCalibrationError", () => sweepCalibrationError(P, [0])],
  ])("%s names itself", (where, call) => {
    expect(call).toThrow(msg(where));
  });

  it("a bad rule or strategy names its option", () => {
    expect(() => resolveBinOptions({ binRule: "x" as "softcal" })).toThrow(
      new InputError('binRule: expected one of softcal, sklearn; got "x"'),
    );
    expect(() => resolveBinOptions({ strategy: "x" as "uniform" })).toThrow(
      new InputError('strategy: expected one of uniform, quantile; got "x"'),
    );
  });
});
