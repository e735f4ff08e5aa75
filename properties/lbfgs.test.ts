/**
 * Contract tests of src/optim/lbfgs.ts: each case kills a mutant that survived
 * `npm run mutate` (docs/mutation.md maps them): every iterate, the loss history, the final J and max |∇J|, the iteration
 * count, the stop reason and the number of objective evaluations equal a restatement of the
 * documented algorithm — the two-loop recursion of Nocedal & Wright (2006) Alg. 7.4 with
 * γ = sᵀy/yᵀy (first step scaled to length ≤ 1), a bracketing weak-Wolfe line search (c₁ = 1e-4,
 * c₂ = 0.9, ×4 expansion, N&W's safeguarded cubic interpolation (3.59) clamped to the middle 80 %
 * of the bracket, ≤ 40 trials, the approximate-Armijo allowance 1e-10·(1 + |J|) when
 * φ′(α) ≤ (2c₁ − 1)φ′(0)), the memory of the last `memory` pairs with sᵀy > 1e-300, and the
 * stop when max |∇J| ≤ tol. The restatement does the same floating-point operations in the same
 * order, so the comparison is bit for bit: any change to the arithmetic, the bookkeeping or a
 * constant shows up as a different double somewhere along the path.
 */
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { lbfgs } from "../src/optim/lbfgs.js";
import type { DifferentiableObjective } from "../src/optim/types.js";

type Obj = DifferentiableObjective & { calls: number };

/**
 * J = off + Σ_j [½ c_j r_j² + q r_j⁴/4 + b (1 − cos r_j)], r = θ − a; ∇J accordingly; counts calls.
 * q = b = 0 is a quadratic; b > c_j makes it non-convex (wells of cos); a large offset puts J's
 * rounding above the decrease of the last steps, where the approximate-Armijo allowance decides.
 */
function poly(c: number[], a: number[], q = 0, b = 0, off = 0): Obj {
  return {
    size: c.length,
    calls: 0,
    evaluate(theta, grad) {
      this.calls++;
      let J = off;
      for (let j = 0; j < c.length; j++) {
        const r = theta[j] - a[j];
        J += 0.5 * c[j] * r * r + (q * r * r * r * r) / 4 + b * (1 - Math.cos(r));
        if (grad) grad[j] = c[j] * r + q * r * r * r + b * Math.sin(r);
      }
      return J;
    },
  };
}

interface Ref {
  theta: number[];
  J: number;
  hist: number[];
  iter: number;
  gmax: number;
  converged: boolean;
  reason: string;
  finite: boolean;
  evals: number;
  restarts: number;
  /** Number of stored pairs after each iteration. */
  memLen: number[];
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};
const maxAbsOf = (g: number[]): number => {
  let m = 0;
  for (const v of g) if (Math.abs(v) > m || Number.isNaN(v)) m = Math.abs(v);
  return m;
};

/** N&W (3.59): the minimizer of the cubic through (lo, fLo, dLo), (hi, fHi, dHi), kept in [lo + w/10, hi − w/10]. */
function cubic(lo: number, fLo: number, dLo: number, hi: number, fHi: number, dHi: number): number {
  const w = hi - lo;
  let t = lo + 0.5 * w; // bisection unless the cubic has a finite minimizer
  if (Number.isFinite(fHi) && Number.isFinite(dHi)) {
    const d1 = dLo + dHi - (3 * (fLo - fHi)) / (lo - hi);
    const disc = d1 * d1 - dLo * dHi;
    if (disc >= 0) {
      const d2 = Math.sqrt(disc);
      const c = hi - w * ((dHi + d2 - d1) / (dHi - dLo + 2 * d2));
      if (Number.isFinite(c)) t = c;
    }
  }
  return Math.min(Math.max(t, lo + 0.1 * w), hi - 0.1 * w);
}

