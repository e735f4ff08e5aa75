/**
 * Properties of the calibration metrics: binning rules, ECE/MCE bounds and invariances, the
 * debiased L2 estimator, sweep ECE, proper scores, the Brier decomposition, bootstrap intervals,
 * and the bad-input messages.
 */
import { fc, test } from "@fast-check/vitest";
import seedrandom from "seedrandom";
import { describe, expect, it } from "vitest";
import {
  assignBins,
  binaryReliabilityBins,
  classwiseReliabilityBins,
  reliabilityBins,
  resolveBinOptions,
  uniformBinIndex,
  uniformEdges,
} from "../src/calibration/bins.js";
import { bootstrapInterval } from "../src/calibration/bootstrap.js";
import { type EvaluateOptions, evaluatePredictions } from "../src/calibration/evaluate.js";
import {
  classwiseCalibrationError,
  debiasedL2CalibrationError,
  eceFromBins,
  expectedCalibrationError,
  maxCalibrationError,
  rmsCalibrationError,
  sweepCalibrationError,
} from "../src/calibration/metrics.js";
import { accuracy, brier, brierDecomposition, nll } from "../src/calibration/scores.js";
import { validateLogits, validateProbabilities } from "../src/calibration/validate.js";
import { createRng } from "../src/data/rng.js";
import { InputError } from "../src/errors.js";
import { fromRows, type Matrix, matrix } from "../src/linalg/matrix.js";
import { permutationArb, predictionsArb } from "./_shared/arbitraries.js";
import { expectClose } from "./_shared/expectClose.js";

const binOptionsArb = fc.oneof(
  fc.record({
    bins: fc.integer({ min: 1, max: 40 }),
    strategy: fc.constant("uniform" as const),
    binRule: fc.constantFrom("softcal" as const, "sklearn" as const),
  }),
  fc.record({
    bins: fc.integer({ min: 1, max: 40 }),
    strategy: fc.constant("quantile" as const),
    binRule: fc.constant("softcal" as const),
  }),
);

/** P's rows permuted. */
function permuteRows(P: Matrix, y: Int32Array, perm: number[]): { P: Matrix; y: Int32Array } {
  const K = P.cols;
  const data = new Float64Array(P.data.length);
  const y2 = new Int32Array(y.length);
  perm.forEach((src, dst) => {
    data.set(P.data.subarray(src * K, src * K + K), dst * K);
    y2[dst] = y[src];
  });
  return { P: { rows: P.rows, cols: K, data }, y: y2 };
}

