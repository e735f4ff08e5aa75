/**
 * Properties of temperature scaling's WebAssembly pass (assembly/temperature.ts `temperaturePrepare` /
 * `temperatureMoments`, src/kernels/temperatureWasm.ts) against the plain-TypeScript kernel
 * (`nllDerivatives`, the reference and fallback): NLL(β) and its first three derivatives, the
 * slopes at β → 0⁺ and β → ∞, the strided subsample, the label-with-probability-0 error, and
 * bit-identical sums for any number of threads.
 *
 * Tolerance. Per row, the wasm kernel performs the reference's operations in the reference's order
 * (its exp is bit-identical to Math.exp, tested in kernels.test.ts; a −∞ logit stored as
 * −MAX_VALUE gets weight exactly 0, as the skipped entry does), so the per-row terms are the same
 * doubles. Only the order of the sums over rows differs (two lanes, then lane 0 + lane 1; Σ_i s_y
 * apart from Σ_i E_i[s]), and Σ log z_i is the log of a running product. Two recursive sums of
 * the same N numbers in different orders each lie within γ_{N−1} ≈ (N−1)·u·Σ|c| of the exact sum
 * (u = ε/2, c = the numbers summed: N = 2n for f and g, whose sides also split log z_i − β s_y and
 * E_i[s] − s_y differently, N = n for h and t), so they differ by at most N·ε·Σ|c| — the rigorous
 * (worst-case) bound used here; for f add the product's n roundings (≤ n·u relative, so n·u
 * absolute after the log) and each log's own rounding (≤ ε·|log|; the logs add up to Σ log z_i).
 * All divided by n for the means. A wrong per-row term (a lost −∞ mask, an exp off by an ulp
 * pattern, a lane mixed up) shows up orders of magnitude above it.
 */
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { createRng } from "../src/data/rng.js";
import { RunError } from "../src/errors.js";
import { nllDerivatives, type TemperaturePasses, temperaturePasses } from "../src/kernels/temperature.js";
import { TEMPERATURE_CHUNK_ROWS, wasmTemperaturePrepare } from "../src/kernels/temperatureWasm.js";
import { wasmUnavailableReason } from "../src/kernels/wasmModule.js";
import type { Matrix } from "../src/linalg/matrix.js";
import { expectClose } from "./_shared/expectClose.js";

const EPS = Number.EPSILON;

/** Shifted logits and s_y as the reference computes them. */
function shifted(F: Matrix, y: ArrayLike<number>): { s: Float64Array; sy: Float64Array } {
  const { rows: n, cols: K, data } = F;
  const s = new Float64Array(n * K);
  const sy = new Float64Array(n);
  for (let i = 0, o = 0; i < n; i++, o += K) {
    let mx = data[o];
    for (let k = 1; k < K; k++) if (data[o + k] > mx) mx = data[o + k];
    for (let k = 0; k < K; k++) s[o + k] = data[o + k] - mx;
    sy[i] = s[o + y[i]];
  }
  return { s, sy };
}

/** Σ of |components| each side sums (see the header), per output: f, g, h, t. */
function componentSums(s: Float64Array, sy: Float64Array, n: number, K: number, beta: number) {
  let f = 0;
  let logs = 0;
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
      z += w;
      m1 += w * v;
      m2 += w * v * v;
      m3 += w * v * v * v;
    }
    const e1 = m1 / z;
    const e2 = m2 / z;
    logs += Math.abs(Math.log(z));
    f += Math.abs(Math.log(z)) + Math.abs(beta * sy[i]);
    g += Math.abs(e1) + Math.abs(sy[i]);
    h += Math.abs(e2 - e1 * e1);
    t += Math.abs(m3 / z - 3 * e1 * e2 + 2 * e1 * e1 * e1);
  }
  // f: the components, then the product's and the logs' roundings (see the header).
  return { f: f + (logs + n / 2) / (2 * n), g, h, t };
}

function expectPassClose(
  wasm: { f: number; g: number; h: number; t: number },
  ref: { f: number; g: number; h: number; t: number },
  s: Float64Array,
  sy: Float64Array,
  n: number,
  K: number,
  beta: number,
): void {
  const c = componentSums(s, sy, n, K, beta);
  expectClose(wasm.f, ref.f, { atol: (2 * n * EPS * c.f) / n }, "NLL");
  expectClose(wasm.g, ref.g, { atol: (2 * n * EPS * c.g) / n }, "NLL′");
  expectClose(wasm.h, ref.h, { atol: (n * EPS * c.h) / n }, "NLL″");
  expectClose(wasm.t, ref.t, { atol: (n * EPS * c.t) / n }, "NLL‴");
}

/**
 * A calibration set: n rows of K logits in [−40, 40], some non-label entries −∞ (probability 0),
 * labels anywhere; β log-uniform in [1e-3, 1e2].
 */
const caseArb = fc
  .record({
    n: fc.integer({ min: 1, max: 80 }),
    K: fc.integer({ min: 2, max: 7 }),
    seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    scale: fc.constantFrom(0.01, 1, 10, 40),
    zeroRate: fc.constantFrom(0, 0.2),
    logBeta: fc.double({ min: -3, max: 2, noNaN: true }),
  })
  .map(({ n, K, seed, scale, zeroRate, logBeta }) => {
    const rng = createRng(seed);
    const data = new Float64Array(n * K);
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      y[i] = rng.int(K);
      for (let k = 0; k < K; k++) {
        const z = Math.max(-40, Math.min(40, scale * rng.normal()));
        data[i * K + k] = k !== y[i] && rng.next() < zeroRate ? -Infinity : z;
      }
    }
    return { F: { rows: n, cols: K, data } as Matrix, y, beta: 10 ** logBeta };
  });