/** The documented algorithm, restated on plain arrays. */
function refLbfgs(
  f: DifferentiableObjective,
  opts: { tol?: number; maxIter?: number; memory?: number; theta0?: number[] } = {},
): Ref {
  const tol = opts.tol ?? 1e-9;
  const maxIter = opts.maxIter ?? 1000;
  const M = opts.memory ?? 10;
  const n = f.size;
  let evals = 0;
  const ev = (x: number[], g: number[]): number => {
    evals++;
    const gb = new Float64Array(n);
    const J = f.evaluate(Float64Array.from(x), gb);
    for (let j = 0; j < n; j++) g[j] = gb[j];
    return J;
  };
  let x = opts.theta0 ? [...opts.theta0] : new Array<number>(n).fill(0);
  let g = new Array<number>(n).fill(0);
  let J = ev(x, g);
  const hist = [J];
  const mem: { s: number[]; y: number[]; rho: number }[] = [];
  const memLen: number[] = [];
  let restarts = 0;
  const out = (iter: number, converged: boolean, reason: string, finite = true): Ref => ({
    theta: x,
    J,
    hist,
    iter,
    gmax: maxAbsOf(g),
    converged,
    reason,
    finite,
    evals,
    restarts,
    memLen,
  });
  if (!Number.isFinite(J) || !Number.isFinite(maxAbsOf(g))) {
    return out(0, false, "the objective is not finite at the starting point", false);
  }
  for (let iter = 0; iter < maxIter; iter++) {
    const gm = maxAbsOf(g);
    if (gm <= tol) return out(iter, true, `gradient max-abs ${gm} ≤ tol ${tol}`);
    // p = −H g by the two-loop recursion, H₀ = γI.
    const p = g.map((v) => -v);
    const al: number[] = [];
    for (let i = mem.length - 1; i >= 0; i--) {
      al[i] = mem[i].rho * dot(mem[i].s, p);
      for (let j = 0; j < n; j++) p[j] += -al[i] * mem[i].y[j];
    }
    const gamma =
      mem.length > 0
        ? 1 / (mem[mem.length - 1].rho * dot(mem[mem.length - 1].y, mem[mem.length - 1].y))
        : 1 / Math.max(1, Math.sqrt(dot(g, g)));
    for (let j = 0; j < n; j++) p[j] *= gamma;
    for (let i = 0; i < mem.length; i++) {
      const b = mem[i].rho * dot(mem[i].y, p);
      for (let j = 0; j < n; j++) p[j] += (al[i] - b) * mem[i].s[j];
    }
    let d0 = dot(g, p);
    if (!(d0 < 0)) {
      restarts++;
      mem.length = 0;
      for (let j = 0; j < n; j++) p[j] = -g[j] / Math.max(1, Math.sqrt(dot(g, g)));
      d0 = dot(g, p);
    }
    // Weak-Wolfe bracketing search.
    let lo = 0;
    let hi = Infinity;
    let fLo = J;
    let dLo = d0;
    let fHi = Number.NaN;
    let dHi = Number.NaN;
    let alpha = 1;
    let ok = false;
    let xn: number[] = x;
    const gn = new Array<number>(n).fill(0);
    let Jn = J;
    const allowance = 1e-10 * (1 + Math.abs(J));
    for (let t = 0; t < 40; t++) {
      xn = x.map((v, j) => v + alpha * p[j]);
      Jn = ev(xn, gn);
      const d = dot(gn, p);
      const fin = Number.isFinite(Jn) && Number.isFinite(d);
      const sufficient =
        fin && (Jn <= J + 1e-4 * alpha * d0 || (Jn <= J + allowance && d <= (2 * 1e-4 - 1) * d0));
      if (!sufficient) {
        hi = alpha;
        fHi = Jn;
        dHi = d;
      } else if (d < 0.9 * d0) {
        lo = alpha;
        fLo = Jn;
        dLo = d;
      } else {
        ok = true;
        break;
      }
      if (hi === Infinity) alpha *= 4;
      else {
        if (hi - lo <= 1e-16 * hi) break;
        alpha = cubic(lo, fLo, dLo, hi, fHi, dHi);
      }
    }
    if (!ok) {
      const gm2 = maxAbsOf(g);
      return out(
        iter,
        gm2 <= tol,
        `line search found no acceptable step at gradient max-abs ${gm2} (the objective is at its rounding floor)`,
      );
    }
    const s = xn.map((v, j) => v - x[j]);
    const y = gn.map((v, j) => v - g[j]);
    const sy = dot(s, y);
    if (sy > 1e-300) {
      if (mem.length === M) mem.shift();
      mem.push({ s, y, rho: 1 / sy });
    } else if (mem.length === M) {
      mem.shift(); // a full memory drops its oldest pair even when the new one is rejected
    }
    memLen.push(mem.length);
    x = xn;
    g = [...gn];
    J = Jn;
    hist.push(J);
  }
  const gm = maxAbsOf(g);
  return out(
    maxIter,
    gm <= tol,
    gm <= tol
      ? `gradient max-abs ${gm} ≤ tol ${tol}`
      : `reached ${maxIter} iterations (gradient max-abs ${gm})`,
  );
}

