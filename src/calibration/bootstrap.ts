/**
 * Seeded nonparametric bootstrap percentile intervals for any metric of n samples.
 */
import { createRequire } from "node:module";
import type * as SimpleStatistics from "simple-statistics";
import type { Rng } from "../data/rng.js";

// simple-statistics loads on the first interval computed, not when softcal is imported.
const require = createRequire(import.meta.url);
let ss: typeof SimpleStatistics | undefined;

/** Options of {@link bootstrapInterval}. */
export interface BootstrapOptions {
  /** Number of bootstrap resamples R, an integer ≥ 1 (e.g. 1000). */
  resamples: number;
  /** Coverage as a fraction in (0, 1); default 0.95. */
  level?: number;
  /**
   * Seeded uniform source on [0, 1): a function (e.g. `seedrandom.alea(seed)`), or an {@link Rng}
   * (`createRng(seed)`), whose `fill` draws each resample's uniforms in one call — the same values
   * as calling `rng.next` once per index, so the same interval, several times faster. Never an
   * unseeded global source.
   */
  rng: (() => number) | Rng;
}

/** A bootstrap percentile interval. */
export interface BootstrapInterval {
  /** The metric on the original sample (indices 0..n−1 in order). */
  estimate: number;
  /** The (1 − level)/2 quantile of the R bootstrap values. */
  lower: number;
  /** The (1 + level)/2 quantile of the R bootstrap values. */
  upper: number;
  level: number;
  resamples: number;
}

/** Indices per allocation of resample index vectors (256 KiB). */
const BLOCK_INDICES = 65536;

/**
 * Percentile bootstrap interval (Efron & Tibshirani 1993, "An Introduction to the Bootstrap",
 * ch. 13): draw R index vectors of length n uniformly with replacement (`⌊u·n⌋` per uniform draw
 * u, the draws of simple-statistics' `sampleWithReplacement(0..n−1, n, rng)`), evaluate
 * `metric(idx)` on each, and return the
 * (1 − level)/2 and (1 + level)/2 quantiles of the R values (simple-statistics `quantileSorted`,
 * numpy's default linear rule). `estimate = metric(0..n−1)`.
 *
 * The interval of a nearly unbiased statistic (accuracy, NLL, Brier) contains the estimate in
 * practice; for an upward-biased one like binned ECE the bootstrap distribution sits above the
 * estimate and the percentile interval may exclude it — report it as is, or debias the metric.
 * Same RNG state ⇒ same interval. Cost R metric calls plus O(R·n).
 * @throws RangeError if n < 1, resamples is not an integer ≥ 1 or level ∉ (0, 1) (programming errors).
 * @example bootstrapInterval((idx) => idx.length, 3, { resamples: 10, rng: seedrandom.alea("1") })
 *   // { estimate: 3, lower: 3, upper: 3, level: 0.95, resamples: 10 }
 */
export function bootstrapInterval(
  metric: (idx: Int32Array) => number,
  n: number,
  opts: BootstrapOptions,
): BootstrapInterval {
  const level = opts.level ?? 0.95;
  const R = opts.resamples;
  if (!(Number.isInteger(n) && n >= 1))
    throw new RangeError(`bootstrapInterval: n must be an integer ≥ 1; got ${n}`);
  if (!(Number.isInteger(R) && R >= 1)) {
    throw new RangeError(`bootstrapInterval: resamples must be an integer ≥ 1; got ${R}`);
  }
  if (!(level > 0 && level < 1))
    throw new RangeError(`bootstrapInterval: level must be a fraction in (0, 1); got ${level}`);
  const all = new Int32Array(n);
  for (let i = 0; i < n; i++) all[i] = i;
  const estimate = metric(all);
  const rng = opts.rng;
  // Each resample's n indices ⌊u·n⌋, from n uniforms drawn one call at a time or in one fill.
  let drawIndices: (idx: Int32Array) => void;
  if (typeof rng === "function") {
    drawIndices = (idx) => {
      for (let i = 0; i < n; i++) idx[i] = Math.floor(rng() * n);
    };
  } else {
    const u = new Float64Array(n);
    drawIndices = (idx) => {
      rng.fill(u);
      for (let i = 0; i < n; i++) idx[i] = Math.floor(u[i] * n);
    };
  }
  // Each resample gets its own index vector (the metric may keep it), cut as a view from blocks
  // of ≥ 64 Ki indices: one allocation per block instead of one per resample. Small typed arrays
  // each own an off-heap buffer that V8 frees on another thread — at 200 resamples per run, that
  // was a share of a second core the experiments' --jobs 2 needs.
  const perBlock = Math.max(1, Math.floor(BLOCK_INDICES / n));
  let block = new Int32Array(0);
  const values = new Float64Array(R);
  for (let r = 0; r < R; r++) {
    const slot = r % perBlock;
    if (slot === 0) block = new Int32Array(Math.min(perBlock, R - r) * n);
    const idx = block.subarray(slot * n, (slot + 1) * n);
    drawIndices(idx);
    values[r] = metric(idx);
  }
  // A typed array sorts numerically without a comparator (a comparator boxed every value it saw),
  // NaNs last.
  values.sort();
  const sorted: number[] = [];
  for (let r = 0; r < R; r++) sorted.push(values[r]);
  return {
    estimate,
    lower: (ss ??= require("simple-statistics") as typeof SimpleStatistics).quantileSorted(
      sorted,
      (1 - level) / 2,
    ),
    upper: ss.quantileSorted(sorted, (1 + level) / 2),
    level,
    resamples: R,
  };
}
