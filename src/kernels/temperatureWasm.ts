/**
 * Temperature scaling's passes on the WebAssembly SIMD kernel (assembly/temperature.ts,
 * `temperaturePrepare`, `temperatureChunks`, `temperatureMoments`). For logits z (n×K) with labels
 * y, shifted logits s_ik = z_ik − max_k z_ik ≤ 0 and β > 0, with w_ik = exp(β s_ik),
 * z_i = Σ_k w_ik and E_i the mean under softmax(β s_i), one pass gives
 *   Σ_i log z_i,  Σ_i E_i[s],  Σ_i Var_i[s],  Σ_i E_i[(s − E_i[s])³]
 * — the row sums behind NLL(β) and its first three derivatives (src/calibration/recalibrators/
 * temperature.ts). Two rows per f64x2 vector with a vectorized exp bit-identical to Math.exp, so
 * each row's terms are the plain-TypeScript kernel's operation for operation; only the order in
 * which rows are summed differs: two interleaved lanes within fixed chunks of 512 rows (Σ log z as
 * the log of a running product), then the chunks in chunk order — so the sums are bit-identical
 * for any number of threads.
 */
import { type ChunkJob, defaultCores, runClaimedChunks, threadsFor } from "./threadPool.js";
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

/** The four row sums of {@link WasmTemperaturePasses.at}. */
export interface MomentSums {
  /** Σ_i log Σ_k exp(β s_ik). */
  logZ: number;
  /** Σ_i E_i[s]. */
  mean: number;
  /** Σ_i Var_i[s] (each term ≥ 0 up to rounding). */
  variance: number;
  /** Σ_i third central moment of s_i under softmax(β s_i). */
  third: number;
}

/** Logits prepared once in wasm memory (see {@link wasmTemperaturePrepare}). */
export interface WasmTemperaturePasses {
  /** The first row whose label has logit −∞ (probability 0), or −1; when ≥ 0 nothing else is set. */
  badRow: number;
  /** Σ_i (mean_k s_ik over finite entries − s_{i,y_i}): n·NLL′(0⁺), bit-identical to a row-order loop. */
  slopeAtZero: number;
  /** −Σ_i s_{i,y_i}: n·NLL′(∞), bit-identical to a row-order loop. */
  slopeAtInfinity: number;
  /** Row pairs ⌈n/2⌉. */
  nPairs: number;
  /** Threads the full pass runs on (the calling one included). */
  threads: number;
  /**
   * The row sums at β > 0 (finite) over all rows, on `threads` threads (bit-identical for any
   * number). O(n·K), n·K exps.
   */
  at(beta: number): MomentSums;
  /**
   * The row sums over the row pairs 0, stride, 2·stride, … (a subsample of about n/stride rows),
   * on the calling thread. O(n·K/stride).
   */
  subsample(beta: number, stride: number): MomentSums;
}

/** Options of {@link wasmTemperaturePrepare}. */
export interface TemperatureKernelOptions {
  /** Threads incl. the calling one (default {@link defaultTemperatureThreads}); results do not depend on it. */
  threads?: number;
}

/** Rows per chunk of the moments pass (the wasm module's TEMP_CHUNK_PAIRS × 2). */
export const TEMPERATURE_CHUNK_ROWS = 512;

/** Below this many logits (n·K) one thread is fastest: a pass is then under ~0.2 ms. */
const TEMPERATURE_THREAD_THRESHOLD = 50_000;

/**
 * The thread count for temperature passes over n×K logits: 1 below 50 000 logits (a pass takes
 * less than ~0.2 ms, and waking a worker costs tens of µs), else one per core (`cores`, default
 * the machine's, at most 8) but never more than there are 512-row chunks. O(1).
 * @example defaultTemperatureThreads(1000, 10) // 1
 * @example defaultTemperatureThreads(10_000, 10, 2) // 2
 */
export function defaultTemperatureThreads(n: number, K: number, cores = defaultCores()): number {
  return threadsFor(n * K < TEMPERATURE_THREAD_THRESHOLD, Math.ceil(n / TEMPERATURE_CHUNK_ROWS), cores);
}

// One memory and instance per thread (module-level), grown on demand and reused by every call: a
// fit prepares its logits and runs its passes synchronously, so calls never interleave. Layout:
// out (6 f64) | descriptor (workers read it) | control block | partials | labels | logits | pairs.
interface State {
  memory: WasmMemory;
  ex: SoftcalWasmExports;
  jobs: Map<number, ChunkJob>;
}
let state: State | undefined;

