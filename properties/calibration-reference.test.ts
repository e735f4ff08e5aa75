/**
 * softcal's calibration numbers against reference software (numpy 1.24 / scikit-learn 1.2.1 /
 * scipy 1.10; versions recorded in the fixture), made by
 * properties/fixtures/calibration/make_fixtures.py.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { binaryReliabilityBins, uniformEdges } from "../src/calibration/bins.js";
import { evaluatePredictions } from "../src/calibration/evaluate.js";
import { TemperatureScaling, temperatureScale } from "../src/calibration/recalibrators/temperature.js";
import { nll } from "../src/calibration/scores.js";
import { fromRows } from "../src/linalg/matrix.js";
import { expectClose } from "./_shared/expectClose.js";

interface Fixture {
  versions: Record<string, string>;
  edges: Record<string, number[]>;
  curves: {
    name: string;
    bins: number;
    p: number[];
    y: number[];
    binids: number[];
    probTrue: number[];
    probPred: number[];
  }[];
  multiclass: {
    n: number;
    K: number;
    logits: number[][];
    probabilities: number[][];
    y: number[];
    accuracy: number;
    nllLogits: number;
    nllProbabilities: number;
    brier: number;
    metrics: { bins: number; ece: number; mce: number; classwiseEce: number }[];
  }[];
  temperature: {
    name: string;
    logits: number[][];
    y: number[];
    temperature: number;
    nll: number;
    nllAtOne: number;
  }[];
}

const fx = JSON.parse(
  readFileSync(new URL("./fixtures/calibration/calibration.json", import.meta.url), "utf8"),
) as Fixture;

// Tolerance 1e-12 (absolute on numbers in [0, 1] or relative on NLL/Brier): the same sums in the
// same order as numpy's bincount, so only a few ε of rounding separate the two (≪ 1e-12).
const tol = { rtol: 1e-12, atol: 1e-12 };

describe(`scikit-learn ${fx.versions["scikit-learn"]} calibration_curve (uniform)`, () => {
  it("softcal's sklearn edges are np.linspace's, bit for bit", () => {
    for (const [B, e] of Object.entries(fx.edges))
      expect(Array.from(uniformEdges(Number(B), "sklearn"))).toEqual(e);
  });

  for (const c of fx.curves) {
    it(`binRule "sklearn" reproduces it (${c.name}, ${c.bins} bins, incl. per-sample bins)`, () => {
      const bins = binaryReliabilityBins(c.p, c.y, { bins: c.bins, binRule: "sklearn" });
      const nonEmpty = bins.filter((b) => b.count > 0);
      expectClose(
        nonEmpty.map((b) => b.observed as number),
        c.probTrue,
        tol,
        "prob_true",
      );
      expectClose(
        nonEmpty.map((b) => b.meanPredicted as number),
        c.probPred,
        tol,
        "prob_pred",
      );
      // Per-sample bins: count per bin from the fixture's searchsorted ids.
      const expected = new Array(c.bins).fill(0);
      for (const b of c.binids) expected[b]++;
      expect(bins.map((b) => b.count)).toEqual(expected);
    });
    if (c.name === "random") {
      it(`the default softcal rule agrees away from edges (${c.bins} bins)`, () => {
        const nonEmpty = binaryReliabilityBins(c.p, c.y, { bins: c.bins }).filter((b) => b.count > 0);
        expectClose(
          nonEmpty.map((b) => b.observed as number),
          c.probTrue,
          tol,
          "prob_true",
        );
        expectClose(
          nonEmpty.map((b) => b.meanPredicted as number),
          c.probPred,
          tol,
          "prob_pred",
        );
      });
    } else {
      it(`the default softcal rule differs on edges (${c.bins} bins), as documented`, () => {
        const soft = binaryReliabilityBins(c.p, c.y, { bins: c.bins }).map((b) => b.count);
        const sk = binaryReliabilityBins(c.p, c.y, { bins: c.bins, binRule: "sklearn" }).map((b) => b.count);
        expect(soft).not.toEqual(sk);
      });
    }
  }
});

describe(`multiclass metrics vs numpy ${fx.versions.numpy}`, () => {
  for (const m of fx.multiclass) {
    it(`n=${m.n}, K=${m.K}: accuracy, NLL (logits and probabilities), Brier, ECE, MCE, class-wise ECE`, () => {
      const P = fromRows(m.probabilities);
      const Z = fromRows(m.logits);
      const y = Int32Array.from(m.y);
      expect(nll(P, y)).toBeCloseTo(m.nllProbabilities, 12);
      for (const r of m.metrics) {
        const e = evaluatePredictions(P, y, { bins: r.bins });
        expect(e.accuracy).toBe(m.accuracy);
        expectClose(e.nll, m.nllProbabilities, tol, "nll(P)");
        expectClose(e.brier, m.brier, tol, "brier");
        expectClose(e.ece, r.ece, tol, "ece");
        expectClose(e.mce, r.mce, tol, "mce");
        expectClose(e.classwiseEce, r.classwiseEce, tol, "classwiseEce");
        // From logits: softmax in JS vs numpy differ by a few ε per probability; bins agree unless
        // a probability sits within ε of an edge (none does in these draws).
        const ez = evaluatePredictions(Z, y, { bins: r.bins, logits: true });
        expectClose(ez.nll, m.nllLogits, tol, "nll(Z)");
        expectClose(ez.ece, r.ece, tol, "ece from logits");
        expectClose(ez.brier, m.brier, tol, "brier from logits");
      }
    });
  }
});

describe(`temperature scaling vs scipy ${fx.versions.scipy} bounded search on log T`, () => {
  for (const t of fx.temperature) {
    it(`${t.name}: T* within 1e-6 relative, NLL(T*) within 1e-12`, () => {
      const Z = fromRows(t.logits);
      const y = Int32Array.from(t.y);
      const r = temperatureScale(Z, y, { logits: true });
      expect(r.converged).toBe(true);
      // NLL is flat at its minimum: a change δ in log T moves NLL by ~NLL″·δ²/2, so NLL's
      // rounding (~1e-16) pins T only to ~1e-8 relative; scipy's xatol is 1e-12. 1e-6 is safe.
      expectClose(r.temperature, t.temperature, { rtol: 1e-6 }, "T*");
      // NLL at the optimum: second-order in the T difference, so equal to rounding.
      expectClose(r.nllAfter, t.nll, tol, "NLL(T*)");
      expectClose(r.nllBefore, t.nllAtOne, tol, "NLL(1)");
      // softcal's T* is at least as good as scipy's (it solves NLL′ = 0 to 1e-11).
      expect(r.nllAfter).toBeLessThanOrEqual(t.nll + 1e-14);
      const P = new TemperatureScaling(r.temperature, Z.cols === 1 ? 2 : Z.cols).transform(Z, {
        logits: true,
      });
      expectClose(nll(P, y), t.nll, { rtol: 1e-12 }, "NLL of transformed probabilities");
    });
  }
});