describe("bins: every sample lands in exactly one bin, where the rule says", () => {
  test.prop([predictionsArb(), binOptionsArb])(
    "counts sum to n; each confidence lies in its own bin only",
    ({ P, y }, opts) => {
      const o = resolveBinOptions(opts);
      const bins = reliabilityBins(P, y, opts);
      expect(bins.length).toBe(o.bins);
      expect(bins.reduce((s, b) => s + b.count, 0)).toBe(P.rows);
      const conf = new Float64Array(P.rows);
      for (let i = 0; i < P.rows; i++) conf[i] = Math.max(...P.data.subarray(i * P.cols, (i + 1) * P.cols));
      const { index, lower, upper } = assignBins(conf, o);
      const B = o.bins;
      const inBin = (c: number, b: number): boolean => {
        if (o.strategy === "quantile") return lower[b] <= c && c <= upper[b];
        if (o.binRule === "softcal") return lower[b] <= c && (c < upper[b] || (b === B - 1 && c === 1));
        return (lower[b] < c || (b === 0 && c === 0)) && c <= upper[b];
      };
      for (let i = 0; i < P.rows; i++) {
        expect(index[i] >= 0 && index[i] < B).toBe(true);
        expect(inBin(conf[i], index[i])).toBe(true);
        // Uniform bins are disjoint intervals: no other bin may claim the sample.
        if (o.strategy === "uniform")
          for (let b = 0; b < B; b++) if (b !== index[i]) expect(inBin(conf[i], b)).toBe(false);
      }
      // Empty bins are reported with nulls, never as accuracy 0.
      for (const b of bins)
        expect(b.count === 0 ? b.observed === null && b.meanPredicted === null : b.observed !== null).toBe(
          true,
        );
    },
  );

  test.prop([fc.integer({ min: 1, max: 60 }), fc.nat()])(
    "0, 1 and values exactly on an edge (both rules)",
    (B, bRaw) => {
      const b = bRaw % (B + 1);
      const soft = uniformEdges(B, "softcal");
      const sk = uniformEdges(B, "sklearn");
      // 0 → first bin, 1 → last bin (no phantom bin B), under both rules.
      for (const rule of ["softcal", "sklearn"] as const) {
        const e = rule === "softcal" ? soft : sk;
        expect(uniformBinIndex(0, e, rule)).toBe(0);
        expect(uniformBinIndex(1, e, rule)).toBe(B - 1);
      }
      // softcal: e_b = b/B (division) opens bin b; sklearn: its edge closes bin b − 1.
      expect(soft[b]).toBe(b / B);
      expect(uniformBinIndex(b / B, soft, "softcal")).toBe(Math.min(b, B - 1));
      expect(uniformBinIndex(sk[b], sk, "sklearn")).toBe(Math.max(b - 1, 0));
      const counts = binaryReliabilityBins([0, 1, b / B], [0, 1, 1], { bins: B }).map((x) => x.count);
      const expected = new Array(B).fill(0);
      expected[0]++;
      expected[B - 1]++;
      expected[Math.min(b, B - 1)]++;
      expect(counts).toEqual(expected);
    },
  );

  test.prop([predictionsArb({ maxN: 40 }), fc.integer({ min: 1, max: 12 })])(
    "equal-mass bins never split equal confidences, and sizes differ by ≤ 1 when there are no ties",
    ({ P, y }, B) => {
      const bins = reliabilityBins(P, y, { bins: B, strategy: "quantile" });
      const nonEmpty = bins.filter((b) => b.count > 0);
      for (let j = 1; j < nonEmpty.length; j++) expect(nonEmpty[j - 1].upper < nonEmpty[j].lower).toBe(true);
      const conf = Array.from({ length: P.rows }, (_, i) =>
        Math.max(...P.data.subarray(i * P.cols, (i + 1) * P.cols)),
      );
      if (new Set(conf).size === conf.length) {
        const counts = bins.map((b) => b.count);
        expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
      }
    },
  );
});

