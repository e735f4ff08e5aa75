/**
 * The root of an increasing function on (0, ∞) — temperature scaling's β* = 1/T*, the root of
 * NLL′(β) (src/calibration/recalibrators/temperature.ts) — by safeguarded Halley steps: cubic
 * convergence from the function's first two derivatives, a bracket that every step stays inside,
 * Newton's step and geometric bisection as fallbacks.
 */

/**
 * A point's values for {@link increasingRoot}: g the function whose root is sought (increasing),
 * h = g′ ≥ 0 and t = g″. (For temperature scaling: NLL′, NLL″, NLL‴.)
 */
export interface RootDerivatives {
  g: number;
  h: number;
  t: number;
}

/** The result of {@link increasingRoot}. */
export interface RootResult<D extends RootDerivatives> {
  /** The last x evaluated (the root estimate). */
  x: number;
  /** The evaluation at that x. */
  last: D;
  /** Steps taken (evaluations after the start). */
  iterations: number;
  /** Whether a stopping rule was met (false: the 200-step cap). */
  converged: boolean;
}

/**
 * A first estimate of the root from a cheaper approximation of g (e.g. g on a subsample):
 * safeguarded Halley steps from x₀ until |x·g| ≤ 1e-4 (a subsample's own sampling error, ~1/√1024
 * relative for 1024 rows, is far larger), at most 8 evaluations; NaN when the steps leave (0, ∞)
 * or stop being finite (e.g. a separable subsample).
 */
function roughEstimate(at: (x: number) => RootDerivatives, x0: number): number {
  let x = x0;
  for (let i = 0; i < 8; i++) {
    const c = at(x);
    if (Math.abs(x * c.g) <= 1e-4) return x;
    const den = 2 * c.h * c.h - c.g * c.t;
    const next = den > 0 ? x - (2 * c.g * c.h) / den : x - c.g / c.h;
    if (!(next > 0 && next < Infinity)) return Number.NaN;
    x = next;
  }
  return Number.NaN;
}

/**
 * The safeguarded 1-D root finder for an increasing g on x > 0 given by `at(x)` (with h = g′ ≥ 0
 * and t = g″), started at x₀ with `d0 = at(x₀)`. It keeps a bracket [lo, hi] ⊂ [0, ∞] of the root
 * (lo = 0, hi = ∞ at first; x becomes lo when g(x) < 0, else hi) and, per step:
 * - stops (converged) when |x·g| ≤ 1e-11 or hi < ∞ and hi − lo ≤ 4ε·hi (ε = 2⁻⁵²);
 * - takes Halley's step x − 2gh / (2h² − g·t) when 2h² − g·t > 0, else Newton's x − g/h; if that
 *   is not strictly inside (lo, hi), Newton's; if that is not either, 4·lo while hi = ∞, hi/4
 *   while lo = 0, else √(lo·hi) (geometric bisection);
 * - on the first step only, when `rough` (a cheaper approximation of `at`) is given: replaces the
 *   step by {@link roughEstimate} from it, if that lies strictly inside (lo, hi);
 * - stops (converged) when the step equals x, else evaluates `at` there;
 * - gives up after 200 steps (converged false) with the last x.
 * Cost: one `at` per step (plus ≤ 8 `rough` evaluations on the first).
 * @example increasingRoot((x) => ({ g: x - 2, h: 1, t: 0 }), null, 1, { g: -1, h: 1, t: 0 })
 *   // { x: 2, last: { g: 0, h: 1, t: 0 }, iterations: 1, converged: true }
 */
export function increasingRoot<D extends RootDerivatives>(
  at: (x: number) => D,
  rough: ((x: number) => RootDerivatives) | null,
  x0: number,
  d0: D,
): RootResult<D> {
  let x = x0;
  let cur = d0;
  let lo = 0;
  let hi = Infinity;
  let iterations = 0;
  let converged = false;
  for (; iterations < 200; iterations++) {
    if (cur.g < 0) lo = x;
    else hi = x;
    if (Math.abs(x * cur.g) <= 1e-11 || (hi < Infinity && hi - lo <= 4 * Number.EPSILON * hi)) {
      converged = true;
      break;
    }
    // Halley's step (cubic convergence), else Newton's, else bisection.
    const den = 2 * cur.h * cur.h - cur.g * cur.t;
    let next = den > 0 ? x - (2 * cur.g * cur.h) / den : x - cur.g / cur.h;
    if (!(next > lo && next < hi)) next = x - cur.g / cur.h;
    if (!(next > lo && next < hi)) {
      if (hi === Infinity) next = 4 * lo;
      else if (lo === 0) next = hi / 4;
      else next = Math.sqrt(lo * hi);
    }
    // First step only: refine it on the cheaper approximation (temperature scaling: a ~1024-row
    // subsample, ≈ 1/16 of a pass per step at 10k rows, which lands within the sampling error of
    // the root — one full pass saved or more).
    if (iterations === 0 && rough !== null) {
      const estimate = roughEstimate(rough, next);
      if (estimate > lo && estimate < hi) next = estimate;
    }
    if (next === x) {
      converged = true;
      break;
    }
    x = next;
    cur = at(x);
  }
  return { x, last: cur, iterations, converged };
}
