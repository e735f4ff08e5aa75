/**
 * Flat-vector helpers shared by the optimizers and the solvers: plain loops over Float64Array,
 * no validation, no allocation.
 */

/** max_j |v_j|; NaN if any entry is NaN (so a NaN gradient is never taken for a small one). O(n). */
export function maxAbs(v: Float64Array): number {
  let mx = 0;
  for (let j = 0; j < v.length; j++) {
    const a = Math.abs(v[j]);
    if (a > mx || Number.isNaN(a)) mx = a;
  }
  return mx;
}

/** Σ_j a_j·b_j, summed in index order. O(n). */
export function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** y ← y + a·x. O(n). */
export function axpy(a: number, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < x.length; i++) y[i] += a * x[i];
}

/** x ← a·x. O(n). */
export function scaleInPlace(x: Float64Array, a: number): void {
  for (let i = 0; i < x.length; i++) x[i] *= a;
}