describe("ECE and MCE", () => {
  test.prop([predictionsArb(), binOptionsArb])(
    "ECE ∈ [0, 1], ECE ≤ MCE, RMSCE between them",
    ({ P, y }, opts) => {
      const ece = expectedCalibrationError(P, y, opts);
      const mce = maxCalibrationError(P, y, opts);
      const rms = rmsCalibrationError(P, y, opts);
      // A weighted mean of gaps is ≤ their max and ≤ their root-mean-square; each sum of ≤ 60
      // terms carries relative rounding ≤ 60ε < 1e-13, so 1e-12 relative slack.
      expect(ece >= 0 && ece <= 1).toBe(true);
      expect(ece).toBeLessThanOrEqual(mce * (1 + 1e-12));
      expect(ece).toBeLessThanOrEqual(rms * (1 + 1e-12) + 1e-15);
      expect(rms).toBeLessThanOrEqual(mce * (1 + 1e-12) + 1e-15);
    },
  );

  test.prop([
    predictionsArb().chain((p) => fc.tuple(fc.constant(p), permutationArb(p.P.rows))),
    binOptionsArb,
  ])("invariant to sample order", ([{ P, y }, perm], opts) => {
    const q = permuteRows(P, y, perm);
    // Bin membership is order-free (equal-mass cuts never split ties); only the order of the
    // additions inside a bin changes: ≤ n·ε relative per sum, n ≤ 60 ⇒ 1e-13.
    expectClose(expectedCalibrationError(q.P, q.y, opts), expectedCalibrationError(P, y, opts), {
      rtol: 1e-13,
      atol: 1e-15,
    });
    expectClose(maxCalibrationError(q.P, q.y, opts), maxCalibrationError(P, y, opts), {
      rtol: 1e-13,
      atol: 1e-15,
    });
  });

  test.prop([predictionsArb().chain((p) => fc.tuple(fc.constant(p), permutationArb(p.K))), binOptionsArb])(
    "invariant to relabeling the classes (columns and labels permuted together)",
    ([{ P, y, K }, perm], opts) => {
      // Ties for the top probability break to the lowest index, which relabeling changes: exclude them.
      for (let i = 0; i < P.rows; i++) {
        const r = Array.from(P.data.subarray(i * K, (i + 1) * K));
        const mx = Math.max(...r);
        fc.pre(r.filter((v) => v === mx).length === 1);
      }
      const data = new Float64Array(P.data.length);
      const y2 = new Int32Array(y.length);
      for (let i = 0; i < P.rows; i++) {
        for (let k = 0; k < K; k++) data[i * K + perm[k]] = P.data[i * K + k];
        y2[i] = perm[y[i]];
      }
      const Q = { rows: P.rows, cols: K, data };
      // Identical confidences and outcomes ⇒ identical top-label ECE; class-wise ECE averages the
      // same K numbers in another order (K ≤ 5 additions ⇒ 1e-15 relative).
      expect(expectedCalibrationError(Q, y2, opts)).toBe(expectedCalibrationError(P, y, opts));
      expectClose(classwiseCalibrationError(Q, y2, opts), classwiseCalibrationError(P, y, opts), {
        rtol: 1e-14,
        atol: 1e-16,
      });
    },
  );

  test.prop([
    fc.array(fc.tuple(fc.integer({ min: 1, max: 12 }), fc.nat()), { minLength: 1, maxLength: 10 }),
    fc.constantFrom(5, 10, 15),
  ])("constructed perfectly calibrated bins give ECE 0", (groups, B) => {
    // Group g: m samples at confidence k/m, exactly k of them positive. One group per confidence.
    const p: number[] = [];
    const y: number[] = [];
    const seen = new Set<number>();
    for (const [m, kRaw] of groups) {
      const k = kRaw % (m + 1);
      const b = uniformBinIndex(k / m, uniformEdges(B), "softcal");
      if (seen.has(b)) continue; // keep one confidence per bin so the bin is exactly calibrated
      seen.add(b);
      for (let j = 0; j < m; j++) {
        p.push(k / m);
        y.push(j < k ? 1 : 0);
      }
    }
    // meanPredicted = (m copies of k/m)/m and observed = k/m: equal up to the rounding of m ≤ 12
    // additions ⇒ ≤ 12ε.
    expect(eceFromBins(binaryReliabilityBins(p, y, { bins: B }))).toBeLessThanOrEqual(12 * Number.EPSILON);
  });

  it("a known case by hand", () => {
    // conf 0.8 in bin 12 of 15 (12/15 = 0.8 exactly), accuracy 1/2 ⇒ ECE = MCE = 0.3.
    const P = fromRows([
      [0.2, 0.8],
      [0.2, 0.8],
    ]);
    expect(expectedCalibrationError(P, Int32Array.of(1, 0))).toBe(0.30000000000000004);
    expect(maxCalibrationError(P, Int32Array.of(1, 0))).toBe(0.30000000000000004);
  });
});