function expectSame(r: ReturnType<typeof lbfgs>, w: Ref, calls: number): void {
  expect(Array.from(r.theta)).toEqual(w.theta);
  expect(r.lossHistory).toEqual(w.hist);
  expect(r.objective).toBe(w.J);
  expect(r.iterations).toBe(w.iter);
  expect(r.gradMaxAbs).toBe(w.gmax);
  expect(r.converged).toBe(w.converged);
  expect(r.stopReason).toBe(w.reason);
  expect(r.finite).toBe(w.finite);
  expect(calls).toBe(w.evals);
}

const small = (lo: number, hi: number, den: number) => fc.integer({ min: lo, max: hi }).map((v) => v / den);

/** Quadratics, quartics and wells in 1–12 dimensions, curvatures spread over three decades. */
const caseArb = fc.integer({ min: 1, max: 12 }).chain((n) =>
  fc.record({
    c: fc.array(
      fc.integer({ min: 0, max: 30 }).map((e) => 10 ** (e / 10 - 1.5)),
      { minLength: n, maxLength: n },
    ),
    a: fc.array(small(-40, 40, 8), { minLength: n, maxLength: n }),
    theta0: fc.option(fc.array(small(-40, 40, 8), { minLength: n, maxLength: n }), { nil: undefined }),
    q: fc.constantFrom(0, 0, 0.01, 1),
    b: fc.constantFrom(0, 0, 3, 10),
    off: fc.constantFrom(0, 0, 1000, -1e6),
    memory: fc.option(fc.integer({ min: 1, max: 6 }), { nil: undefined }),
    maxIter: fc.option(fc.integer({ min: 1, max: 40 }), { nil: undefined }),
    tol: fc.option(fc.constantFrom(1e-3, 1e-6, 1e-12), { nil: undefined }),
  }),
);

