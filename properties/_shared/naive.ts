/**
 * Naive textbook formulas the mutation properties compare softcal's kernels against: written for
 * clarity, not speed, and independent of the code under test.
 */

/** softmax of one row of logits, shifted by its maximum: e^{z_k − max z} / Σ_j e^{z_j − max z}. */
export function softmaxRow(z: number[]): number[] {
  const mx = Math.max(...z);
  const e = z.map((v) => Math.exp(v - mx));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}
