/**
 * Summary statistics over seeds: mean, sample standard deviation and a Student-t 95% interval.
 */
import { gammaln, mean, sampleStandardDeviation } from "simple-statistics";

/** Summary of one metric over the seeds of one grid point (null where undefined). */
export interface MetricSummary {
  mean: number | null;
  sd: number | null;
  ci95Lo: number | null;
  ci95Hi: number | null;
}

/**
 * Mean, sample standard deviation and two-sided 95% Student-t interval of `values`.
 *
 * `mean = Σx/n`, `sd = √(Σ(x − mean)²/(n − 1))`, `CI = mean ± t_{0.975, n−1} · sd/√n`
 * (mean and sd by simple-statistics, t by {@link studentTQuantile}). Nulls are left out (a metric
 * undefined for some seed); n = 0 gives all nulls, n = 1 gives the mean only. Non-finite values
 * propagate through the arithmetic (an infinite NLL gives an infinite mean). Cost: O(n).
 *
 * @example
 * summarize([1, 2, 3]) // { mean: 2, sd: 1, ci95Lo: -0.4841377118..., ci95Hi: 4.4841377118... }
 */
export function summarize(values: readonly (number | null)[]): MetricSummary {
  const xs = values.filter((v): v is number => v !== null);
  if (xs.length === 0) return { mean: null, sd: null, ci95Lo: null, ci95Hi: null };
  const m = xs.some((x) => !Number.isFinite(x)) ? xs.reduce((a, b) => a + b, 0) / xs.length : mean(xs);
  if (xs.length === 1) return { mean: m, sd: null, ci95Lo: null, ci95Hi: null };
  const sd = Number.isFinite(m) ? sampleStandardDeviation(xs) : Number.NaN;
  const half = (studentTQuantile(0.975, xs.length - 1) * sd) / Math.sqrt(xs.length);
  return { mean: m, sd, ci95Lo: m - half, ci95Hi: m + half };
}

