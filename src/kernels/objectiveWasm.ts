/**
 * The training objectives on the WebAssembly SIMD kernel (assembly/objective.ts, descent.ts,
 * lbfgs.ts), with the same contracts as the plain-TypeScript reference kernels (objective.ts):
 *   softmax: J(Θ) = (1/m) Σ_i [log Σ_k exp(z_ik) − z_{i,y_i}] + (λ/2) Σ_k Σ_{j≥1} Θ_kj²,
 *            ∇J = (P − Y)ᵀ X̃ / m + λ·[0 | W];
 *   one-vs-rest: Σ_k of the binary objectives (1/m) Σ_i [softplus(z_ik) − t_ik z_ik] + (λ/2)‖w_k‖²;
 * with the lesson's gradient descent and L-BFGS also run entirely inside wasm.
 *
 * Per row the arithmetic is the reference's operation for operation (its exp is bit-identical to
 * Math.exp; the log terms are summed as the log of a product); only the order in which the m rows
 * are summed differs — two lanes, then fixed chunks of 2048 rows added in chunk order — so J and
 * ∇J agree with the reference to a few ulps of the sums' magnitudes, and are bit-identical for
 * every thread count.
 */
import { maxAbs } from "../linalg/vector.js";
import { gradientDescentResult, type LbfgsOutcome, lbfgsResult } from "../optim/results.js";
import type { LbfgsOptions, OptimizerResult } from "../optim/types.js";
import type { TrainingData } from "./objective.js";
import { type ChunkJob, defaultCores, runChunks, threadsFor } from "./threadPool.js";
import {
  align,
  heapBase,
  instantiate,
  type SoftcalWasmExports,
  STATIC_DATA_BYTES,
  sharedMemory,
  softcalModule,
  type WasmMemory,
} from "./wasmModule.js";

/** A differentiable objective on the wasm kernel (the model layer's `DifferentiableObjective`). */
export interface WasmObjective {
  /** Number of parameters K·(d+1). */
  readonly size: number;
  /** Threads the objective runs on. */
  readonly threads: number;
  /** Bytes of wasm memory it holds now (grown by its optimizers; at most `wasmObjectiveBytes`). */
  readonly memoryBytes: number;
  /** J(θ); when `grad` is given it is overwritten with ∇J(θ). +∞ (never NaN) on overflow. */
  evaluate(theta: Float64Array, grad: Float64Array | null): number;
  /**
   * The lesson's gradient descent from Θ₀ = 0 (or `theta0`): the same iterates, history and
   * divergence rules as the model layer's `gradientDescent`, with the loop inside wasm.
   */
  descend(alpha: number, maxIter: number, theta0?: Float64Array): OptimizerResult;
  /**
   * L-BFGS entirely in wasm: a line-for-line port of the model layer's `lbfgs` (same iterates,
   * history, stop rules and messages given the same objective values).
   */
  minimize(options?: LbfgsOptions): OptimizerResult;
}

export interface WasmObjectiveOptions {
  /** Worker threads incl. the calling one (default: `defaultThreads(data)`); results do not depend on it. */
  threads?: number;
}

/** Rows per chunk (the kernel's fixed unit of deterministic reduction). */
export const CHUNK_ROWS = 2048;

/** Below this many multiply-adds per evaluation (m·K·(d+1)), one thread is fastest. */
const THREAD_WORK_THRESHOLD = 2_000_000;

/**
 * The thread count that is fastest for a problem of this size: 1 for small problems (below ~2·10⁶
 * multiply-adds per evaluation, or fewer than two 2048-row chunks, thread synchronisation costs
 * more than it saves), else one per core (`cores`, default the machine's, at most 8) but never
 * more than there are chunks. Measured: 100k×20×10 and 1M×2×3 run 1.9–2.0× faster on 2 threads.
 * O(1).
 * @example defaultThreads(180, 2, 3) // 1
 * @example defaultThreads(1_000_000, 2, 3, 2) // 2
 */
export function defaultThreads(
  nSamples: number,
  nFeatures: number,
  nClasses: number,
  cores = defaultCores(),
): number {
  const work = nSamples * nClasses * (nFeatures + 1);
  const small = work < THREAD_WORK_THRESHOLD || nSamples < 2 * CHUNK_ROWS;
  return threadsFor(small, Math.floor(nSamples / CHUNK_ROWS), cores);
}

/** Loss-history doubles reserved when an objective is made (300 iterations and the start). */
const HISTORY_RESERVE = 301;

