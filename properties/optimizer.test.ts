/**
 * Properties of the optimizers and of `fit`: gradient descent's invariances (row order, class
 * relabeling, the class-sum of Θ), and L-BFGS's convergence to the optimum.
 */
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import type { Matrix } from "../src/linalg/matrix.js";
import { fit } from "../src/model/fit.js";
import { lipschitzBound, softmaxObjective } from "../src/model/objective.js";
import { gradientDescent } from "../src/optim/gradientDescent.js";
import { lbfgs } from "../src/optim/lbfgs.js";
import { type Problem, problemArb } from "./_shared/arbitraries.js";
import { expectClose } from "./_shared/expectClose.js";

const EPS = Number.EPSILON;
const mat = (p: Problem): Matrix => ({ rows: p.m, cols: p.d, data: p.X });
const weightNorm = (theta: Float64Array, K: number, d: number): number => {
  let s = 0;
  for (let k = 0; k < K; k++) for (let j = 1; j <= d; j++) s += theta[k * (d + 1) + j] ** 2;
  return Math.sqrt(s);
};

describe("gradient descent", () => {
  test.prop([problemArb(), fc.constantFrom(0, 0.01, 0.5)])(
    "started from zero, Θ summed over classes stays zero (and so does every gradient's)",
    (p, l2) => {
      const r = fit(mat(p), p.y, p.K, { optimizer: "gd", l2, alpha: 0.1, maxIter: 60 });
      const w = p.d + 1;
      for (let j = 0; j < w; j++) {
        let s = 0;
        let scale = 0;
        for (let k = 0; k < p.K; k++) {
          s += r.theta[k * w + j];
          scale += Math.abs(r.theta[k * w + j]);
        }
        // Exactly zero in exact arithmetic (Σ_k (p_k − y_k) = 0 and Σ_k θ_k = 0 by induction);
        // in floating point each update adds ≤ K·ε·(Σ_k |θ_kj| + α|g|) of rounding, over 60 steps.
        expect(Math.abs(s)).toBeLessThanOrEqual(60 * p.K * EPS * (scale + 1) * 4);
      }
    },
  );

  test.prop([problemArb({ maxM: 20 }), fc.integer()])(
    "permuting the training rows leaves the result unchanged up to summation order",
    (p, seed) => {
      const order = Array.from({ length: p.m }, (_, i) => i);
      let s = seed >>> 0;
      for (let i = order.length - 1; i > 0; i--) {
        s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
        const j = s % (i + 1);
        [order[i], order[j]] = [order[j], order[i]];
      }
      const X2 = new Float64Array(p.X.length);
      const y2 = new Int32Array(p.m);
      order.forEach((src, dst) => {
        X2.set(p.X.subarray(src * p.d, (src + 1) * p.d), dst * p.d);
        y2[dst] = p.y[src];
      });
      const l2 = 0.01;
      const alpha = 1 / lipschitzBound(p.X, p.m, p.d, l2);
      const T = 50;
      const a = gradientDescent(
        softmaxObjective({ X: p.X, nSamples: p.m, nFeatures: p.d, y: p.y, nClasses: p.K }, l2),
        { alpha, maxIter: T },
      );
      const b = gradientDescent(
        softmaxObjective({ X: X2, nSamples: p.m, nFeatures: p.d, y: y2, nClasses: p.K }, l2),
        { alpha, maxIter: T },
      );
      // Reordering a sum of m terms of size ≤ max‖x̃‖∞ = 5 changes it by ≤ 2(m−1)ε·Σ|terms| ≤ 2m²ε·5/m
      // per gradient entry (after the 1/m), i.e. a per-step perturbation δ ≤ α·10·m·ε. With α ≤ 1/L the
      // gradient step of a convex L-smooth function is non-expansive, so perturbations add up:
      // |ΔΘ| ≤ T·δ.
      const bound = T * alpha * 10 * p.m * EPS;
      expectClose(b.theta, a.theta, { atol: bound }, "theta");
    },
  );

  test.prop([problemArb({ maxM: 20 }), fc.integer({ min: 0, max: 719 })])(
    "relabeling the classes permutes the rows of Θ",
    (p, which) => {
      // A permutation π of 0..K−1 from the Lehmer code `which`.
      const pool = Array.from({ length: p.K }, (_, k) => k);
      const pi: number[] = [];
      let c = which;
      for (let n = p.K; n > 0; n--) {
        pi.push(pool.splice(c % n, 1)[0]);
        c = Math.floor(c / n);
      }
      const y2 = Int32Array.from(p.y, (k) => pi[k]);
      const a = fit(mat(p), p.y, p.K, { optimizer: "gd", maxIter: 50, l2: 0.01 });
      const b = fit(mat(p), y2, p.K, { optimizer: "gd", maxIter: 50, l2: 0.01 });
      const w = p.d + 1;
      const permuted = new Float64Array(a.theta.length);
      for (let k = 0; k < p.K; k++) permuted.set(a.theta.subarray(k * w, (k + 1) * w), pi[k] * w);
      // Only the order of the K terms of each softmax denominator differs: relative K·ε per step.
      expectClose(b.theta, permuted, { atol: 1e-12 }, "theta");
      expectClose(b.objective, a.objective, { rtol: 1e-12 }, "objective");
    },
  );
});

