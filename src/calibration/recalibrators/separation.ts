/**
 * Whether vector scaling's calibration NLL has a finite minimizer: an exact test by linear
 * programming (src/optim/separabilityLp.ts: yalps, a dense two-phase simplex).
 *
 * Vector scaling maps logits z to softmax(a ∘ z + b). Its mean NLL is
 *   L(θ) = (1/n) Σ_i log(1 + Σ_{k≠y_i} exp(−m_ik(θ))),  m_ik(θ) = a_{y_i} z_{i,y_i} + b_{y_i} − a_k z_ik − b_k,
 * and every margin m_ik is linear in θ = (a, b): m(θ) = Φθ, one row φ_ik per (row i, class k ≠ y_i).
 * - If some direction d has Φd ≥ 0 with at least one entry > 0 (the calibration set is
 *   **separable**, completely or quasi-completely), L(θ + s·d) falls strictly as s grows from any θ:
 *   L has no minimizer, and an optimizer drives some probabilities to 0 or 1 (the fit-set NLL tends to
 *   its infimum — 0 when every margin can be made positive — while held-out NLL explodes).
 * - Otherwise, by Stiemke's theorem of the alternative, some w > 0 has Φᵀw = 0; then L grows
 *   linearly along every direction that changes a margin, so L attains its minimum (unique up to
 *   directions with Φd = 0, such as a common shift of b).
 * (Albert & Anderson 1984, Biometrika 71, "On the existence of maximum likelihood estimates in
 * logistic regression models", §3 for the binary case; the multinomial case is the same argument.)
 *
 * The test: maximize Σ_ik (Φd)_ik subject to Φd ≥ 0 and Σ_ik (Φd)_ik ≤ P (P = number of margins),
 * d free. Its optimum is exactly P when the set is separable (scale any separating d) and exactly 0
 * otherwise (then Φd ≥ 0 forces Φd = 0): a 0-or-P answer, decided at P/2, far from the simplex's
 * tolerance. The question does not change when a logit column is shifted or scaled (a_k and b_k
 * absorb it), so each column is first mapped to [−1, 1] (its midrange to 0), which keeps the LP well
 * scaled for any logit magnitude.
 *
 * Cost control (constraint generation): the LP is first solved on an evenly spaced subset of about
 * 32·(K + 1) rows. A non-separable subset proves the whole set non-separable (more rows only add
 * constraints). A separating direction of the subset is checked on every row (in O(nK)); rows it
 * violates are added (at most doubling the LP) and the LP solved again, until the direction
 * separates every row or the LP would exceed {@link SEPARATION_LP_CELLS} tableau cells (then the
 * answer is `null`: not decided).
 * A separating direction is accepted when every margin is ≥ −(1e-7 × the margin's terms + 4e-8 ×
 * its logits' size): the simplex's own feasibility tolerance (1e-8) and its rounding of the solution
 * (to 1e-8) are below that, so "separable" means separable up to a relative 1e-7.
 */
import type { Matrix } from "../../linalg/matrix.js";
import { marginRows, separatingLp } from "../../optim/separabilityLp.js";

/** The most tableau cells (LP rows × columns, 8 bytes each: 32 MiB) one separability LP may use. */
export const SEPARATION_LP_CELLS = 1 << 22;

/** The result of {@link vectorScalingSeparation}. */
export interface Separation {
  /** true: separable (no finite minimizer); false: not separable; null: not decided (the LP too large, or the simplex cycled on every attempt). */
  separable: boolean | null;
  /**
   * When separable: a direction d = (a, b) (a = d[0..K), b = d[K..2K)) in the original logits' units
   * along which no label margin a_y z_y + b_y − a_k z_k − b_k decreases (up to the tolerance above)
   * and some increase. null otherwise.
   */
  direction: Float64Array | null;
  /** Rows in the last LP solved (0 when none was). */
  lpRows: number;
}

