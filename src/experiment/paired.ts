/**
 * Paired comparisons across seeds: the sign-flip permutation test and the paired effect of a
 * treatment against a reference (mean difference, Student-t 95% interval, p-value, and counts of
 * the pairs left out), and the `paired.csv` table an experiment's declared comparisons produce.
 *
 * Pairs are formed by seed index: the engine gives every grid point the same seed at one seed
 * index (common random numbers, see `deriveRunSeed`), so a treated unit and its reference unit
 * saw the same data, split and resamples, and their difference carries no split-to-split noise.
 */
import { createRng } from "../data/rng.js";
import { pointKey } from "./seeds.js";
import { summarize } from "./stats.js";
import type { CompletedRun, Experiment, GridPoint, ParamValue, Table } from "./types.js";

/** Pairs up to which {@link signFlipTest} enumerates every sign assignment (2^30 by meet-in-the-middle). */
export const EXACT_SIGN_FLIP_MAX = 30;
/** Random sign assignments {@link signFlipTest} draws above {@link EXACT_SIGN_FLIP_MAX} pairs. */
export const SIGN_FLIP_RESAMPLES = 10_000;

/** A sign-flip test's p-value and how it was computed. */
export interface SignFlipResult {
  /** Two-sided p-value; null for no pairs or a non-finite difference. */
  pValue: number | null;
  /** `exact sign-flip (2^n assignments)` or `monte-carlo sign-flip (R resamples, seed s)`; "" when pValue is null. */
  test: string;
}

/**
 * Paired sign-flip permutation test (Fisher 1935, "The Design of Experiments", §21): under the
 * null hypothesis that treatment and reference perform alike, each paired difference d_i is as
 * likely to be +|d_i| as −|d_i|. The two-sided p-value is the fraction of sign assignments
 * whose |Σ s_i·d_i| is at least the observed |Σ d_i| (a relative slack of 1e-12·Σ|d_i| counts
 * assignments that tie up to rounding — discrete metrics such as accuracy tie often).
 *
 * - n ≤ {@link EXACT_SIGN_FLIP_MAX}: exact, over all 2^n assignments, by meet-in-the-middle: the
 *   2^⌊n/2⌋ signed sums of the first half are sorted, and for each signed sum s of the second half
 *   two binary searches count the first-half sums a with a + s ≥ t or a + s ≤ −t. Cost
 *   O(2^(n/2)·n). Reproducible to the bit, no randomness.
 * - n > {@link EXACT_SIGN_FLIP_MAX}: Monte Carlo with `resamples` (default
 *   {@link SIGN_FLIP_RESAMPLES}) assignments drawn from a seeded Alea stream (`seed`, default 0;
 *   32 signs per 32-bit draw; `exactUpTo` lowers the exact limit), p = (1 + extreme)/(1 + resamples) — never 0, and valid as a test
 *   (Phipson & Smyth 2010, "Permutation P-values should never be zero", SAGMB 9(1)). The same
 *   differences and seed always give the same p-value. Cost O(resamples·n).
 *
 * @example signFlipTest([1, 1, 1]).pValue // 0.25 (only all-plus and all-minus reach |sum| = 3)
 */
export function signFlipTest(
  diffs: readonly number[],
  {
    resamples = SIGN_FLIP_RESAMPLES,
    seed = 0,
    exactUpTo = EXACT_SIGN_FLIP_MAX,
  }: { resamples?: number; seed?: number; exactUpTo?: number } = {},
): SignFlipResult {
  const n = diffs.length;
  if (n === 0 || diffs.some((d) => !Number.isFinite(d))) return { pValue: null, test: "" };
  if (!(Number.isInteger(resamples) && resamples >= 1)) {
    throw new RangeError(`signFlipTest: resamples must be a positive integer; got ${resamples}`);
  }
  let sum = 0;
  let absSum = 0;
  for (const d of diffs) {
    sum += d;
    absSum += Math.abs(d);
  }
  const threshold = Math.abs(sum) - 1e-12 * absSum;
  if (n <= Math.min(exactUpTo, EXACT_SIGN_FLIP_MAX)) {
    const p = threshold <= 0 ? 1 : exactTail(diffs, threshold) / 2 ** n;
    return { pValue: p, test: `exact sign-flip (2^${n} assignments)` };
  }
  // Each resample's signs come from ⌈n/32⌉ draws ⌊u·2^32⌋ (rng.int(2^32)), bit i of the
  // block's draw flipping d_i; all resamples' draws are made at once, in the same order.
  const blocks = Math.ceil(n / 32);
  const u = createRng(seed).fill(new Float64Array(resamples * blocks));
  const d = Float64Array.from(diffs);
  let extreme = 0;
  for (let r = 0; r < resamples; r++) {
    let s = 0;
    for (let b = 0; b < blocks; b++) {
      const bits = Math.floor(u[r * blocks + b] * 2 ** 32);
      const end = Math.min(32, n - 32 * b);
      // d·(1 − 2·bit) is ±d exactly: the same sum as choosing −d or d, without a branch.
      for (let j = 0; j < end; j++) s += d[32 * b + j] * (1 - 2 * ((bits >>> j) & 1));
    }
    if (Math.abs(s) >= threshold) extreme++;
  }
  return {
    pValue: (1 + extreme) / (1 + resamples),
    test: `monte-carlo sign-flip (${resamples} resamples, seed ${seed})`,
  };
}

