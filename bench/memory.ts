/**
 * Peak memory of one fit, run in a fresh process by bench/rows/memory.ts:
 *   tsx bench/memory.ts M D K [kernel]
 * Generates X (M×D, seeded Gaussian blobs) straight into a Float64Array, then reports the resident
 * set before the fit and the process's peak resident set after it, as one JSON line. The increase
 * over "before" is what fitting costs on top of holding X (conservatively: an earlier transient
 * peak would be counted as the fit's).
 */
import { createRng } from "../src/data/rng.js";
import { fit } from "../src/model/fit.js";

const [m, d, K] = process.argv.slice(2, 5).map(Number);
const kernel = (process.argv[5] ?? "wasm") as "wasm" | "js";
const rng = createRng(7);
const centers = Float64Array.from({ length: K * d }, () => 2 * rng.normal());
const X = new Float64Array(m * d);
const y = new Int32Array(m);
for (let i = 0; i < m; i++) {
  const k = rng.int(K);
  y[i] = k;
  for (let j = 0; j < d; j++) X[i * d + j] = centers[k * d + j] + rng.normal();
}
(globalThis as { gc?: () => void }).gc?.();
const before = process.memoryUsage().rss;
const t0 = performance.now();
const r = fit({ rows: m, cols: d, data: X }, y, K, { l2: 1e-3, kernel });
const ms = performance.now() - t0;
const peak = process.resourceUsage().maxRSS * 1024;
process.stdout.write(
  `${JSON.stringify({ m, d, K, kernel, xBytes: X.byteLength, rssBefore: before, peakRss: peak, fitMs: ms, iterations: r.iterations })}\n`,
);
