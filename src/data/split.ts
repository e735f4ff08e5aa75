/**
 * Stratified train / calibration / test splits and row subsets of a {@link Dataset}.
 */
import { InputError } from "../errors.js";
import { takeRows } from "../linalg/matrix.js";
import type { Dataset } from "./dataset.js";
import type { Rng } from "./rng.js";

/** Fractions of each class that go to each part (non-negative, summing to 1). */
export interface SplitFractions {
  train: number;
  calibration: number;
  test: number;
}

/** Sorted row indices of each part. */
export interface Split {
  train: Int32Array;
  calibration: Int32Array;
  test: Int32Array;
}

const PARTS = ["train", "calibration", "test"] as const;

/**
 * How many of `n` samples of one class go to each part (the documented rounding rule).
 *
 * 1. Largest remainder (Hamilton): targets `t_p = f_p·n`; each part gets `⌊t_p⌋`, and the
 *    `n − Σ⌊t_p⌋` samples left go one each to the parts with the largest `t_p − ⌊t_p⌋`
 *    (ties: train, then calibration, then test). So `|c_p − t_p| < 1` and `Σ c_p = n`.
 * 2. Presence: if n is at least the number of parts with `f_p > 0`, every such part gets at
 *    least one sample: an empty one takes one from the part with the largest surplus
 *    `c_q − t_q` (ties: the larger c_q, then part order). This only happens when some
 *    `t_p < 1`, and then keeps `|c_p − t_p| < 2`.
 * Cost: O(1).
 */
export function splitCounts(n: number, f: readonly [number, number, number]): [number, number, number] {
  const t = f.map((x) => x * n);
  const c = t.map((x) => Math.floor(x)) as [number, number, number];
  const positive = [0, 1, 2].filter((p) => f[p] > 0);
  // Hamilton: hand out what the floors left, largest remainder first (stable sort: part order).
  const order = [...positive].sort((a, b) => t[b] - c[b] - (t[a] - c[a]));
  let left = n - (c[0] + c[1] + c[2]);
  for (let k = 0; left > 0 && order.length > 0; k = (k + 1) % order.length, left--) c[order[k]]++;
  // Presence: an empty part with f > 0 takes one from the part (with ≥ 2) of largest surplus.
  if (n >= positive.length) {
    for (const p of positive) {
      if (c[p] > 0) continue;
      let donor = -1;
      for (const q of positive) {
        if (c[q] < 2) continue;
        if (donor < 0) donor = q;
        else {
          const sq = c[q] - t[q];
          const sd = c[donor] - t[donor];
          if (sq > sd || (sq === sd && c[q] > c[donor])) donor = q;
        }
      }
      c[donor]--;
      c[p]++;
    }
  }
  return c;
}

/**
 * Splits sample indices into train, calibration and test parts, class by class.
 *
 * For each class k = 0..K-1 in turn: its indices (ascending) are shuffled with `rng.shuffle`
 * (Fisher–Yates), then cut into the first `c_train`, the next `c_calibration` and the rest, with
 * the counts of {@link splitCounts}. Each part's indices are returned sorted ascending. The result
 * depends only on `y`, the fractions and the rng's state.
 *
 * @param y labels in 0..nClasses-1.
 * @param fractions non-negative, summing to 1 within 1e-9 (e.g. `{ train: 0.6, calibration: 0.2, test: 0.2 }`).
 * @returns disjoint sorted parts whose union is 0..m-1.
 * @throws RangeError for a label outside 0..nClasses-1 or bad fractions.
 * Cost: O(m log m).
 * @example
 * stratifiedSplit(Int32Array.of(0, 0, 1, 1), 2, { train: 0.5, calibration: 0, test: 0.5 }, createRng(1));
 * // each part holds one index of class 0 and one of class 1
 */
export function stratifiedSplit(y: Int32Array, nClasses: number, fractions: SplitFractions, rng: Rng): Split {
  if (!(Number.isInteger(nClasses) && nClasses >= 1)) {
    throw new RangeError(`stratifiedSplit: nClasses must be a positive integer; got ${nClasses}`);
  }
  const f = PARTS.map((p) => fractions[p]) as [number, number, number];
  for (let p = 0; p < 3; p++) {
    if (!(f[p] >= 0 && f[p] <= 1)) {
      throw new RangeError(`stratifiedSplit: fraction ${PARTS[p]} must be in [0, 1]; got ${f[p]}`);
    }
  }
  const sum = f[0] + f[1] + f[2];
  if (!(Math.abs(sum - 1) <= 1e-9)) {
    throw new RangeError(`stratifiedSplit: fractions must sum to 1; got ${sum}`);
  }
  const byClass: number[][] = Array.from({ length: nClasses }, () => []);
  for (let i = 0; i < y.length; i++) {
    const k = y[i];
    if (!(k >= 0 && k < nClasses)) {
      throw new RangeError(`stratifiedSplit: labels must be in 0..${nClasses - 1}; got ${k} at index ${i}`);
    }
    byClass[k].push(i);
  }
  const parts: number[][] = [[], [], []];
  for (const idx of byClass) {
    rng.shuffle(idx);
    const c = splitCounts(idx.length, f);
    parts[0].push(...idx.slice(0, c[0]));
    parts[1].push(...idx.slice(c[0], c[0] + c[1]));
    parts[2].push(...idx.slice(c[0] + c[1]));
  }
  const sorted = parts.map((p) => Int32Array.from(p).sort());
  return { train: sorted[0], calibration: sorted[1], test: sorted[2] };
}

