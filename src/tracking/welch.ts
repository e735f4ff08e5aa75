/**
 * Welch's unequal-variances t test: the unpaired comparison `softcal compare` and `check` fall back
 * to when two runs do not share seeds (so their units cannot be paired by seed index).
 */
import { mean, sampleVariance } from "simple-statistics";
import { studentTCdf, studentTQuantile } from "../experiment/stats.js";

/** Welch's test of mean(y) − mean(x): the difference, its 95% interval and two-sided p-value. */
export interface WelchResult {
  /** Values of x and y used (finite ones). */
  nX: number;
  nY: number;
  /** mean(y) − mean(x); null when either sample is empty. */
  diff: number | null;
  /** Standard error √(s_x²/n_x + s_y²/n_y); null with fewer than 2 values on a side. */
  se: number | null;
  /** Welch–Satterthwaite degrees of freedom; null when undefined (fewer than 2 values on a side, or se = 0). */
  df: number | null;
  /** The t statistic diff/se (±Infinity when se = 0 and diff ≠ 0, 0 when both are 0); null when se is. */
  t: number | null;
  ci95Lo: number | null;
  ci95Hi: number | null;
  /** Two-sided p-value 2·F(−|t|; df); null when se is. */
  pValue: number | null;
}

/**
 * Welch's t test (Welch 1947, "The generalization of 'Student's' problem when several different
 * population variances are involved", Biometrika 34(1–2):28–35), for `mean(y) − mean(x)`:
 *
 * - `se = √(s_x²/n_x + s_y²/n_y)` with the sample variances s² (n − 1 denominator);
 * - `df = se⁴ / ((s_x²/n_x)²/(n_x − 1) + (s_y²/n_y)²/(n_y − 1))` (Welch–Satterthwaite);
 * - `t = diff/se`, 95% interval `diff ± t_{0.975, df}·se`, p = `2·F(−|t|; df)`
 *   ({@link studentTQuantile}, {@link studentTCdf}).
 *
 * Equals `scipy.stats.ttest_ind(y, x, equal_var=False)` (statistic, p-value) and scipy's t.ppf
 * interval (checked against scipy 1.10.1 in the tests). Edge cases, each a documented choice: fewer
 * than 2 values on a side gives no se, interval or p (scipy: NaN); two constant samples (se = 0)
 * give the zero-width interval [diff, diff], df null and p = 1 if diff = 0 else 0 (scipy: NaN).
 * Only finite values are accepted (the caller counts and leaves out the others).
 * Errors: RangeError for a non-finite value. Cost: O(n_x + n_y).
 *
 * @example
 * welchTest([1, 2, 3, 4], [2, 5, 7]).t // 1.3627702877384942 (up to rounding)
 */
export function welchTest(x: readonly number[], y: readonly number[]): WelchResult {
  for (const v of [...x, ...y]) {
    if (!Number.isFinite(v)) throw new RangeError(`welchTest: expected finite values; got ${v}`);
  }
  const nX = x.length;
  const nY = y.length;
  const none = { se: null, df: null, t: null, ci95Lo: null, ci95Hi: null, pValue: null };
  if (nX === 0 || nY === 0) return { nX, nY, diff: null, ...none };
  const diff = mean([...y]) - mean([...x]);
  if (nX < 2 || nY < 2) return { nX, nY, diff, ...none };
  const vx = sampleVariance([...x]) / nX;
  const vy = sampleVariance([...y]) / nY;
  const se = Math.sqrt(vx + vy);
  if (se === 0) {
    return {
      nX,
      nY,
      diff,
      se,
      df: null,
      t: diff === 0 ? 0 : diff > 0 ? Infinity : -Infinity,
      ci95Lo: diff,
      ci95Hi: diff,
      pValue: diff === 0 ? 1 : 0,
    };
  }
  // df in a scale-free form (no se⁴, which underflows for tiny variances), symmetric in x and y.
  const rx = vx / (vx + vy);
  const ry = vy / (vx + vy);
  const df = 1 / (rx ** 2 / (nX - 1) + ry ** 2 / (nY - 1));
  const t = diff / se;
  const half = studentTQuantile(0.975, df) * se;
  return {
    nX,
    nY,
    diff,
    se,
    df,
    t,
    ci95Lo: diff - half,
    ci95Hi: diff + half,
    pValue: Math.min(1, 2 * studentTCdf(-Math.abs(t), df)),
  };
}
