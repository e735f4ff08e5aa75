/**
 * What the four experiments share: data sets and seeded train/calibration/test splits, fitting,
 * test-set metrics, reliability bins, decision-region grids, and summaries for figures.
 */

import { resolveBinOptions, topLabelView, uniformBinIndex, uniformEdges } from "../src/calibration/bins.js";
import { bootstrapInterval } from "../src/calibration/bootstrap.js";
import { evaluatePredictions } from "../src/calibration/evaluate.js";
import { loadBuiltin } from "../src/data/builtin.js";
import type { Dataset } from "../src/data/dataset.js";
import { lessonClusters } from "../src/data/gaussian.js";
import { createRng } from "../src/data/rng.js";
import { stratifiedSplit, subset } from "../src/data/split.js";
import { applyStandardizer, fitStandardizer } from "../src/data/standardize.js";
import { summarize } from "../src/experiment/stats.js";
import type { Bin, GridPoint } from "../src/experiment/types.js";
import type { Matrix } from "../src/linalg/matrix.js";
import { softmax } from "../src/linalg/softmax.js";
import { type FitOptions, type FitResult, fit, type LinearModel } from "../src/model/fit.js";
import { decisionFunction, predictProba } from "../src/model/predict.js";
import type { GridCell, ScatterPoint, SweepRow } from "../src/plot/types.js";

/** The data sets the experiments run on: the lesson's synthetic clusters and two real ones. */
export const DATASETS = ["clusters", "iris", "penguins"] as const;
/** Reliability bins used throughout (DESIGN.md default). */
export const BINS = 15;
/** Bootstrap resamples for the ECE interval of one run. */
export const BOOTSTRAP_RESAMPLES = 200;

/** Train / calibration / test fractions (stratified). */
export const SPLIT = { train: 0.6, calibration: 0.2, test: 0.2 };

/** The data of one run: standardized (on train only) parts of a data set. */
export interface RunData {
  dataset: Dataset;
  train: Dataset;
  calibration: Dataset;
  test: Dataset;
}

/**
 * Loads a data set for one seed: `clusters` is a fresh seeded draw of the lesson's three Gaussian
 * clusters; real data sets are fixed and only their split changes with the seed. Features are
 * standardized with the training part's mean and standard deviation.
 */
export function runData(name: string, seed: number): RunData {
  const rng = createRng(seed);
  const ds = name === "clusters" ? lessonClusters(rng) : loadBuiltin(name);
  const parts = stratifiedSplit(ds.y, ds.nClasses, SPLIT, rng);
  const train = subset(ds, parts.train);
  const s = fitStandardizer(train.X);
  const std = (d: Dataset): Dataset => ({ ...d, X: applyStandardizer(d.X, s) });
  return {
    dataset: ds,
    train: std(train),
    calibration: std(subset(ds, parts.calibration)),
    test: std(subset(ds, parts.test)),
  };
}

/** Fits a model on a data set (a thin wrapper naming the arguments). */
export function fitOn(d: Dataset, options: FitOptions): FitResult {
  return fit(d.X, d.y, d.nClasses, options);
}

/** Sum of squared weights' root, ‖W‖ (bias excluded). */
export function weightNorm(m: LinearModel): number {
  const w = m.nFeatures + 1;
  let s = 0;
  for (let k = 0; k < m.nClasses; k++) for (let j = 1; j < w; j++) s += m.theta[k * w + j] ** 2;
  return Math.sqrt(s);
}

/** The metrics {@link heldOutMetrics} returns, in runs.csv's column order. */
export const HELD_OUT_METRICS = [
  "accuracy",
  "nll",
  "brier",
  "ece",
  "ece_lo",
  "ece_hi",
  "mce",
  "classwise_ece",
  "mean_confidence",
] as const;

/**
 * The bootstrap statistic of {@link heldOutMetrics}: `idx ↦ ECE` (top-label, {@link BINS} uniform bins)
 * of the rows `idx` of P with their labels — the value `expectedCalibrationError(takeRows(P, idx),
 * y[idx], { bins: BINS })` gives, bit for bit, without copying P or allocating per resample: the
 * top-label view (confidence, correct) and the bin of each row are taken once; each call sums the
 * resampled rows into three reused per-bin buffers in sample order, then forms ECE as
 * `eceFromBins` does (same operations, same order). Allocation matters here: a run's 200 resamples
 * made ~1,600 small typed arrays, whose off-heap memory V8 frees on a second core (measured: a
 * third of a core), the core `--jobs 2` needs. P must be valid probabilities (n×K, K ≥ 2), as
 * `evaluatePredictions` has checked. Cost O(n + B) per call.
 */
export function resampledEce(P: Matrix, y: Int32Array): (idx: Int32Array) => number {
  const { confidence, outcome } = topLabelView(P, y);
  const { bins: B, binRule } = resolveBinOptions({ bins: BINS });
  const edges = uniformEdges(B, binRule);
  const bin = new Int32Array(P.rows);
  for (let i = 0; i < P.rows; i++) bin[i] = uniformBinIndex(confidence[i], edges, binRule);
  const count = new Float64Array(B);
  const sumC = new Float64Array(B);
  const sumO = new Float64Array(B);
  return (idx) => {
    if (idx.length !== P.rows)
      throw new RangeError(`resampledEce: expected ${P.rows} indices; got ${idx.length}`);
    for (let b = 0; b < B; b++) {
      count[b] = 0;
      sumC[b] = 0;
      sumO[b] = 0;
    }
    for (let i = 0; i < idx.length; i++) {
      const r = idx[i];
      const b = bin[r];
      count[b]++;
      sumC[b] += confidence[r];
      sumO[b] += outcome[r];
    }
    let n = 0;
    let s = 0;
    for (let b = 0; b < B; b++) {
      const nb = count[b];
      if (nb === 0) continue;
      n += nb;
      s += nb * Math.abs(sumO[b] / nb - sumC[b] / nb);
    }
    return n === 0 ? 0 : s / n;
  };
}