/** Per-column affine map to [−1, 1]: z' = (z − center) / half (half = 0 ⇒ z' = 0). */
function standardizeColumns(Z: Matrix): { S: Float64Array; center: Float64Array; half: Float64Array } {
  const { rows: n, cols: K, data } = Z;
  const lo = new Float64Array(K).fill(Infinity);
  const hi = new Float64Array(K).fill(-Infinity);
  for (let i = 0, o = 0; i < n; i++, o += K) {
    for (let k = 0; k < K; k++) {
      const v = data[o + k];
      if (v < lo[k]) lo[k] = v;
      if (v > hi[k]) hi[k] = v;
    }
  }
  const center = new Float64Array(K);
  const half = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    // Halves first: hi − lo overflows for logits near ±1.8e308.
    center[k] = hi[k] / 2 + lo[k] / 2;
    half[k] = hi[k] / 2 - lo[k] / 2;
  }
  const S = new Float64Array(n * K);
  for (let i = 0, o = 0; i < n; i++, o += K) {
    for (let k = 0; k < K; k++) S[o + k] = half[k] > 0 ? (data[o + k] - center[k]) / half[k] : 0;
  }
  return { S, center, half };
}

/**
 * Solves the separability LP on the given rows of standardized logits S (n×K) and returns a
 * separating direction (in standardized units), or null when the rows are not separable.
 * "undecided" when every attempt cycles.
 * @throws Error when the simplex reports "unbounded" or "infeasible" (it cannot: d = 0 is feasible
 *   and the objective is capped).
 */
function separatingDirection(
  S: Float64Array,
  K: number,
  y: ArrayLike<number>,
  rows: readonly number[],
): Float64Array | null | "undecided" {
  // yalps pivots by Dantzig's rule without an anti-cycling rule, and this LP is degenerate (every
  // margin constraint is tight at d = 0), so it can cycle (seen on a 600-row calibration split).
  // Then the same LP is solved with its rows in reverse order, then with the margin bounds
  // perturbed to Φd ≥ −ε_r (distinct ε_r ≤ 2ε, the classical cure for degeneracy): that moves a
  // non-separable optimum from 0 to at most about ε·P (far below the P/2 decision), and leaves a
  // separable one at exactly P. Every attempt cycling leaves the question undecided.
  // The simplex can also end "optimal" at a point that is not feasible (rounding in a degenerate
  // tableau: seen with margins of −5 on a 171-row set of logits ×40), so a direction is checked
  // on the LP's own rows too, and an infeasible one counts as a failed attempt.
  for (const [reverse, eps] of ATTEMPTS) {
    const d = separatingDirectionOnce(S, K, y, reverse ? [...rows].reverse() : rows, eps);
    if (d === "cycled") continue;
    if (d !== null && rows.some((i) => violatesRow(S, K, y, d, i))) continue;
    return d;
  }
  return "undecided";
}

/** Row order and margin perturbation of each LP attempt (see {@link separatingDirection}). */
const ATTEMPTS: readonly [reverse: boolean, eps: number][] = [
  [false, 0],
  [true, 0],
  [false, 1e-7],
  [true, 1e-7],
  [false, 1e-6],
];

function separatingDirectionOnce(
  S: Float64Array,
  K: number,
  y: ArrayLike<number>,
  rows: readonly number[],
  eps: number,
): Float64Array | null | "cycled" {
  // Unknown j of d: a_k (j = k) or b_k (j = K + k); one margin row per (row i, class k ≠ y_i).
  const margins = marginRows(2 * K, (add, next) => {
    for (const i of rows) {
      const yi = y[i];
      const o = i * K;
      for (let k = 0; k < K; k++) {
        if (k === yi) continue;
        add(yi, S[o + yi]);
        add(K + yi, 1);
        add(k, -S[o + k]);
        add(K + k, -1);
        next();
      }
    }
  });
  const d = separatingLp(margins, eps, "vector scaling");
  if (d === null || d === "cycled") return d;
  // A common shift of every b_k changes no margin, but a large one (the LP is free to return it)
  // would inflate the tolerance, which scales with the margin's terms: remove it before the check.
  let shift = 0;
  for (let k = 0; k < K; k++) shift += d[K + k] / K;
  for (let k = 0; k < K; k++) d[K + k] -= shift;
  return d;
}

