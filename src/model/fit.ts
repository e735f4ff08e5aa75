/**
 * Fitting softmax (multinomial) or one-vs-rest logistic regression: the validated API over the
 * objectives (objective.ts) and the optimizers (src/optim/: gradient descent, L-BFGS).
 */
import { InputError, RunError } from "../errors.js";
import { wasmObjectiveBytes, withWasmObjective } from "../kernels/objectiveWasm.js";
import { MAX_WASM_BYTES, wasmUnavailableReason } from "../kernels/wasmModule.js";
import type { Matrix } from "../linalg/matrix.js";
import { gradientDescent, risesAboveStart } from "../optim/gradientDescent.js";
import { lbfgs } from "../optim/lbfgs.js";
import type { LbfgsOptions, OptimizerResult } from "../optim/types.js";
import {
  type DifferentiableObjective,
  ovrObjective,
  softmaxObjective,
  type TrainingData,
} from "./objective.js";

export type ModelKind = "softmax" | "ovr";
export type OptimizerName = "gd" | "lbfgs";
export const MODEL_KINDS: readonly ModelKind[] = ["softmax", "ovr"];
export const OPTIMIZERS: readonly OptimizerName[] = ["gd", "lbfgs"];

/** Defaults: the lesson's gradient descent (α = 0.1, 300 iterations) and L-BFGS (tol 1e-9, 1000). */
export const DEFAULTS = {
  model: "softmax" as ModelKind,
  optimizer: "lbfgs" as OptimizerName,
  l2: 0,
  alpha: 0.1,
  gdIterations: 300,
  lbfgsIterations: 1000,
  tol: 1e-9,
  memory: 20,
};

export interface FitOptions {
  /** "softmax" (multinomial, default) or "ovr" (one-vs-rest). */
  model?: ModelKind;
  /** L2 strength λ ≥ 0 on the weights, bias excluded (default 0). scikit-learn's C = 1/(λ·m). */
  l2?: number;
  /** "lbfgs" (default: converges to the optimum) or "gd" (the lesson's fixed-step descent). */
  optimizer?: OptimizerName;
  /** Gradient-descent step size α > 0 (default 0.1). */
  alpha?: number;
  /** Iterations: gradient-descent updates (default 300) or L-BFGS's maximum (default 1000). */
  maxIter?: number;
  /** L-BFGS gradient tolerance on max-abs (default 1e-9). */
  tol?: number;
  /** L-BFGS memory (default 20: on digits-sized problems 134 iterations instead of 152 at 10). */
  memory?: number;
  /**
   * Builds the objective (default: the kernel chosen by `kernel` below). Another kernel with
   * the same contract can be passed here.
   */
  objective?: (data: TrainingData, l2: number, model: ModelKind) => DifferentiableObjective;
  /**
   * Kernel when `objective` is not given: "wasm" (WebAssembly SIMD; the default for softmax where
   * available) or "js" (the plain-TypeScript reference; the default for one-vs-rest).
   */
  kernel?: "wasm" | "js";
  /** Threads for the wasm kernel (default: fastest for the problem size); results do not depend on it. */
  threads?: number;
}

/** A fitted linear model: Θ is K×(d+1), row-major, bias first. */
export interface LinearModel {
  model: ModelKind;
  nClasses: number;
  nFeatures: number;
  theta: Float64Array;
}

export interface FitResult extends LinearModel {
  optimizer: OptimizerName;
  l2: number;
  objective: number;
  lossHistory: number[];
  iterations: number;
  converged: boolean;
  gradMaxAbs: number;
  stopReason: string;
}

/** The reference objective for a model kind. */
export function referenceObjective(
  data: TrainingData,
  l2: number,
  model: ModelKind,
): DifferentiableObjective {
  return model === "softmax" ? softmaxObjective(data, l2) : ovrObjective(data, l2);
}

/** L-BFGS: inside wasm when the objective offers it (`minimize`, same iterates), else src/optim/lbfgs.ts. */
function runLbfgs(f: DifferentiableObjective, options: LbfgsOptions): OptimizerResult {
  return f.minimize ? f.minimize(options) : lbfgs(f, options);
}

/** Runs an optimization with an objective, for as long as the objective is needed. */
type WithObjective = <T>(
  data: TrainingData,
  l2: number,
  model: ModelKind,
  body: (f: DifferentiableObjective) => T,
) => T;

/**
 * The objective for `kernel` (default: "wasm" for softmax where WebAssembly SIMD is available),
 * lent to the optimization: a wasm objective's memory goes back to the kernel's pool after it.
 */
