/**
 * One-vs-rest: probabilities p_k = σ(z_k) / Σ_j σ(z_j) stay on the simplex for any logits, the
 * objective is the sum of K independent binary logistic objectives (checked against a hand-written
 * binary loss, at any Θ and at the fitted optimum), and with K = 2 the two rows mirror.
 */
import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { loadBuiltin } from "../src/data/builtin.js";
import { applyStandardizer, fitStandardizer } from "../src/data/standardize.js";
import { type Matrix, matrix } from "../src/linalg/matrix.js";
import { fit, type LinearModel } from "../src/model/fit.js";
import { type DifferentiableObjective, ovrObjective } from "../src/model/objective.js";
import { predictProba } from "../src/model/predict.js";
import { lbfgs } from "../src/optim/lbfgs.js";
import { type Problem, problemArb, problemThetaArb } from "./_shared/arbitraries.js";
import { expectClose } from "./_shared/expectClose.js";

const EPS = Number.EPSILON;

// ----- the hand-written binary logistic regression (independent of src/) ---------------------------

/** log(1 + e^z) without overflow: for z > 0, z + log(1 + e^{−z}). */
function softplus(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}

/**
 * Binary logistic objective on targets t_i ∈ {0, 1}, parameters θ = [b, w] (bias first):
 *   J(θ) = (1/m) Σ_i [log(1 + e^{z_i}) − t_i z_i] + (λ/2)‖w‖²,  z_i = b + w·x_i
 *   ∇J = (1/m) Σ_i (σ(z_i) − t_i) [1, x_i] + λ[0, w]
 */
function binaryObjective(
  X: Float64Array,
  m: number,
  d: number,
  t: Uint8Array,
  l2: number,
): DifferentiableObjective {
  return {
    size: d + 1,
    evaluate(theta, grad) {
      let loss = 0;
      if (grad) grad.fill(0);
      for (let i = 0; i < m; i++) {
        let z = theta[0];
        for (let j = 0; j < d; j++) z += theta[1 + j] * X[i * d + j];
        loss += softplus(z) - t[i] * z;
        if (grad) {
          const r = 1 / (1 + Math.exp(-z)) - t[i];
          grad[0] += r;
          for (let j = 0; j < d; j++) grad[1 + j] += r * X[i * d + j];
        }
      }
      let pen = 0;
      for (let j = 1; j <= d; j++) pen += theta[j] * theta[j];
      if (grad) {
        for (let j = 0; j <= d; j++) grad[j] /= m;
        for (let j = 1; j <= d; j++) grad[j] += l2 * theta[j];
      }
      return loss / m + 0.5 * l2 * pen;
    },
  };
}

const targets = (y: Int32Array, k: number) => Uint8Array.from(y, (v) => (v === k ? 1 : 0));
const mat = (p: Problem): Matrix => matrix(p.m, p.d, p.X);

// ----- probabilities on the simplex ----------------------------------------------------------------

/*
 * Σ_k p_k = 1 within K·ε: s = Σσ_k carries ≤ (K−1) roundings, 1/s one, each p_k = σ_k·(1/s) one,
 * and the test's own sum of the p_k another K−1: ≈ 2K half-ulps = K·ε in all.
 */
function expectOnSimplex(P: Matrix, what: string): void {
  const K = P.cols;
  for (let i = 0; i < P.rows; i++) {
    let s = 0;
    for (let k = 0; k < K; k++) {
      const v = P.data[i * K + k];
      if (!(v >= 0 && v <= 1)) expect.fail(`${what}: p[${i}][${k}] = ${v} is not in [0, 1]`);
      s += v;
    }
    if (!(Math.abs(s - 1) <= K * EPS))
      expect.fail(`${what}: row ${i} sums to ${s} (|s − 1| > K·ε = ${K * EPS})`);
  }
}

/** Logits as an n×K bias-only model (d = 0: z_k = θ_k0), so any finite logits can be chosen exactly. */
function biasOnly(logits: number[]): { model: LinearModel; X: Matrix } {
  return {
    model: { model: "ovr", nClasses: logits.length, nFeatures: 0, theta: Float64Array.from(logits) },
    X: matrix(1, 0, new Float64Array(0)),
  };
}

