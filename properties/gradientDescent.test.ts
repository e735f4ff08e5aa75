/**
 * Contract tests of src/optim/gradientDescent.ts: each case kills a mutant that survived
 * `npm run mutate` (docs/mutation.md maps them): on a separable quadratic J(θ) = ½ Σ c_j (θ_j − a_j)², every iterate, the loss
 * history (J before each update), the final J and max |∇J|, the defaults (α = 0.1, 300 updates,
 * Θ₀ = 0, theta0 copied), the stop on a non-finite J or gradient (at an update or at the last
 * iterate) with its exact reason, and the divergence rule's threshold.
 */
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { maxAbs } from "../src/linalg/vector.js";
import { gradientDescent, risesAboveStart } from "../src/optim/gradientDescent.js";
import type { DifferentiableObjective } from "../src/optim/types.js";
import { gridValue } from "./_shared/arbitraries.js";

/** J = ½ Σ c_j (θ_j − a_j)², ∇J_j = c_j (θ_j − a_j); counts evaluations. */
function quadratic(c: number[], a: number[]): DifferentiableObjective & { calls: number } {
  return {
    size: c.length,
    calls: 0,
    evaluate(theta, grad) {
      this.calls++;
      let J = 0;
      for (let j = 0; j < c.length; j++) {
        const r = theta[j] - a[j];
        J += 0.5 * c[j] * r * r;
        if (grad) grad[j] = c[j] * r;
      }
      return J;
    },
  };
}

/** The same iteration restated (same operations in the same order, so bitwise equal). */
function naive(c: number[], a: number[], alpha: number, T: number, theta0: number[]) {
  const th = [...theta0];
  const hist: number[] = [];
  const J = (t: number[]) => t.reduce((s, v, j) => s + 0.5 * c[j] * (v - a[j]) * (v - a[j]), 0);
  for (let t = 0; t < T; t++) {
    hist.push(J(th));
    const g = th.map((v, j) => c[j] * (v - a[j]));
    for (let j = 0; j < th.length; j++) th[j] -= alpha * g[j];
  }
  const g = th.map((v, j) => Math.abs(c[j] * (v - a[j])));
  return { theta: th, hist, J: J(th), gmax: Math.max(0, ...g) };
}

const caseArb = fc.integer({ min: 1, max: 4 }).chain((n) =>
  fc.record({
    c: fc.array(gridValue(8, 4, 1), { minLength: n, maxLength: n }),
    a: fc.array(gridValue(8, 4), { minLength: n, maxLength: n }),
    theta0: fc.array(gridValue(8, 4), { minLength: n, maxLength: n }),
    alpha: gridValue(8, 16, 1),
    T: fc.integer({ min: 0, max: 12 }),
  }),
);