describe("lbfgs against the restated algorithm", () => {
  test.prop([caseArb])("iterates, history, counts and stop reason are bit for bit the restatement's", (k) => {
    const f = poly(k.c, k.a, k.q, k.b, k.off);
    const t0 = k.theta0 ? Float64Array.from(k.theta0) : undefined;
    const r = lbfgs(f, { tol: k.tol, maxIter: k.maxIter, memory: k.memory, theta0: t0 });
    const w = refLbfgs(poly(k.c, k.a, k.q, k.b, k.off), {
      tol: k.tol,
      maxIter: k.maxIter,
      memory: k.memory,
      theta0: k.theta0,
    });
    expectSame(r, w, f.calls);
    // theta0 is copied, never written.
    if (t0) {
      expect(Array.from(t0)).toEqual(k.theta0);
      expect(r.theta).not.toBe(t0);
    }
  });

  it("defaults: Θ₀ = 0, tol 1e-9, at most 1000 iterations, memory 10 (15 curvatures need > 10 pairs)", () => {
    const c = Array.from({ length: 15 }, (_, j) => 1.6 ** j / 100);
    const a = Array.from({ length: 15 }, (_, j) => ((j % 5) - 2) / 2);
    const f = poly(c, a);
    const r = lbfgs(f);
    const w = refLbfgs(poly(c, a));
    expectSame(r, w, f.calls);
    expect(w.converged).toBe(true);
    // The memory filled up (so the default of 10 was reached and respected).
    expect(Math.max(...w.memLen)).toBe(10);
    expect(w.iter).toBeGreaterThan(11);
    // A different memory takes a different path on this problem.
    expect(refLbfgs(poly(c, a), { memory: 11 }).hist).not.toEqual(w.hist);
    expect(refLbfgs(poly(c, a), { memory: 9 }).hist).not.toEqual(w.hist);
    // tol 1e-9 by default: a looser tol stops earlier, a tighter one later.
    expect(refLbfgs(poly(c, a), { tol: 1e-8 }).iter).toBeLessThan(w.iter);
    expect(refLbfgs(poly(c, a), { tol: 1e-10 }).iter).toBeGreaterThan(w.iter);
  });

  it("maxIter 1000 by default: a run that does not settle stops at 1000 with the exact reason", () => {
    // J = cos θ − θ/100 (smooth, non-convex, unbounded below): from 0 the iterates wander between
    // wells (the pairs with sᵀy ≤ 1e-300 are skipped) and tol 0 is never met.
    const wave = (): Obj => ({
      size: 1,
      calls: 0,
      evaluate(t, g) {
        this.calls++;
        if (g) g[0] = -Math.sin(t[0]) - 0.01;
        return Math.cos(t[0]) - 0.01 * t[0];
      },
    });
    const f = wave();
    const r = lbfgs(f, { tol: 0 });
    const w = refLbfgs(wave(), { tol: 0 });
    expectSame(r, w, f.calls);
    expect(r.iterations).toBe(1000);
    expect(r.lossHistory.length).toBe(1001);
    expect(r.stopReason).toBe(`reached 1000 iterations (gradient max-abs ${r.gradMaxAbs})`);
  });

  it("stops when max |∇J| ≤ tol, equality included, before any step", () => {
    // ∇J(0) = c·(0 − a) = (−0.5, 0.25): max-abs exactly 0.5.
    const f = poly([1, 1], [0.5, -0.25]);
    const r = lbfgs(f, { tol: 0.5 });
    expect(r.iterations).toBe(0);
    expect(r.converged).toBe(true);
    expect(r.stopReason).toBe("gradient max-abs 0.5 ≤ tol 0.5");
    expect(r.lossHistory).toEqual([0.15625]);
    expect(r.gradMaxAbs).toBe(0.5);
    expect(f.calls).toBe(1);
    expect(Array.from(r.theta)).toEqual([0, 0]);
    // Just above the tolerance: it steps.
    expect(lbfgs(poly([1, 1], [0.5, -0.25]), { tol: 0.4999999999 }).iterations).toBeGreaterThan(0);
  });

  it("the first step has length min(1, ‖g‖)·… : p = −g/max(1, ‖g‖), trial α = 1", () => {
    // ‖g‖ = 0.5 < 1: the first trial point is θ − g exactly (the Newton step for c = 1).
    const seen: number[][] = [];
    const f: DifferentiableObjective = {
      size: 1,
      evaluate(t, g) {
        seen.push(Array.from(t));
        if (g) g[0] = t[0] - 0.5;
        return 0.5 * (t[0] - 0.5) ** 2;
      },
    };
    lbfgs(f, { maxIter: 1 });
    expect(seen).toEqual([[0], [0.5]]);
    // ‖g‖ = 4 > 1: the first trial point is at distance 1.
    seen.length = 0;
    const f4: DifferentiableObjective = {
      size: 1,
      evaluate(t, g) {
        seen.push(Array.from(t));
        if (g) g[0] = t[0] - 4;
        return 0.5 * (t[0] - 4) ** 2;
      },
    };
    lbfgs(f4, { maxIter: 1 });
    expect(seen[1]).toEqual([1]);
  });

  it("a non-finite start stops at once: finite false, iteration 0, the exact reason", () => {
    for (const [J, g] of [
      [Number.NaN, 1],
      [Infinity, 1],
      [1, Infinity],
      [1, Number.NaN],
    ]) {
      let calls = 0;
      const f: DifferentiableObjective = {
        size: 2,
        evaluate(_t, grad) {
          calls++;
          if (grad) {
            grad[0] = 2;
            grad[1] = g;
          }
          return J;
        },
      };
      const r = lbfgs(f);
      expect(r.finite).toBe(false);
      expect(r.converged).toBe(false);
      expect(r.iterations).toBe(0);
      expect(r.stopReason).toBe("the objective is not finite at the starting point");
      expect(r.lossHistory).toEqual([J]);
      expect(Object.is(r.objective, J)).toBe(true);
      expect(calls).toBe(1);
    }
  });

  it("maxIter reached: the exact reason, converged false, and the count", () => {
    const c = [1, 0.01, 3];
    const a = [1, -2, 0.5];
    const f = poly(c, a);
    const r = lbfgs(f, { maxIter: 2 });
    const w = refLbfgs(poly(c, a), { maxIter: 2 });
    expectSame(r, w, f.calls);
    expect(r.iterations).toBe(2);
    expect(r.stopReason).toMatch(/^reached 2 iterations \(gradient max-abs [0-9.e-]+\)$/);
    expect(r.converged).toBe(false);
  });
});

/**
 * Runs found by a search over the family above (5000 random cases, the line search instrumented)
 * that reach its rarer branches: accepted only by the approximate-Armijo allowance, the cubic's
 * minimizer clamped at hi − w/10, the search giving up after 40 trials, maxIter reached.
 */