/**
 * An upper bound on the bytes of wasm memory {@link wasmTemperaturePrepare} uses for n×K logits
 * (8·n·K for the copy, 16·⌈n/2⌉·K for the row-pair layout, 4·n for the labels, the chunk
 * partials), for choosing a kernel before any memory is made: above `MAX_WASM_BYTES` the wasm
 * kernel cannot hold them. O(1).
 */
export function wasmTemperatureBytes(n: number, K: number): number {
  const nChunks = Math.ceil(n / TEMPERATURE_CHUNK_ROWS);
  return STATIC_DATA_BYTES + 1024 + 32 * nChunks + 4 * n + 8 * n * K + 16 * Math.ceil(n / 2) * K + 4 * 64;
}

/**
 * Copies n×K logits Z (row-major; finite or −∞, each row with a finite maximum) and labels y
 * (integers in 0..K−1) into wasm memory, shifts each row by its maximum into the row-pair layout,
 * and returns the passes. No validation (the calibration layer validates first). The result is
 * valid until the next call of this function in the same thread.
 * Throws Error when the wasm kernels are unavailable (see `wasmUnavailableReason`).
 * Cost: O(n·K); memory 8·n·K + 16·⌈n/2⌉·K + 4·n bytes, kept for reuse.
 * @example wasmTemperaturePrepare(Float64Array.of(0, -1), [0], 1, 2).at(1).logZ // Math.log(1 + Math.exp(-1))
 */
export function wasmTemperaturePrepare(
  Z: Float64Array,
  y: ArrayLike<number>,
  n: number,
  K: number,
  options: TemperatureKernelOptions = {},
): WasmTemperaturePasses {
  const nPairs = Math.ceil(n / 2);
  const oddLast = n % 2;
  const chunkRows = TEMPERATURE_CHUNK_ROWS;
  const nChunks = Math.ceil(n / chunkRows);
  const threads = Math.max(
    1,
    Math.min(Math.floor(options.threads ?? defaultTemperatureThreads(n, K)), nChunks),
  );
  const out = align(heapBase());
  const desc = out + 64;
  const ctl = desc + 64;
  const partials = ctl + 64;
  const lab = align(partials + 32 * nChunks);
  const src = align(lab + 4 * n);
  const sp = align(src + 8 * n * K);
  const bytes = sp + nPairs * K * 16;
  const need = Math.ceil(bytes / 65536);
  if (state === undefined) {
    const memory = sharedMemory(need);
    state = { memory, ex: instantiate(memory), jobs: new Map() };
  }
  const { memory, ex } = state;
  const have = memory.buffer.byteLength / 65536;
  if (need > have) memory.grow(need - have);
  const buf = memory.buffer;
  new Float64Array(buf, src, n * K).set(Z.length === n * K ? Z : Z.subarray(0, n * K));
  const labels = new Int32Array(buf, lab, n);
  if (y instanceof Int32Array) labels.set(y.subarray(0, n));
  else for (let i = 0; i < n; i++) labels[i] = y[i];
  const badRow = ex.temperaturePrepare(src, lab, n, K, sp, out);
  const r = new Float64Array(buf, out, 6);
  const sums = (): MomentSums => ({ logZ: r[0], mean: r[1], variance: r[2], third: r[3] });
  const d = new Int32Array(buf, desc, 6);
  d.set([sp, nPairs, oddLast, K, nChunks, partials]);
  const dBeta = new Float64Array(buf, desc + 32, 1);
  let job: ChunkJob | null = null;
  if (threads > 1) {
    job = state.jobs.get(threads) ?? null;
    if (job === null) {
      job = {
        memory,
        module: softcalModule(),
        ctl,
        desc: 0,
        theta: 0,
        nChunks,
        scratch: 0,
        scratchStride: 0,
        nThreads: threads,
        temperatureDesc: desc,
      };
      state.jobs.set(threads, job);
    }
    job.nChunks = nChunks;
  }
  const bound = job;
  return {
    badRow,
    slopeAtZero: r[4],
    slopeAtInfinity: r[5],
    nPairs,
    threads,
    at(beta: number): MomentSums {
      dBeta[0] = beta;
      if (bound === null) ex.temperatureChunks(desc, 0, nChunks);
      else runClaimedChunks(bound, (c) => ex.temperatureChunks(desc, c, c + 1));
      ex.temperatureReduce(desc, out);
      return sums();
    },
    subsample(beta: number, stride: number): MomentSums {
      dBeta[0] = beta;
      ex.temperatureMoments(desc, out, stride);
      return sums();
    },
  };
}