/**
 * An upper bound on the bytes of wasm memory an objective over m×d data and K classes uses on
 * `threads` threads, with an L-BFGS of `memory` pairs and `maxIter` iterations (the layout of
 * `wasmObjective` and its optimizers: the repacked data 8·m·d + 8·m, the chunk partials, the
 * per-thread scratch, the optimizer's work space and loss history), for choosing a kernel before
 * any memory is made: above `MAX_WASM_BYTES` the wasm kernel cannot hold the problem. O(1).
 * @example wasmObjectiveBytes(150, 4, 3) < 2 ** 21 // true
 */
export function wasmObjectiveBytes(
  m: number,
  d: number,
  K: number,
  o: { threads?: number; memory?: number; maxIter?: number } = {},
): number {
  const threads = o.threads ?? defaultThreads(m, d, K);
  const M = o.memory ?? 20;
  const maxIter = o.maxIter ?? 1000;
  const n = K * (d + 1);
  const nPairs = Math.ceil(m / 2);
  const nChunks = Math.ceil(m / CHUNK_ROWS);
  const fixed = 256 + 2 * align(n * 8) + align(nChunks * (n + 1) * 8) + threads * align((n + 2 * K + 3) * 16);
  const data = align(nPairs * d * 16) + align(nPairs * 16);
  // Above the data: L-BFGS's work space and loss history, or the history reserved when the
  // objective is made (HISTORY_RESERVE doubles), whichever reaches further.
  const work = Math.max(
    2 * align(n * 8) + align((2 + 3 * n + 2 * M * n + 2 * M) * 8) + 8 * (maxIter + 1),
    8 * HISTORY_RESERVE,
  );
  return STATIC_DATA_BYTES + fixed + data + work + 64 * 8;
}

/**
 * The softmax-regression objective on the wasm kernel: repacks X into row pairs (O(m·d) time,
 * 8·m·d bytes + 8·m for labels) and owns its own shared memory. No validation (the model layer's
 * `fit` validates first). Throws Error when the wasm kernels are unavailable (see
 * `wasmUnavailableReason`). Cost per evaluation O(m·K·d), spread over `threads`.
 * @example wasmSoftmaxObjective({ X: Float64Array.from([0, 1]), nSamples: 2, nFeatures: 1,
 *   y: Int32Array.from([0, 1]), nClasses: 2 }, 0).evaluate(new Float64Array(4), null) // 0.6931471805599453
 */
export function wasmSoftmaxObjective(
  data: TrainingData,
  l2: number,
  options: WasmObjectiveOptions = {},
): WasmObjective {
  return wasmObjective(0, data, l2, options);
}

/**
 * The one-vs-rest objective (sum of K binary logistic objectives) on the wasm kernel; as
 * {@link wasmSoftmaxObjective} otherwise.
 * @example wasmOvrObjective({ X: Float64Array.from([0, 1]), nSamples: 2, nFeatures: 1,
 *   y: Int32Array.from([0, 1]), nClasses: 2 }, 0).evaluate(new Float64Array(4), null) // 1.3862943611198906
 */
export function wasmOvrObjective(
  data: TrainingData,
  l2: number,
  options: WasmObjectiveOptions = {},
): WasmObjective {
  return wasmObjective(1, data, l2, options);
}

/**
 * A wasm memory and instance kept for reuse by {@link withWasmObjective}: creating a shared
 * memory reserves (and, once collected, unmaps) gigabytes of address space, which made each
 * small fit pay for a memory map and stalled the other threads of the process on the unmap
 * (measured: the experiments' fits ran ~20% slower per thread on two threads than on one).
 * `used` is the high-water byte offset a objective has touched; the next user zeroes up to it,
 * so it sees the all-zero memory a fresh one has.
 */
interface Arena {
  memory: WasmMemory;
  ex: SoftcalWasmExports;
  /** The current objective's host callback (the instance's import calls through it). */
  host: { evaluate: (x: number, g: number) => number };
  used: number;
}

/** An idle arena's host callback (the single-thread kernels never call it). */
const NO_EVALUATE = (_x: number, _g: number): number => Number.NaN;

/** This thread's idle arenas (each thread of the process has its own module state). */
const idleArenas: Arena[] = [];
/** Arenas larger than this are not kept (a big fit's memory goes back to the system). */
const ARENA_KEEP_BYTES = 16 * 1024 * 1024;

/**
 * Runs `body` with a {@link wasmSoftmaxObjective} (`model` "softmax") or {@link wasmOvrObjective}
 * ("ovr") whose memory is borrowed from a per-thread pool and returned when `body` ends; the
 * objective must not be used after that. Results are bit-identical to a fresh objective's (the
 * borrowed memory is zeroed first). Problems that run on several threads get a fresh memory, as
 * before. Cost: a fresh objective's, minus creating a memory and an instance.
 */