/** n×K probabilities from softmax of N(0, 2²)-ish logits, labels drawn from them (seeded). */
function calibratedSample(seed: string, n: number, K: number): { P: Matrix; y: Int32Array } {
  const rng = seedrandom.alea(seed);
  const data = new Float64Array(n * K);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < K; k++) {
      // sum of 3 uniforms ≈ normal; scale 2
      const z = 2 * (rng() + rng() + rng() - 1.5);
      data[i * K + k] = Math.exp(z);
      s += data[i * K + k];
    }
    for (let k = 0; k < K; k++) data[i * K + k] /= s;
    const u = rng();
    let c = 0;
    y[i] = K - 1;
    for (let k = 0; k < K; k++) {
      c += data[i * K + k];
      if (u < c) {
        y[i] = k;
        break;
      }
    }
  }
  return { P: { rows: n, cols: K, data }, y };
}

describe("debiased L2 (Kumar et al. 2019)", () => {
  it("labels drawn from the predicted probabilities: the debiased estimate is near 0, the plug-in is not", () => {
    // R seeded data sets, n = 2000, K = 3, B = 20 equal-mass bins (fixed by the confidences, so
    // bins are independent given P). Per bin with n_b samples and mean confidence p̄:
    //   V_b = Var(ȳ_b) ≤ p̄(1 − p̄)/n_b; the (ȳ − p̄)² term has SD ≈ √2·V_b (a scaled χ²₁), the
    //   variance correction ȳ(1 − ȳ)/(n_b − 1) has SD ≤ √V_b/(n_b − 1).
    //   E[term] = −var_b(p)/(n_b − 1) with var_b(p) ≤ (upper − lower)²/4 (Popoviciu): a small bias.
    // Bound on |mean over R|: 5·SD(mean) + mean |bias|. The plug-in squared error has mean ≈
    // Σ (n_b/n) V_b ≈ 14× SD(mean) here, so the same check fails for it: the test has teeth.
    const R = 20;
    let sumDebiased = 0;
    let sumPlugin = 0;
    let varSum = 0;
    let biasSum = 0;
    for (let r = 0; r < R; r++) {
      const { P, y } = calibratedSample(`debias-${r}`, 2000, 3);
      const opts = { bins: 20, strategy: "quantile" as const };
      sumDebiased += debiasedL2CalibrationError(P, y, opts).squared;
      sumPlugin += rmsCalibrationError(P, y, opts) ** 2;
      let v = 0;
      for (const b of reliabilityBins(P, y, opts)) {
        if (b.count < 2) continue;
        const w = b.count / P.rows;
        const pb = b.meanPredicted as number;
        const Vb = (pb * (1 - pb)) / b.count;
        v += w * w * (Math.SQRT2 * Vb + Math.sqrt(Vb) / (b.count - 1)) ** 2;
        biasSum += (w * ((b.upper - b.lower) ** 2 / 4)) / (b.count - 1);
      }
      varSum += v;
    }
    const bound = (5 * Math.sqrt(varSum)) / R + biasSum / R;
    expect(Math.abs(sumDebiased / R)).toBeLessThanOrEqual(bound);
    expect(sumPlugin / R).toBeGreaterThan(bound);
  });

  it("value = sqrt(max(squared, 0)); bins with one sample add nothing", () => {
    const P = fromRows([[0.1, 0.9]]);
    const d = debiasedL2CalibrationError(P, Int32Array.of(0), { bins: 1 });
    expect(d).toEqual({ squared: 0, value: 0 });
  });
});

describe("sweep ECE (Roelofs et al. 2022)", () => {
  test.prop([predictionsArb({ maxN: 40 })])("b* bins are monotone and b* + 1 bins are not", ({ P, y }) => {
    const { value, bins } = sweepCalibrationError(P, y);
    const monotone = (B: number) => {
      const obs = reliabilityBins(P, y, { bins: B, strategy: "quantile" })
        .filter((b) => b.count > 0)
        .map((b) => b.observed as number);
      return obs.every((v, j) => j === 0 || v >= obs[j - 1]);
    };
    expect(monotone(bins)).toBe(true);
    if (bins < P.rows) expect(monotone(bins + 1)).toBe(false);
    // Same bins ⇒ same ECE as the quantile ECE at b* (summation order differs: 1e-13 relative).
    expectClose(value, expectedCalibrationError(P, y, { bins, strategy: "quantile" }), {
      rtol: 1e-13,
      atol: 1e-15,
    });
  });
});