const rare: [
  string,
  {
    c: number[];
    a: number[];
    theta0: number[];
    q: number;
    b: number;
    off: number;
    memory?: number;
    tol: number;
  },
][] = [
  [
    "approximate Armijo",
    {
      c: [0.3981071705534973, 19.952623149688787, 10],
      a: [1.25, 2.25, -0.125],
      theta0: [-4.125, 3.5, -4.75],
      q: 0,
      b: 3,
      off: 0,
      memory: 2,
      tol: 1e-12,
    },
  ],
  [
    "clamped at hi − w/10",
    { c: [0.1], a: [4.5], theta0: [-4.875], q: 0, b: 10, off: 1e12, memory: 5, tol: 1e-12 },
  ],
  [
    "40 trials",
    {
      c: [
        25.118864315095795, 1.9952623149688797, 25.118864315095795, 0.06309573444801933, 10,
        0.06309573444801933,
      ],
      a: [0, 2.75, -2.375, -3.125, -1.25, -5],
      theta0: [0, -1.25, -2.375, 4.875, -4.625, 3.375],
      q: 0,
      b: 10,
      off: 0,
      memory: 5,
      tol: 1e-15,
    },
  ],
  [
    "clamped at lo + w/10",
    {
      c: [
        19.952623149688787, 0.251188643150958, 0.06309573444801933, 0.1, 0.07943282347242814,
        0.3981071705534973,
      ],
      a: [-4.375, -2.375, -2.75, -0.5, 0.25, 3.5],
      theta0: [2.75, 0.375, -0.5, 0.375, 0, 3],
      q: 0.01,
      b: 0,
      off: 1000,
      tol: 1e-15,
    },
  ],
  [
    "200 iterations",
    {
      c: [0.039810717055349734, 0.06309573444801933],
      a: [2.25, -4.5],
      theta0: [-1.375, -4],
      q: 0,
      b: 10,
      off: 1000,
      memory: 4,
      tol: 1e-15,
    },
  ],
];

describe("lbfgs on runs through the rarer branches", () => {
  for (const [name, k] of rare) {
    it(`${name}: bit for bit the restatement's`, () => {
      const f = poly(k.c, k.a, k.q, k.b, k.off);
      const o = { tol: k.tol, maxIter: 200, memory: k.memory };
      const r = lbfgs(f, { ...o, theta0: Float64Array.from(k.theta0) });
      expectSame(r, refLbfgs(poly(k.c, k.a, k.q, k.b, k.off), { ...o, theta0: k.theta0 }), f.calls);
    });
  }
});

/** J = off + ½ Σ_r 10^{e_r} (u_r·(θ − a))², u_r the rows of U: rotated, ill-conditioned quadratics. */
function rotated(e: number[], U: number[][], a: number[], off: number): Obj {
  const n = e.length;
  return {
    size: n,
    calls: 0,
    evaluate(t, g) {
      this.calls++;
      let J = off;
      if (g) g.fill(0);
      for (let r = 0; r < n; r++) {
        let z = 0;
        for (let j = 0; j < n; j++) z += U[r][j] * (t[j] - a[j]);
        const c = 10 ** e[r];
        J += 0.5 * c * z * z;
        if (g) for (let j = 0; j < n; j++) g[j] += c * z * U[r][j];
      }
      return J;
    },
  };
}

/**
 * Found by a search over 20 000 such quadratics (tol 1e-300, 300 iterations): pairs with
 * sᵀy ≤ 1e-300 skipped (the step is below the rounding of θ in some coordinates), and the
 * restart from −g/max(1, ‖g‖) when rounding makes the two-loop direction ascend (curvatures
 * 1e-13 and 1e-16 under an offset of 1e8: 287 restarts).
 */