/** Rows (not in `inLp`) where direction d (standardized units) lowers some margin beyond the tolerance. */
function violatedRows(
  S: Float64Array,
  n: number,
  K: number,
  y: ArrayLike<number>,
  d: Float64Array,
  inLp: Uint8Array,
): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) if (!inLp[i] && violatesRow(S, K, y, d, i)) out.push(i);
  return out;
}

/** Whether direction d (standardized units) lowers some margin of row i beyond the tolerance. */
function violatesRow(S: Float64Array, K: number, y: ArrayLike<number>, d: Float64Array, i: number): boolean {
  const o = i * K;
  const yi = y[i];
  const ty = d[yi] * S[o + yi];
  for (let k = 0; k < K; k++) {
    if (k === yi) continue;
    const tk = d[k] * S[o + k];
    const margin = ty + d[K + yi] - tk - d[K + k];
    const terms = Math.abs(ty) + Math.abs(d[K + yi]) + Math.abs(tk) + Math.abs(d[K + k]);
    const tol = 1e-7 * terms + 4e-8 * (2 + Math.abs(S[o + yi]) + Math.abs(S[o + k]));
    if (margin < -tol) return true;
  }
  return false;
}

/**
 * Decides whether vector scaling's calibration NLL on logits Z (n×K full block, K ≥ 2) with labels
 * y has a finite minimizer (see the file's doc for the theorem, the LP and its tolerance).
 * Deterministic (no randomness: subsets are evenly spaced rows).
 * Cost: one LP of ≤ ~32·(K+1) rows × (4K + 1) columns in the common case, plus O(nK) per check;
 * never more than {@link SEPARATION_LP_CELLS} cells.
 * @example vectorScalingSeparation(fromRows([[2, 0], [0, 1]]), [0, 1]).separable // true
 * @example vectorScalingSeparation(fromRows([[2, 0], [2, 0]]), [0, 1]).separable // false (same logits, both labels)
 */
export function vectorScalingSeparation(Z: Matrix, y: ArrayLike<number>): Separation {
  const { rows: n, cols: K } = Z;
  const { S, center, half } = standardizeColumns(Z);
  const cellsPerRow = (K - 1) * (4 * K + 1);
  const maxRows = Math.floor(SEPARATION_LP_CELLS / cellsPerRow);
  if (maxRows < 1) return { separable: null, direction: null, lpRows: 0 };
  const first = Math.min(n, maxRows, 32 * (K + 1));
  const rows: number[] = [];
  const inLp = new Uint8Array(n);
  for (let j = 0; j < first; j++) {
    const i = Math.floor((j * n) / first);
    rows.push(i);
    inLp[i] = 1;
  }
  for (;;) {
    const d = separatingDirection(S, K, y, rows);
    if (d === "undecided") return { separable: null, direction: null, lpRows: rows.length };
    if (d === null) return { separable: false, direction: null, lpRows: rows.length };
    const bad = violatedRows(S, n, K, y, d, inLp);
    if (bad.length === 0) {
      // Back to the original units: a'·(z − c)/h + b' = (a'/h)·z + (b' − a'·c/h).
      const out = new Float64Array(2 * K);
      for (let k = 0; k < K; k++) {
        const a = half[k] > 0 ? d[k] / half[k] : 0;
        out[k] = a;
        out[K + k] = d[K + k] - a * center[k];
      }
      return { separable: true, direction: out, lpRows: rows.length };
    }
    // Add violated rows (at most as many as the LP holds, so LPs at most double), within the cap.
    const room = Math.min(maxRows - rows.length, rows.length);
    if (room < 1) return { separable: null, direction: null, lpRows: rows.length };
    for (const i of bad.slice(0, room)) {
      rows.push(i);
      inLp[i] = 1;
    }
  }
}