/**
 * The p-quantile of Student's t distribution with `df` degrees of freedom.
 *
 * Inverts the CDF `F(t) = 1 − ½·I_{df/(df+t²)}(df/2, ½)` for t ≥ 0 (symmetry for t < 0), with the
 * regularized incomplete beta `I_x(a, b)` from its continued fraction (modified Lentz; Press et
 * al., Numerical Recipes 3rd ed. §6.4) and the root found by bisection to the last bit — exact
 * closed forms for df = 1 (`tan(π(p − ½))`) and df = 2 (`(2p − 1)/√(2p(1 − p))`). Agrees with
 * scipy.stats.t.ppf (1.17.1) to ≤ 2e-14 relative for df ≤ 1000 and ~1e-10 at df = 10⁶ (pinned in the
 * tests). Errors: RangeError unless
 * 0 < p < 1 and df > 0. Cost: ~60–1100 incomplete-beta evaluations of O(√df) terms each.
 *
 * @example
 * studentTQuantile(0.975, 9) // 2.262157162798205
 */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`studentTQuantile: p must be in (0, 1); got ${p}`);
  if (!(df > 0)) throw new RangeError(`studentTQuantile: df must be > 0; got ${df}`);
  if (p === 0.5) return 0;
  if (p < 0.5) return -studentTQuantile(1 - p, df);
  if (df === 1) return Math.tan(Math.PI * (p - 0.5));
  if (df === 2) return (2 * p - 1) / Math.sqrt(2 * p * (1 - p));
  const tail = 1 - p; // upper-tail probability we need: ½·I_{df/(df+t²)}(df/2, ½) = tail
  let lo = 0;
  let hi = 1;
  while (upperTail(hi, df) > tail) hi *= 2;
  for (let i = 0; i < 2000; i++) {
    const mid = (lo + hi) / 2;
    if (mid <= lo || mid >= hi) break;
    if (upperTail(mid, df) > tail) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/**
 * The CDF of Student's t distribution with `df` degrees of freedom (any real df > 0):
 * `F(t) = ½·I_{df/(df+t²)}(df/2, ½)` for t ≤ 0 and `1 − F(−t)` for t > 0, with the same
 * incomplete beta as {@link studentTQuantile}. The lower tail is computed directly (no `1 − …`),
 * so a two-sided p-value `2·F(−|t|)` keeps its relative accuracy far into the tail. ±Infinity
 * give 0 and 1; NaN gives NaN. Agrees with scipy.stats.t.cdf (1.10.1) to ≤ 1e-12 relative on the
 * values pinned in the tests; near t = 0 at large df (x = df/(df + t²) within ~1e-5 of 1, where
 * the incomplete beta loses digits of 1 − x) the absolute error is up to ~2e-12 — far from the
 * tails a p-value needs. Errors: RangeError unless df > 0 and finite. Cost: one incomplete-beta
 * evaluation (O(√df) continued-fraction terms).
 *
 * @example
 * studentTCdf(-2.262157162798205, 9) // 0.025 (to ~1e-15)
 */
export function studentTCdf(t: number, df: number): number {
  if (!(df > 0 && Number.isFinite(df)))
    throw new RangeError(`studentTCdf: df must be finite and > 0; got ${df}`);
  if (Number.isNaN(t)) return Number.NaN;
  return t <= 0 ? upperTail(-t, df) : 1 - upperTail(t, df);
}

/** P(T > t) for t ≥ 0. */
function upperTail(t: number, df: number): number {
  return 0.5 * regularizedIncompleteBeta(df / (df + t * t), df / 2, 0.5);
}

/** I_x(a, b) by the continued fraction (Numerical Recipes §6.4), using the symmetry for speed. */
function regularizedIncompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const lnFront = gammaln(a + b) - gammaln(a) - gammaln(b) + a * Math.log(x) + b * Math.log1p(-x);
  if (x < (a + 1) / (a + b + 2)) return (Math.exp(lnFront) * betaContinuedFraction(x, a, b)) / a;
  return 1 - (Math.exp(lnFront) * betaContinuedFraction(1 - x, b, a)) / b;
}

function betaContinuedFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 10_000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-16) break;
  }
  return h;
}

/** A metric's range: summaries clip intervals into it (an absent bound is unbounded). */
export interface MetricRange {
  min?: number;
  max?: number;
}

/** An honest summary of one metric over the seeds of one grid point. */
export interface MetricDescription extends MetricSummary {
  /** Values given (one per unit of the point). */
  planned: number;
  /** Finite values: the ones mean, sd and the interval use. */
  n: number;
  /** Missing values of failed units (a unit whose result has a `failure`). */
  failed: number;
  /** Missing values of units that did not fail (the metric is not defined there). */
  undefined: number;
  /** Non-finite values (±Infinity, NaN): left out of mean, sd and interval; kept in the quantiles. */
  nonFinite: number;
  /** Whether the Student-t interval left the metric's range and was clipped into it. */
  clipped: boolean;
  /** Median and quartiles (numpy's default linear interpolation) over every non-missing value, ±Infinity included. */
  median: number | null;
  q25: number | null;
  q75: number | null;
}

/**
 * The p-quantile of sorted values by linear interpolation between closest ranks (numpy's default,
 * Hyndman & Fan 1996 type 7: `h = (n − 1)·p`, `x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋+1] − x[⌊h⌋])`), with
 * ±Infinity allowed: equal neighbours give that value (so `∞` between two `∞`, never `∞ − ∞`), a
 * fraction of the way from −∞ to a finite value is −∞ (and from a finite value to +∞ is +∞: the
 * limits of the interpolation), and between −∞ and +∞ the nearer rank is taken.
 * NaN values must have been removed. Null for no values. Cost: O(1).
 * @example quantileSorted([1, 2, Infinity], 0.5) // 2
 */