const rotatedCases: [string, { e: number[]; U: number[][]; a: number[]; off: number; memory: number }][] = [
  [
    "pairs skipped",
    {
      e: [1, -10, -14, 5],
      U: [
        [3, 2, -3, 6],
        [-1, -7, -6, 2],
        [-8, 5, -6, 3],
        [6, -1, 2, 5],
      ],
      a: [0, 1, -3, -2],
      off: 1000,
      memory: 8,
    },
  ],
  [
    "restarts",
    {
      e: [-13, -16],
      U: [
        [0, -6],
        [4, -2],
      ],
      a: [0, -9],
      off: 1e8,
      memory: 8,
    },
  ],
  // J ≈ 1e300: every decrease is below J's rounding, steps pass on the allowance; one restart at ‖g‖ > 1.
  [
    "restart at ‖g‖ > 1",
    {
      e: [-5, 13, -6],
      U: [
        [-2, -9, 3],
        [-2, -4, 4],
        [-6, -3, 7],
      ],
      a: [42, -4, 10],
      off: 1e300,
      memory: 3,
    },
  ],
  [
    "gives up at the rounding floor",
    {
      e: [-4, 0, -10],
      U: [
        [-3, -2, 0],
        [-3, 8, -1],
        [-1, 8, 6],
      ],
      a: [-33, 25, 3],
      off: 0,
      memory: 2,
    },
  ],
];

describe("lbfgs on ill-conditioned rotated quadratics", () => {
  for (const [name, k] of rotatedCases) {
    it(`${name}: bit for bit the restatement's`, () => {
      const f = rotated(k.e, k.U, k.a, k.off);
      const o = { tol: 1e-300, maxIter: k.off === 1e300 ? 100 : 300, memory: k.memory };
      const w = refLbfgs(rotated(k.e, k.U, k.a, k.off), o);
      expectSame(lbfgs(f, o), w, f.calls);
      if (name.startsWith("restart")) expect(w.restarts).toBeGreaterThan(0);
      if (name === "pairs skipped")
        expect(w.memLen.some((l, i) => i > 0 && l < Math.min(i + 1, k.memory))).toBe(true);
    });
  }
});

describe("line search", () => {
  it("a linear J (no minimum along p) expands ×4 forty times and then gives up with the exact reason", () => {
    const trials: number[] = [];
    const f: DifferentiableObjective = {
      size: 1,
      evaluate(t, g) {
        trials.push(t[0]);
        if (g) g[0] = -2;
        return -2 * t[0];
      },
    };
    const r = lbfgs(f, { tol: 1e-3 });
    expect(trials.length).toBe(41);
    // p = −g/‖g‖ = 1; trials at α = 1, 4, 16, …, 4³⁹.
    expect(trials.slice(1)).toEqual(Array.from({ length: 40 }, (_, i) => 4 ** i));
    expect(r.iterations).toBe(0);
    expect(r.converged).toBe(false);
    expect(r.finite).toBe(true);
    expect(r.stopReason).toBe(
      "line search found no acceptable step at gradient max-abs 2 (the objective is at its rounding floor)",
    );
    expect(r.lossHistory).toEqual([-0]);
    // The same give-up with a gradient within tol counts as converged.
    expect(lbfgs(f, { tol: 2 }).stopReason).toBe("gradient max-abs 2 ≤ tol 2");
  });

  it("a collapsed bracket stops the search; non-finite trials shrink the step (bisection)", () => {
    // J rises whatever the step (a gradient that lies): every trial is rejected, the bracket
    // [0, α] shrinks by the clamped interpolation until hi − lo ≤ 1e-16·hi or 40 trials.
    const f = {
      size: 1,
      calls: 0,
      evaluate(t: Float64Array, g: Float64Array | null) {
        this.calls++;
        if (g) g[0] = -1;
        return t[0] === 0 ? 0 : Number.NaN;
      },
    };
    const r = lbfgs(f, { maxIter: 3 });
    const w = refLbfgs({ size: 1, evaluate: f.evaluate.bind({ calls: 0 }) }, { maxIter: 3 });
    expect(r.stopReason).toBe(w.reason);
    expect(f.calls).toBe(w.evals);
    expect(r.iterations).toBe(0);
    expect(r.finite).toBe(true);
  });
});

/**
 * A one-dimensional objective given by a table: J and J′ at θ = 0 and at the trial points of the
 * first line search (θ = α·p). Lets each acceptance test be met with equality.
 */
function scripted(table: Map<number, [number, number]>, fallback: (t: number) => [number, number]): Obj {
  return {
    size: 1,
    calls: 0,
    evaluate(t, g) {
      this.calls++;
      const [J, d] = table.get(t[0]) ?? fallback(t[0]);
      if (g) g[0] = d;
      return J;
    },
  };
}