function defaultObjective(
  kernel: "wasm" | "js" | undefined,
  threads: number | undefined,
  optimizer: { memory: number; maxIter: number },
): WithObjective {
  if (kernel !== undefined && kernel !== "wasm" && kernel !== "js") {
    throw new InputError(`--kernel: expected one of wasm, js; got "${kernel}"`);
  }
  if (threads !== undefined && (!Number.isInteger(threads) || threads < 1)) {
    throw new InputError(`--threads: expected an integer ≥ 1; got ${threads}`);
  }
  const reason = kernel === "js" ? "js" : wasmUnavailableReason();
  const reference: WithObjective = (data, l2, model, body) => body(referenceObjective(data, l2, model));
  if (reason !== null) {
    if (kernel === "wasm") throw new RunError(`fit: the wasm kernel is unavailable: ${reason}`);
    return reference;
  }
  // One-vs-rest runs on wasm only when asked for: its default stays the reference kernel while
  // tests pin fit's OvR objective to the reference's bits. A problem larger than the wasm
  // kernel's memory (2 GiB) runs on the reference kernel, unless wasm was asked for.
  return (data, l2, model, body) => {
    if (model !== "softmax" && kernel !== "wasm") return reference(data, l2, model, body);
    const bytes = wasmObjectiveBytes(data.nSamples, data.nFeatures, data.nClasses, { threads, ...optimizer });
    if (bytes <= MAX_WASM_BYTES) return withWasmObjective(model, data, l2, { threads }, body);
    if (kernel === "wasm") {
      throw new InputError(
        `--kernel wasm: expected a problem that fits the wasm kernel's ${MAX_WASM_BYTES / 2 ** 30} GiB of memory; got ${data.nSamples} rows × ${data.nFeatures} features × ${data.nClasses} classes, which needs ${(bytes / 2 ** 30).toFixed(2)} GiB — use --kernel js`,
      );
    }
    return reference(data, l2, model, body);
  };
}

/**
 * Fits Θ to (X, y) by minimizing J(Θ) (see objective.ts for the formulas).
 *
 * @param X m×d features (finite).
 * @param y m labels, integers in 0..nClasses−1.
 * @param nClasses K ≥ 2.
 * @throws InputError for bad options, non-finite features, labels out of range, K < 2.
 * @throws RunError when the fit diverges (gradient descent with too large an α, or overflow).
 * Cost: O(iterations · m·K·d).
 * @example fit(fromRows([[0], [1]]), Int32Array.from([0, 1]), 2, { optimizer: "gd", maxIter: 1 }).theta
 *   // Float64Array [0.025, 0.025, -0.025, -0.025]
 */
export function fit(X: Matrix, y: Int32Array, nClasses: number, options: FitOptions = {}): FitResult {
  const model = options.model ?? DEFAULTS.model;
  const optimizer = options.optimizer ?? DEFAULTS.optimizer;
  const l2 = options.l2 ?? DEFAULTS.l2;
  const alpha = options.alpha ?? DEFAULTS.alpha;
  const tol = options.tol ?? DEFAULTS.tol;
  const memory = options.memory ?? DEFAULTS.memory;
  const maxIter = options.maxIter ?? (optimizer === "gd" ? DEFAULTS.gdIterations : DEFAULTS.lbfgsIterations);
  validateFitOptions({ model, optimizer, l2, alpha, tol, memory, maxIter });
  validateTrainingData(X, y, nClasses);

  const data: TrainingData = { X: X.data, nSamples: X.rows, nFeatures: X.cols, y, nClasses };
  const given = options.objective;
  const withObjective: WithObjective = given
    ? (d, lambda, kind, body) => body(given(d, lambda, kind))
    : defaultObjective(options.kernel, options.threads, { memory, maxIter });
  let r = withObjective(data, l2, model, (f): OptimizerResult => {
    const first =
      optimizer === "gd"
        ? f.descend
          ? f.descend(alpha, maxIter)
          : gradientDescent(f, { alpha, maxIter })
        : runLbfgs(f, { tol, maxIter, memory });
    if (!(optimizer === "lbfgs" && first.finite && l2 === 0 && separates(model, data, first.theta)))
      return first;
    // The optimum is at infinity: keep going to --iters (tol 0 never declares convergence), then
    // report it unconverged.
    const more =
      first.iterations < maxIter
        ? runLbfgs(f, { tol: 0, maxIter: maxIter - first.iterations, memory, theta0: first.theta })
        : first;
    return {
      ...more,
      lossHistory: more === first ? first.lossHistory : [...first.lossHistory, ...more.lossHistory.slice(1)],
      iterations: more === first ? first.iterations : first.iterations + more.iterations,
      converged: false,
      stopReason:
        "the training data is linearly separable and λ = 0, so the optimum is at infinity (Θ grows without bound); pass --l2 > 0 for a finite optimum",
    };
  });
  if (
    r.finite &&
    optimizer === "gd" &&
    r.lossHistory.length > 0 &&
    risesAboveStart(r.objective, r.lossHistory[0])
  ) {
    r = {
      ...r,
      finite: false,
      stopReason: `the final objective ${r.objective} is above the starting objective ${r.lossHistory[0]}`,
    };
  }
  if (!r.finite) {
    const hint =
      optimizer === "gd"
        ? `try a smaller --alpha (now ${alpha})`
        : "the features are too large for finite logits: rescale them (e.g. --standardize)";
    throw new RunError(`fit diverged: ${r.stopReason}; ${hint}`);
  }
  // −0 → +0, so a saved model round-trips through JSON bit for bit.
  for (let j = 0; j < r.theta.length; j++) r.theta[j] += 0;
  return {
    model,
    nClasses,
    nFeatures: X.cols,
    theta: r.theta,
    optimizer,
    l2,
    objective: r.objective,
    lossHistory: r.lossHistory,
    iterations: r.iterations,
    converged: r.converged,
    gradMaxAbs: r.gradMaxAbs,
    stopReason: r.stopReason,
  };
}

