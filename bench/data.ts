/**
 * The bench's data: problems generated here (seeded Gaussian blobs) or by the reference process
 * (scikit-learn's bundled data sets), each held in memory for softcal and written to
 * results/bench/data/ as raw little-endian float64 / int32 files for the reference to read — both
 * sides run on the same numbers. Also the CSV form the CLI rows read, and the check of softcal's
 * answers against another's.
 */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createRng } from "../src/data/rng.js";
import type { Matrix } from "../src/linalg/matrix.js";
import { OUT } from "./harness.js";
import type { Reference } from "./reference.js";

/** results/bench/data/: the generated data (run.ts creates it). */
export const DATA = join(OUT, "data");

/** A classification problem: X (m×d, row-major), labels y in 0..K−1, and where both are on disk. */
export interface Problem {
  X: Float64Array;
  y: Int32Array;
  m: number;
  d: number;
  K: number;
  xPath: string;
  yPath: string;
}

/** Gaussian blobs like lesson_softmax.py --synthetic: centers N(0, 2²), unit noise; seeded. Cost: O(m·d), and its write. */
export function blobs(m: number, d: number, K: number, seed: number): Problem {
  const rng = createRng(seed);
  const centers = Float64Array.from({ length: K * d }, () => 2 * rng.normal());
  const X = new Float64Array(m * d);
  const y = new Int32Array(m);
  for (let i = 0; i < m; i++) {
    const k = i < K ? i : rng.int(K);
    y[i] = k;
    for (let j = 0; j < d; j++) X[i * d + j] = centers[k * d + j] + rng.normal();
  }
  return save(`blobs-${m}x${d}x${K}`, X, y, m, d, K);
}

/** Writes X and y to results/bench/data/<name>.X.f64 and <name>.y.i32; returns them as a {@link Problem}. */
export function save(name: string, X: Float64Array, y: Int32Array, m: number, d: number, K: number): Problem {
  const xPath = join(DATA, `${name}.X.f64`);
  const yPath = join(DATA, `${name}.y.i32`);
  writeFileSync(xPath, new Uint8Array(X.buffer, X.byteOffset, X.byteLength));
  writeFileSync(yPath, new Uint8Array(y.buffer, y.byteOffset, y.byteLength));
  return { X, y, m, d, K, xPath, yPath };
}

/** A raw float64 file (as the reference writes them) in a fresh, aligned buffer. */
export function readF64(path: string): Float64Array {
  const b = spawnSync("cat", [path], { maxBuffer: 1 << 30 }).stdout;
  return new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}
function readI32(path: string): Int32Array {
  const b = spawnSync("cat", [path], { maxBuffer: 1 << 30 }).stdout;
  return new Int32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/** scikit-learn's digits or iris, standardized, as the reference process writes it (one request). */
export async function dataset(ref: Reference, name: "digits" | "iris"): Promise<Problem> {
  const xPath = join(DATA, `${name}.X.f64`);
  const yPath = join(DATA, `${name}.y.i32`);
  const { m, d, K } = (await ref.call({ cmd: "dataset", name, x: xPath, y: yPath })) as {
    m: number;
    d: number;
    K: number;
  };
  return { X: readF64(xPath), y: readI32(yPath), m, d, K, xPath, yPath };
}

/** Writes `p` as the CLI reads it: a header x0,…,x(d−1),label, then one line per sample. */
export function writeCsv(p: Problem, path: string): void {
  const header = [...Array.from({ length: p.d }, (_, j) => `x${j}`), "label"].join(",");
  const lines = [header];
  for (let i = 0; i < p.m; i++) {
    const r: string[] = [];
    for (let j = 0; j < p.d; j++) r.push(String(p.X[i * p.d + j]));
    r.push(String(p.y[i]));
    lines.push(r.join(","));
  }
  writeFileSync(path, `${lines.join("\n")}\n`);
}

/** `p`'s X as the library's {@link Matrix} (no copy). */
export const mat = (p: Problem): Matrix => ({ rows: p.m, cols: p.d, data: p.X });

/** The largest |a[i] − b[i]|: how far softcal's answer (Θ, probabilities) is from another's. */
export const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let mx = 0;
  for (let i = 0; i < a.length; i++) mx = Math.max(mx, Math.abs(a[i] - b[i]));
  return mx;
};
