/**
 * Properties of the WebAssembly SIMD kernels (src/kernels, assembly/) against the
 * plain-TypeScript reference path (src/kernels/objective.ts, src/optim/gradientDescent.ts), which they must
 * reproduce: vectorized exp vs Math.exp, J and ∇J vs the reference kernel, gradient vs finite
 * differences, the lesson's gradient descent (iterates, history, divergence rules), and `fit`
 * choosing the kernel.
 */
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import {
  type WasmObjective,
  wasmObjectiveBytes,
  wasmOvrObjective,
  wasmSoftmaxObjective,
  withWasmObjective,
} from "../src/kernels/objectiveWasm.js";
import {
  heapBase,
  instantiate,
  MAX_WASM_BYTES,
  STATIC_DATA_BYTES,
  sharedMemory,
  wasmUnavailableReason,
} from "../src/kernels/wasmModule.js";
import { fromRows } from "../src/linalg/matrix.js";
import { fit } from "../src/model/fit.js";
import { ovrObjective, softmaxObjective, type TrainingData } from "../src/model/objective.js";
import { gradientDescent } from "../src/optim/gradientDescent.js";
import { lbfgs } from "../src/optim/lbfgs.js";
import type { OptimizerResult } from "../src/optim/types.js";
import { type Problem, problemArb, problemThetaArb } from "./_shared/arbitraries.js";
import { centralDifferences } from "./_shared/centralDifferences.js";
import { expectClose } from "./_shared/expectClose.js";

const data = (p: Problem): TrainingData => ({
  X: p.X,
  nSamples: p.m,
  nFeatures: p.d,
  y: p.y,
  nClasses: p.K,
});

/** Distance in units in the last place between two doubles of the same sign. */
function ulps(a: number, b: number): number {
  const buf = new Float64Array([a, b]);
  const [x, y] = new BigInt64Array(buf.buffer);
  const d = x - y;
  return Number(d < 0n ? -d : d);
}

