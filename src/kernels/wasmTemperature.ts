/**
 * Temperature scaling's passes on the WebAssembly SIMD kernel (assembly/softcal.ts,
 * `temperaturePrepare` and `temperatureMoments`). For logits z (n×K) with labels y, shifted logits
 * s_ik = z_ik − max_k z_ik ≤ 0 and β > 0, with w_ik = exp(β s_ik), z_i = Σ_k w_ik and E_i the mean
 * under softmax(β s_i), one pass gives
 *   Σ_i log z_i,  Σ_i E_i[s],  Σ_i Var_i[s],  Σ_i E_i[(s − E_i[s])³]
 * — the row sums behind NLL(β) and its first three derivatives (src/calibration/recalibrators/
 * temperature.ts). Two rows per f64x2 vector with a vectorized exp bit-identical to Math.exp, so
 * each row's terms are the plain-TypeScript kernel's operation for operation; only the order in
 * which rows are summed differs (two interleaved lanes; Σ log z as the log of a running product).
 */
import {
  heapBase,
  instantiate,
  type SoftcalWasmExports,
  sharedMemory,
  type WasmMemory,
} from "./wasmModule.js";

/** The four row sums of {@link TemperaturePasses.at}. */
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
export interface TemperaturePasses {
  /** The first row whose label has logit −∞ (probability 0), or −1; when ≥ 0 nothing else is set. */
  badRow: number;
  /** Σ_i (mean_k s_ik over finite entries − s_{i,y_i}): n·NLL′(0⁺), bit-identical to a row-order loop. */
  slopeAtZero: number;
  /** −Σ_i s_{i,y_i}: n·NLL′(∞), bit-identical to a row-order loop. */
  slopeAtInfinity: number;
  /** Row pairs ⌈n/2⌉. */
  nPairs: number;
  /**
   * The row sums at β > 0 (finite) over the row pairs 0, stride, 2·stride, … (default 1: all
   * rows; a larger stride gives a subsample of about n/stride rows). O(n·K/stride), n·K/stride exps.
   */
  at(beta: number, stride?: number): MomentSums;
}

// One memory and instance per thread (module-level), grown on demand and reused by every call: a
// fit prepares its logits and runs its passes synchronously, so calls never interleave.
let state: { memory: WasmMemory; ex: SoftcalWasmExports } | undefined;

const align = (n: number) => Math.ceil(n / 64) * 64;

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
): TemperaturePasses {
  const nPairs = Math.ceil(n / 2);
  const oddLast = n % 2;
  const out = align(heapBase());
  const lab = out + 64;
  const src = align(lab + 4 * n);
  const sp = align(src + 8 * n * K);
  const bytes = sp + nPairs * K * 16;
  const need = Math.ceil(bytes / 65536);
  if (state === undefined) {
    const memory = sharedMemory(need);
    state = { memory, ex: instantiate(memory) };
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
  return {
    badRow,
    slopeAtZero: r[4],
    slopeAtInfinity: r[5],
    nPairs,
    at(beta: number, stride = 1): MomentSums {
      ex.temperatureMoments(sp, nPairs, oddLast, K, beta, out, stride);
      return { logZ: r[0], mean: r[1], variance: r[2], third: r[3] };
    },
  };
}