const available = wasmUnavailableReason() === null;

describe("temperature scaling's wasm pass", () => {
  it("is available (the wasm module was built)", () => {
    expect(wasmUnavailableReason()).toBeNull();
  });

  (available ? test : test.skip).prop([caseArb])(
    "NLL(β), NLL′, NLL″, NLL‴ match the TypeScript kernel up to the order of the row sums",
    ({ F, y, beta }) => {
      const { s, sy } = shifted(F, y);
      const w = temperaturePasses(F, y, "t", "wasm").at(beta);
      const ref = nllDerivatives(s, sy, F.rows, F.cols, beta);
      expectPassClose(w, ref, s, sy, F.rows, F.cols, beta);
    },
  );

  (available ? test : test.skip).prop([caseArb])(
    "the slopes at β → 0⁺ and β → ∞ are bit-identical to the TypeScript kernel's",
    ({ F, y }) => {
      const w = temperaturePasses(F, y, "t", "wasm");
      const js = temperaturePasses(F, y, "t", "js");
      expect(w.slopeAtZero).toBe(js.slopeAtZero);
      expect(w.slopeAtInfinity).toBe(js.slopeAtInfinity);
      expect(js.subsample).toBeNull();
    },
  );

  (available ? test : test.skip).prop([caseArb, fc.integer({ min: 0, max: 79 })])(
    "a label with probability 0 is the same RunError on both kernels (first such row)",
    ({ F, y }, row) => {
      const i = row % F.rows;
      const data = F.data.slice();
      data[i * F.cols + y[i]] = -Infinity;
      // Keep the row's maximum finite: some other entry gets a finite logit.
      const other = (y[i] + 1) % F.cols;
      if (data[i * F.cols + other] === -Infinity) data[i * F.cols + other] = 0;
      const G: Matrix = { rows: F.rows, cols: F.cols, data };
      const message = (kernel: "wasm" | "js"): string => {
        try {
          temperaturePasses(G, y, "t", kernel);
        } catch (e) {
          expect(e).toBeInstanceOf(RunError);
          return (e as Error).message;
        }
        return "no error";
      };
      expect(message("wasm")).toBe(message("js"));
      expect(message("wasm")).toContain(`at row ${i} `);
    },
  );

  (available ? test : test.skip).prop(
    [
      fc.integer({ min: 0, max: 2 ** 31 - 1 }),
      fc.integer({ min: 4096, max: 9001 }),
      fc.double({ min: 0.05, max: 5, noNaN: true }),
    ],
    { numRuns: 10 },
  )("the subsample pass is the TypeScript kernel on every stride-th row pair", (seed, n, beta) => {
    const K = 3;
    const rng = createRng(seed);
    const data = new Float64Array(n * K);
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      y[i] = rng.int(K);
      for (let k = 0; k < K; k++) data[i * K + k] = 3 * rng.normal() + (k === y[i] ? 2 : 0);
    }
    const F: Matrix = { rows: n, cols: K, data };
    const passes: TemperaturePasses = temperaturePasses(F, y, "t", "wasm");
    expect(passes.subsample).not.toBeNull();
    const nPairs = Math.ceil(n / 2);
    const stride = Math.floor(nPairs / 512);
    const rows: number[] = [];
    for (let p = 0; p < nPairs; p += stride)
      for (let i = 2 * p; i < Math.min(2 * p + 2, n); i++) rows.push(i);
    const sub: Matrix = { rows: rows.length, cols: K, data: new Float64Array(rows.length * K) };
    const ySub = new Int32Array(rows.length);
    rows.forEach((i, r) => {
      sub.data.set(data.subarray(i * K, i * K + K), r * K);
      ySub[r] = y[i];
    });
    const { s, sy } = shifted(sub, ySub);
    const ref = nllDerivatives(s, sy, rows.length, K, beta);
    expectPassClose(passes.subsample?.(beta) ?? ref, ref, s, sy, rows.length, K, beta);
    // ~1024 rows: the subsample is a subsample.
    expect(rows.length).toBeGreaterThanOrEqual(1024);
    expect(rows.length).toBeLessThan(n / 3);
  });

  (available ? test : test.skip).prop(
    [
      fc.integer({ min: 0, max: 2 ** 31 - 1 }),
      fc.integer({ min: 1, max: 6 * TEMPERATURE_CHUNK_ROWS + 1 }),
      fc.integer({ min: 2, max: 4 }),
      fc.double({ min: 0.05, max: 5, noNaN: true }),
    ],
    { numRuns: 20 },
  )(
    "the full pass is bit-identical on 1, 2 and 3 threads (chunks added in chunk order)",
    (seed, n, threads, beta) => {
      const K = 4;
      const rng = createRng(seed);
      const data = new Float64Array(n * K).map(() => 4 * rng.normal());
      const y = Int32Array.from({ length: n }, () => rng.int(K));
      const one = wasmTemperaturePrepare(data, y, n, K, { threads: 1 });
      expect(one.threads).toBe(1);
      const a = one.at(beta);
      const many = wasmTemperaturePrepare(data, y, n, K, { threads });
      expect(many.threads).toBe(Math.min(threads, Math.ceil(n / TEMPERATURE_CHUNK_ROWS)));
      // Twice: the second pass reuses the bound workers.
      expect(many.at(beta)).toEqual(a);
      expect(many.at(beta)).toEqual(a);
    },
  );
});