/**
 * Metrics of probabilities (or, with `logits`, logits) on labels y — accuracy, NLL, Brier, ECE with a seeded bootstrap 95%
 * interval, MCE, class-wise ECE, mean confidence — and the top-label reliability bins.
 */
export function heldOutMetrics(
  scores: Matrix,
  y: Int32Array,
  seed: number,
  { logits = false }: { logits?: boolean } = {},
): { metrics: Record<string, number>; bins: Bin[] } {
  // With logits, NLL comes from log-softmax (finite where a probability underflows to 0).
  const ev = evaluatePredictions(scores, y, { bins: BINS, logits });
  const P = logits ? softmax(scores) : scores;
  let meanConfidence = 0;
  for (let i = 0; i < P.rows; i++) {
    let mx = 0;
    for (let k = 0; k < P.cols; k++) mx = Math.max(mx, P.data[i * P.cols + k]);
    meanConfidence += mx / P.rows;
  }
  const ci = bootstrapInterval(resampledEce(P, y), P.rows, {
    resamples: BOOTSTRAP_RESAMPLES,
    rng: createRng(seed ^ 0x5bd1e995).random,
  });
  const metrics = {
    accuracy: ev.accuracy,
    nll: ev.nll,
    brier: ev.brier,
    ece: ev.ece,
    ece_lo: ci.lower,
    ece_hi: ci.upper,
    mce: ev.mce,
    classwise_ece: ev.classwiseEce,
    mean_confidence: meanConfidence,
  };
  return { metrics, bins: ev.bins };
}

/** Probabilities and (for softmax) logits of a model on a data set. */
export function scores(m: LinearModel, d: Dataset): { P: Matrix; Z: Matrix | null } {
  return { P: predictProba(m, d.X), Z: m.model === "softmax" ? decisionFunction(m, d.X) : null };
}

/** The 2-D data as scatter points (class names as labels). */
export function scatterPoints(d: Dataset): ScatterPoint[] {
  const out: ScatterPoint[] = [];
  for (let i = 0; i < d.X.rows; i++) {
    out.push({ x1: d.X.data[2 * i], x2: d.X.data[2 * i + 1], label: d.classNames[d.y[i]] });
  }
  return out;
}

/** Predictions of a 2-D model over a `steps`×`steps` grid spanning the data (padded by 10%). */
export function decisionGrid(
  m: LinearModel,
  d: Dataset,
  steps = 60,
): { cells: GridCell[]; step: [number, number] } {
  let [lo1, hi1, lo2, hi2] = [Infinity, -Infinity, Infinity, -Infinity];
  for (let i = 0; i < d.X.rows; i++) {
    const a = d.X.data[2 * i];
    const b = d.X.data[2 * i + 1];
    [lo1, hi1, lo2, hi2] = [Math.min(lo1, a), Math.max(hi1, a), Math.min(lo2, b), Math.max(hi2, b)];
  }
  const pad1 = 0.1 * (hi1 - lo1);
  const pad2 = 0.1 * (hi2 - lo2);
  [lo1, hi1, lo2, hi2] = [lo1 - pad1, hi1 + pad1, lo2 - pad2, hi2 + pad2];
  const s1 = (hi1 - lo1) / (steps - 1);
  const s2 = (hi2 - lo2) / (steps - 1);
  const G = new Float64Array(steps * steps * 2);
  for (let a = 0; a < steps; a++) {
    for (let b = 0; b < steps; b++) {
      G[2 * (a * steps + b)] = lo1 + a * s1;
      G[2 * (a * steps + b) + 1] = lo2 + b * s2;
    }
  }
  const P = predictProba(m, { rows: steps * steps, cols: 2, data: G });
  const K = m.nClasses;
  const cells: GridCell[] = [];
  for (let i = 0; i < steps * steps; i++) {
    let best = 0;
    for (let k = 1; k < K; k++) if (P.data[i * K + k] > P.data[i * K + best]) best = k;
    cells.push({
      x1: round6(G[2 * i]),
      x2: round6(G[2 * i + 1]),
      predicted: d.classNames[best],
      confidence: round6(P.data[i * K + best]),
    });
  }
  return { cells, step: [s1, s2] };
}

/** Rounds to 6 significant decimals (figure data only; keeps extras small). */
export function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

/** Mean and 95% interval over seeds of `metric` for each grid point matching `where`, as sweep rows. */
export function sweepRows(
  runs: readonly { point: GridPoint; result: { metrics: Record<string, number | null> } }[],
  metric: string,
  param: string,
  series: string,
  where: (p: GridPoint) => boolean,
): SweepRow[] {
  const groups = new Map<string, { param: number; series: string; values: (number | null)[] }>();
  for (const r of runs) {
    if (!where(r.point)) continue;
    const key = `${r.point[series]}|${r.point[param]}`;
    const g = groups.get(key) ?? {
      param: Number(r.point[param]),
      series: String(r.point[series]),
      values: [],
    };
    g.values.push(r.result.metrics[metric]);
    groups.set(key, g);
  }
  const rows: SweepRow[] = [];
  for (const g of groups.values()) {
    const s = summarize(g.values);
    if (s.mean === null || !Number.isFinite(s.mean)) continue;
    rows.push({
      param: g.param,
      series: g.series,
      mean: s.mean,
      lo: s.ci95Lo ?? s.mean,
      hi: s.ci95Hi ?? s.mean,
    });
  }
  return rows;
}