/**
 * The data set restricted to rows `indices` (in that order); names and classes are kept.
 * @throws RangeError for an index outside 0..m-1.
 * Cost: O(|indices|·d).
 * @example
 * subset(ds, split.train).X.rows === split.train.length; // true
 */
export function subset(ds: Dataset, indices: ArrayLike<number>): Dataset {
  const m = ds.y.length;
  const y = new Int32Array(indices.length);
  for (let r = 0; r < indices.length; r++) {
    const i = indices[r];
    if (!(Number.isInteger(i) && i >= 0 && i < m)) {
      throw new RangeError(`subset: indices must be integers in 0..${m - 1}; got ${i} at position ${r}`);
    }
    y[r] = ds.y[i];
  }
  return { ...ds, X: takeRows(ds.X, indices), y };
}

/**
 * The test fold (0..nFolds−1) of every sample under stratified K-fold cross-validation, by
 * scikit-learn's rule (`StratifiedKFold`, 0.22 and later): with the classes ordered by their first
 * appearance in y and the labels sorted in that order, fold f receives
 * `bincount(sorted[f::nFolds])` samples of each class — so every class is spread over the folds
 * as evenly as possible and the folds' sizes differ by at most one per class — and class k's
 * samples, in ascending index order, go to folds 0, 0, …, 1, 1, … in those counts. Without an
 * `rng` this equals `StratifiedKFold(nFolds, shuffle=False).split(X, y)`'s test folds exactly;
 * with one, each class's fold list is shuffled with `rng.shuffle` (deterministic under a seed;
 * scikit-learn's shuffled assignment draws from numpy's generator instead).
 *
 * @param y labels in 0..nClasses−1.
 * @throws InputError when nFolds is not an integer in 2..(the largest class's size) or a class
 *   has fewer samples than folds would need to hold one each (scikit-learn refuses
 *   `n_splits > samples of every class` and warns when a class has fewer than n_splits).
 * Cost: O(m).
 * @example
 * stratifiedKFold(Int32Array.of(0, 0, 1, 1, 0, 1), 2, 2) // Int32Array [0, 0, 0, 1, 1, 1]
 */
export function stratifiedKFold(y: Int32Array, nClasses: number, nFolds: number, rng?: Rng): Int32Array {
  const counts = new Array<number>(nClasses).fill(0);
  for (let i = 0; i < y.length; i++) {
    const k = y[i];
    if (!(Number.isInteger(k) && k >= 0 && k < nClasses)) {
      throw new RangeError(`stratifiedKFold: labels must be in 0..${nClasses - 1}; got ${k} at index ${i}`);
    }
    counts[k]++;
  }
  const smallest = Math.min(...counts.filter((c) => c > 0));
  if (!(Number.isInteger(nFolds) && nFolds >= 2 && nFolds <= smallest)) {
    throw new InputError(
      `--cv: expected an integer from 2 to ${smallest} (the smallest class has ${smallest} samples, and every fold needs one of each class); got ${nFolds}`,
    );
  }
  // Classes are taken in the order of their first appearance in y (scikit-learn re-encodes them
  // so), then allocation[f][k] = samples of class k in fold f = #{j ≡ f (mod nFolds) : sorted[j] = k}
  // with the labels sorted in that order.
  const order: number[] = [];
  const seen = new Uint8Array(nClasses);
  for (let i = 0; i < y.length; i++) {
    if (!seen[y[i]]) {
      seen[y[i]] = 1;
      order.push(y[i]);
    }
  }
  const allocation: number[][] = Array.from({ length: nFolds }, () => new Array<number>(nClasses).fill(0));
  let j = 0;
  for (const k of order) {
    for (let c = 0; c < counts[k]; c++, j++) allocation[j % nFolds][k]++;
  }
  const folds = new Int32Array(y.length);
  for (let k = 0; k < nClasses; k++) {
    const list: number[] = [];
    for (let f = 0; f < nFolds; f++) for (let c = 0; c < allocation[f][k]; c++) list.push(f);
    if (rng) rng.shuffle(list);
    let next = 0;
    for (let i = 0; i < y.length; i++) if (y[i] === k) folds[i] = list[next++];
  }
  return folds;
}