describe("wasm kernels", () => {
  it("are available (the build step `npm run build:wasm` ran and this Node has SIMD)", () => {
    expect(wasmUnavailableReason()).toBeNull();
  });

  describe("vectorized exp for x ≤ 0", () => {
    const n = 64;
    const memory = sharedMemory(1);
    const ex = instantiate(memory);
    const src = 1024;
    const dst = src + n * 8;
    const run = (xs: number[]): number[] => {
      const f = new Float64Array(memory.buffer);
      f.fill(0, src / 8, src / 8 + n);
      f.set(xs, src / 8);
      ex.expNegArray(src, dst, n);
      return Array.from(f.subarray(dst / 8, dst / 8 + xs.length));
    };

    // The kernel is fdlibm's exp (V8's Math.exp) vectorized, so it should agree bit for bit; the
    // contract is ≤ 1 ulp. Arguments cover the whole range down to total underflow (−745.13).
    test.prop([fc.array(fc.double({ min: -800, max: 0, noNaN: true }), { minLength: 1, maxLength: n })])(
      "is within 1 ulp of Math.exp (over the full range, subnormals included)",
      (xs) => {
        const got = run(xs);
        xs.forEach((x, i) => {
          expect(ulps(got[i], Math.exp(x)), `exp(${x})`).toBeLessThanOrEqual(1);
        });
      },
    );

    it("handles the edges: 0, −0, tiny, ±½ln2 boundary, underflow, −∞, NaN", () => {
      const xs = [
        0,
        -0,
        -1e-300,
        -(2 ** -28),
        -0.34657359027997264,
        -0.3465735912322998,
        -708.4,
        -745.1332191019411,
      ];
      xs.push(-745.14, -1e308, Number.NEGATIVE_INFINITY);
      const got = run(xs);
      xs.forEach((x, i) => {
        expect(Object.is(got[i], Math.exp(x)), `exp(${x}) = ${got[i]} vs ${Math.exp(x)}`).toBe(true);
      });
      expect(run([Number.NaN])[0]).toBeNaN();
    });
  });

  describe("pooled objectives (withWasmObjective)", () => {
    // A borrowed memory is zeroed up to what earlier objectives touched, so an objective over it
    // must behave exactly as one over a fresh memory — bit for bit, whatever ran on it before
    // (bigger or smaller problems, odd row counts whose padding lane must read as 0, GD or L-BFGS).
    const runs = fc.array(
      fc.record({
        p: problemArb({ maxM: 60, maxD: 5 }),
        kind: fc.constantFrom("softmax" as const, "ovr" as const),
        l2: fc.constantFrom(0, 1e-3, 0.1),
        gd: fc.boolean(),
      }),
      { minLength: 2, maxLength: 5 },
    );
    test.prop([runs])("give the same results as fresh ones, after any earlier problems", (seq) => {
      for (const { p, kind, l2, gd } of seq) {
        const go = (f: WasmObjective): OptimizerResult =>
          gd ? f.descend(0.1, 20) : f.minimize({ maxIter: 30, memory: 5 });
        const pooled = withWasmObjective(kind, data(p), l2, {}, go);
        const fresh = go((kind === "softmax" ? wasmSoftmaxObjective : wasmOvrObjective)(data(p), l2));
        expect(pooled).toEqual(fresh);
        expect(Array.from(pooled.theta)).toEqual(Array.from(fresh.theta));
      }
    });

    test.prop([problemThetaArb({ maxM: 40, maxD: 4 }), problemArb({ maxM: 80, maxD: 5 })])(
      "a nested use gets its own memory: the outer objective's data is untouched",
      ({ p, theta, l2 }, q) => {
        // Were the inner objective lent the outer one's memory, its repacked data would overwrite
        // the outer's and the outer's J afterwards would be q's, not p's.
        const want = wasmSoftmaxObjective(data(p), l2).evaluate(theta, null);
        const got = withWasmObjective("softmax", data(p), l2, {}, (outer) => {
          withWasmObjective("softmax", data(q), 0, {}, (inner) => inner.minimize({ maxIter: 10 }));
          return outer.evaluate(theta, null);
        });
        expect(got).toBe(want);
      },
    );
  });

  const kernels = {
    softmax: { wasm: wasmSoftmaxObjective, js: softmaxObjective },
    ovr: { wasm: wasmOvrObjective, js: ovrObjective },
  } as const;

  describe.each(["softmax", "ovr"] as const)("%s objective", (kind) => {
    const { wasm: wasmObj } = kernels[kind];
    // The wasm kernel does each row's arithmetic exactly as the reference (same operations in the
    // same order, bit-identical exp), so only the order of the m-term sums differs (two lanes,
    // then chunks), plus the log terms (log Σ_k e^z, or OvR's log1p(e^−|z|)) taken as the log of a
    // product — each factor rounds by ≤ ε, i.e. ≤ ε absolute per row and class in the loss. Reordering a sum of m terms
    // changes it by ≤ 2(m−1)·ε·Σ|terms|; with m ≤ 300, |x| ≤ 5, |r| ≤ 1, |θ| ≤ 3 the per-row terms
    // are ≤ 5 (gradient) and ≤ log K + 2·3·21 (loss), so after dividing by m the difference is
    // ≤ 600·ε·130 ≈ 2e-11 in the worst case and ~1e-14 in practice. A wrong index or a missing
    // row would be off by ≥ 1e-3.
    test.prop([problemThetaArb({ maxM: 300, maxD: 5 })])(
      "J and ∇J match the reference kernel",
      ({ p, theta, l2 }) => {
        const w = wasmSoftmaxObjective(data(p), l2);
        const r = softmaxObjective(data(p), l2);
        const gw = new Float64Array(w.size);
        const gr = new Float64Array(r.size);
        const Jw = w.evaluate(theta, gw);
        const Jr = r.evaluate(theta, gr);
        expectClose(Jw, Jr, { atol: 2e-11, rtol: 1e-13 }, "J");
        expectClose(gw, gr, { atol: 2e-11, rtol: 1e-13 }, "gradient");
        // evaluate(θ, null) returns the same J.
        expect(w.evaluate(theta, null)).toBe(Jw);
      },
    );

    test.prop([problemThetaArb({ maxK: 5 })])(
      "analytic gradient = central finite differences",
      ({ p, theta, l2 }) => {
        const f = wasmObj(data(p), l2);
        const g = new Float64Array(f.size);
        f.evaluate(theta, g);
        // The same derivation as for the reference (properties/objective.test.ts): h = 1e-5,
        // truncation ≤ h²/6·216 ≈ 3.6e-9, rounding ≤ ε·|J|/h ≲ 6e-9.
        const fd = centralDifferences(f, theta, 1e-5);
        expectClose(g, fd, { atol: 2e-8, rtol: 1e-7 }, "gradient");
      },
    );
  });

  describe("overflow", () => {
    it("is +∞ (not NaN) when logits overflow, like the reference (both models)", () => {
      const X = Float64Array.from([1e308, -1e308, 1e308, 1e308, 0.5, 2]);
      const y = Int32Array.from([0, 1, 2]);
      const d = { X, nSamples: 3, nFeatures: 2, y, nClasses: 3 };
      const theta = Float64Array.from([0, 10, 10, 0, -10, 10, 1, 1, 1]);
      expect(wasmSoftmaxObjective(d, 0).evaluate(theta, null)).toBe(Number.POSITIVE_INFINITY);
      expect(softmaxObjective(d, 0).evaluate(theta, null)).toBe(Number.POSITIVE_INFINITY);
      expect(wasmOvrObjective(d, 0).evaluate(theta, null)).toBe(ovrObjective(d, 0).evaluate(theta, null));
    });
  });

  describe("gradient descent inside wasm", () => {
    // Each iterate differs from the reference's by the J/∇J rounding above (≤ ~1e-14 in practice)
    // times α; over 40 iterations of a contraction-or-mild-expansion map (α·L ≤ 0.1·(½·126) here)
    // that stays well below 1e-10 — the numpy parity target for Θ.
    test.prop([problemArb({ maxM: 120 }), fc.double({ min: 0.01, max: 0.5, noNaN: true })])(
      "matches the reference gradientDescent: Θ, lossHistory, flags",
      (p, alpha) => {
        const w = wasmSoftmaxObjective(data(p), 0).descend(alpha, 40);
        const r = gradientDescent(softmaxObjective(data(p), 0), { alpha, maxIter: 40 });
        expect(w.finite).toBe(r.finite);
        expect(w.iterations).toBe(r.iterations);
        expect(w.lossHistory.length).toBe(r.lossHistory.length);
        if (r.finite) {
          expectClose(w.theta, r.theta, { atol: 1e-10 }, "theta");
          expectClose(w.lossHistory, r.lossHistory, { atol: 1e-10 }, "lossHistory");
          expectClose(w.objective, r.objective, { atol: 1e-10 }, "objective");
          expect(w.stopReason).toBe(r.stopReason);
        }
      },
    );

    it("reports divergence like the reference (huge α: logits overflow after one step)", () => {
      const X = Float64Array.from([1e100, 2, -3e100, 4, 5, -6e100, 7, 8]);
      const d = { X, nSamples: 4, nFeatures: 2, y: Int32Array.from([0, 1, 0, 1]), nClasses: 2 };
      const w = wasmSoftmaxObjective(d, 0).descend(1e250, 50);
      const r = gradientDescent(softmaxObjective(d, 0), { alpha: 1e250, maxIter: 50 });
      expect(r.finite).toBe(false);
      expect(w.finite).toBe(false);
      expect(w.iterations).toBe(r.iterations);
      expect(w.stopReason).toBe(r.stopReason);
      expect(w.lossHistory.length).toBe(r.lossHistory.length);
    });
  });

  describe("L-BFGS inside wasm", () => {
    const expectSameRun = (a: OptimizerResult, b: OptimizerResult) => {
      expect(Array.from(a.theta)).toEqual(Array.from(b.theta));
      expect(a.lossHistory).toEqual(b.lossHistory);
      expect(a.iterations).toBe(b.iterations);
      expect(a.objective).toBe(b.objective);
      expect(a.gradMaxAbs).toBe(b.gradMaxAbs);
      expect(a.converged).toBe(b.converged);
      expect(a.stopReason).toBe(b.stopReason);
      expect(a.finite).toBe(b.finite);
    };
    // The wasm optimizer is a line-for-line port of lbfgs.ts; given the same objective values
    // (here: the wasm objective's own evaluate) every iterate must be the same double — exact
    // equality, no tolerance. λ = 0 on small problems is often separable, which exercises the
    // maxIter and "line search found no acceptable step" exits too.
    test.prop([
      problemArb({ maxM: 60 }),
      fc.constantFrom(0, 1e-3, 0.1),
      fc.integer({ min: 1, max: 12 }),
      fc.constantFrom(wasmSoftmaxObjective, wasmOvrObjective),
    ])(
      "is bit-identical to lbfgs.ts on the same objective (iterates, history, stop reason)",
      (p, l2, memory, make) => {
        const f = make(data(p), l2);
        const opts = { tol: 1e-9, maxIter: 60, memory };
        expectSameRun(f.minimize(opts), lbfgs(f, opts));
      },
    );

    it("continues from theta0 like lbfgs.ts", () => {
      const p = {
        X: Float64Array.from([0, 1, 2, 3, 4, 5]),
        m: 6,
        d: 1,
        y: Int32Array.from([0, 0, 1, 0, 1, 1]),
        K: 2,
      };
      const f = wasmSoftmaxObjective(data(p), 0.01);
      const theta0 = Float64Array.from([0.5, -0.25, -0.5, 0.25]);
      expectSameRun(f.minimize({ theta0, maxIter: 3 }), lbfgs(f, { theta0, maxIter: 3 }));
    });
  });

  describe("fit", () => {
    it('uses the wasm kernel (softmax by default) and agrees with kernel: "js" (gd and lbfgs)', () => {
      const rows = [
        [0.1, 1.2],
        [1.5, -0.3],
        [-1, 0.4],
        [2.2, 2.1],
        [-0.7, -1.9],
        [0.3, 0.8],
        [1.1, 1.4],
      ];
      const X = fromRows(rows);
      const y = Int32Array.from([0, 1, 2, 1, 0, 2, 1]);
      const gdW = fit(X, y, 3, { optimizer: "gd" });
      const gdJ = fit(X, y, 3, { optimizer: "gd", kernel: "js" });
      // 300 gradient steps; see "gradient descent inside wasm".
      expectClose(gdW.theta, gdJ.theta, { atol: 1e-10 }, "gd theta");
      // L-BFGS to tol 1e-9 at λ = 0.1 (J is 0.1-strongly convex): each answer is within
      // ‖g‖₂/μ ≤ 3·1e-9/0.1 = 3e-8 of the optimum, so the two within 6e-8.
      const lbW = fit(X, y, 3, { l2: 0.1 });
      const lbJ = fit(X, y, 3, { l2: 0.1, kernel: "js" });
      expect(lbW.converged && lbJ.converged).toBe(true);
      expectClose(lbW.theta, lbJ.theta, { atol: 6e-8 }, "lbfgs theta");
      // The same for one-vs-rest (each binary objective is also 0.1-strongly convex).
      const ovrW = fit(X, y, 3, { model: "ovr", l2: 0.1, kernel: "wasm" });
      const ovrJ = fit(X, y, 3, { model: "ovr", l2: 0.1, kernel: "js" });
      expect(ovrW.converged && ovrJ.converged).toBe(true);
      expectClose(ovrW.theta, ovrJ.theta, { atol: 6e-8 }, "ovr lbfgs theta");
      const ovrGdW = fit(X, y, 3, { model: "ovr", optimizer: "gd", kernel: "wasm" });
      const ovrGdJ = fit(X, y, 3, { model: "ovr", optimizer: "gd", kernel: "js" });
      expectClose(ovrGdW.theta, ovrGdJ.theta, { atol: 1e-10 }, "ovr gd theta");
    });

    test.prop(
      [
        problemArb({ maxM: 5000, maxD: 6 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 300 }),
      ],
      {
        numRuns: 30,
      },
    )(
      "the memory an objective and its optimizers use never exceeds wasmObjectiveBytes (the kernel choice relies on it)",
      (p, M, maxIter) => {
        const f = wasmSoftmaxObjective(data(p), 0.01);
        f.minimize({ memory: M, maxIter });
        f.descend(0.1, maxIter);
        // The bound keeps 1 MiB for the module's static data; its layout part is checked on its
        // own (with the static data's real size), page-rounded as memory grows.
        const layout =
          wasmObjectiveBytes(p.m, p.d, p.K, { threads: f.threads, memory: M, maxIter }) - STATIC_DATA_BYTES;
        expect(heapBase()).toBeLessThanOrEqual(STATIC_DATA_BYTES);
        expect(f.memoryBytes).toBeLessThanOrEqual(Math.ceil((heapBase() + layout) / 65536) * 65536);
      },
    );

    it("the bound counts the loss history reserved when the objective is made (found by FC_SEED=2105428915)", () => {
      // 2373 rows × 2 features × 3 classes with a 1-iteration optimizer: the layout ends within
      // the 301-double history reserve of a page boundary; the bound once left the reserve out
      // (counting only maxIter + 1 doubles) and came out one page short.
      const m = 2373;
      const X = new Float64Array(m * 2);
      const y = new Int32Array(m);
      y[1] = 1;
      y[2] = 2;
      const f = wasmSoftmaxObjective({ X, y, nSamples: m, nFeatures: 2, nClasses: 3 }, 0.01);
      f.minimize({ memory: 1, maxIter: 1 });
      f.descend(0.1, 1);
      const layout =
        wasmObjectiveBytes(m, 2, 3, { threads: f.threads, memory: 1, maxIter: 1 }) - STATIC_DATA_BYTES;
      expect(f.memoryBytes).toBe(131072);
      expect(f.memoryBytes).toBeLessThanOrEqual(Math.ceil((heapBase() + layout) / 65536) * 65536);
    });

    it("a problem beyond the wasm kernel's 2 GiB runs on the reference kernel, or is refused when wasm is asked for", () => {
      const X = fromRows([
        [0, 1],
        [1, 0],
        [2, 1],
        [0, 2],
      ]);
      const y = Int32Array.from([0, 1, 1, 0]);
      // An L-BFGS memory of 2^25 pairs of 6 parameters: 3.2 GB of wasm work space (the reference
      // optimizer allocates its pairs as it goes, so it needs a few).
      const memory = 2 ** 25;
      expect(wasmObjectiveBytes(4, 2, 2, { threads: 1, memory })).toBeGreaterThan(MAX_WASM_BYTES);
      const auto = fit(X, y, 2, { l2: 0.1, memory });
      const js = fit(X, y, 2, { l2: 0.1, memory, kernel: "js" });
      expect(auto.theta).toEqual(js.theta);
      expect(auto.lossHistory).toEqual(js.lossHistory);
      expect(() => fit(X, y, 2, { l2: 0.1, memory, kernel: "wasm" })).toThrow(
        /^--kernel wasm: expected a problem that fits the wasm kernel's 2 GiB of memory; got 4 rows × 2 features × 2 classes, which needs 3\.\d\d GiB — use --kernel js$/,
      );
    });

    it("rejects a bad thread count", () => {
      const X = fromRows([[0], [1]]);
      expect(() => fit(X, Int32Array.from([0, 1]), 2, { threads: 0 })).toThrow(
        "--threads: expected an integer ≥ 1; got 0",
      );
    });
  });
});