describe("line search acceptance at its boundaries (one step, maxIter 1)", () => {
  // g(0) = −0.5: p = −g/max(1, ‖g‖) = 0.5, φ′(0) = g·p = −0.25; the first trial is α = 1 (θ = 0.5).
  const d0 = -0.25;
  const flat = (t: number): [number, number] => [-t, -0.5];
  const run = (J1: number, g1: number, J0 = 0) => {
    const f = scripted(
      new Map([
        [0, [J0, -0.5]],
        [0.5, [J1, g1]],
      ]),
      flat,
    );
    const r = lbfgs(f, { maxIter: 1, tol: 1e-12 });
    return { r, calls: f.calls };
  };

  it("Armijo with equality accepts (φ(1) = φ(0) + c₁φ′(0), φ′(1) far above (2c₁ − 1)φ′(0))", () => {
    const { r, calls } = run(0 + 1e-4 * 1 * d0, 5);
    expect(calls).toBe(2);
    expect(Array.from(r.theta)).toEqual([0.5]);
    // Just above the Armijo line (and above the allowance's derivative test): rejected.
    const above = run(0 + 1e-4 * 1 * d0 + 1e-18, 5);
    expect(above.calls).toBeGreaterThan(2);
    expect(above.r.theta[0]).not.toBe(0.5);
  });

  it("the approximate-Armijo allowance with equality accepts: φ(1) = φ(0) + 1e-10·(1 + |φ(0)|), φ′(1) = (2c₁ − 1)φ′(0)", () => {
    for (const J0 of [0, 2, -1e6]) {
      const noise = 1e-10 * (1 + Math.abs(J0));
      const dBound = ((2 * 1e-4 - 1) * d0) / 0.5; // the gradient whose φ′ = g·p equals the bound
      const { r, calls } = run(J0 + noise, dBound, J0);
      expect(calls).toBe(2);
      expect(Array.from(r.theta)).toEqual([0.5]);
      // φ rising by more than the allowance, or φ′ above the bound: rejected.
      expect(run(J0 + noise * (1 + 1e-6), dBound, J0).calls).toBeGreaterThan(2);
      expect(run(J0 + noise, dBound * (1 + 1e-9), J0).calls).toBeGreaterThan(2);
    }
  });

  it("the curvature condition with equality accepts (φ′(1) = c₂φ′(0)); below it the step expands ×4", () => {
    const J1 = -0.4; // well below the Armijo line
    const atBound = (0.9 * d0) / 0.5;
    const { r, calls } = run(J1, atBound);
    expect(calls).toBe(2);
    expect(Array.from(r.theta)).toEqual([0.5]);
    // Steeper than c₂φ′(0): the step expands ×4 (θ = 2, still steep on the fallback J = −θ),
    // then ×4 again (θ = 8, flat), which is accepted.
    const seen: number[] = [];
    const f = scripted(
      new Map([
        [0, [0, -0.5]],
        [0.5, [J1, atBound * (1 + 1e-9)]],
      ]),
      (t) => {
        seen.push(t);
        return t >= 8 ? [-t, 0] : [-t, -0.5];
      },
    );
    lbfgs(f, { maxIter: 1 });
    expect(seen).toEqual([2, 8]);
  });

  it("a trial with finite J but a non-finite gradient (or J = −∞, or NaN) is rejected and the bracket bisected", () => {
    // Beyond θ = cut the trial is bad; below it J = −θ with φ′ steep until θ = flat and 0 after,
    // so the first acceptable trial is a bisection point: α = 0.5 (θ = 0.25) when only α = 1 is
    // bad, α = 0.25 (θ = 0.125) when α = 0.5 is bad too (bracket [0, 0.5]).
    for (const [cut, flat, theta, calls] of [
      [0.5, 0.2, 0.25, 3],
      [0.2, 0.1, 0.125, 4],
    ]) {
      const below = (t: number): [number, number] => [-t, t < flat ? -0.5 : 0];
      for (const bad of [
        [-1, Number.NaN],
        [-1, Number.POSITIVE_INFINITY],
        [Number.NEGATIVE_INFINITY, 0],
        [Number.NaN, 0],
        [Number.POSITIVE_INFINITY, -0.5],
      ] as [number, number][]) {
        const make = () => scripted(new Map([[0, [0, -0.5]]]), (t) => (t >= cut ? bad : below(t)));
        const f = make();
        const r = lbfgs(f, { maxIter: 1 });
        expectSame(r, refLbfgs(make(), { maxIter: 1 }), f.calls);
        expect(Array.from(r.theta)).toEqual([theta]);
        expect(f.calls).toBe(calls);
        expect(r.finite).toBe(true);
      }
    }
  });
});

