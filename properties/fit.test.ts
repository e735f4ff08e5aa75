/**
 * Contract tests of src/model/fit.ts: each case kills a mutant that survived
 * `npm run mutate` (docs/mutation.md maps them): the documented defaults (softmax, L-BFGS with tol 1e-9, ≤ 1000 iterations,
 * memory 20; gradient descent α = 0.1, 300 updates; λ = 0), what reaches the objective factory
 * and the optimizer (the wasm fast paths `minimize`/`descend` when offered, else lbfgs.ts /
 * gradientDescent.ts), the kernel choice ("wasm" by default for softmax, the reference kernel by
 * default for one-vs-rest), the continuation on separable data at λ = 0 restated from its
 * description, the divergence rules and their exact messages, −0 → +0, and every validation
 * message. Where the code is deterministic the comparison is bit for bit.
 */
import { describe, expect, it } from "vitest";
import { InputError, RunError } from "../src/errors.js";
import { wasmOvrObjective, wasmSoftmaxObjective } from "../src/kernels/objectiveWasm.js";
import type { Matrix } from "../src/linalg/matrix.js";
import {
  DEFAULTS,
  type FitOptions,
  type FitResult,
  fit,
  MODEL_KINDS,
  type ModelKind,
  OPTIMIZERS,
  referenceObjective,
  validateFitOptions,
} from "../src/model/fit.js";
import {
  type DifferentiableObjective,
  ovrObjective,
  softmaxObjective,
  type TrainingData,
} from "../src/model/objective.js";
import { gradientDescent } from "../src/optim/gradientDescent.js";
import { lbfgs } from "../src/optim/lbfgs.js";
import type { OptimizerResult } from "../src/optim/types.js";

const mat = (rows: number, cols: number, v: number[]): Matrix => ({ rows, cols, data: Float64Array.from(v) });

/**
 * 9 rows, 2 features, 3 classes; the point (1, 1) carries all three labels, so neither the
 * softmax problem nor any one-vs-rest sub-problem is separable.
 */
const X3 = mat(9, 2, [0, 0, 1, 0.5, 2, 1, 0, 2, 1, 1.5, 1, 1, 2, 2, 1, 1, 1, 1]);
const y3 = Int32Array.from([0, 0, 1, 2, 1, 0, 2, 1, 2]);
const data3: TrainingData = { X: X3.data, nSamples: 9, nFeatures: 2, y: y3, nClasses: 3 };

/** Separable on one feature (class 0 left of 0, class 1 right). */
const Xs = mat(4, 1, [-2, -1, 1, 2]);
const ys = Int32Array.from([0, 0, 1, 1]);

/**
 * An objective (size 4) whose L-BFGS fast path returns a canned result — `theta` and the fields
 * given, else J = 0.5, one iteration at J = 0.5, converged, "canned" — and counts its runs.
 */
function cannedLbfgs(result: Partial<Omit<OptimizerResult, "theta">> & { theta: number[] }) {
  let runs = 0;
  const obj = (): DifferentiableObjective => ({
    size: 4,
    evaluate: () => 0,
    minimize: () => {
      runs++;
      return {
        objective: 0.5,
        lossHistory: [0.5],
        iterations: 1,
        gradMaxAbs: 0,
        converged: true,
        stopReason: "canned",
        finite: true,
        ...result,
        theta: Float64Array.from(result.theta),
      };
    },
  });
  return { obj, runs: () => runs };
}
const dataS: TrainingData = { X: Xs.data, nSamples: 4, nFeatures: 1, y: ys, nClasses: 2 };

function fields(r: FitResult | OptimizerResult) {
  return {
    theta: Array.from(r.theta),
    objective: r.objective,
    lossHistory: r.lossHistory,
    iterations: r.iterations,
    converged: r.converged,
    gradMaxAbs: r.gradMaxAbs,
    stopReason: r.stopReason,
  };
}