describe("scores", () => {
  test.prop([
    fc
      .integer({ min: 1, max: 5 })
      .chain((K) =>
        fc.array(
          fc.tuple(
            fc.array(fc.double({ min: -30, max: 30, noNaN: true }), { minLength: K, maxLength: K }),
            fc.integer({ min: 0, max: K === 1 ? 1 : K - 1 }),
          ),
          { minLength: 1, maxLength: 30 },
        ),
      ),
  ])("NLL from logits = log-sum-exp − z_y; accuracy = argmax of the logits (ties → lowest)", (rows) => {
    const Z = fromRows(rows.map((r) => r[0]));
    const y = Int32Array.from(rows.map((r) => r[1]));
    const K = Z.cols === 1 ? 2 : Z.cols;
    let ref = 0;
    let correct = 0;
    for (let i = 0; i < Z.rows; i++) {
      const z = Z.cols === 1 ? [0, Z.data[i]] : Array.from(Z.data.subarray(i * K, (i + 1) * K));
      const mx = Math.max(...z);
      const s = z.reduce((a, v) => a + Math.exp(v - mx), 0);
      ref += Math.log(s) + mx - z[y[i]];
      if (z.indexOf(mx) === y[i]) correct++;
    }
    // Both evaluate log-sum-exp − z_y per row with |z| ≤ 30: rounding ≤ a few ε·60 per row.
    expectClose(nll(Z, y, { logits: true }), ref / Z.rows, { rtol: 1e-13, atol: 1e-13 });
    expect(accuracy(Z, y, { logits: true })).toBe(correct / Z.rows);
  });

  it("NLL of a probability-0 label is +Infinity (documented, no clipping); Brier conventions", () => {
    expect(nll(fromRows([[1, 0]]), Int32Array.of(1))).toBe(Infinity);
    // K = 2: (p₁ − y)² + (p₀ − (1 − y))² = 2 (p₁ − y)²: twice sklearn's brier_score_loss.
    // (Two squares, one addition: a few ε relative.)
    expectClose(
      brier(fromRows([[0.2, 0.8]]), Int32Array.of(1)),
      2 * 0.2 ** 2,
      { rtol: 1e-15 },
      "binary Brier",
    );
    expectClose(
      brier(fromRows([[0.7]]), Int32Array.of(0)),
      2 * 0.7 ** 2,
      { rtol: 1e-15 },
      "binary one-column Brier",
    );
    expect(accuracy(fromRows([[0.5, 0.5]]), Int32Array.of(0))).toBe(1); // tie → lowest index
    expect(accuracy(fromRows([[0.5]]), Int32Array.of(0))).toBe(1); // [0.5, 0.5] → class 0
  });

  test.prop([predictionsArb(), fc.constantFrom(5, 10, 15)])(
    "Brier = reliability − resolution + uncertainty + withinBin; withinBin = 0 when constant per bin",
    ({ P, y }, B) => {
      const d = brierDecomposition(P, y, { bins: B });
      // Sums of ≤ 60·K terms each in [0, 2]: 1e-13 absolute covers the rounding.
      expectClose(d.reliability - d.resolution + d.uncertainty + d.withinBin, d.brier, { atol: 1e-13 });
      expect(d.reliability >= 0 && d.resolution >= 0 && d.uncertainty >= 0).toBe(true);
      expectClose(d.brier, brier(P, y), { atol: 1e-15 });
    },
  );

  it("withinBin vanishes for predictions constant within bins", () => {
    const P = fromRows([
      [0.25, 0.75],
      [0.25, 0.75],
      [0.9, 0.1],
      [0.9, 0.1],
      [0.9, 0.1],
    ]);
    const d = brierDecomposition(P, Int32Array.of(1, 0, 0, 0, 1), { bins: 10 });
    expectClose(d.withinBin, 0, { atol: 1e-15 });
  });
});