describe("L-BFGS", () => {
  test.prop([
    problemArb({ maxM: 30 }),
    fc.constantFrom(1e-3, 1e-2, 0.1, 1),
    fc.constantFrom("softmax", "ovr"),
  ])("converges: gradient max-abs ≤ tol, objective ≤ gradient descent's", (p, l2, model) => {
    const r = fit(mat(p), p.y, p.K, { l2, model, tol: 1e-9 });
    expect(r.converged).toBe(true);
    expect(r.gradMaxAbs).toBeLessThanOrEqual(1e-9);
    const gd = fit(mat(p), p.y, p.K, { l2, model, optimizer: "gd" });
    // At the optimum J* ≤ J(any Θ); the margin covers J's rounding (~1e-15 relative).
    expect(r.objective).toBeLessThanOrEqual(gd.objective * (1 + 1e-13));
  });

  test.prop([problemArb({ maxM: 30 }), fc.constantFrom(1e-3, 1e-2, 0.1), fc.constantFrom(2, 10, 100)])(
    "larger λ gives a smaller ‖W‖ at the optimum",
    (p, l2, ratio) => {
      const a = fit(mat(p), p.y, p.K, { l2, tol: 1e-11 });
      const b = fit(mat(p), p.y, p.K, { l2: l2 * ratio, tol: 1e-11 });
      // ‖W*(λ)‖ is non-increasing in λ (compare the optimality conditions at λ and λ'). Each fit
      // is within ‖g‖/λ ≤ tol·√size/λ of its optimum.
      const slack = (1e-11 * Math.sqrt(a.theta.length)) / l2;
      expect(weightNorm(b.theta, p.K, p.d)).toBeLessThanOrEqual(weightNorm(a.theta, p.K, p.d) + 2 * slack);
    },
  );

  test.prop([problemArb({ minK: 2, maxK: 2, maxM: 30 }), fc.constantFrom(1e-2, 0.1, 1)])(
    "K = 2: softmax at λ equals binary logistic regression at λ/2 on θ₁ − θ₀ (scikit-learn's C ↔ 2C)",
    (p, l2) => {
      const sm = fit(mat(p), p.y, 2, { l2, tol: 1e-12 });
      const ovr = fit(mat(p), p.y, 2, { l2: l2 / 2, model: "ovr", tol: 1e-12 });
      // OvR with K = 2 is two mirrored binary problems ("class 1 vs rest" and its negation), so its
      // objective is twice the binary one. At Θ = [−w/2; w/2] the softmax penalty (λ/2)(‖w/2‖²·2)
      // is (λ/2)/2·‖w‖²: so min softmax(λ) = min binary(λ/2) = min OvR(λ/2) / 2.
      // The optimal values are compared (the optimizers' error in J is second order:
      // ≤ ‖g‖²/(2μ) ≈ 1e-24/μ — negligible against J's own rounding of ~1e-15 relative).
      expectClose(sm.objective, ovr.objective / 2, { rtol: 1e-12 }, "optimal objective");
      expect(sm.converged && ovr.converged).toBe(true);
    },
  );

  it("separable data at λ = 0: stops at --iters with converged false", () => {
    const X = { rows: 4, cols: 1, data: Float64Array.from([-2, -1, 1, 2]) };
    const r = fit(X, Int32Array.from([0, 0, 1, 1]), 2, { maxIter: 50 });
    expect(r.converged).toBe(false);
    expect(r.iterations).toBeLessThanOrEqual(50);
    expect(Number.isFinite(r.objective)).toBe(true);
  });

  it("lbfgs on a quadratic reaches the exact minimizer", () => {
    const c = Float64Array.from([1, -2, 3]);
    const f = {
      size: 3,
      evaluate(t: Float64Array, g: Float64Array | null) {
        let J = 0;
        for (let j = 0; j < 3; j++) {
          J += 0.5 * (j + 1) * (t[j] - c[j]) ** 2;
          if (g) g[j] = (j + 1) * (t[j] - c[j]);
        }
        return J;
      },
    };
    const r = lbfgs(f, { tol: 1e-12 });
    expect(r.converged).toBe(true);
    expectClose(r.theta, c, { atol: 1e-12 }, "theta");
  });
});
