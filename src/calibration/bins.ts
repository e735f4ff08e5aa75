/**
 * Reliability bins: one binned-statistics core, three views (top-label, class-wise, binary
 * positive class).
 *
 * A *view* turns predictions into pairs (confidence cᵢ, outcome oᵢ):
 * - top-label: cᵢ = maxₖ pᵢₖ, oᵢ = 1[argmaxₖ pᵢₖ = yᵢ] (ties → lowest index);
 * - class-wise, class k: cᵢ = pᵢₖ, oᵢ = 1[yᵢ = k];
 * - binary positive class: cᵢ = pᵢ₁, oᵢ = 1[yᵢ = 1] (scikit-learn's `calibration_curve`).
 *
 * The core groups the pairs into B bins and reports, per bin b with index set S_b,
 * `count = |S_b|`, `meanPredicted = mean_{S_b} c`, `observed = mean_{S_b} o`,
 * `gap = meanPredicted − observed` (positive = over-confident); empty bins have count 0 and
 * nulls (never "accuracy 0").
 *
 * Bin rules (strategy "uniform", equal width):
 * - `"softcal"` (default, DESIGN.md): edges `e_b = b / B` computed by division, bins
 *   `[e_b, e_{b+1})`, the last one closed at 1. So 0.3 lands in bin 3 of 10, 0 in bin 0, 1 in
 *   bin B−1 (no phantom bin B).
 * - `"sklearn"`: scikit-learn's `calibration_curve(strategy="uniform")`: edges from
 *   `np.linspace(0, 1, B+1)`, i.e. `e_b = b · (1/B)` by multiplication with `e_B = 1` (so
 *   e₃ = 0.30000000000000004 for B = 10), and `np.searchsorted(edges[1:-1], c)` with numpy's
 *   default `side="left"`: bins are right-closed `(e_b, e_{b+1}]`, the first one `[0, e_1]`.
 *   Checked against scikit-learn 1.2.1 (see properties/fixtures/calibration). So 0.5 lands in
 *   bin 0 of 2 under this rule, and in bin 1 under softcal's.
 *
 * Strategy "quantile" (equal mass): the n pairs sorted by confidence are cut into B groups of
 * ⌊n/B⌋ or ⌈n/B⌉ (cut b at ⌊b·n/B⌋); a cut that would split equal confidences moves to the
 * nearer end of that run of ties (the upper end on a tie), so the result does not depend on
 * input order; bins may then be empty. A bin's `lower`/`upper` are its smallest and largest
 * confidence (an empty bin has lower = upper = the confidence at its cut).
 */

import { InputError } from "../errors.js";
import type { Matrix } from "../linalg/matrix.js";
import { validateBins, validateChoice, validatePredictions, type Where } from "./validate.js";

/** One reliability bin. */
export interface Bin {
  /** Lower edge (uniform) or smallest confidence in the bin (quantile). */
  lower: number;
  /** Upper edge (uniform) or largest confidence in the bin (quantile). */
  upper: number;
  /** Number of samples in the bin. */
  count: number;
  /** Mean confidence of the bin's samples; null when empty. */
  meanPredicted: number | null;
  /** Mean outcome (accuracy, or class frequency) of the bin's samples; null when empty. */
  observed: number | null;
  /** meanPredicted − observed (positive = over-confident); null when empty. */
  gap: number | null;
}

/**
 * A reliability bin as figures draw it and run records store it: a {@link Bin} without its derived
 * `gap` (an empty bin has `count` 0 and `meanPredicted` = `observed` = null; it is never drawn).
 */
export type ReliabilityBin = Pick<Bin, "lower" | "upper" | "count" | "meanPredicted" | "observed">;

export type BinStrategy = "uniform" | "quantile";
export type BinRule = "softcal" | "sklearn";
export const BIN_STRATEGIES: readonly BinStrategy[] = ["uniform", "quantile"];
export const BIN_RULES: readonly BinRule[] = ["softcal", "sklearn"];

