/**
 * Properties of the training objectives (softmax and one-vs-rest): gradient, convexity, the
 * descent lemma, the K = 2 identity with binary logistic regression, and finiteness.
 */
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { lipschitzBound, ovrObjective, softmaxObjective, type TrainingData } from "../src/model/objective.js";
import { type Problem, problemArb, problemThetaArb, thetaArb } from "./_shared/arbitraries.js";
import { centralDifferences } from "./_shared/centralDifferences.js";
import { expectClose } from "./_shared/expectClose.js";

const data = (p: Problem): TrainingData => ({ X: p.X, nSamples: p.m, nFeatures: p.d, y: p.y, nClasses: p.K });
const objectives = { softmax: softmaxObjective, ovr: ovrObjective } as const;

describe.each(["softmax", "ovr"] as const)("%s objective", (kind) => {
  const make = objectives[kind];

  test.prop([problemThetaArb({ maxK: 6 })])(
    "analytic gradient = central finite differences",
    ({ p, theta, l2 }) => {
      const f = make(data(p), l2);
      const g = new Float64Array(f.size);
      const J = f.evaluate(theta, g);
      // Central differences with h = 1e-5: truncation error ≤ h²/6·|∂³J| and rounding error
      // ≤ 2·ε·|J|/(2h). With |x| ≤ 5 and |θ| ≤ 3: |∂³J| ≤ ‖x̃‖∞³ ≤ 216 (each derivative of
      // log-sum-exp / softplus brings a factor x̃_j and its third derivative is bounded by 1),
      // so truncation ≤ 3.6e-9; |J| ≤ log K + 2·|z| ≤ 2 + 2·3·(1 + 4·5) + λ‖W‖² ≲ 300 ⇒
      // rounding ≤ 6e-9. Tolerance 2e-8 absolute, plus 1e-7 relative for large gradients.
      const fd = centralDifferences(f, theta, 1e-5);
      expect(Number.isFinite(J)).toBe(true);
      expectClose(g, fd, { atol: 2e-8, rtol: 1e-7 }, "gradient");
    },
  );

  test.prop([problemThetaArb(), fc.double({ min: 0, max: 1, noNaN: true })])(
    "convex along random lines: J(midpoint) ≤ mean of the ends",
    ({ p, theta, l2 }, s) => {
      const f = make(data(p), l2);
      const a = theta;
      const b = Float64Array.from(theta, (v, j) => -v + (j % 3) - 1);
      const mid = Float64Array.from(a, (v, j) => s * v + (1 - s) * b[j]);
      const Ja = f.evaluate(a, null);
      const Jb = f.evaluate(b, null);
      const Jm = f.evaluate(mid, null);
      // Convexity: J(s a + (1−s) b) ≤ s J(a) + (1−s) J(b). Each J carries a relative rounding
      // error of at most ~m·K·d·ε (summation) — bounded by 1e-12 relative here.
      expect(Jm).toBeLessThanOrEqual(s * Ja + (1 - s) * Jb + 1e-12 * (Math.abs(Ja) + Math.abs(Jb) + 1));
    },
  );

  test.prop([problemArb({ maxM: 16 }), fc.constantFrom(0, 1e-3, 0.1, 1)])(
    "gradient descent with α = 1/L never increases J (L = (c/m)‖X̃‖_F² + λ)",
    (p, l2) => {
      const f = make(data(p), l2);
      const alpha = 1 / lipschitzBound(p.X, p.m, p.d, l2, kind);
      const theta = new Float64Array(f.size);
      const g = new Float64Array(f.size);
      let prev = f.evaluate(theta, g);
      for (let t = 0; t < 40; t++) {
        for (let j = 0; j < theta.length; j++) theta[j] -= alpha * g[j];
        const J = f.evaluate(theta, g);
        // Descent lemma: J(θ − α∇J) ≤ J(θ) − (α/2)‖∇J‖² for α ≤ 1/L; allow the rounding of J
        // (relative ~1e-14 here) when the decrease is below it.
        expect(J).toBeLessThanOrEqual(prev + 1e-14 * Math.abs(prev));
        prev = J;
      }
    },
  );

  it("is finite (never NaN) for huge but finite features", () => {
    const X = Float64Array.from([1e308, -1e308, 1e308, 1e308, -1e308, 5]);
    const y = Int32Array.from([0, 1, 2]);
    const f = make({ X, nSamples: 3, nFeatures: 2, y, nClasses: 3 }, 0.1);
    const g = new Float64Array(f.size);
    expect(f.evaluate(new Float64Array(f.size), g)).toBeCloseTo(
      kind === "softmax" ? Math.log(3) : 3 * Math.log(2),
    );
    const big = Float64Array.from({ length: f.size }, (_, j) => (j % 2 ? 1 : -1));
    const J = f.evaluate(big, null);
    expect(Number.isNaN(J)).toBe(false);
  });
});

test.prop([problemArb({ minK: 2, maxK: 2 }), thetaArb(10)])(
  "K = 2: the unpenalized softmax loss at [θ₀; θ₁] equals binary logistic loss at θ₁ − θ₀",
  (p, t) => {
    const w = p.d + 1;
    const theta = Float64Array.from(t.subarray(0, 2 * w));
    const sm = softmaxObjective(data(p), 0).evaluate(theta, null);
    // Binary logistic loss (1/m) Σ softplus(z_i) − 1[y_i = 1]·z_i with z_i = (θ₁ − θ₀)·x̃_i.
    let logistic = 0;
    for (let i = 0; i < p.m; i++) {
      let z = theta[w] - theta[0];
      for (let j = 0; j < p.d; j++) z += (theta[w + 1 + j] - theta[1 + j]) * p.X[i * p.d + j];
      const t1 = p.y[i] === 1 ? 1 : 0;
      logistic += Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z))) - t1 * z;
    }
    logistic /= p.m;
    // Both sides are sums of m terms of size ≤ ~50: relative rounding ≤ 1e-13.
    expectClose(sm, logistic, { rtol: 1e-13, atol: 1e-13 }, "loss");
  },
);