function expectError(
  f: () => unknown,
  cls: typeof InputError | typeof RunError | RangeErrorConstructor,
  msg: string,
) {
  let caught: unknown;
  try {
    f();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(cls);
  expect((caught as Error).message).toBe(msg);
}

/** The naive strict-separation test of fit's documentation (softmax: the true class has the unique largest logit). */
function separatesNaive(model: ModelKind, d: TrainingData, theta: Float64Array): boolean {
  const w = d.nFeatures + 1;
  const logit = (i: number, k: number) => {
    let s = theta[k * w];
    for (let j = 0; j < d.nFeatures; j++) s += theta[k * w + 1 + j] * d.X[i * d.nFeatures + j];
    return s;
  };
  if (model === "softmax") {
    for (let i = 0; i < d.nSamples; i++)
      for (let k = 0; k < d.nClasses; k++)
        if (k !== d.y[i] && !(logit(i, d.y[i]) > logit(i, k))) return false;
    return true;
  }
  // One-vs-rest: some binary sub-problem has every row strictly on its side.
  for (let k = 0; k < d.nClasses; k++) {
    let ok = true;
    for (let i = 0; i < d.nSamples; i++) {
      const z = logit(i, k);
      if (!Number.isFinite(z) || (d.y[i] === k ? !(z > 0) : !(z < 0))) ok = false;
    }
    if (ok) return true;
  }
  return false;
}

/** fit restated for the reference kernel: L-BFGS, then (λ = 0, separable) L-BFGS with tol 0 to the cap. */
function restatedLbfgsFit(
  d: TrainingData,
  model: ModelKind,
  l2: number,
  tol: number,
  maxIter: number,
  memory: number,
) {
  const f = referenceObjective(d, l2, model);
  const a = lbfgs(f, { tol, maxIter, memory });
  if (!(l2 === 0 && separatesNaive(model, d, a.theta))) return { ...fields(a), separable: false };
  const b =
    a.iterations < maxIter
      ? lbfgs(f, { tol: 0, maxIter: maxIter - a.iterations, memory, theta0: a.theta })
      : a;
  return {
    ...fields(b),
    lossHistory: b === a ? a.lossHistory : [...a.lossHistory, ...b.lossHistory.slice(1)],
    iterations: b === a ? a.iterations : a.iterations + b.iterations,
    converged: false,
    stopReason:
      "the training data is linearly separable and λ = 0, so the optimum is at infinity (Θ grows without bound); pass --l2 > 0 for a finite optimum",
    separable: true,
  };
}

const strip = <T extends { separable: boolean }>(r: T) => {
  const { separable: _x, ...rest } = r;
  return rest;
};

describe("fit: defaults", () => {
  it("DEFAULTS, MODEL_KINDS and OPTIMIZERS are the documented values", () => {
    expect(DEFAULTS).toEqual({
      model: "softmax",
      optimizer: "lbfgs",
      l2: 0,
      alpha: 0.1,
      gdIterations: 300,
      lbfgsIterations: 1000,
      tol: 1e-9,
      memory: 20,
    });
    expect(MODEL_KINDS).toEqual(["softmax", "ovr"]);
    expect(OPTIMIZERS).toEqual(["gd", "lbfgs"]);
  });

  it("no options on the reference kernel = softmax, λ 0, L-BFGS tol 1e-9, memory 20 (bit for bit)", () => {
    const r = fit(X3, y3, 3, { kernel: "js" });
    const w = restatedLbfgsFit(data3, "softmax", 0, 1e-9, 1000, 20);
    expect(w.separable).toBe(false);
    expect(fields(r)).toEqual(strip(w));
    expect([r.model, r.optimizer, r.l2, r.nClasses, r.nFeatures]).toEqual(["softmax", "lbfgs", 0, 3, 2]);
    // The memory default matters on this problem (more than 20 iterations): 10 takes another path.
    expect(r.iterations).toBeGreaterThan(20);
    expect(fields(fit(X3, y3, 3, { kernel: "js", memory: 10 }))).not.toEqual(fields(r));
    expect(r.converged).toBe(true);
  });

  it("gradient descent by default: α = 0.1, 300 updates, Θ₀ = 0 (bit for bit)", () => {
    const r = fit(X3, y3, 3, { kernel: "js", optimizer: "gd" });
    const w = gradientDescent(softmaxObjective(data3, 0), { alpha: 0.1, maxIter: 300 });
    expect(fields(r)).toEqual(fields(w));
    expect(r.iterations).toBe(300);
    expect(r.optimizer).toBe("gd");
    const w2 = gradientDescent(softmaxObjective(data3, 0.5), { alpha: 0.25, maxIter: 7 });
    expect(
      fields(fit(X3, y3, 3, { kernel: "js", optimizer: "gd", l2: 0.5, alpha: 0.25, maxIter: 7 })),
    ).toEqual(fields(w2));
  });

  it("L-BFGS runs to 1000 iterations by default on separable data at λ = 0", () => {
    const r = fit(Xs, ys, 2, { kernel: "js" });
    const w = restatedLbfgsFit(dataS, "softmax", 0, 1e-9, 1000, 20);
    expect(w.separable).toBe(true);
    expect(fields(r)).toEqual(strip(w));
    expect(r.iterations).toBe(1000);
    expect(r.lossHistory.length).toBe(1001);
  });
});

describe("fit: what reaches the objective and the optimizer", () => {
  it("the objective factory gets the data, λ and the model; without fast paths lbfgs.ts / gradientDescent.ts run", () => {
    for (const model of MODEL_KINDS) {
      const calls: [TrainingData, number, ModelKind][] = [];
      const factory = (d: TrainingData, l2: number, m: ModelKind) => {
        calls.push([d, l2, m]);
        return referenceObjective(d, l2, m);
      };
      const r = fit(X3, y3, 3, { objective: factory, model, l2: 0.03, tol: 1e-7, maxIter: 9, memory: 3 });
      expect(calls.length).toBe(1);
      const [d, l2, m] = calls[0];
      expect(d).toEqual({ X: X3.data, nSamples: 9, nFeatures: 2, y: y3, nClasses: 3 });
      expect(d.X).toBe(X3.data);
      expect(d.y).toBe(y3);
      expect([l2, m]).toEqual([0.03, model]);
      const w = lbfgs(referenceObjective(data3, 0.03, model), { tol: 1e-7, maxIter: 9, memory: 3 });
      expect(fields(r)).toEqual(fields(w));
      expect(r.model).toBe(model);
      expect(r.l2).toBe(0.03);
      const g = fit(X3, y3, 3, { objective: factory, model, optimizer: "gd", alpha: 0.3, maxIter: 5 });
      expect(fields(g)).toEqual(
        fields(gradientDescent(referenceObjective(data3, 0, model), { alpha: 0.3, maxIter: 5 })),
      );
    }
  });

  it("the fast paths: minimize(tol, maxIter, memory) and descend(α, maxIter), result passed through", () => {
    const seen: unknown[] = [];
    const canned = (stopReason: string): OptimizerResult => ({
      theta: Float64Array.from([-0, 1, -0, -2, 0, 3]),
      objective: 0.75,
      lossHistory: [0.75],
      iterations: 4,
      gradMaxAbs: 0.125,
      converged: true,
      stopReason,
      finite: true,
    });
    const obj = (): DifferentiableObjective => ({
      size: 6,
      evaluate: () => {
        throw new Error("evaluate must not be called when a fast path exists");
      },
      minimize: (o) => {
        seen.push(["minimize", o]);
        return canned("via minimize");
      },
      descend: (alpha, maxIter) => {
        seen.push(["descend", alpha, maxIter]);
        return canned("via descend");
      },
    });
    // λ = 0.5 (not separable by construction: the canned Θ is returned as is).
    const a = fit(mat(3, 1, [0, 1, 2]), Int32Array.from([0, 1, 1]), 2, {
      objective: obj,
      l2: 0.5,
      tol: 1e-5,
      maxIter: 17,
      memory: 4,
    });
    expect(seen).toEqual([["minimize", { tol: 1e-5, maxIter: 17, memory: 4 }]]);
    expect(a.stopReason).toBe("via minimize");
    expect([a.objective, a.iterations, a.gradMaxAbs, a.converged]).toEqual([0.75, 4, 0.125, true]);
    expect(a.lossHistory).toEqual([0.75]);
    // −0 → +0 in the returned Θ.
    expect(Array.from(a.theta).map((v) => Object.is(v, -0))).toEqual([
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
    expect(Array.from(a.theta)).toEqual([0, 1, 0, -2, 0, 3]);
    seen.length = 0;
    const b = fit(mat(3, 1, [0, 1, 2]), Int32Array.from([0, 1, 1]), 2, {
      objective: obj,
      optimizer: "gd",
      alpha: 0.5,
      maxIter: 6,
    });
    expect(seen).toEqual([["descend", 0.5, 6]]);
    expect(b.stopReason).toBe("via descend");
    expect(Object.is(b.theta[0], 0)).toBe(true);
    seen.length = 0;
    fit(mat(3, 1, [0, 1, 2]), Int32Array.from([0, 1, 1]), 2, { objective: obj, optimizer: "gd" });
    expect(seen).toEqual([["descend", 0.1, 300]]);
    seen.length = 0;
    fit(mat(3, 1, [0, 1, 2]), Int32Array.from([0, 1, 1]), 2, { objective: obj, l2: 1 });
    expect(seen).toEqual([["minimize", { tol: 1e-9, maxIter: 1000, memory: 20 }]]);
  });
});

describe("fit: kernel choice", () => {
  it("softmax: wasm by default (its own L-BFGS), the reference with kernel js; the two differ in bits here", () => {
    const dflt = fit(X3, y3, 3, { l2: 0.01 });
    const wasm = wasmSoftmaxObjective(data3, 0.01).minimize({ tol: 1e-9, maxIter: 1000, memory: 20 });
    expect(fields(dflt)).toEqual(fields(wasm));
    expect(fields(fit(X3, y3, 3, { l2: 0.01, kernel: "wasm" }))).toEqual(fields(wasm));
    const js = fit(X3, y3, 3, { l2: 0.01, kernel: "js" });
    expect(fields(js)).toEqual(
      fields(lbfgs(softmaxObjective(data3, 0.01), { tol: 1e-9, maxIter: 1000, memory: 20 })),
    );
    expect(fields(js)).not.toEqual(fields(wasm));
    // Gradient descent on wasm (its own loop) by default, too.
    const gdW = wasmSoftmaxObjective(data3, 0.01).descend(0.1, 40);
    expect(fields(fit(X3, y3, 3, { l2: 0.01, optimizer: "gd", maxIter: 40 }))).toEqual(fields(gdW));
    // threads does not change the result.
    expect(fields(fit(X3, y3, 3, { l2: 0.01, threads: 2 }))).toEqual(fields(wasm));
  });

  it("one-vs-rest: the reference kernel by default and with js, wasm only when asked", () => {
    const ref = lbfgs(ovrObjective(data3, 0.01), { tol: 1e-9, maxIter: 1000, memory: 20 });
    expect(fields(fit(X3, y3, 3, { l2: 0.01, model: "ovr" }))).toEqual(fields(ref));
    expect(fields(fit(X3, y3, 3, { l2: 0.01, model: "ovr", kernel: "js" }))).toEqual(fields(ref));
    const wasm = wasmOvrObjective(data3, 0.01).minimize({ tol: 1e-9, maxIter: 1000, memory: 20 });
    const w = fit(X3, y3, 3, { l2: 0.01, model: "ovr", kernel: "wasm" });
    expect(fields(w)).toEqual(fields(wasm));
    expect(fields(w)).not.toEqual(fields(ref));
  });

  it("rejects an unknown kernel and a thread count that is not an integer ≥ 1", () => {
    expectError(
      () => fit(X3, y3, 3, { kernel: "gpu" as "js" }),
      InputError,
      '--kernel: expected one of wasm, js; got "gpu"',
    );
    for (const t of [0, -1, 1.5, Number.NaN]) {
      expectError(
        () => fit(X3, y3, 3, { threads: t }),
        InputError,
        `--threads: expected an integer ≥ 1; got ${t}`,
      );
      // Checked whatever the kernel.
      expectError(
        () => fit(X3, y3, 3, { threads: t, kernel: "js" }),
        InputError,
        `--threads: expected an integer ≥ 1; got ${t}`,
      );
    }
    expect(fit(X3, y3, 3, { threads: 1, l2: 0.1 }).converged).toBe(true);
  });
});

describe("fit: separable data at λ = 0", () => {
  const cases: [string, Matrix, Int32Array, number, TrainingData][] = [
    ["two classes on a line", Xs, ys, 2, dataS],
    [
      // Class 0 (x < 0) separates from the rest; classes 1 and 2 overlap (identical rows).
      "one-vs-rest: one separable sub-problem",
      mat(6, 1, [-3, -2, 1, 1, 2, 2]),
      Int32Array.from([0, 0, 1, 2, 1, 2]),
      3,
      {
        X: Float64Array.from([-3, -2, 1, 1, 2, 2]),
        nSamples: 6,
        nFeatures: 1,
        y: Int32Array.from([0, 0, 1, 2, 1, 2]),
        nClasses: 3,
      },
    ],
    ["overlapping (not separable)", X3, y3, 3, data3],
  ];
  for (const [name, X, y, K, d] of cases) {
    for (const model of MODEL_KINDS) {
      for (const maxIter of [3, 60]) {
        it(`${name}, ${model}, maxIter ${maxIter}: continued with tol 0 to the cap, reported unconverged`, () => {
          const r = fit(X, y, K, { kernel: "js", model, maxIter });
          const w = restatedLbfgsFit(d, model, 0, 1e-9, maxIter, 20);
          expect(fields(r)).toEqual(strip(w));
          // With λ > 0 there is no continuation.
          const p = fit(X, y, K, { kernel: "js", model, maxIter, l2: 0.01 });
          expect(fields(p)).toEqual(
            fields(lbfgs(referenceObjective(d, 0.01, model), { tol: 1e-9, maxIter, memory: 20 })),
          );
        });
      }
    }
  }

  it("the first case is separable for both models, the second for one-vs-rest only, the third for neither", () => {
    const s = (X: Matrix, y: Int32Array, K: number, model: ModelKind) =>
      fit(X, y, K, { kernel: "js", model, maxIter: 60 }).stopReason.startsWith(
        "the training data is linearly separable",
      );
    expect(cases.map(([, X, y, K]) => MODEL_KINDS.map((m) => s(X, y, K, m)))).toEqual([
      [true, true],
      [false, true],
      [false, false],
    ]);
  });

  it("gradient descent is never continued", () => {
    const r = fit(Xs, ys, 2, { kernel: "js", optimizer: "gd", maxIter: 20 });
    expect(fields(r)).toEqual(
      fields(gradientDescent(softmaxObjective(dataS, 0), { alpha: 0.1, maxIter: 20 })),
    );
    expect(r.stopReason).toBe("completed 20 iterations");
  });

  it("a custom objective whose L-BFGS Θ separates but already used every iteration is not re-run", () => {
    const c = cannedLbfgs({
      theta: [0, -1, 0, 1], // z₀ = −x, z₁ = x: separates
      lossHistory: [0.7, 0.6, 0.5],
      iterations: 2,
      gradMaxAbs: 0.01,
    });
    const r = fit(Xs, ys, 2, { objective: c.obj, maxIter: 2 });
    expect(c.runs()).toBe(1);
    expect([r.iterations, r.converged, r.lossHistory]).toEqual([2, false, [0.7, 0.6, 0.5]]);
    expect(r.stopReason).toMatch(/^the training data is linearly separable and λ = 0/);
    // With iterations left, the second run's history (without its first entry) is appended.
    const r2 = fit(Xs, ys, 2, { objective: c.obj, maxIter: 5 });
    expect(c.runs()).toBe(3);
    expect([r2.iterations, r2.lossHistory]).toEqual([4, [0.7, 0.6, 0.5, 0.6, 0.5]]);
  });

  it("a tie between the true class and another is not separation (softmax)", () => {
    // Θ with equal logits for both classes everywhere: a tie.
    const obj = cannedLbfgs({ theta: [0, 1, 0, 1], stopReason: "tied" }).obj;
    expect(fit(Xs, ys, 2, { objective: obj }).stopReason).toBe("tied");
    // One-vs-rest with a zero logit on a row: not strictly on its side.
    // class 0: z = x − 1 (0 at x = 1); class 1: 1 − x
    const z = cannedLbfgs({ theta: [-1, 1, 1, -1], stopReason: "zero" }).obj;
    expect(
      fit(mat(3, 1, [0, 1, 2]), Int32Array.from([1, 0, 0]), 2, { objective: z, model: "ovr" }).stopReason,
    ).toBe("zero");
  });
});

describe("fit: separation needs finite logits and a finite run", () => {
  const canned = (theta: number[], finite = true) =>
    cannedLbfgs({
      theta,
      lossHistory: [0.7, 0.5],
      gradMaxAbs: 0.01,
      stopReason: finite ? "canned" : "the objective is not finite at the starting point",
      finite,
    });

  it("one-vs-rest: ±∞ logits on every row (right signs) are not separation", () => {
    // Θ = [0, −∞; 0, +∞] on x = −2, −1, 1, 2: class 0's logits +∞, +∞, −∞, −∞ — signs right, not finite.
    const c = canned([0, Number.NEGATIVE_INFINITY, 0, Number.POSITIVE_INFINITY]);
    expect(fit(Xs, ys, 2, { objective: c.obj, model: "ovr" }).stopReason).toBe("canned");
    expect(c.runs()).toBe(1);
  });

  it("logits are θ_k0 + Σ_j θ_k,1+j · x_ij: each class's own bias, weights and row (d = 2)", () => {
    // Rows (x₁, x₂); the class is the sign of x₂ (x₁ is noise).
    const X = mat(6, 2, [3, -1, -2, -2, 1, -0.5, -3, 1, 2, 2, -1, 0.5]);
    const y = Int32Array.from([0, 0, 0, 1, 1, 1]);
    // z₀ = −x₂, z₁ = x₂ (biases 0, weights on x₂ only): separates for both models.
    for (const model of MODEL_KINDS) {
      expect(fit(X, y, 2, { objective: canned([0, 0, -1, 0, 0, 1]).obj, model }).stopReason).toMatch(
        /^the training data is linearly separable/,
      );
      // The same weights on x₁ instead: not separation.
      expect(fit(X, y, 2, { objective: canned([0, -1, 0, 0, 1, 0]).obj, model }).stopReason).toBe("canned");
    }
    // One-vs-rest with d = 1: class 1's own bias decides (z₁ = x − 0.5 separates; class 0's
    // z₀ = 5 does not).
    expect(fit(Xs, ys, 2, { objective: canned([5, 0, -0.5, 1]).obj, model: "ovr" }).stopReason).toMatch(
      /^the training data is linearly separable/,
    );
    expect(fit(Xs, ys, 2, { objective: canned([5, 0, 5, 1]).obj, model: "ovr" }).stopReason).toBe("canned");
  });

  it("a non-finite run is reported as diverged even when its Θ separates (no continuation)", () => {
    const c = canned([0, -1, 0, 1], false);
    expectError(
      () => fit(Xs, ys, 2, { objective: c.obj }),
      RunError,
      "fit diverged: the objective is not finite at the starting point; the features are too large for finite logits: rescale them (e.g. --standardize)",
    );
    expect(c.runs()).toBe(1);
  });
});

describe("fit: divergence", () => {
  it("gradient descent with too large an α: the objective rose above the start", () => {
    // α = 50 on this problem: J(Θ_T) far above J(0) = ln 3 but finite.
    let msg = "";
    try {
      fit(X3, y3, 3, { kernel: "js", optimizer: "gd", alpha: 50, maxIter: 3 });
    } catch (e) {
      expect(e).toBeInstanceOf(RunError);
      msg = (e as Error).message;
    }
    const w = gradientDescent(softmaxObjective(data3, 0), { alpha: 50, maxIter: 3 });
    expect(w.finite).toBe(true);
    expect(msg).toBe(
      `fit diverged: the final objective ${w.objective} is above the starting objective ${w.lossHistory[0]}; try a smaller --alpha (now 50)`,
    );
  });

  const descending = (o: Partial<OptimizerResult>) => (): DifferentiableObjective => ({
    size: 4,
    evaluate: () => 0,
    descend: () => ({
      theta: new Float64Array(4),
      objective: 1,
      lossHistory: [1],
      iterations: 1,
      gradMaxAbs: 0,
      converged: false,
      stopReason: "completed 1 iterations",
      finite: true,
      ...o,
    }),
  });

  it("the rise is judged with risesAboveStart's 1e-12 relative margin", () => {
    const ok = fit(Xs, ys, 2, {
      objective: descending({ objective: 2 + 2e-12, lossHistory: [2] }),
      optimizer: "gd",
    });
    expect(ok.objective).toBe(2 + 2e-12);
    expectError(
      () =>
        fit(Xs, ys, 2, {
          objective: descending({ objective: 2 + 8e-12, lossHistory: [2] }),
          optimizer: "gd",
          alpha: 0.2,
        }),
      RunError,
      `fit diverged: the final objective ${2 + 8e-12} is above the starting objective 2; try a smaller --alpha (now 0.2)`,
    );
    // An empty history is not judged.
    expect(
      fit(Xs, ys, 2, { objective: descending({ objective: 5, lossHistory: [] }), optimizer: "gd" }).objective,
    ).toBe(5);
  });

  it("a non-finite run keeps its own reason; the hint names the optimizer's remedy", () => {
    expectError(
      () =>
        fit(Xs, ys, 2, {
          objective: descending({
            objective: 9,
            lossHistory: [1],
            finite: false,
            stopReason: "the objective became non-finite at iteration 3",
          }),
          optimizer: "gd",
        }),
      RunError,
      "fit diverged: the objective became non-finite at iteration 3; try a smaller --alpha (now 0.1)",
    );
    const start: DifferentiableObjective = {
      size: 4,
      evaluate: (_t, g) => {
        if (g) g.fill(1);
        return Number.POSITIVE_INFINITY;
      },
    };
    expectError(
      () => fit(Xs, ys, 2, { objective: () => start }),
      RunError,
      "fit diverged: the objective is not finite at the starting point; the features are too large for finite logits: rescale them (e.g. --standardize)",
    );
    // L-BFGS results are not judged by the rise rule (a finite L-BFGS result whose J is above its first entry passes).
    const up = cannedLbfgs({ theta: [1, 0, 0, 0], objective: 3, lossHistory: [1, 3], stopReason: "up" }).obj;
    expect(fit(Xs, ys, 2, { objective: up, l2: 0.1 }).stopReason).toBe("up");
  });
});

describe("fit: validation", () => {
  const bad: [FitOptions, string][] = [
    [{ model: "tree" as ModelKind }, '--model: expected one of softmax, ovr; got "tree"'],
    [{ optimizer: "adam" as "gd" }, '--optimizer: expected one of gd, lbfgs; got "adam"'],
    [{ l2: -1 }, "--l2: expected a finite number ≥ 0; got -1"],
    [{ l2: Number.NaN }, "--l2: expected a finite number ≥ 0; got NaN"],
    [{ l2: Number.POSITIVE_INFINITY }, "--l2: expected a finite number ≥ 0; got Infinity"],
    [{ alpha: 0 }, "--alpha: expected a finite number > 0; got 0"],
    [{ alpha: -0.5 }, "--alpha: expected a finite number > 0; got -0.5"],
    [{ alpha: Number.NaN }, "--alpha: expected a finite number > 0; got NaN"],
    [{ alpha: Number.POSITIVE_INFINITY }, "--alpha: expected a finite number > 0; got Infinity"],
    [{ tol: 0 }, "--tol: expected a finite number > 0; got 0"],
    [{ tol: Number.NaN }, "--tol: expected a finite number > 0; got NaN"],
    [{ tol: Number.POSITIVE_INFINITY }, "--tol: expected a finite number > 0; got Infinity"],
    [{ maxIter: 0 }, "--iters: expected an integer ≥ 1; got 0"],
    [{ maxIter: 2.5 }, "--iters: expected an integer ≥ 1; got 2.5"],
    [{ maxIter: -3 }, "--iters: expected an integer ≥ 1; got -3"],
    [{ memory: 0 }, "memory: expected an integer ≥ 1; got 0"],
    [{ memory: 1.5 }, "memory: expected an integer ≥ 1; got 1.5"],
  ];
  it("every bad option is an InputError naming the flag, before any data check", () => {
    for (const [o, msg] of bad) {
      expectError(() => fit(X3, y3, 3, { kernel: "js", ...o }), InputError, msg);
      // Options are checked before the training data.
      expectError(() => fit(X3, y3, 1, { kernel: "js", ...o }), InputError, msg);
    }
  });

  it("the smallest valid values pass (l2 0, maxIter 1, memory 1, tiny α and tol)", () => {
    const r = fit(X3, y3, 3, { kernel: "js", l2: 0, maxIter: 1, memory: 1, tol: 1e-300 });
    expect(r.iterations).toBe(1);
    expect(fit(X3, y3, 3, { kernel: "js", optimizer: "gd", alpha: 1e-300, maxIter: 1 }).iterations).toBe(1);
    expect(() =>
      validateFitOptions({
        model: "ovr",
        optimizer: "gd",
        l2: 0,
        alpha: 5e-324,
        tol: 5e-324,
        memory: 1,
        maxIter: 1,
      }),
    ).not.toThrow();
  });

  it("training data: K ≥ 2 integer, ≥ 1 row, one label per row, finite features, labels in range", () => {
    expectError(() => fit(X3, y3, 1), InputError, "fit: training data must have at least 2 classes; got 1");
    expectError(
      () => fit(X3, y3, 2.5),
      InputError,
      "fit: training data must have at least 2 classes; got 2.5",
    );
    expectError(
      () => fit(mat(0, 2, []), new Int32Array(0), 2),
      InputError,
      "fit: expected at least 1 training row; got 0",
    );
    expectError(
      () => fit(X3, y3.subarray(0, 8), 3),
      RangeError,
      "fit: y must have one label per row of X, that is 9; got 8",
    );
    for (const [i, v] of [
      [0, Number.NaN],
      [5, Number.POSITIVE_INFINITY],
      [17, Number.NEGATIVE_INFINITY],
    ]) {
      const X = mat(9, 2, Array.from(X3.data));
      X.data[i] = v;
      expectError(
        () => fit(X, y3, 3),
        InputError,
        `fit: features must be finite; got ${v} at row ${Math.floor(i / 2)}, column ${i % 2}`,
      );
    }
    for (const [i, v] of [
      [0, -1],
      [8, 3],
      [4, 7],
    ]) {
      const y = Int32Array.from(y3);
      y[i] = v;
      expectError(() => fit(X3, y, 3), InputError, `fit: labels must be integers 0..2; got ${v} at row ${i}`);
    }
    // Label K − 1 and 0 are in range; a single row is enough.
    expect(fit(mat(1, 1, [0.5]), Int32Array.from([1]), 2, { kernel: "js", l2: 1 }).converged).toBe(true);
  });
});
