/**
 * The optimizers' vocabulary, one shape for every optimizer in softcal — the TypeScript ones in
 * this folder and the WebAssembly ones run inside a kernel (src/kernels/objectiveWasm.ts).
 */

/** A smooth objective over a flat parameter vector, evaluated with (optionally) its gradient. */
export interface DifferentiableObjective {
  /** Number of parameters (for the models: K·(d+1)). */
  readonly size: number;
  /** J(θ); when `grad` is given it is overwritten with ∇J(θ). Returns +∞ (never NaN) on overflow. */
  evaluate(theta: Float64Array, grad: Float64Array | null): number;
  /** Optional: gradient descent run by the objective itself (the wasm kernel), same iterates as `gradientDescent`. */
  descend?(alpha: number, maxIter: number, theta0?: Float64Array): OptimizerResult;
  /** Optional: L-BFGS run by the objective itself (the wasm kernel), same iterates as `lbfgs`. */
  minimize?(options?: LbfgsOptions): OptimizerResult;
}

/** What an optimizer returns (gradient descent or L-BFGS, TypeScript or WebAssembly). */
export interface OptimizerResult {
  /** The final parameters Θ_T. */
  theta: Float64Array;
  /** J(Θ_T). */
  objective: number;
  /** J before each update (gradient descent) or at each iterate (L-BFGS), starting with J(Θ₀). */
  lossHistory: number[];
  /** Number of updates made. */
  iterations: number;
  /** max_j |∂J/∂Θ_j| at Θ_T. */
  gradMaxAbs: number;
  /** L-BFGS: the gradient tolerance was met. Gradient descent: always false (it has no tolerance). */
  converged: boolean;
  /** Why the optimizer stopped, in words. */
  stopReason: string;
  /** J and ∇J stayed finite. When false, `stopReason` says what went wrong. (`fit` also treats a
   * final J above the start as divergence: see `risesAboveStart` in src/optim/gradientDescent.ts.) */
  finite: boolean;
}

/** L-BFGS options, for `lbfgs` (src/optim/lbfgs.ts) and a wasm objective's `minimize` alike. */
export interface LbfgsOptions {
  /** Stop when max_j |∂J/∂θ_j| ≤ tol (default 1e-9). */
  tol?: number;
  /** Maximum number of iterations (default 1000). */
  maxIter?: number;
  /** Number of correction pairs kept (default 10). */
  memory?: number;
  /** Starting point (default zeros); copied. */
  theta0?: Float64Array;
}

/** Options of the lesson's fixed-step gradient descent. */
export interface GradientDescentOptions {
  /** Step size α (default 0.1). */
  alpha?: number;
  /** Number of updates (default 300). */
  maxIter?: number;
  /** Starting point (default zeros); copied, never modified. */
  theta0?: Float64Array;
}