/** How to bin. */
export interface BinOptions {
  /** Number of bins B, an integer ≥ 1; default 15. */
  bins?: number;
  /** "uniform" (equal width, default) or "quantile" (equal mass). */
  strategy?: BinStrategy;
  /** Edge rule for equal-width bins: "softcal" (default) or "sklearn"; quantile bins ignore it. */
  binRule?: BinRule;
}

/** Resolved, validated binning options. */
export interface ResolvedBinOptions {
  bins: number;
  strategy: BinStrategy;
  binRule: BinRule;
}

/** Validates binning options and fills defaults (B = 15, uniform, softcal). @throws InputError */
export function resolveBinOptions(opts: BinOptions = {}): ResolvedBinOptions {
  const bins = opts.bins ?? 15;
  validateBins(bins);
  const strategy = validateChoice(opts.strategy ?? "uniform", BIN_STRATEGIES, "strategy");
  const binRule = validateChoice(opts.binRule ?? "softcal", BIN_RULES, "binRule");
  if (binRule === "sklearn" && strategy !== "uniform") {
    throw new InputError(
      `binRule: expected "softcal" with strategy "quantile" (the sklearn rule is for uniform bins); got "sklearn"`,
    );
  }
  return { bins, strategy, binRule };
}

/**
 * The B+1 equal-width edges of a rule: softcal `b / B` (division), sklearn `b · (1/B)` as
 * `np.linspace(0, 1, B+1)` computes them; both end exactly at 1. O(B).
 * @example uniformEdges(10, "softcal")[3] // 0.3
 * @example uniformEdges(10, "sklearn")[3] // 0.30000000000000004
 */
export function uniformEdges(B: number, rule: BinRule = "softcal"): Float64Array {
  const e = new Float64Array(B + 1);
  const step = 1 / B;
  for (let b = 0; b < B; b++) e[b] = rule === "softcal" ? b / B : b * step;
  e[B] = 1;
  return e;
}

/**
 * Kernel: the uniform bin of a confidence c ∈ [0, 1] under a rule, decided by comparing with the
 * computed edges (not by `floor(c·B)` alone, whose rounding can disagree with the edges):
 * softcal the b with e_b ≤ c < e_{b+1} (c = 1 in bin B−1), sklearn the b with e_b < c ≤ e_{b+1}
 * (c = 0 in bin 0). `floor(c·B)` is only the starting guess, corrected by walking down then up
 * the edges, so the result holds for any strictly increasing `edges` from e_0 = 0 to e_B = 1 (the
 * callers pass {@link uniformEdges}, where the guess is the bin or next to it). O(1) on uniform
 * edges; O(B) at worst on others.
 */
export function uniformBinIndex(c: number, edges: Float64Array, rule: BinRule): number {
  const B = edges.length - 1;
  let b = Math.min(B - 1, Math.max(0, Math.floor(c * B)));
  if (rule === "softcal") {
    // c ∈ [e_b, e_{b+1}), last bin closed.
    while (b > 0 && c < edges[b]) b--;
    while (b < B - 1 && c >= edges[b + 1]) b++;
  } else {
    // c ∈ (e_b, e_{b+1}], first bin closed.
    while (b > 0 && c <= edges[b]) b--;
    while (b < B - 1 && c > edges[b + 1]) b++;
  }
  return b;
}

/** Kernel output: bin index per sample plus each bin's lower/upper. */
export interface BinAssignment {
  index: Int32Array;
  lower: Float64Array;
  upper: Float64Array;
}