describe("OvR probabilities", () => {
  test.prop([problemThetaArb()])("are in [0, 1] and sum to 1 within K·ε for any Θ and X", ({ p, theta }) => {
    const model: LinearModel = { model: "ovr", nClasses: p.K, nFeatures: p.d, theta };
    expectOnSimplex(predictProba(model, mat(p)), "OvR");
  });

  // fc.double draws bit patterns, so it rarely gives magnitudes between 50 and 1e300; draw the
  // decimal exponent instead, and sometimes make every logit negative (all σ_k underflowing).
  const magnitude = fc
    .double({ min: -3, max: 308, noNaN: true })
    .map((e) => Math.min(10 ** e, 1.7976931348623157e308));
  const logit = fc.oneof(
    fc.double({ min: -50, max: 50, noNaN: true }),
    fc.tuple(fc.boolean(), magnitude).map(([neg, v]) => (neg ? -v : v)),
    fc.constantFrom(-1e308, 1e308, -800, -745, -740, -709, 709, 800, -0, 5e-324),
  );
  const logits = fc.oneof(
    fc.array(logit, { minLength: 2, maxLength: 8 }),
    fc.array(
      logit.map((v) => -Math.abs(v) - 700),
      { minLength: 2, maxLength: 8 },
    ),
  );
  test.prop([logits])("stay on the simplex for huge logits too (σ saturating to 0 or 1)", (z) => {
    const { model, X } = biasOnly(z);
    expectOnSimplex(predictProba(model, X), `OvR at logits [${z.join(", ")}]`);
  });

  // When every σ_k underflows (all logits below ≈ −745), p_k = σ_k / Σσ_j is 0/0. The limit is
  // softmax(z) (σ(z) ≈ e^z there), which is what a log-space normalization gives.
  test("all logits very negative: the limit softmax(z), not NaN", () => {
    const { model, X } = biasOnly([-1000, -1001, -1002]);
    const P = predictProba(model, X);
    const e = [1, Math.exp(-1), Math.exp(-2)];
    const s = e[0] + e[1] + e[2];
    // σ(z) = e^z(1 − e^z + …) with e^z < 1e-434: the limit is exact to rounding (a few ulps).
    expectClose(
      P.data,
      e.map((v) => v / s),
      { rtol: 8 * EPS },
      "OvR probabilities at z ≈ −1000",
    );
  });

  test("pinned values: the scikit-learn OvR normalization", () => {
    const { model, X } = biasOnly([0, Math.log(3), 1000]);
    // σ = [1/2, 3/4, 1]: p = σ / (9/4) = [2/9, 1/3, 4/9].
    expectClose(predictProba(model, X).data, [2 / 9, 1 / 3, 4 / 9], { rtol: 4 * EPS }, "p");
  });
});

// ----- objective = Σ_k binary objectives -------------------------------------------------------------

