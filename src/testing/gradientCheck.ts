/**
 * A finite-difference gradient checker for any `(params) => { loss, grad }` function.
 *
 * Central differences: for each checked coordinate i, with step `h_i = step · max(1, |θ_i|)`
 * (rounded so that θ_i ± h_i are exactly representable offsets),
 *
 *   g̃_i = (f(θ + h_i e_i) − f(θ − h_i e_i)) / (2 h_i).
 *
 * Its error is the truncation term h²/6·|∂³f/∂θ_i³| plus the rounding term ≈ ε·|f|/h (ε = 2^-52);
 * the default step ε^(1/3) ≈ 6.1e-6 balances them, leaving an error near 1e-10·max(1, |f|, |f'''|)
 * for a smooth f. A coordinate passes when
 *
 *   |g_i − g̃_i| ≤ atol + rtol · max(|g_i|, |g̃_i|),
 *
 * with defaults rtol = 1e-6 and atol = 1e-8·max(1, |f(θ)|) — five orders of magnitude above the
 * expected error of a correct gradient of a well-scaled loss, and far below the error of a
 * typical bug (a missing 1/m, a dropped regularization term, a transposed index).
 *
 * Reference: J. Nocedal & S. J. Wright (2006), "Numerical Optimization", 2nd ed., §8.1
 * (finite-difference derivative approximations, eq. 8.7, and the step-size choice ε^(1/3)).
 */

/** A differentiable function: the loss at `params` and its gradient (same length as `params`). */
export type LossWithGradient = (params: Float64Array) => { loss: number; grad: ArrayLike<number> };

/** Options of {@link checkGradient}. */
export interface GradientCheckOptions {
  /** Relative step: `h_i = step · max(1, |θ_i|)` (default ε^(1/3) ≈ 6.06e-6). */
  step?: number;
  /** Relative tolerance (default 1e-6). */
  rtol?: number;
  /** Absolute tolerance (default 1e-8 · max(1, |f(θ)|)). */
  atol?: number;
  /** Coordinates to check (default all); use a subset for large parameter vectors. */
  indices?: readonly number[];
}

/** One coordinate's comparison. */
export interface GradientCoordinate {
  index: number;
  /** The function's gradient g_i. */
  analytic: number;
  /** The central difference g̃_i. */
  numeric: number;
  /** |g_i − g̃_i|. */
  error: number;
  /** atol + rtol · max(|g_i|, |g̃_i|). */
  allowed: number;
}

/** The result of {@link checkGradient}. */
export interface GradientCheckResult {
  /** Every checked coordinate is within its tolerance and every value is finite. */
  ok: boolean;
  /** f(θ). */
  loss: number;
  /** The checked coordinates, in the order checked. */
  coordinates: GradientCoordinate[];
  /** The coordinate with the largest error / allowed ratio (a non-finite one first); undefined if none checked. */
  worst: GradientCoordinate | undefined;
  /** A one-line summary: what failed and where, or the largest error. */
  summary: string;
}

/** ε^(1/3) for ε = 2^-52: the step that balances truncation and rounding error of central differences. */
export const DEFAULT_GRADIENT_STEP = Math.cbrt(2 ** -52);

function fmt(x: number): string {
  return Number.isFinite(x) && x !== 0 && (Math.abs(x) < 1e-4 || Math.abs(x) >= 1e6)
    ? x.toExponential(4).replace(/\.?0+e/, "e")
    : String(Number(x.toPrecision(6)));
}

/**
 * Compares `fn`'s gradient at `at` with central finite differences (see the module doc for the
 * formula, the step and the tolerance rule).
 *
 * Calls `fn` 1 + 2·(checked coordinates) times, each time on a fresh copy of the parameters (so a
 * function that mutates its input cannot corrupt the check).
 *
 * @throws RangeError when `at` is empty, the gradient's length differs from the parameters', an
 *   index is out of range, or step/rtol/atol are not finite and ≥ 0 (step > 0); TypeError when
 *   `fn` does not return `{ loss: number, grad }`.
 * Cost: (2·checked + 1) evaluations of `fn`.
 * @example
 * // f(θ) = Σ θ_i², ∇f = 2θ
 * const r = checkGradient((t) => ({ loss: t.reduce((s, v) => s + v * v, 0), grad: t.map((v) => 2 * v) }), [1, -2]);
 * r.ok; // true
 */
