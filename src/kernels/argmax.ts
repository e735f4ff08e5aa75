/** The largest entry of a row: predicted labels, accuracy. */

/** Kernel: argmax of d[o..o+K) (ties → the lowest index; a NaN is never chosen over an earlier entry). O(K). */
export function argmaxKernel(d: Float64Array, o: number, K: number): number {
  let best = 0;
  let mx = d[o];
  for (let k = 1; k < K; k++) {
    if (d[o + k] > mx) {
      mx = d[o + k];
      best = k;
    }
  }
  return best;
}
