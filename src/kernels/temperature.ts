/**
 * Temperature scaling's passes over a calibration set: NLL(β) of softmax(β·z) and its first three
 * derivatives in β, the moments of the shifted logits under softmax(β s) — the plain-TypeScript
 * kernel (the reference, and the fallback) here, the WebAssembly SIMD one in temperatureWasm.ts,
 * and the choice between them. The solver that uses them is src/optim/root1d.ts; the recalibrator
 * src/calibration/recalibrators/temperature.ts.
 */
import { InputError, RunError } from "../errors.js";
import type { Matrix } from "../linalg/matrix.js";
import { type MomentSums, wasmTemperatureBytes, wasmTemperaturePrepare } from "./temperatureWasm.js";
import { MAX_WASM_BYTES, wasmUnavailableReason } from "./wasmModule.js";

/** Per-row shifted logits s_ik = z_ik − max_k z_ik (≤ 0, may be −∞) and s_{i,y_i}. */
function shiftedLogits(F: Matrix, y: ArrayLike<number>, name: string): { s: Float64Array; sy: Float64Array } {
  const { rows: n, cols: K, data } = F;
  const s = new Float64Array(n * K);
  const sy = new Float64Array(n);
  for (let i = 0, o = 0; i < n; i++, o += K) {
    let mx = data[o];
    for (let k = 1; k < K; k++) if (data[o + k] > mx) mx = data[o + k];
    for (let k = 0; k < K; k++) s[o + k] = data[o + k] - mx;
    sy[i] = s[o + y[i]];
    if (sy[i] === -Infinity) throw labelProbabilityZero(name, i);
  }
  return { s, sy };
}

function labelProbabilityZero(name: string, i: number): RunError {
  return new RunError(
    `${name}: temperature scaling needs p(label) > 0 in every row; got p = 0 for the label at row ${i} (NLL is +Infinity for every T)`,
  );
}

/** NLL(β) = f and its derivatives g = NLL′, h = NLL″, t = NLL‴ (all means over rows). */
export interface NllDerivatives {
  f: number;
  g: number;
  h: number;
  t: number;
}

/**
 * Kernel (the reference, and the fallback when WebAssembly is unavailable): NLL(β) and its first
 * three derivatives over shifted logits (−∞ entries have weight 0 for β > 0): NLL′ = mean(E[s] − s_y),
 * NLL″ = mean Var[s], NLL‴ = mean of the third central moment of s under softmax(βs). O(nK), n·K exps.
 * @example nllDerivatives(Float64Array.of(0, -2, 0, -2), Float64Array.of(0, -2), 2, 2, 1)
 *   // { f: 1.1269280110429727, g: 0.7615941559557649, h: 0.419974341614026, t: -0.6397000084492245 }
 */
export function nllDerivatives(
  s: Float64Array,
  sy: Float64Array,
  n: number,
  K: number,
  beta: number,
): NllDerivatives {
  let f = 0;
  let g = 0;
  let h = 0;
  let t = 0;
  for (let i = 0, o = 0; i < n; i++, o += K) {
    let z = 0;
    let m1 = 0;
    let m2 = 0;
    let m3 = 0;
    for (let k = 0; k < K; k++) {
      const v = s[o + k];
      if (v === -Infinity) continue;
      const w = Math.exp(beta * v);
      const wv = w * v;
      const wv2 = wv * v;
      z += w;
      m1 += wv;
      m2 += wv2;
      m3 += wv2 * v;
    }
    const e1 = m1 / z;
    const e2 = m2 / z;
    f += Math.log(z) - beta * sy[i];
    g += e1 - sy[i];
    h += e2 - e1 * e1;
    t += m3 / z - 3 * e1 * e2 + 2 * e1 * e1 * e1;
  }
  return { f: f / n, g: g / n, h: Math.max(h / n, 0), t: t / n };
}

/** A calibration set prepared for the solver (see {@link temperaturePasses}). */
export interface TemperaturePasses {
  /** NLL′ at β → 0⁺: mean_i (mean_k s_ik − s_{i,y_i}), over finite s_ik. */
  slopeAtZero: number;
  /** NLL′ at β → ∞: −mean_i s_{i,y_i} (≥ 0). */
  slopeAtInfinity: number;
  /** NLL(β), NLL′, NLL″, NLL‴ over all n rows (β > 0). O(nK), n·K exps. */
  at(beta: number): NllDerivatives;
  /**
   * The same over a fixed subsample of about 1024 rows (every stride-th row pair), or null (small
   * sets, or the plain-TypeScript kernel): a cheap first estimate of β*.
   */
  subsample: ((beta: number) => NllDerivatives) | null;
}