describe("evaluatePredictions", () => {
  test.prop([predictionsArb(), binOptionsArb])(
    "agrees with the single-metric functions",
    ({ P, y }, opts) => {
      const e = evaluatePredictions(P, y, opts);
      expect(e.n).toBe(P.rows);
      expect(e.K).toBe(P.cols);
      expect(e.ece).toBe(expectedCalibrationError(P, y, opts));
      expect(e.mce).toBe(maxCalibrationError(P, y, opts));
      expect(e.classwiseEce).toBe(classwiseCalibrationError(P, y, opts));
      expect(e.bins).toEqual(reliabilityBins(P, y, opts));
      expect(e.classwise).toEqual(classwiseReliabilityBins(P, y, opts));
      expect(e.accuracy).toBe(accuracy(P, y));
      expect(e.nll).toBe(nll(P, y));
      expect(e.brier).toBe(brier(P, y));
    },
  );
});

describe("bootstrap intervals", () => {
  const correctness = (n: number, seed: string) => {
    const rng = seedrandom.alea(seed);
    return Float64Array.from({ length: n }, () => (rng() < 0.7 ? 1 : 0));
  };
  const meanOf = (x: Float64Array) => (idx: Int32Array) => {
    let s = 0;
    for (let i = 0; i < idx.length; i++) s += x[idx[i]];
    return s / idx.length;
  };

  it("same seed ⇒ same interval; the interval of an accuracy contains it", () => {
    for (const n of [20, 100, 500]) {
      const x = correctness(n, `acc-${n}`);
      const a = bootstrapInterval(meanOf(x), n, { resamples: 400, rng: seedrandom.alea("b") });
      const b = bootstrapInterval(meanOf(x), n, { resamples: 400, rng: seedrandom.alea("b") });
      expect(a).toEqual(b);
      // The bootstrap count of successes is Binomial(n, k/n), whose median is k: about half the
      // resamples lie on each side of the estimate, so the 2.5%/97.5% quantiles of 400 bracket it
      // (failure would need ≥ 390 of 400 on one side: probability < 1e-90).
      expect(a.lower <= a.estimate && a.estimate <= a.upper).toBe(true);
      expect(a.level).toBe(0.95);
    }
  });

  test.prop([fc.integer({ min: 1, max: 80 }), fc.integer({ min: 1, max: 60 }), fc.string()])(
    "an Rng (its fill) gives the interval its next() stream gives, value for value",
    (n, resamples, seed) => {
      const x = correctness(n, `fill-${seed}`);
      const seen: number[][] = [];
      const metric = (idx: Int32Array) => {
        seen.push(Array.from(idx));
        return meanOf(x)(idx);
      };
      const viaFill = bootstrapInterval(metric, n, { resamples, rng: createRng(seed) });
      const filledIndices = seen.splice(0);
      const viaNext = bootstrapInterval(metric, n, { resamples, rng: createRng(seed).random });
      expect(filledIndices).toEqual(seen);
      expect(viaFill).toEqual(viaNext);
    },
  );

  it("intervals shrink as n grows (width ∝ 1/√n)", () => {
    const w = (n: number) => {
      const x = correctness(n, `shrink-${n}`);
      const r = bootstrapInterval(meanOf(x), n, { resamples: 300, rng: seedrandom.alea(`s-${n}`) });
      return r.upper - r.lower;
    };
    // 16× the data ⇒ expected width ratio 1/4; with 300 resamples the width estimates vary by
    // ~10%, so 0.5 leaves a wide margin while still failing for a non-shrinking interval.
    expect(w(1600)).toBeLessThan(0.5 * w(100));
  });

  it("ECE intervals are reproducible; level is a fraction", () => {
    const { P, y } = calibratedSample("ece-boot", 300, 3);
    const metric = (idx: Int32Array) => {
      const Q = { rows: idx.length, cols: 3, data: new Float64Array(idx.length * 3) };
      const yy = new Int32Array(idx.length);
      idx.forEach((i, r) => {
        Q.data.set(P.data.subarray(i * 3, i * 3 + 3), r * 3);
        yy[r] = y[i];
      });
      return expectedCalibrationError(Q, yy);
    };
    const a = bootstrapInterval(metric, 300, { resamples: 50, level: 0.9, rng: seedrandom.alea("e") });
    expect(a.lower <= a.upper).toBe(true);
    expect(() =>
      bootstrapInterval(metric, 300, { resamples: 50, level: 90, rng: seedrandom.alea("e") }),
    ).toThrow("level must be a fraction in (0, 1); got 90");
  });
});