export function checkGradient(
  fn: LossWithGradient,
  at: ArrayLike<number>,
  options: GradientCheckOptions = {},
): GradientCheckResult {
  const n = at.length;
  if (n === 0) throw new RangeError("checkGradient: expected at least 1 parameter; got 0");
  const step = options.step ?? DEFAULT_GRADIENT_STEP;
  const rtol = options.rtol ?? 1e-6;
  if (!(step > 0 && Number.isFinite(step)))
    throw new RangeError(`checkGradient: step: expected a finite number > 0; got ${step}`);
  if (!(rtol >= 0 && Number.isFinite(rtol)))
    throw new RangeError(`checkGradient: rtol: expected a finite number >= 0; got ${rtol}`);
  const theta = Float64Array.from(at);
  const call = (p: Float64Array) => {
    const out = fn(Float64Array.from(p));
    if (out === null || typeof out !== "object" || typeof out.loss !== "number" || out.grad === undefined) {
      throw new TypeError("checkGradient: expected fn to return { loss: number, grad: number[] }");
    }
    return out;
  };
  const base = call(theta);
  if (base.grad.length !== n) {
    throw new RangeError(
      `checkGradient: expected a gradient of length ${n} (one per parameter); got ${base.grad.length}`,
    );
  }
  const grad = Float64Array.from(base.grad);
  const loss = base.loss;
  const atol = options.atol ?? 1e-8 * Math.max(1, Number.isFinite(loss) ? Math.abs(loss) : 1);
  if (!(atol >= 0 && Number.isFinite(atol)))
    throw new RangeError(`checkGradient: atol: expected a finite number >= 0; got ${atol}`);
  const indices = options.indices ?? Array.from({ length: n }, (_, i) => i);
  for (const i of indices) {
    if (!(Number.isInteger(i) && i >= 0 && i < n))
      throw new RangeError(`checkGradient: indices: expected integers in 0..${n - 1}; got ${i}`);
  }
  const coordinates: GradientCoordinate[] = [];
  let worst: GradientCoordinate | undefined;
  let worstRatio = -1;
  for (const i of indices) {
    const x = theta[i];
    const up = x + step * Math.max(1, Math.abs(x));
    const h = up - x; // the step actually taken (exact in floating point)
    const p = Float64Array.from(theta);
    p[i] = x + h;
    const fPlus = call(p).loss;
    p[i] = x - h;
    const fMinus = call(p).loss;
    const numeric = (fPlus - fMinus) / (2 * h);
    const analytic = grad[i];
    const error = Math.abs(analytic - numeric);
    const allowed = atol + rtol * Math.max(Math.abs(analytic), Math.abs(numeric));
    const c: GradientCoordinate = { index: i, analytic, numeric, error, allowed };
    coordinates.push(c);
    const ratio = Number.isFinite(error)
      ? allowed > 0
        ? error / allowed
        : error > 0
          ? Infinity
          : 0
      : Infinity;
    if (ratio > worstRatio) {
      worstRatio = ratio;
      worst = c;
    }
  }
  const finite = Number.isFinite(loss) && coordinates.every((c) => Number.isFinite(c.error));
  const ok = finite && coordinates.every((c) => c.error <= c.allowed);
  let summary: string;
  if (!Number.isFinite(loss)) {
    summary = `the loss at the given parameters is ${loss}, not a finite number`;
  } else if (worst === undefined) {
    summary = "no coordinates checked";
  } else {
    const w = worst;
    const failing = coordinates.filter((c) => !(c.error <= c.allowed)).length;
    const where = `coordinate ${w.index}: gradient ${fmt(w.analytic)} vs finite difference ${fmt(w.numeric)} (|diff| ${fmt(w.error)}, allowed ${fmt(w.allowed)})`;
    summary = ok
      ? `all ${coordinates.length} coordinates match; largest error at ${where}`
      : `${failing} of ${coordinates.length} coordinates differ; worst at ${where}`;
  }
  return { ok, loss, coordinates, worst, summary };
}