/** Kernel: stable order of samples by confidence (ties by input position). O(n log n). */
export function sortByConfidence(conf: Float64Array): Int32Array {
  const order = new Int32Array(conf.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  order.sort((a, b) => conf[a] - conf[b] || a - b);
  return order;
}

/**
 * Kernel: equal-mass cut positions in a sorted confidence array (length B+1, cut[0] = 0,
 * cut[B] = n), moved off runs of ties as described in the module doc. O(n + B).
 */
export function equalMassCuts(sorted: ArrayLike<number>, B: number): Int32Array {
  const n = sorted.length;
  const cut = new Int32Array(B + 1);
  cut[B] = n;
  for (let b = 1; b < B; b++) {
    const c = Math.floor((b * n) / B);
    // The run of ties around c is [s, e). Where c does not split one (c − s = 0, or c = n so that
    // e = c), c stays; otherwise it moves to the nearer end, the upper one on a tie.
    let s = c;
    while (s > 0 && sorted[s - 1] === sorted[c]) s--;
    let e = c;
    while (e < n && sorted[e] === sorted[c]) e++;
    cut[b] = Math.max(c - s < e - c ? s : e, cut[b - 1]);
  }
  return cut;
}

/** Kernel: assigns each confidence to a bin. No validation (confidences must lie in [0, 1]). */
export function assignBins(conf: Float64Array, opts: ResolvedBinOptions): BinAssignment {
  const n = conf.length;
  const B = opts.bins;
  const index = new Int32Array(n);
  const lower = new Float64Array(B);
  const upper = new Float64Array(B);
  if (opts.strategy === "uniform") {
    const edges = uniformEdges(B, opts.binRule);
    for (let b = 0; b < B; b++) {
      lower[b] = edges[b];
      upper[b] = edges[b + 1];
    }
    for (let i = 0; i < n; i++) index[i] = uniformBinIndex(conf[i], edges, opts.binRule);
    return { index, lower, upper };
  }
  const order = sortByConfidence(conf);
  const sorted = new Float64Array(n);
  for (let r = 0; r < n; r++) sorted[r] = conf[order[r]];
  const cut = equalMassCuts(sorted, B);
  for (let b = 0; b < B; b++) {
    const s = cut[b];
    const e = cut[b + 1];
    for (let r = s; r < e; r++) index[order[r]] = b;
    if (e > s) {
      lower[b] = sorted[s];
      upper[b] = sorted[e - 1];
    } else {
      const v = n === 0 ? 0 : sorted[Math.min(s, n - 1)];
      lower[b] = v;
      upper[b] = v;
    }
  }
  return { index, lower, upper };
}

/**
 * The binned-statistics core: bins of (confidence, outcome) pairs. Sums run in sample order.
 * No validation (use the views below). O(n) for uniform bins, O(n log n) for quantile.
 */
export function binStatistics(conf: Float64Array, outcome: Float64Array, opts: ResolvedBinOptions): Bin[] {
  const B = opts.bins;
  const { index, lower, upper } = assignBins(conf, opts);
  const count = new Float64Array(B);
  const sumC = new Float64Array(B);
  const sumO = new Float64Array(B);
  for (let i = 0; i < conf.length; i++) {
    const b = index[i];
    count[b]++;
    sumC[b] += conf[i];
    sumO[b] += outcome[i];
  }
  const out: Bin[] = [];
  for (let b = 0; b < B; b++) {
    const nb = count[b];
    if (nb === 0) {
      out.push({
        lower: lower[b],
        upper: upper[b],
        count: 0,
        meanPredicted: null,
        observed: null,
        gap: null,
      });
      continue;
    }
    const mp = sumC[b] / nb;
    const ob = sumO[b] / nb;
    out.push({ lower: lower[b], upper: upper[b], count: nb, meanPredicted: mp, observed: ob, gap: mp - ob });
  }
  return out;
}

/** Kernel: top-label view of a full n×K probability block (argmax ties → lowest index). O(nK). */
export function topLabelView(
  P: Matrix,
  y: ArrayLike<number>,
): { confidence: Float64Array; outcome: Float64Array } {
  const { rows: n, cols: K, data } = P;
  const confidence = new Float64Array(n);
  const outcome = new Float64Array(n);
  for (let i = 0, o = 0; i < n; i++, o += K) {
    let best = 0;
    let mx = data[o];
    for (let k = 1; k < K; k++) {
      if (data[o + k] > mx) {
        mx = data[o + k];
        best = k;
      }
    }
    confidence[i] = mx;
    outcome[i] = best === y[i] ? 1 : 0;
  }
  return { confidence, outcome };
}

/** Kernel: class-k view of a full n×K probability block: (p_k, 1[y = k]). O(n). */
export function classView(
  P: Matrix,
  y: ArrayLike<number>,
  k: number,
): { confidence: Float64Array; outcome: Float64Array } {
  const { rows: n, cols: K, data } = P;
  const confidence = new Float64Array(n);
  const outcome = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    confidence[i] = data[i * K + k];
    outcome[i] = y[i] === k ? 1 : 0;
  }
  return { confidence, outcome };
}