describe("OvR objective = Σ_k binary logistic objectives", () => {
  test.prop([problemThetaArb()])("at any Θ: value and gradient blocks", ({ p, theta, l2 }) => {
    const w = p.d + 1;
    const data = { X: p.X, nSamples: p.m, nFeatures: p.d, y: p.y, nClasses: p.K };
    const g = new Float64Array(theta.length);
    const J = ovrObjective(data, l2).evaluate(theta, g);
    let sum = 0;
    let scale = 0;
    for (let k = 0; k < p.K; k++) {
      const bk = binaryObjective(p.X, p.m, p.d, targets(p.y, k), l2);
      const gk = new Float64Array(w);
      const Jk = bk.evaluate(theta.subarray(k * w, (k + 1) * w), gk);
      sum += Jk;
      scale += Math.abs(Jk);
      // Each block sums m terms |r·x| ≤ 5 (|x| ≤ 5, |r| ≤ 1) in the same order, but softplus and σ
      // are written differently here: a few ulps per term, m ≤ 24 terms, so 1e-13 absolute.
      expectClose(g.subarray(k * w, (k + 1) * w), gk, { atol: 1e-13 }, `∇ block ${k}`);
    }
    // Sum of K·m loss terms each O(|z|) ≤ 3·(1 + 4·5) ≈ 63: relative 1e-14 of the magnitude.
    expectClose(J, sum, { atol: 1e-14 * (scale + 1) }, "J_ovr vs Σ_k J_k");
  });

  test.prop([problemArb({ maxK: 4, maxM: 20, maxD: 3 }), fc.constantFrom(0.03, 0.1, 1)], { numRuns: 40 })(
    "at the optimum: fitting OvR = fitting each class alone",
    (p, l2) => {
      const r = fit(mat(p), p.y, p.K, { model: "ovr", l2, tol: 1e-11 });
      expect(r.converged, r.stopReason).toBe(true);
      let sum = 0;
      for (let k = 0; k < p.K; k++) {
        const rk = lbfgs(binaryObjective(p.X, p.m, p.d, targets(p.y, k), l2), { tol: 1e-11 });
        expect(rk.converged, rk.stopReason).toBe(true);
        sum += rk.objective;
      }
      // Both within max|g| ≤ 1e-11 of the optimum: J − J* ≤ ‖g‖₂·‖θ − θ*‖₂, tiny (~1e-20) for any
      // reasonable curvature; what remains is rounding of J itself (≈ 1e-16·|J|·few): rtol 1e-12.
      expectClose(r.objective, sum, { rtol: 1e-12 }, "OvR optimum vs Σ_k binary optima");
    },
  );

  test("iris (standardized), λ = 1e-2: each OvR row is the class's own binary fit", () => {
    const iris = loadBuiltin("iris");
    const X = applyStandardizer(iris.X, fitStandardizer(iris.X));
    const r = fit(X, iris.y, 3, { model: "ovr", l2: 1e-2, tol: 1e-11 });
    const w = X.cols + 1;
    let sum = 0;
    for (let k = 0; k < 3; k++) {
      const rk = lbfgs(binaryObjective(X.data, X.rows, X.cols, targets(iris.y, k), 1e-2), { tol: 1e-11 });
      sum += rk.objective;
      // ‖θ − θ*‖ ≤ ‖g‖₂/μ: μ ≥ 1e-2 (the penalty) on the weights and mean σ(1 − σ) ≳ 1e-2 on the
      // bias at these fits, ‖g‖₂ ≤ √5·1e-11 on each side: ≤ 5e-9. 1e-7 leaves room.
      expectClose(r.theta.subarray(k * w, (k + 1) * w), rk.theta, { atol: 1e-7 }, `θ_${k}`);
    }
    expectClose(r.objective, sum, { rtol: 1e-12 }, "J");
  });
});

// ----- K = 2 -------------------------------------------------------------------------------------------

/*
 * With K = 2, the targets of row 1 are 1 − those of row 0, and
 *   softplus(−z) − (1 − t)(−z) = softplus(z) − t·z,
 * so J_1(−θ) = J_0(θ) (penalty symmetric too): the two problems are mirror images and their unique
 * optima satisfy θ₁* = −θ₀*. Tolerance: each fitted row is within ‖g‖/μ of its optimum (tol 1e-11,
 * μ ≳ 1e-4 for these bounded problems at λ ≥ 0.03), so |θ₀ + θ₁| ≲ 2e-7; 1e-6 allows for the
 * smallest curvatures the arbitrary draws reach.
 */
describe("OvR with K = 2", () => {
  test.prop([problemArb({ minK: 2, maxK: 2, maxM: 20, maxD: 3 }), fc.constantFrom(0.03, 0.1, 1)], {
    numRuns: 40,
  })("the two rows mirror at the optimum: θ₀ = −θ₁", (p, l2) => {
    const r = fit(mat(p), p.y, 2, { model: "ovr", l2, tol: 1e-11 });
    expect(r.converged, r.stopReason).toBe(true);
    const w = p.d + 1;
    expectClose(
      r.theta.subarray(0, w),
      Array.from(r.theta.subarray(w), (v) => -v),
      { atol: 1e-6 },
      "θ₀ vs −θ₁",
    );
    // And the probabilities are then σ(z₀)/(σ(z₀) + σ(−z₀)) = σ(z₀): the binary model's.
    const P = predictProba(r, mat(p));
    for (let i = 0; i < p.m; i++) {
      let z = r.theta[0];
      for (let j = 0; j < p.d; j++) z += r.theta[1 + j] * p.X[i * p.d + j];
      // Mirror error 1e-6 in θ moves z by ≤ 1e-6·(1 + 3·5) and p by a quarter of that.
      expectClose(P.data[2 * i], 1 / (1 + Math.exp(-z)), { atol: 1e-5 }, `p₀ row ${i}`);
    }
  });
});