describe("the memory's sᵀy threshold", () => {
  it("a pair with sᵀy = 1e-300 exactly is not stored (sᵀy > 1e-300 is required)", () => {
    // g(0) = −1e-300: φ′(0) = g·p underflows to −0, the direction is −g = 1e-300 and α = 1 gives
    // s = 1e-300; there J falls and g = 1, so y = 1 + 1e-300 = 1 and sᵀy = 1e-300. With no pair
    // stored the next direction is −g/max(1, ‖g‖) = −1: the next trial is θ = 1e-300 − 1 = −1.
    const seen: number[] = [];
    const make = (log: boolean) =>
      scripted(new Map([[0, [0, -1e-300]]]), (t) => {
        if (log) seen.push(t);
        return [t === 1e-300 ? -1 : -1 - Math.abs(t), 1];
      });
    const f = make(true);
    // tol below |g(0)| so that the start is not already converged.
    const r = lbfgs(f, { maxIter: 2, tol: 1e-320 });
    expectSame(r, refLbfgs(make(false), { maxIter: 2, tol: 1e-320 }), f.calls);
    expect(seen.slice(0, 2)).toEqual([1e-300, -1]);
  });
});

describe("cubic interpolation with a zero discriminant", () => {
  it("disc = d1² − φ′(lo)φ′(hi) = 0 still takes the cubic's step (d2 = 0), not the midpoint", () => {
    // φ′(0) = −0 (g(0) = −1e-300, p = 1e-300: the product underflows), φ(1) = D/3, φ′(1) = D:
    // d1 = −0 + D − 3(0 − D/3)/(0 − 1) = 0, disc = 0 − (−0)·D = 0, d2 = 0, so the cubic's point is
    // c = 1 − 1·(D/D) = 0, clamped to α = 0.1 (θ = 1e-301); the midpoint would be α = 0.5.
    const G = 1e300; // G·1e-300 = 1 exactly, and 3·(1/3) = 1
    const D = G * 1e-300;
    const fHi = D / 3;
    expect(3 * fHi).toBe(D); // the construction's premise: d1 is exactly 0
    const seen: number[] = [];
    const make = (log: boolean) =>
      scripted(
        new Map([
          [0, [0, -1e-300]],
          [1e-300, [fHi, G]],
        ]),
        (t) => {
          if (log) seen.push(t);
          return [-1, 0];
        },
      );
    const f = make(true);
    const r = lbfgs(f, { maxIter: 1, tol: 1e-320 });
    expectSame(r, refLbfgs(make(false), { maxIter: 1, tol: 1e-320 }), f.calls);
    expect(seen[0]).toBe(0 + 0.1 * 1e-300);
  });
});

describe("cubic interpolation that overflows", () => {
  it("φ(0) = −1e308 and φ(1) = 1e308 (finite): the secant term overflows, so the search bisects", () => {
    // d1 = φ′(0) + φ′(1) − 3(φ(0) − φ(1))/(0 − 1) = −∞, d2 = ∞, c = 1 − (∞/∞) = NaN: the cubic has no
    // finite minimizer and the midpoint α = 0.5 (θ = 0.25) is tried, where J falls and J′ = 0.
    const make = () =>
      scripted(
        new Map([
          [0, [-1e308, -0.5]],
          [0.5, [1e308, 1]],
        ]),
        (t) => [-1.5e308, t === 0.25 ? 0 : -0.5],
      );
    const f = make();
    const r = lbfgs(f, { maxIter: 1 });
    expectSame(r, refLbfgs(make(), { maxIter: 1 }), f.calls);
    expect(Array.from(r.theta)).toEqual([0.25]);
    expect(f.calls).toBe(3);
  });
});

describe("stopping at maxIter with the gradient at tol", () => {
  it("the last update reaches the minimizer exactly: converged, with the tol reason (tol 0 included)", () => {
    // J = ½(θ − 0.5)²: p = −g/max(1, |g|) = 0.5 from 0, the exact minimizer; g = 0 after one step.
    for (const tol of [0, 1e-9]) {
      const f = poly([1], [0.5]);
      const r = lbfgs(f, { maxIter: 1, tol });
      expect(r.iterations).toBe(1);
      expect(r.converged).toBe(true);
      expect(r.stopReason).toBe(`gradient max-abs 0 ≤ tol ${tol}`);
      expect(r.lossHistory).toEqual([0.125, 0]);
    }
  });
});