/**
 * Top-label reliability bins of probabilities P (n×K, or n×1 binary) with labels y.
 * Confidence = max probability, outcome = prediction correct. Defaults: B = 15, uniform, softcal rule.
 * @throws InputError for bad probabilities, labels or options.
 * Cost O(nK) (+ O(n log n) for quantile).
 * @example reliabilityBins(fromRows([[0.3, 0.7], [0.6, 0.4]]), Int32Array.of(1, 1), { bins: 2 })
 *   // [{lower: 0, upper: 0.5, count: 0, …nulls}, {lower: 0.5, upper: 1, count: 2, meanPredicted: 0.6499999999999999, observed: 0.5, gap: 0.1499999999999999}]
 */
export function reliabilityBins(
  P: Matrix,
  y: ArrayLike<number>,
  opts: BinOptions = {},
  where: Where = "reliabilityBins",
): Bin[] {
  const o = resolveBinOptions(opts);
  const { S } = validatePredictions(P, y, {}, where);
  const v = topLabelView(S, y);
  return binStatistics(v.confidence, v.outcome, o);
}

/**
 * Class-wise reliability bins: for each class k, bins of (p_k, 1[y = k]) over all n samples.
 * @returns K bin lists, in class order. Cost O(nK) (+ O(Kn log n) for quantile).
 * @throws InputError for bad probabilities, labels or options.
 */
export function classwiseReliabilityBins(
  P: Matrix,
  y: ArrayLike<number>,
  opts: BinOptions = {},
  where: Where = "classwiseReliabilityBins",
): Bin[][] {
  const o = resolveBinOptions(opts);
  const { S, K } = validatePredictions(P, y, {}, where);
  const out: Bin[][] = [];
  for (let k = 0; k < K; k++) {
    const v = classView(S, y, k);
    out.push(binStatistics(v.confidence, v.outcome, o));
  }
  return out;
}

/**
 * Positive-class reliability bins of a binary problem — scikit-learn's `calibration_curve`:
 * confidence pᵢ (probability of class 1), outcome 1[yᵢ = 1]. `p` is the positive-class
 * probability of each sample; y ∈ {0, 1}. With `binRule: "sklearn"` the non-empty bins'
 * (observed, meanPredicted) equal `calibration_curve(y, p, n_bins=B)`'s (prob_true, prob_pred).
 * @throws InputError for p outside [0, 1], labels not in {0, 1}, or bad options. Cost O(n).
 */
export function binaryReliabilityBins(
  p: ArrayLike<number>,
  y: ArrayLike<number>,
  opts: BinOptions = {},
  where: Where = "binaryReliabilityBins",
): Bin[] {
  const o = resolveBinOptions(opts);
  const P: Matrix = { rows: p.length, cols: 1, data: Float64Array.from(p) };
  validatePredictions(P, y, {}, where);
  const outcome = new Float64Array(p.length);
  for (let i = 0; i < p.length; i++) outcome[i] = y[i] === 1 ? 1 : 0;
  return binStatistics(P.data, outcome, o);
}