/** Rows (pairs × 2) the subsample aims at; it is used only when n ≥ 4 × this. */
const SUBSAMPLE_PAIRS = 512;

/**
 * Kernel: shifts each row of the n×K logits F by its maximum and returns the solver's passes —
 * on the WebAssembly SIMD kernel (temperatureWasm.ts: the same per-row arithmetic as
 * {@link nllDerivatives}, rows summed in another order, so the two agree to the rounding of the
 * sums) when `kernel` is "wasm", or "auto" (default) and wasm is available; else on
 * {@link nllDerivatives}. The slopes at 0⁺ and ∞ are bit-identical on both kernels. `where` names
 * the set in messages: a label, or the file it was read from.
 * @throws RunError when a label's logit is −∞ (probability 0); Error for kernel "wasm" when the
 *   wasm kernels are unavailable.
 * Cost: O(nK) once, then O(nK) per `at` (spread over threads for ≥ 50 000 logits).
 * @example const p = temperaturePasses(fromRows([[0, 2], [0, 2], [0, 2], [0, 2]]), [1, 1, 1, 0]);
 *   p.slopeAtZero // -0.5
 *   p.at(1).g // 0.2615941559557649 (NLL′ at T = 1; > 0, so T* > 1)
 */
export function temperaturePasses(
  F: Matrix,
  y: ArrayLike<number>,
  where: string | { readonly file: string } = "temperature",
  kernel: "auto" | "wasm" | "js" = "auto",
): TemperaturePasses {
  const name = typeof where === "string" ? where : where.file;
  const { rows: n, cols: K } = F;
  // Logits beyond the wasm kernel's 2 GiB of memory go to the TypeScript passes (same arithmetic).
  const tooLarge = wasmTemperatureBytes(n, K) > MAX_WASM_BYTES;
  if (kernel === "wasm" && tooLarge) {
    throw new InputError(
      `${name}: expected logits that fit the wasm kernel's ${MAX_WASM_BYTES / 2 ** 30} GiB of memory; got ${n} rows × ${K} classes — use the js kernel`,
    );
  }
  if (kernel === "js" || (kernel === "auto" && (tooLarge || wasmUnavailableReason() !== null))) {
    const { s, sy } = shiftedLogits(F, y, name);
    let g0 = 0;
    let gInf = 0;
    for (let i = 0, o = 0; i < n; i++, o += K) {
      let m = 0;
      let c = 0;
      for (let k = 0; k < K; k++) {
        if (s[o + k] === -Infinity) continue;
        m += s[o + k];
        c++;
      }
      g0 += m / c - sy[i];
      gInf -= sy[i];
    }
    return {
      slopeAtZero: g0 / n,
      slopeAtInfinity: gInf / n,
      at: (beta) => nllDerivatives(s, sy, n, K, beta),
      subsample: null,
    };
  }
  const w = wasmTemperaturePrepare(F.data, y, n, K);
  if (w.badRow >= 0) throw labelProbabilityZero(name, w.badRow);
  const sumY = -w.slopeAtInfinity;
  const derivatives = (r: MomentSums, beta: number, m: number, sY: number): NllDerivatives => ({
    f: (r.logZ - beta * sY) / m,
    g: (r.mean - sY) / m,
    h: Math.max(r.variance / m, 0),
    t: r.third / m,
  });
  const stride = Math.floor(w.nPairs / SUBSAMPLE_PAIRS);
  let subsample: TemperaturePasses["subsample"] = null;
  if (stride >= 4) {
    // The subsample's rows and Σ s_y (its labels' shifted logits).
    const { data } = F;
    let rows = 0;
    let sY = 0;
    for (let p = 0; p < w.nPairs; p += stride) {
      for (let i = 2 * p; i < Math.min(2 * p + 2, n); i++) {
        const o = i * K;
        let mx = data[o];
        for (let k = 1; k < K; k++) if (data[o + k] > mx) mx = data[o + k];
        sY += data[o + y[i]] - mx;
        rows++;
      }
    }
    subsample = (beta) => derivatives(w.subsample(beta, stride), beta, rows, sY);
  }
  return {
    slopeAtZero: w.slopeAtZero / n,
    slopeAtInfinity: w.slopeAtInfinity / n,
    at: (beta) => derivatives(w.at(beta), beta, n, sumY),
    subsample,
  };
}