/** The signed sums of `d` over every sign assignment (2^d.length values, unsorted). */
function signedSums(d: readonly number[]): Float64Array {
  const out = new Float64Array(2 ** d.length);
  for (let mask = 0; mask < out.length; mask++) {
    let s = 0;
    for (let i = 0; i < d.length; i++) s += mask & (1 << i) ? -d[i] : d[i];
    out[mask] = s;
  }
  return out;
}

/** How many of the 2^n sign assignments reach |Σ s_i·d_i| ≥ t (t > 0), by meet-in-the-middle. */
function exactTail(diffs: readonly number[], t: number): number {
  const h = diffs.length >> 1;
  const first = signedSums(diffs.slice(0, h)).sort();
  const second = signedSums(diffs.slice(h));
  let count = 0;
  for (const s of second) {
    // a + s ≥ t ⇔ a ≥ t − s;  a + s ≤ −t ⇔ a ≤ −t − s (disjoint since t > 0).
    count += first.length - lowerBound(first, t - s);
    count += upperBound(first, -t - s);
  }
  return count;
}

/** The first index i with a[i] ≥ x (a sorted ascending). */
function lowerBound(a: Float64Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The first index i with a[i] > x (a sorted ascending). */
function upperBound(a: Float64Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The paired effect of a treatment against its reference over seeds. */
export interface PairedEffect {
  /** Pairs whose two values are finite: the pairs the statistics use. */
  n: number;
  /** Pairs with a missing value (a failed unit, or a metric the unit left undefined). */
  failed: number;
  /** Pairs with a non-finite value (e.g. an infinite NLL); counted here, left out of the statistics. */
  nonFinite: number;
  meanDiff: number | null;
  sdDiff: number | null;
  ci95Lo: number | null;
  ci95Hi: number | null;
  pValue: number | null;
  /** How the p-value was computed (see {@link signFlipTest}). */
  test: string;
}

/**
 * The paired effect `treated[i] − reference[i]` over pairs i (one per seed index): mean
 * difference, its sample sd and Student-t 95% interval (`summarize`), and the sign-flip p-value
 * ({@link signFlipTest}) — over the pairs whose two values are finite; pairs with a null value are
 * counted in `failed`, pairs with a non-finite one in `nonFinite` (never dropped unseen).
 * @throws RangeError if the two lists differ in length. Cost: that of {@link signFlipTest}.
 * @example pairedEffect([2, 3, 4], [1, 1, 1]).meanDiff // 2
 */
export function pairedEffect(
  treated: readonly (number | null)[],
  reference: readonly (number | null)[],
  options: { resamples?: number; seed?: number; exactUpTo?: number } = {},
): PairedEffect {
  if (treated.length !== reference.length) {
    throw new RangeError(
      `pairedEffect: expected as many reference values as treated ones; got ${reference.length} and ${treated.length}`,
    );
  }
  const diffs: number[] = [];
  let failed = 0;
  let nonFinite = 0;
  treated.forEach((t, i) => {
    const r = reference[i];
    if (t === null || r === null) failed++;
    else if (!Number.isFinite(t) || !Number.isFinite(r)) nonFinite++;
    else diffs.push(t - r);
  });
  const s = summarize(diffs);
  const { pValue, test } = signFlipTest(diffs, options);
  return {
    n: diffs.length,
    failed,
    nonFinite,
    meanDiff: s.mean,
    sdDiff: s.sd,
    ci95Lo: s.ci95Lo,
    ci95Hi: s.ci95Hi,
    pValue,
    test,
  };
}

/** The columns of a paired effect in paired.csv, after the columns naming what is compared. */
export const PAIRED_EFFECT_COLUMNS = [
  "n",
  "mean_diff",
  "ci95_lo",
  "ci95_hi",
  "p_value",
  "sd_diff",
  "n_failed",
  "n_nonfinite",
  "test",
] as const;

/** A paired effect's cells, in {@link PAIRED_EFFECT_COLUMNS} order. */
export function pairedEffectCells(e: PairedEffect): (number | string | null)[] {
  return [e.n, e.meanDiff, e.ci95Lo, e.ci95Hi, e.pValue, e.sdDiff, e.failed, e.nonFinite, e.test];
}

/**
 * A treatment axis compared against one of its levels, paired by seed index: for every other
 * level, at every combination of the other parameters, each metric's paired effect (written to
 * `paired.csv`).
 */
export interface Comparison {
  /** The parameter compared (e.g. `method`). */
  axis: string;
  /** The reference level, or a rule choosing it from the axis's levels (in grid order). */
  reference: ParamValue | ((levels: readonly ParamValue[]) => ParamValue);
  /** The metrics compared. */
  metrics: readonly string[];
}

/** A comparison with its reference level chosen (as config.json records it). */
export interface ResolvedComparison {
  axis: string;
  reference: ParamValue;
  metrics: string[];
}

/**
 * An experiment's comparisons with their reference levels chosen from the grid's levels of each
 * axis (in grid order). A comparison naming an axis that is not a parameter, a metric that is not
 * declared, or a reference level the grid lacks is a programming error of the experiment:
 * RangeError naming it.
 */
export function resolveComparisons(
  exp: Pick<Experiment, "name" | "comparisons">,
  grid: readonly GridPoint[],
  parameters: readonly string[],
  metrics: readonly string[],
): ResolvedComparison[] {
  return (exp.comparisons ?? []).map((c) => {
    const where = `experiment "${exp.name}": comparison on "${c.axis}"`;
    if (!parameters.includes(c.axis))
      throw new RangeError(`${where}: expected a parameter; got none of that name`);
    for (const m of c.metrics) {
      if (!metrics.includes(m)) throw new RangeError(`${where}: metric "${m}" is not among the metrics`);
    }
    const levels = [...new Set(grid.flatMap((p) => (c.axis in p ? [p[c.axis]] : [])))];
    const reference = typeof c.reference === "function" ? c.reference(levels) : c.reference;
    if (!levels.includes(reference)) {
      throw new RangeError(`${where}: reference level ${JSON.stringify(reference)} is not in the grid`);
    }
    return { axis: c.axis, reference, metrics: [...c.metrics] };
  });
}

/**
 * The `paired` table of an experiment's comparisons: one row per (comparison, treated point,
 * metric): the treated point's parameters, `axis`, `reference` (the reference level), `metric`,
 * then {@link PAIRED_EFFECT_COLUMNS}. A point whose reference point is not in the grid gets no
 * rows. Rows follow the grid's order, then the metrics' order. Pure in (points, runs, seeds):
 * the same bytes however the units were run.
 */
export function pairedTable(
  comparisons: readonly ResolvedComparison[],
  parameters: readonly string[],
  points: readonly GridPoint[],
  runs: readonly CompletedRun[],
  seeds: number,
): Table {
  const byPoint = points.map(() => new Array<CompletedRun | undefined>(seeds).fill(undefined));
  for (const r of runs) byPoint[r.pointIndex][r.seedIndex] = r;
  const rows: (string | number | boolean | null)[][] = [];
  for (const c of comparisons) {
    const ref = c.reference;
    const rest = (p: GridPoint) => {
      const { [c.axis]: _, ...others } = p;
      return pointKey(others);
    };
    const refIndex = new Map<string, number>();
    points.forEach((p, i) => {
      if (c.axis in p && p[c.axis] === ref) refIndex.set(rest(p), i);
    });
    points.forEach((p, i) => {
      if (!(c.axis in p) || p[c.axis] === ref) return;
      const j = refIndex.get(rest(p));
      if (j === undefined) return;
      for (const m of c.metrics) {
        const value = (u: CompletedRun | undefined) => u?.result.metrics[m] ?? null;
        const effect = pairedEffect(byPoint[i].map(value), byPoint[j].map(value));
        rows.push([...parameters.map((q) => p[q] ?? null), c.axis, ref, m, ...pairedEffectCells(effect)]);
      }
    });
  }
  return {
    name: "paired",
    columns: [...parameters, "axis", "reference", "metric", ...PAIRED_EFFECT_COLUMNS],
    rows,
  };
}
