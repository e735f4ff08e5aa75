/**
 * Histogram binning (Zadrozny & Elkan 2001, "Obtaining calibrated probability estimates from
 * decision trees and naive Bayesian classifiers", ICML): split [0, 1] into B equal-width bins
 * (softcal's rule: [b/B, (b+1)/B), last closed) and replace a probability by the frequency of the
 * class among the calibration samples whose probability fell in the same bin.
 *
 * Multiclass (K > 2): one-vs-rest on each class probability p_k vs 1[y = k], then each row is
 * renormalized to sum 1 (a row whose calibrated values are all 0 becomes uniform 1/K). Binary
 * (K = 2): only the positive class is binned and p₀ = 1 − p₁ (no renormalization needed).
 * A bin with no calibration sample keeps the input probability unchanged (identity).
 *
 * Not a theorem: histogram binning minimizes squared error within bins, not NLL, and can output
 * probability 0 for a class that occurs (infinite NLL) — its calibration-set NLL may go up.
 * Needs at least B calibration rows (fewer leaves most bins empty).
 */
import { InputError } from "../../errors.js";
import type { Matrix } from "../../linalg/matrix.js";
import { uniformBinIndex, uniformEdges } from "../bins.js";
import { type ScoreOptions, toProbabilities } from "../scores.js";
import { validateBins, type Where } from "../validate.js";
import {
  notFitted,
  type Recalibrator,
  type RecalibratorJSON,
  recalibratorJson,
  renormalizeRows,
  validateCalibrationSet,
  validateTransformInput,
} from "./recalibrator.js";

/** The classes calibrated one-vs-rest: just class 1 for binary, all K otherwise. */
export function ovrClasses(K: number): number[] {
  return K === 2 ? [1] : Array.from({ length: K }, (_, k) => k);
}

/**
 * Applies per-class maps to a full probability block: q_k = map_k(p_k) for the calibrated classes,
 * then binary p₀ = 1 − p₁ or multiclass renormalization.
 */
export function applyOneVsRest(P: Matrix, maps: ((p: number) => number)[]): Matrix {
  const { rows: n, cols: K, data } = P;
  const out = new Float64Array(n * K);
  if (K === 2) {
    for (let i = 0; i < n; i++) {
      const q = maps[0](data[2 * i + 1]);
      out[2 * i] = 1 - q;
      out[2 * i + 1] = q;
    }
    return { rows: n, cols: K, data: out };
  }
  for (let i = 0, o = 0; i < n; i++, o += K) for (let k = 0; k < K; k++) out[o + k] = maps[k](data[o + k]);
  renormalizeRows(out, n, K);
  return { rows: n, cols: K, data: out };
}

/** Histogram binning as a {@link Recalibrator}. JSON: `{ …, method: "histogram", bins, values }` (values[c][b], null = empty bin). */
export class HistogramBinning implements Recalibrator {
  readonly method = "histogram" as const;
  readonly bins: number;
  classes: number | undefined;
  /** values[j][b]: the calibrated probability of bin b for the j-th calibrated class; null = empty. */
  values: (number | null)[][] | undefined;

  /** @param bins B, an integer ≥ 1 (default 15). @throws InputError otherwise. */
  constructor(bins = 15, classes?: number, values?: (number | null)[][]) {
    validateBins(bins);
    this.bins = bins;
    this.classes = classes;
    this.values = values;
  }

  /**
   * Fits bin frequencies. Cost O(nK).
   * @throws InputError on bad input, a single-class set, or fewer than B rows
   *   (`… expected at least 15 calibration rows (one per bin); got 9 — use fewer bins or more rows`).
   */
  fit(S: Matrix, y: ArrayLike<number>, opts: ScoreOptions = {}, where: Where = "histogram"): this {
    const { F, K } = validateCalibrationSet(S, y, opts, where);
    const n = F.rows;
    if (n < this.bins) {
      const at = typeof where === "string" ? where : where.file;
      throw new InputError(
        `${at}: expected at least ${this.bins} calibration rows (one per bin); got ${n} — use fewer bins or more rows`,
      );
    }
    const P = toProbabilities(F, opts.logits ?? false);
    const edges = uniformEdges(this.bins, "softcal");
    const values: (number | null)[][] = [];
    for (const k of ovrClasses(K)) {
      const cnt = new Float64Array(this.bins);
      const pos = new Float64Array(this.bins);
      for (let i = 0; i < n; i++) {
        const b = uniformBinIndex(P.data[i * K + k], edges, "softcal");
        cnt[b]++;
        if (y[i] === k) pos[b]++;
      }
      values.push(Array.from(cnt, (c, b) => (c > 0 ? pos[b] / c : null)));
    }
    this.classes = K;
    this.values = values;
    return this;
  }

  transform(S: Matrix, opts: ScoreOptions = {}, where: Where = "histogram"): Matrix {
    const values = this.values;
    if (values === undefined || this.classes === undefined) throw notFitted(this.method);
    const F = validateTransformInput(S, this.classes, opts, where);
    const edges = uniformEdges(this.bins, "softcal");
    const maps = values.map((v) => (p: number) => v[uniformBinIndex(p, edges, "softcal")] ?? p);
    return applyOneVsRest(toProbabilities(F, opts.logits ?? false), maps);
  }

  toJSON(): RecalibratorJSON {
    if (this.values === undefined || this.classes === undefined) throw notFitted(this.method);
    return recalibratorJson(this.method, this.classes, { bins: this.bins, values: this.values });
  }

  static fromJSON(o: Record<string, unknown>, classes: number, where: string): HistogramBinning {
    const bins = o["bins"];
    if (typeof bins !== "number" || !Number.isInteger(bins) || bins < 1) {
      throw new InputError(`${where}: expected "bins" to be an integer ≥ 1; got ${JSON.stringify(bins)}`);
    }
    const v = o["values"];
    const nc = ovrClasses(classes).length;
    const ok =
      Array.isArray(v) &&
      v.length === nc &&
      v.every(
        (r) =>
          Array.isArray(r) &&
          r.length === bins &&
          r.every((x) => x === null || (typeof x === "number" && x >= 0 && x <= 1)),
      );
    if (!ok) {
      throw new InputError(
        `${where}: expected "values" to be ${nc} arrays of ${bins} probabilities or nulls; got ${JSON.stringify(v)?.slice(0, 60)}`,
      );
    }
    return new HistogramBinning(bins, classes, v as (number | null)[][]);
  }
}