describe("bad input: one-line InputError naming where and what", () => {
  const P = fromRows([
    [0.2, 0.8],
    [0.5, 0.5],
  ]);
  const y = Int32Array.of(1, 0);
  const cases: [string, () => unknown, string][] = [
    [
      "probability > 1",
      () => evaluatePredictions(fromRows([[1.2, -0.2]]), Int32Array.of(0)),
      "evaluate: row 0, column 0: expected a probability in [0, 1]; got 1.2",
    ],
    [
      "row sum off",
      () => evaluatePredictions(fromRows([[0.2, 0.7]]), Int32Array.of(0)),
      "evaluate: row 0: expected probabilities summing to 1 (within 0.000001); got sum 0.8999999999999999 (rows are never renormalized)",
    ],
    [
      "class count",
      () => evaluatePredictions(P, y, { classes: 3 }),
      "evaluate: expected 3 columns (one per class); got 2",
    ],
    ["bins 0", () => evaluatePredictions(P, y, { bins: 0 }), "bins: expected an integer ≥ 1; got 0"],
    ["bins 2.5", () => evaluatePredictions(P, y, { bins: 2.5 }), "bins: expected an integer ≥ 1; got 2.5"],
    [
      "strategy",
      () => evaluatePredictions(P, y, { strategy: "kmeans" } as unknown as EvaluateOptions),
      'strategy: expected one of uniform, quantile; got "kmeans"',
    ],
    [
      "label",
      () => evaluatePredictions(P, Int32Array.of(1, 2)),
      "evaluate: row 1: expected a label in 0..1; got 2",
    ],
    [
      "logit",
      () => evaluatePredictions(fromRows([[0, Number.NaN]]), Int32Array.of(0), { logits: true }),
      "evaluate: row 0, column 1: expected a finite logit; got NaN",
    ],
    [
      "no rows",
      () => evaluatePredictions(matrix(0, 2), new Int32Array(0)),
      "evaluate: expected at least 1 row; got 0",
    ],
  ];
  for (const [name, f, msg] of cases) {
    it(name, () => {
      expect(f).toThrow(InputError);
      expect(f).toThrow(msg);
    });
  }

  it("file locations: row i is line i + 2, column k is k + 1 (or as mapped)", () => {
    expect(() =>
      validateProbabilities(
        fromRows([
          [0.5, 0.5],
          [0.5, 0.6],
        ]),
        { file: "preds.csv" },
      ),
    ).toThrow("preds.csv:3: expected probabilities summing to 1");
    expect(() =>
      validateLogits(fromRows([[0, Infinity]]), { file: "z.csv", columns: [2, 3], names: ["z_a", "z_b"] }),
    ).toThrow('z.csv:2:3: expected a finite logit; got Infinity (column "z_b")');
  });
});