describe("gradientDescent", () => {
  test.prop([caseArb])(
    "follows Θ ← Θ − α∇J exactly; history is J before each update",
    ({ c, a, theta0, alpha, T }) => {
      const f = quadratic(c, a);
      const t0 = Float64Array.from(theta0);
      const r = gradientDescent(f, { alpha, maxIter: T, theta0: t0 });
      const w = naive(c, a, alpha, T, theta0);
      expect(Array.from(r.theta)).toEqual(w.theta);
      expect(r.lossHistory).toEqual(w.hist);
      expect(r.objective).toBe(w.J);
      expect(r.gradMaxAbs).toBe(w.gmax);
      expect(r.iterations).toBe(T);
      expect(r.converged).toBe(false);
      expect(r.finite).toBe(true);
      expect(r.stopReason).toBe(`completed ${T} iterations`);
      expect(f.calls).toBe(T + 1);
      expect(Array.from(t0)).toEqual(theta0);
      expect(r.theta).not.toBe(t0);
    },
  );

  it("defaults: Θ₀ = 0, α = 0.1, 300 updates", () => {
    const c = [1, 0.5];
    const a = [2, -1];
    const r = gradientDescent(quadratic(c, a));
    const w = naive(c, a, 0.1, 300, [0, 0]);
    expect(Array.from(r.theta)).toEqual(w.theta);
    expect(r.lossHistory).toEqual(w.hist);
    expect(r.iterations).toBe(300);
    expect(gradientDescent(quadratic(c, a), { maxIter: 1 }).theta[0]).toBe(0.1 * 2);
    expect(gradientDescent(quadratic(c, a), { alpha: 1, maxIter: 1 }).lossHistory).toEqual([2.25]);
  });

  it("stops at the update where J or ∇J is first non-finite, naming it", () => {
    // J finite, gradient infinite at iteration 2 (θ reached 2 after two steps of 1).
    const gradBlowsUp: DifferentiableObjective = {
      size: 2,
      evaluate(theta, grad) {
        if (grad) {
          grad[0] = theta[0] >= 2 ? Infinity : -10;
          grad[1] = 0;
        }
        return -theta[0];
      },
    };
    const r = gradientDescent(gradBlowsUp, { alpha: 0.1, maxIter: 10 });
    expect(r.finite).toBe(false);
    expect(r.iterations).toBe(2);
    expect(r.stopReason).toBe("the objective became non-finite at iteration 2");
    expect(r.lossHistory).toEqual([-0, -1, -2]);
    expect(r.objective).toBe(-2);
    expect(r.gradMaxAbs).toBe(Infinity);
    expect(r.converged).toBe(false);
    expect(Array.from(r.theta)).toEqual([2, 0]);
    // A NaN gradient entry after a larger finite one still counts.
    const nanGrad: DifferentiableObjective = {
      size: 2,
      evaluate(_theta, grad) {
        if (grad) {
          grad[0] = 5;
          grad[1] = Number.NaN;
        }
        return 1;
      },
    };
    expect(gradientDescent(nanGrad, { maxIter: 3 }).stopReason).toBe(
      "the objective became non-finite at iteration 0",
    );
    const jInf: DifferentiableObjective = {
      size: 1,
      evaluate(theta, grad) {
        if (grad) grad[0] = -1;
        return theta[0] >= 0.3 ? Infinity : 0;
      },
    };
    const q = gradientDescent(jInf, { maxIter: 5, alpha: 0.1 });
    expect([q.iterations, q.finite, q.objective]).toEqual([3, false, Infinity]);
    // Non-finite only at the last iterate (after the final update).
    const atEnd = gradientDescent(jInf, { maxIter: 2, alpha: 0.15 });
    expect(atEnd.stopReason).toBe("the objective became non-finite at the last iterate");
    expect([atEnd.iterations, atEnd.finite, atEnd.objective, atEnd.gradMaxAbs]).toEqual([
      2,
      false,
      Infinity,
      1,
    ]);
    const gradAtEnd: DifferentiableObjective = {
      size: 1,
      evaluate(theta, grad) {
        if (grad) grad[0] = theta[0] >= 0.15 ? Number.NaN : -1;
        return 0;
      },
    };
    const g = gradientDescent(gradAtEnd, { maxIter: 2, alpha: 0.1 });
    expect([g.stopReason, g.finite, g.iterations]).toEqual([
      "the objective became non-finite at the last iterate",
      false,
      2,
    ]);
  });

  it("maxAbs and risesAboveStart", () => {
    expect(maxAbs(Float64Array.of(1, -3, 2))).toBe(3);
    expect(maxAbs(Float64Array.of(-3, 1))).toBe(3);
    expect(maxAbs(new Float64Array(0))).toBe(0);
    expect(maxAbs(Float64Array.of(1, Number.NaN, 2))).toBeNaN();
    expect(risesAboveStart(1 + 2e-12, 1)).toBe(true);
    expect(risesAboveStart(1 + 5e-13, 1)).toBe(false);
    expect(risesAboveStart(1e-12, 0)).toBe(false);
    expect(risesAboveStart(1.5e-12, 0)).toBe(true);
    expect(risesAboveStart(-1 + 5e-13, -1)).toBe(false);
    expect(risesAboveStart(-1 + 2e-12, -1)).toBe(true);
    expect(risesAboveStart(100 + 5e-11, 100)).toBe(false);
    expect(risesAboveStart(100 + 2e-10, 100)).toBe(true);
  });
});
