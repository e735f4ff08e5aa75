/**
 * Paired sign-flip permutation test (Fisher 1935, "The Design of Experiments", §21): under the
 * null hypothesis that two methods perform alike, each paired difference d_i is as likely to be
 * +|d_i| as −|d_i|. The two-sided p-value is the fraction of the 2^n sign assignments whose
 * |mean| is at least the observed |mean| — enumerated exactly (no randomness), so it is
 * reproducible to the bit. n is the number of seeds; exact enumeration is capped at n = 20
 * (about a million assignments; cost O(2^n·n)). Returns null for no pairs or a non-finite
 * difference. @throws RangeError for n > 20.
 * @example pairedSignFlipTest([1, 1, 1]) // 0.25 (only all-plus and all-minus reach |sum| = 3)
 */
export function pairedSignFlipTest(diffs: readonly number[]): number | null {
  const n = diffs.length;
  if (n === 0) return null;
  if (n > 20) throw new RangeError(`pairedSignFlipTest: exact enumeration supports up to 20 pairs; got ${n}`);
  if (diffs.some((d) => !Number.isFinite(d))) return null;
  const observed = Math.abs(diffs.reduce((a, b) => a + b, 0));
  // Compare sums (not means): same ordering, no division. A relative slack of 1e-12 counts sign
  // assignments that tie with the observed sum up to rounding as "at least as extreme".
  const slack = 1e-12 * diffs.reduce((a, b) => a + Math.abs(b), 0);
  let extreme = 0;
  const total = 2 ** n;
  for (let mask = 0; mask < total; mask++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += mask & (1 << i) ? -diffs[i] : diffs[i];
    if (Math.abs(s) >= observed - slack) extreme++;
  }
  return extreme / total;
}