/**
 * Whether Θ separates the training data strictly — every row's true class has the unique largest
 * logit (softmax), or every binary sub-problem has every row on its side (one-vs-rest). Then
 * J(cΘ) → 0 as c → ∞ at λ = 0, so no finite minimizer exists.
 */
function separates(model: ModelKind, data: TrainingData, theta: Float64Array): boolean {
  const { X, nSamples: m, nFeatures: d, y, nClasses: K } = data;
  const z = new Float64Array(K);
  const sepClass = new Uint8Array(K).fill(1);
  for (let i = 0; i < m; i++) {
    for (let k = 0; k < K; k++) {
      let s = theta[k * (d + 1)];
      for (let j = 0; j < d; j++) s += theta[k * (d + 1) + 1 + j] * X[i * d + j];
      z[k] = s;
    }
    if (model === "softmax") {
      for (let k = 0; k < K; k++) if (k !== y[i] && !(z[y[i]] > z[k])) return false;
    } else {
      for (let k = 0; k < K; k++)
        if ((y[i] === k ? z[k] <= 0 : z[k] >= 0) || !Number.isFinite(z[k])) sepClass[k] = 0;
    }
  }
  return model === "softmax" || sepClass.some((v) => v === 1);
}

interface ResolvedOptions {
  model: string;
  optimizer: string;
  l2: number;
  alpha: number;
  tol: number;
  memory: number;
  maxIter: number;
}

/** Checks fit options; the messages name the CLI flag. */
export function validateFitOptions(o: ResolvedOptions): void {
  if (!MODEL_KINDS.includes(o.model as ModelKind)) {
    throw new InputError(`--model: expected one of ${MODEL_KINDS.join(", ")}; got "${o.model}"`);
  }
  if (!OPTIMIZERS.includes(o.optimizer as OptimizerName)) {
    throw new InputError(`--optimizer: expected one of ${OPTIMIZERS.join(", ")}; got "${o.optimizer}"`);
  }
  if (!(o.l2 >= 0) || !Number.isFinite(o.l2)) {
    throw new InputError(`--l2: expected a finite number ≥ 0; got ${o.l2}`);
  }
  if (!(o.alpha > 0) || !Number.isFinite(o.alpha)) {
    throw new InputError(`--alpha: expected a finite number > 0; got ${o.alpha}`);
  }
  if (!(o.tol > 0) || !Number.isFinite(o.tol)) {
    throw new InputError(`--tol: expected a finite number > 0; got ${o.tol}`);
  }
  if (!Number.isInteger(o.maxIter) || o.maxIter < 1) {
    throw new InputError(`--iters: expected an integer ≥ 1; got ${o.maxIter}`);
  }
  if (!Number.isInteger(o.memory) || o.memory < 1) {
    throw new InputError(`memory: expected an integer ≥ 1; got ${o.memory}`);
  }
}

function validateTrainingData(X: Matrix, y: Int32Array, nClasses: number): void {
  if (!Number.isInteger(nClasses) || nClasses < 2) {
    throw new InputError(`fit: training data must have at least 2 classes; got ${nClasses}`);
  }
  if (X.rows < 1) throw new InputError("fit: expected at least 1 training row; got 0");
  if (y.length !== X.rows) {
    throw new RangeError(`fit: y must have one label per row of X, that is ${X.rows}; got ${y.length}`);
  }
  const d = X.data;
  for (let i = 0; i < d.length; i++) {
    if (!Number.isFinite(d[i])) {
      throw new InputError(
        `fit: features must be finite; got ${d[i]} at row ${Math.floor(i / X.cols)}, column ${i % X.cols}`,
      );
    }
  }
  for (let i = 0; i < y.length; i++) {
    if (y[i] < 0 || y[i] >= nClasses) {
      throw new InputError(`fit: labels must be integers 0..${nClasses - 1}; got ${y[i]} at row ${i}`);
    }
  }
}
