/**
 * Isotonic regression calibration (Zadrozny & Elkan 2002, "Transforming classifier scores into
 * accurate multiclass probability estimates", KDD): the non-decreasing map m minimizing
 * Σ_i (m(p_i) − o_i)² over the calibration pairs, found by the pool-adjacent-violators algorithm
 * (PAV; Ayer et al. 1955), with equal inputs pooled first (their outcomes averaged). Between the
 * fitted points the map is linearly interpolated and outside them held constant — as
 * scikit-learn's IsotonicRegression(out_of_bounds="clip") does.
 *
 * Multiclass (K > 2): one-vs-rest on each p_k vs 1[y = k], rows renormalized (all-zero rows →
 * uniform 1/K). Binary: positive class only, p₀ = 1 − p₁.
 *
 * Not a theorem: isotonic regression minimizes squared error, not NLL; it outputs 0 or 1 at the
 * ends of the range whenever the extreme block is pure, so the calibration-set NLL can become +∞.
 */
import { InputError } from "../../errors.js";
import type { Matrix } from "../../linalg/matrix.js";
import { type ScoreOptions, toProbabilities } from "../scores.js";
import type { Where } from "../validate.js";
import { applyOneVsRest, ovrClasses } from "./histogram.js";
import {
  notFitted,
  type Recalibrator,
  type RecalibratorJSON,
  recalibratorJson,
  validateCalibrationSet,
  validateTransformInput,
} from "./recalibrator.js";

/** A fitted isotonic map: knots x (strictly increasing) and values y (non-decreasing). */
export interface IsotonicMap {
  x: number[];
  y: number[];
}

/**
 * Kernel: isotonic (non-decreasing) least-squares fit of outcomes o on inputs x by PAV, returned as
 * interpolation knots (interior points of constant runs dropped). O(n log n).
 * @example fitIsotonic([0.1, 0.2, 0.3, 0.4], [0, 1, 0, 1]) // { x: [0.1, 0.2, 0.3, 0.4], y: [0, 0.5, 0.5, 1] }
 */
export function fitIsotonic(x: ArrayLike<number>, o: ArrayLike<number>): IsotonicMap {
  const n = x.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => x[a] - x[b] || a - b);
  // Pool equal x.
  const ux: number[] = [];
  const uy: number[] = [];
  const uw: number[] = [];
  for (const i of order) {
    const last = ux.length - 1;
    if (last >= 0 && ux[last] === x[i]) {
      uy[last] += o[i];
      uw[last]++;
    } else {
      ux.push(x[i]);
      uy.push(o[i]);
      uw.push(1);
    }
  }
  for (let j = 0; j < ux.length; j++) uy[j] /= uw[j];
  // PAV over the unique points: blocks (sum of w·y, weight, number of unique points).
  const bs: number[] = [];
  const bw: number[] = [];
  const bn: number[] = [];
  for (let j = 0; j < ux.length; j++) {
    let s = uy[j] * uw[j];
    let w = uw[j];
    let c = 1;
    while (bs.length > 0 && bs[bs.length - 1] / bw[bw.length - 1] > s / w) {
      s += bs.pop() as number;
      w += bw.pop() as number;
      c += bn.pop() as number;
    }
    bs.push(s);
    bw.push(w);
    bn.push(c);
  }
  const fitted: number[] = [];
  for (let b = 0; b < bs.length; b++) for (let c = 0; c < bn[b]; c++) fitted.push(bs[b] / bw[b]);
  // Keep only knots that matter for linear interpolation.
  const kx: number[] = [];
  const ky: number[] = [];
  for (let j = 0; j < ux.length; j++) {
    const interior = j > 0 && j < ux.length - 1 && fitted[j - 1] === fitted[j] && fitted[j + 1] === fitted[j];
    if (!interior) {
      kx.push(ux[j]);
      ky.push(fitted[j]);
    }
  }
  return { x: kx, y: ky };
}

/** Kernel: evaluates an isotonic map at p (linear between knots, constant outside). O(log m). */
export function evalIsotonic(m: IsotonicMap, p: number): number {
  const { x, y } = m;
  const last = x.length - 1;
  if (p <= x[0]) return y[0];
  if (p >= x[last]) return y[last];
  let lo = 0;
  let hi = last;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (x[mid] <= p) lo = mid;
    else hi = mid;
  }
  const t = (p - x[lo]) / (x[hi] - x[lo]);
  return y[lo] + t * (y[hi] - y[lo]);
}

/** Isotonic calibration as a {@link Recalibrator}. JSON: `{ …, method: "isotonic", maps: [{x, y}…] }`. */
export class IsotonicCalibration implements Recalibrator {
  readonly method = "isotonic" as const;
  classes: number | undefined;
  maps: IsotonicMap[] | undefined;

  constructor(classes?: number, maps?: IsotonicMap[]) {
    this.classes = classes;
    this.maps = maps;
  }

  /** Fits one isotonic map per calibrated class. Cost O(Kn log n). @throws InputError on bad input or a single-class set. */
  fit(S: Matrix, y: ArrayLike<number>, opts: ScoreOptions = {}, where: Where = "isotonic"): this {
    const { F, K } = validateCalibrationSet(S, y, opts, where);
    const P = toProbabilities(F, opts.logits ?? false);
    const n = P.rows;
    const maps: IsotonicMap[] = [];
    for (const k of ovrClasses(K)) {
      const x = new Float64Array(n);
      const o = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        x[i] = P.data[i * K + k];
        o[i] = y[i] === k ? 1 : 0;
      }
      maps.push(fitIsotonic(x, o));
    }
    this.classes = K;
    this.maps = maps;
    return this;
  }

  transform(S: Matrix, opts: ScoreOptions = {}, where: Where = "isotonic"): Matrix {
    const maps = this.maps;
    if (maps === undefined || this.classes === undefined) throw notFitted(this.method);
    const F = validateTransformInput(S, this.classes, opts, where);
    return applyOneVsRest(
      toProbabilities(F, opts.logits ?? false),
      maps.map((m) => (p: number) => evalIsotonic(m, p)),
    );
  }

  toJSON(): RecalibratorJSON {
    if (this.maps === undefined || this.classes === undefined) throw notFitted(this.method);
    return recalibratorJson(this.method, this.classes, { maps: this.maps });
  }

  static fromJSON(o: Record<string, unknown>, classes: number, where: string): IsotonicCalibration {
    const v = o["maps"];
    const nc = ovrClasses(classes).length;
    const isNums = (a: unknown): a is number[] =>
      Array.isArray(a) && a.length > 0 && a.every((t) => typeof t === "number" && Number.isFinite(t));
    const ok =
      Array.isArray(v) &&
      v.length === nc &&
      v.every((m) => {
        if (typeof m !== "object" || m === null) return false;
        const r = m as Record<string, unknown>;
        if (!isNums(r["x"]) || !isNums(r["y"]) || r["x"].length !== r["y"].length) return false;
        const x = r["x"];
        const y = r["y"];
        return (
          x.every((t, j) => j === 0 || t > x[j - 1]) &&
          y.every((t, j) => t >= 0 && t <= 1 && (j === 0 || t >= y[j - 1]))
        );
      });
    if (!ok) {
      throw new InputError(
        `${where}: expected "maps" to be ${nc} objects {x, y} with increasing x and non-decreasing y in [0, 1]; got ${JSON.stringify(v)?.slice(0, 60)}`,
      );
    }
    return new IsotonicCalibration(classes, v as IsotonicMap[]);
  }
}
