/**
 * Properties of the training objectives (softmax and one-vs-rest; src/kernels/objective.ts and
 * src/model/objective.ts): gradient, convexity, the descent lemma, the K = 2 identity with binary
 * logistic regression, and finiteness; then contract tests — each case kills a mutant that
 * survived `npm run mutate` (docs/mutation.md maps them): J and ∇J of both objectives against
 * naive textbook formulas, the gradient buffer overwritten whatever it held, the bias column
 * unpenalized, +∞ (never NaN) on overflow, σ at both tails, and the Lipschitz bound's exact formula.
 */
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { sigmoid } from "../src/kernels/sigmoid.js";
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

/** Logits z_ik = θ_k0 + Σ_j θ_kj x_ij, computed naively. */
function logits(p: Problem, theta: Float64Array): number[][] {
  const w = p.d + 1;
  const out: number[][] = [];
  for (let i = 0; i < p.m; i++) {
    const row: number[] = [];
    for (let k = 0; k < p.K; k++) {
      let z = theta[k * w];
      for (let j = 0; j < p.d; j++) z += theta[k * w + 1 + j] * p.X[i * p.d + j];
      row.push(z);
    }
    out.push(row);
  }
  return out;
}

/** (λ/2) Σ_k Σ_{j≥1} θ_kj² and its gradient λ·[0 | W]. */
function penalty(p: Problem, theta: Float64Array, l2: number): { value: number; grad: number[] } {
  const w = p.d + 1;
  let value = 0;
  const grad = Array.from(theta, (t, j) => (j % w === 0 ? 0 : l2 * t));
  theta.forEach((t, j) => {
    if (j % w !== 0) value += t * t;
  });
  return { value: 0.5 * l2 * value, grad };
}

/**
 * Naive softmax regression: J = mean_i [log Σ_k e^{z_ik} − z_{i,y_i}] + penalty, ∇J = (P − Y)ᵀX̃/m + λ[0|W].
 * With |x| ≤ 5 and |θ| ≤ 3 (the arbitraries), |z| ≤ 3·(1 + 4·5) = 63, so e^z never overflows.
 */
function naiveSoftmax(p: Problem, theta: Float64Array, l2: number): { J: number; grad: number[] } {
  const w = p.d + 1;
  const pen = penalty(p, theta, l2);
  const grad = new Array(theta.length).fill(0);
  let loss = 0;
  logits(p, theta).forEach((z, i) => {
    const e = z.map(Math.exp);
    const sum = e.reduce((a, b) => a + b, 0);
    loss += Math.log(sum) - z[p.y[i]];
    for (let k = 0; k < p.K; k++) {
      const r = e[k] / sum - (k === p.y[i] ? 1 : 0);
      grad[k * w] += r / p.m;
      for (let j = 0; j < p.d; j++) grad[k * w + 1 + j] += (r * p.X[i * p.d + j]) / p.m;
    }
  });
  return { J: loss / p.m + pen.value, grad: grad.map((g, j) => g + pen.grad[j]) };
}

/** Naive one-vs-rest: Σ_k mean_i [log(1 + e^{z_ik}) − t_ik z_ik] + penalty, gradient (σ(z) − t)x̃/m + λ[0|W]. */
function naiveOvr(p: Problem, theta: Float64Array, l2: number): { J: number; grad: number[] } {
  const w = p.d + 1;
  const pen = penalty(p, theta, l2);
  const grad = new Array(theta.length).fill(0);
  let loss = 0;
  logits(p, theta).forEach((z, i) => {
    for (let k = 0; k < p.K; k++) {
      const t = p.y[i] === k ? 1 : 0;
      loss += Math.log(1 + Math.exp(z[k])) - t * z[k];
      const r = 1 / (1 + Math.exp(-z[k])) - t;
      grad[k * w] += r / p.m;
      for (let j = 0; j < p.d; j++) grad[k * w + 1 + j] += (r * p.X[i * p.d + j]) / p.m;
    }
  });
  return { J: loss / p.m + pen.value, grad: grad.map((g, j) => g + pen.grad[j]) };
}

const cases = [
  ["softmax", softmaxObjective, naiveSoftmax],
  ["ovr", ovrObjective, naiveOvr],
] as const;