export function withWasmObjective<T>(
  model: "softmax" | "ovr",
  data: TrainingData,
  l2: number,
  options: WasmObjectiveOptions,
  body: (f: WasmObjective) => T,
): T {
  const kind = model === "softmax" ? 0 : 1;
  const threads = Math.max(
    1,
    Math.floor(options.threads ?? defaultThreads(data.nSamples, data.nFeatures, data.nClasses)),
  );
  if (threads > 1) return body(wasmObjective(kind, data, l2, options));
  let arena = idleArenas.pop();
  if (arena === undefined) {
    const memory = sharedMemory(1);
    const host = { evaluate: NO_EVALUATE };
    arena = {
      memory,
      ex: instantiate(memory, { hostEvaluate: (x, g) => host.evaluate(x, g) }),
      host,
      used: 0,
    };
  }
  try {
    return body(wasmObjective(kind, data, l2, { threads: 1 }, arena));
  } finally {
    arena.host.evaluate = NO_EVALUATE;
    if (arena.memory.buffer.byteLength <= ARENA_KEEP_BYTES) idleArenas.push(arena);
  }
}

function wasmObjective(
  model: 0 | 1,
  data: TrainingData,
  l2: number,
  options: WasmObjectiveOptions,
  arena?: Arena,
): WasmObjective {
  const { X, nSamples: m, nFeatures: d, y, nClasses: K } = data;
  const module = softcalModule();
  const threads = Math.max(1, Math.floor(options.threads ?? defaultThreads(m, d, K)));
  const n = K * (d + 1);
  const nPairs = Math.ceil(m / 2);
  const oddLast = m % 2;
  const nChunks = Math.ceil(m / CHUNK_ROWS);

  // Memory layout above the module's static data: control block, problem descriptor and status
  // (L-BFGS), Θ, ∇J, chunk partials, per-thread scratch, then the repacked data, then the
  // optimizers' work space and loss history (grown on demand).
  const base = align(heapBase());
  const ctl = base;
  const desc = ctl + 64;
  const status = desc + 128;
  const theta = status + 64;
  const grad = align(theta + n * 8);
  const partials = align(grad + n * 8);
  const scratchStride = align((n + 2 * K + 3) * 16);
  const scratch = align(partials + nChunks * (n + 1) * 8);
  const xp = scratch + threads * scratchStride;
  const yp = align(xp + nPairs * d * 16);
  const hist = align(yp + nPairs * 16);
  const pagesFor = (bytes: number) => Math.ceil(bytes / 65536);
  const memory = arena?.memory ?? sharedMemory(pagesFor(hist + 8 * HISTORY_RESERVE));
  const ex = arena?.ex ?? instantiate(memory, { hostEvaluate: (x, g) => hostEvaluate(x, g) });
  let f64 = new Float64Array(memory.buffer);
  const ensure = (bytes: number) => {
    const have = memory.buffer.byteLength / 65536;
    const need = pagesFor(bytes);
    if (need > have) memory.grow(need - have);
    if (f64.length * 8 !== memory.buffer.byteLength) f64 = new Float64Array(memory.buffer);
    if (arena && bytes > arena.used) arena.used = bytes;
  };
  if (arena) {
    // A borrowed memory: clear what earlier objectives wrote, as a fresh memory would be.
    f64.fill(0, base / 8, Math.ceil(arena.used / 8));
    arena.host.evaluate = (x, g) => hostEvaluate(x, g);
    ensure(hist + 8 * HISTORY_RESERVE);
  }

  // Repack: pair p, feature j → (lane 0 = row 2p, lane 1 = row 2p+1); labels as f64, −1 = padding.
  const X2 = f64.subarray(xp / 8, xp / 8 + nPairs * d * 2);
  const Y2 = f64.subarray(yp / 8, yp / 8 + nPairs * 2);
  for (let i = 0; i < m; i++) {
    const p = i >> 1;
    const lane = i & 1;
    const o = p * d * 2 + lane;
    for (let j = 0; j < d; j++) X2[o + 2 * j] = X[i * d + j];
    Y2[2 * p + lane] = y[i];
  }
  if (oddLast) Y2[2 * nPairs - 1] = -1;

  const invM = 1 / m;
  const i32 = new Int32Array(memory.buffer, desc, 16);
  i32.set([xp, yp, nPairs, oddLast, d, K, partials, scratch, threads > 1 ? 1 : 0, model]);
  new Float64Array(memory.buffer, desc + 64, 2).set([l2, invM]);
  const job: ChunkJob | null =
    threads > 1
      ? { memory, module, ctl, desc, theta, nChunks, scratch, scratchStride, nThreads: threads }
      : null;

  /** J and ∇J at the Θ already in memory (∇J left at `grad`). */
  const evalInMemory = (wantGrad: boolean): number => {
    if (job === null) return ex.objectiveEvaluate(desc, theta, grad);
    runChunks(job, (c0, c1) => ex.objectiveChunks(desc, theta, c0, c1, scratch));
    return ex.objectiveReduce(desc, theta, wantGrad ? grad : 0);
  };

  const evaluate = (th: Float64Array, g: Float64Array | null): number => {
    f64.set(th, theta / 8);
    const J = evalInMemory(g !== null);
    if (g) g.set(f64.subarray(grad / 8, grad / 8 + n));
    return J;
  };

  const descend = (alpha: number, maxIter: number, theta0?: Float64Array): OptimizerResult => {
    ensure(hist + 8 * (maxIter + 1));
    if (theta0) f64.set(theta0, theta / 8);
    else f64.fill(0, theta / 8, theta / 8 + n);
    const t =
      job === null
        ? ex.objectiveDescend(desc, theta, grad, alpha, maxIter, hist)
        : descendThreaded(alpha, maxIter);
    const H = f64.subarray(hist / 8, hist / 8 + maxIter + 1);
    const th = f64.slice(theta / 8, theta / 8 + n);
    const gmax = maxAbs(f64.subarray(grad / 8, grad / 8 + n));
    // Diverged before update t: J(Θ_t) is the history's last entry; else all updates were made.
    const history = Array.from(H.subarray(0, t < maxIter ? t + 1 : maxIter));
    return gradientDescentResult(th, H[t], history, t, gmax, maxIter);
  };

  /** The same loop as the wasm `objectiveDescend`, with each evaluation spread over the threads. */
  const descendThreaded = (alpha: number, maxIter: number): number => {
    const th = f64.subarray(theta / 8, theta / 8 + n);
    const g = f64.subarray(grad / 8, grad / 8 + n);
    for (let t = 0; t < maxIter; t++) {
      const J = evalInMemory(true);
      f64[hist / 8 + t] = J;
      if (!Number.isFinite(J) || ex.allFinite(grad, n) === 0) return t;
      for (let q = 0; q < n; q++) th[q] -= alpha * g[q];
    }
    f64[hist / 8 + maxIter] = evalInMemory(true);
    return maxIter;
  };

  /** The wasm optimizer's evaluation on several threads: x → Θ slot, chunks, reduce, ∇J → g. */
  const hostEvaluate = (x: number, g: number): number => {
    if (x !== theta) f64.copyWithin(theta / 8, x / 8, x / 8 + n);
    const J = evalInMemory(true);
    f64.copyWithin(g / 8, grad / 8, grad / 8 + n);
    return J;
  };

  const minimize = (options: LbfgsOptions = {}): OptimizerResult => {
    const { tol = 1e-9, maxIter = 1000, memory: M = 10 } = options;
    // Work space: x, g, then the iteration state (2 doubles), xNew, gNew, p, S (M·n), Y (M·n),
    // ρ (M), α (M); then the history.
    const x = hist;
    const g = align(x + n * 8);
    const work = align(g + n * 8);
    const hp = align(work + (2 + 3 * n + 2 * M * n + 2 * M) * 8);
    ensure(hp + 8 * (maxIter + 1));
    if (options.theta0) f64.set(options.theta0, x / 8);
    else f64.fill(0, x / 8, x / 8 + n);
    const nHist = ex.objectiveLbfgs(desc, n, x, g, tol, maxIter, M, work, hp, status);
    const [J, gmax, iterations, outcome] = f64.subarray(status / 8, status / 8 + 4);
    return lbfgsResult(
      f64.slice(x / 8, x / 8 + n),
      J,
      Array.from(f64.subarray(hp / 8, hp / 8 + nHist)),
      iterations,
      gmax,
      WASM_OUTCOMES[outcome],
      tol,
      maxIter,
    );
  };

  return {
    size: n,
    threads,
    evaluate,
    descend,
    minimize,
    get memoryBytes() {
      return memory.buffer.byteLength;
    },
  };
}

/** The wasm L-BFGS's outcome codes (written at status[3]; see `objectiveLbfgs` in assembly/lbfgs.ts). */
const WASM_OUTCOMES: readonly LbfgsOutcome[] = ["converged", "no-step", "iteration-limit", "not-finite"];