export function quantileSorted(sorted: ArrayLike<number>, p: number): number | null {
  if (sorted.length === 0) return null;
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  const a = sorted[lo];
  const b = sorted[hi];
  const f = h - lo;
  if (a === b || f === 0) return a;
  // The interpolation's limit where a neighbour is infinite: −∞ below a finite value, +∞ above
  // one; between −∞ and +∞ (no limit) the nearer rank.
  if (a === Number.NEGATIVE_INFINITY && b === Number.POSITIVE_INFINITY) return f < 0.5 ? a : b;
  if (a === Number.NEGATIVE_INFINITY || b === Number.POSITIVE_INFINITY)
    return a === Number.NEGATIVE_INFINITY ? a : b;
  return a + f * (b - a);
}

/**
 * Describes one metric over the seeds of a grid point, honestly: mean, sd and Student-t 95%
 * interval ({@link summarize}) over the finite values only, the interval clipped into
 * `range` (and `clipped` says so); counts of the values left out — missing because the unit
 * failed (`failed[i]`), missing because the metric is not defined there, non-finite — and, for
 * every metric, the median and quartiles over all non-missing values, infinities included (an NLL
 * that is +∞ on a few seeds moves the median by a rank, not to ∞). Cost: O(n log n).
 */
export function describeMetric(
  values: readonly (number | null)[],
  failed: readonly boolean[],
  range: MetricRange = {},
): MetricDescription {
  const finite: number[] = [];
  const kept: number[] = [];
  let nFailed = 0;
  let nUndefined = 0;
  let nonFinite = 0;
  values.forEach((v, i) => {
    if (v === null) {
      if (failed[i]) nFailed++;
      else nUndefined++;
      return;
    }
    if (Number.isFinite(v)) finite.push(v);
    else nonFinite++;
    if (!Number.isNaN(v)) kept.push(v);
  });
  const s = summarize(finite);
  let { ci95Lo, ci95Hi } = s;
  let clipped = false;
  if (ci95Lo !== null && ci95Hi !== null) {
    if (range.min !== undefined && ci95Lo < range.min) [ci95Lo, clipped] = [range.min, true];
    if (range.max !== undefined && ci95Hi > range.max) [ci95Hi, clipped] = [range.max, true];
  }
  const sorted = Float64Array.from(kept).sort();
  return {
    ...s,
    ci95Lo,
    ci95Hi,
    planned: values.length,
    n: finite.length,
    failed: nFailed,
    undefined: nUndefined,
    nonFinite,
    clipped,
    median: quantileSorted(sorted, 0.5),
    q25: quantileSorted(sorted, 0.25),
    q75: quantileSorted(sorted, 0.75),
  };
}

/**
 * What a description leaves out or changes, in words for summary.csv's `notes` (empty when
 * nothing): e.g. `nll: 3 of 10 non-finite, left out of mean/sd/ci95 (median and quartiles keep
 * them)`, `temperature: 4 of 10 failed`, `accuracy: ci95 clipped to [0, 1]`, `ece: 1 value, no
 * interval`. A metric with no value at all because it is not defined at this point says nothing.
 */
export function describeNotes(metric: string, d: MetricDescription, range: MetricRange = {}): string[] {
  if (d.undefined === d.planned) return [];
  const notes: string[] = [];
  if (d.failed > 0) notes.push(`${metric}: ${d.failed} of ${d.planned} failed`);
  if (d.undefined > 0) notes.push(`${metric}: ${d.undefined} of ${d.planned} not defined`);
  if (d.nonFinite > 0) {
    notes.push(
      `${metric}: ${d.nonFinite} of ${d.planned} non-finite, left out of mean/sd/ci95 (median and quartiles keep them)`,
    );
  }
  if (d.clipped)
    notes.push(`${metric}: ci95 clipped to [${range.min ?? "-Infinity"}, ${range.max ?? "Infinity"}]`);
  if (d.n === 1) notes.push(`${metric}: 1 finite value, no interval`);
  else if (d.n === 0) notes.push(`${metric}: no finite value`);
  return notes;
}