describe.each(cases)("%s objective = the naive formula", (_kind, make, naive) => {
  test.prop([problemThetaArb({ maxK: 5 })])(
    "J and ∇J, with a garbage-filled gradient buffer",
    ({ p, theta, l2 }) => {
      const f = make(data(p), l2);
      expect(f.size).toBe(p.K * (p.d + 1));
      const g = new Float64Array(f.size).fill(Number.NaN);
      const J = f.evaluate(theta, g);
      const want = naive(p, theta, l2);
      // Terms are ≤ ~130 in size (|z| ≤ 63); the naive and stable formulas differ only by rounding:
      // log Σ e^z vs max + log Σ e^{z−max}, log(1 + e^z) vs softplus, each a few ε relative per term,
      // summed over m ≤ 24 rows and K ≤ 5 classes ⇒ ≤ ~1e-12 relative to the largest term.
      expectClose(J, want.J, { rtol: 1e-12, atol: 1e-12 }, "J");
      // Gradient entries: sums of m terms |r·x| ≤ 5 divided by m, plus λθ: ≤ ~1e-14 absolute.
      expectClose(g, want.grad, { atol: 1e-12 }, "gradient");
      // Without a gradient buffer: the same J, bit for bit.
      expect(f.evaluate(theta, null)).toBe(J);
    },
  );
});

describe("overflow and tails", () => {
  it.each(cases)("%s: a NaN logit (∞ − ∞ from features near 1e308) makes J = +∞, never NaN", (_k, make) => {
    const X = Float64Array.from([1e308, 1e308, 1, 1]);
    const y = Int32Array.from([0, 1]);
    const f = make({ X, nSamples: 2, nFeatures: 2, y, nClasses: 2 }, 0);
    // Class 0: θ = [0, 10, −10] ⇒ z = 1e309 − 1e309 = ∞ − ∞ = NaN on row 0.
    const theta = Float64Array.from([0, 10, -10, 0, 0, 0]);
    expect(f.evaluate(theta, null)).toBe(Number.POSITIVE_INFINITY);
    expect(f.evaluate(theta, new Float64Array(6))).toBe(Number.POSITIVE_INFINITY);
  });

  it("softmax: the shift is the row's largest logit wherever it is (logits 1000 and 0)", () => {
    const f = softmaxObjective(
      { X: Float64Array.of(1), nSamples: 1, nFeatures: 1, y: Int32Array.of(0), nClasses: 2 },
      0,
    );
    // z = [1000, 0]: J = log(1 + e^−1000) − 0 = 0 exactly; shifting by the other logit overflows.
    const g = new Float64Array(4);
    expect(f.evaluate(Float64Array.of(1000, 0, 0, 0), g)).toBe(0);
    expect(Array.from(g)).toEqual([0, 0, 0, 0]);
    const h = softmaxObjective(
      { X: Float64Array.of(1), nSamples: 1, nFeatures: 1, y: Int32Array.of(1), nClasses: 2 },
      0,
    );
    expect(h.evaluate(Float64Array.of(1000, 0, 0, 0), null)).toBe(1000);
  });

  it("σ is exact at both tails and at 0 (no overflow to NaN)", () => {
    expect(sigmoid(0)).toBe(0.5);
    expect(sigmoid(800)).toBe(1);
    expect(sigmoid(-800)).toBe(0);
    expect(sigmoid(-745)).toBeGreaterThan(0); // e^−745 is the smallest subnormal, not 0
    expect(sigmoid(-40)).toBe(Math.exp(-40) / (1 + Math.exp(-40)));
    expect(sigmoid(40)).toBe(1 / (1 + Math.exp(-40)));
    expect(sigmoid(2)).toBe(1 / (1 + Math.exp(-2)));
    expect(sigmoid(-2)).toBe(Math.exp(-2) / (1 + Math.exp(-2)));
  });
});

test.prop([problemThetaArb({ maxK: 3 })])(
  "lipschitzBound = (c/m)(‖X‖_F² + m) + λ, c = 1/2 (softmax) or 1/4 (OvR), bit for bit",
  ({ p, l2 }) => {
    let fro = 0;
    for (let i = 0; i < p.m * p.d; i++) fro += p.X[i] * p.X[i];
    fro += p.m;
    expect(lipschitzBound(p.X, p.m, p.d, l2)).toBe((0.5 * fro) / p.m + l2);
    expect(lipschitzBound(p.X, p.m, p.d, l2, "softmax")).toBe((0.5 * fro) / p.m + l2);
    expect(lipschitzBound(p.X, p.m, p.d, l2, "ovr")).toBe((0.25 * fro) / p.m + l2);
  },
);
