/**
 * What the built-in experiments are made of, for anyone writing their own (`softcal/experiments`):
 * data sets and seeded train/calibration/test splits on the unit's streams, the one base-model
 * definition, held-out metrics with a bootstrap ECE interval, reliability bins, decision-region
 * grids, axes, and figure rows that say what they leave out.
 */

import { resolveBinOptions, topLabelView, uniformBinIndex, uniformEdges } from "../calibration/bins.js";
import { bootstrapInterval } from "../calibration/bootstrap.js";
import { evaluatePredictions } from "../calibration/evaluate.js";
import { loadBuiltin } from "../data/builtin.js";
import type { Dataset } from "../data/dataset.js";
import { lessonClusters } from "../data/gaussian.js";
import { createRng } from "../data/rng.js";
import { stratifiedSplit, subset } from "../data/split.js";
import { applyStandardizer, fitStandardizer } from "../data/standardize.js";
import { softmax } from "../kernels/softmax.js";
import type { Matrix } from "../linalg/matrix.js";
import { type FitOptions, type FitResult, fit, type LinearModel, type ModelKind } from "../model/fit.js";
import { decisionFunction, predictProba } from "../model/predict.js";
import type { GridCell, ScatterPoint, SweepRow } from "../plot/types.js";
import type { Axis } from "./axes.js";
import { type PairedEffect, pairedEffect } from "./paired.js";
import { describeMetric, type MetricDescription, type MetricRange } from "./stats.js";
import type { Bin, CompletedRun, GridPoint, ParamValue, RunContext } from "./types.js";

/** The data sets the experiments run on: the lesson's synthetic clusters and two real ones. */
export const DATASETS = ["clusters", "iris", "penguins"] as const;
/**
 * Synthetic data sets, drawn afresh for each seed index: the lesson's three Gaussian clusters at
 * 60 points per class (the notebook's size) and at 1,000 per class (`clusters-large`: calibration
 * and test splits of 600 rows, large enough to measure what a recalibrator does).
 */
export const SYNTHETIC: Readonly<Record<string, number>> = { clusters: 60, "clusters-large": 1000 };
/** Reliability bins used throughout (DESIGN.md default). */
export const BINS = 15;
/** Bootstrap resamples for the ECE interval of one run. */
export const BOOTSTRAP_RESAMPLES = 200;

/** Train / calibration / test fractions (stratified). */
export const SPLIT = { train: 0.6, calibration: 0.2, test: 0.2 };

/**
 * The random streams of the built-in experiments (config.json's `streams`): what each stream's
 * numbers depend on, hence what is paired. Every λ, method and model compared at one seed index
 * sees the same data, split and resamples, in every experiment.
 */
export const STREAMS: Readonly<Record<string, string>> = {
  data: 'stream("data", data set): the synthetic draw and the stratified 60/20/20 train/calibration/test split — depends on (root seed, seed index, data set) only',
  bootstrap:
    'stream("bootstrap", data set): the resamples of the test split behind ece_lo/ece_hi — depends on (root seed, seed index, data set) only',
};

/** The data sets a data axis names by name: the built-ins and the synthetic draws; anything else is a CSV file. */
export const DATA_NAMES: readonly string[] = ["lesson", "clusters", "clusters-large", "iris", "penguins"];

/**
 * A `data` axis over {@link DATA_NAMES} or CSV files (`--data my.csv`, label column `--label`):
 * every data value of a run is validated and fingerprinted before any unit runs.
 */
export function dataAxis(values: readonly string[]): Axis {
  return {
    description:
      "data set: lesson, clusters, clusters-large, iris, penguins, or a CSV file (label column + numeric features)",
    type: "data",
    values,
    choices: DATA_NAMES,
  };
}

/** An L2 strength axis (λ ≥ 0) with these defaults. */
export function l2Axis(values: readonly number[], quick: readonly number[]): Axis {
  return {
    description: "L2 strength λ of the base model (bias not penalized)",
    type: "number",
    min: 0,
    values,
    quick,
  };
}

/** The data of one run: standardized (on train only) parts of a data set. */
export interface RunData {
  dataset: Dataset;
  train: Dataset;
  calibration: Dataset;
  test: Dataset;
}

/**
 * Loads a data set and splits it, from the seed of the unit's `data` stream (`ctx.stream("data",
 * name)`): a synthetic set ({@link SYNTHETIC}) is a fresh draw of the lesson's clusters; a real
 * set (built-in, or a CSV file through `load`, e.g. `ctx.dataset`) is fixed and only its split
 * changes with the seed. Stratified 60/20/20 split; features
 * standardized with the training part's mean and standard deviation. A pure function of
 * (name, seed): every unit that passes the same seed gets the same split.
 */
export function runData(name: string, seed: number, load: (name: string) => Dataset = loadBuiltin): RunData {
  const rng = createRng(seed);
  const perClass = SYNTHETIC[name];
  const ds = perClass !== undefined ? lessonClusters(rng, { perClass, name }) : load(name);
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

/** The split of data set `name` for a unit: {@link runData} on the unit's `data` stream. */
export function unitData(name: string, ctx: RunContext): RunData {
  return runData(name, ctx.stream("data", name), ctx.dataset);
}

/** The seed of a unit's `bootstrap` stream for data set `name` (the test split's resamples). */
export function bootstrapSeed(name: string, ctx: RunContext): number {
  return ctx.stream("bootstrap", name);
}

/** Fits a model on a data set (a thin wrapper naming the arguments). */
export function fitOn(d: Dataset, options: FitOptions): FitResult {
  return fit(d.X, d.y, d.nClasses, options);
}

/**
 * The base model every experiment fits on a training split: the exact optimum (L-BFGS, default
 * tolerance) at `l2`, at most 1000 iterations (300 when quick). One definition, so the model
 * `temperature` recalibrates at λ is the one `l2-sweep` measures at λ, and `ovr-vs-softmax`'s
 * softmax model is that one too.
 */
export function baseModel(
  train: Dataset,
  { model = "softmax", l2, quick }: { model?: ModelKind; l2: number; quick: boolean },
): FitResult {
  return fitOn(train, { model, l2, maxIter: quick ? 300 : 1000 });
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
  "zero_prob_rows",
] as const;

/** The ranges of the held-out metrics (summary.csv clips intervals into them). */
export const HELD_OUT_RANGES: Readonly<Record<string, MetricRange>> = {
  accuracy: { min: 0, max: 1 },
  nll: { min: 0 },
  brier: { min: 0, max: 2 },
  ece: { min: 0, max: 1 },
  ece_lo: { min: 0, max: 1 },
  ece_hi: { min: 0, max: 1 },
  mce: { min: 0, max: 1 },
  classwise_ece: { min: 0, max: 1 },
  mean_confidence: { min: 0, max: 1 },
  zero_prob_rows: { min: 0 },
};

/** Ranges of the other metrics the built-in experiments report. */
export const MODEL_RANGES: Readonly<Record<string, MetricRange>> = {
  weight_norm: { min: 0 },
  train_objective: { min: 0 },
  final_loss: { min: 0 },
  train_accuracy: { min: 0, max: 1 },
  converged: { min: 0, max: 1 },
  iterations: { min: 0 },
  temperature: { min: 0 },
  failed: { min: 0, max: 1 },
};

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
export function resampledEce(P: Matrix, y: Int32Array, bins: number = BINS): (idx: Int32Array) => number {
  const { confidence, outcome } = topLabelView(P, y);
  const { bins: B, binRule } = resolveBinOptions({ bins });
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
 * Metrics of probabilities (or, with `logits`, logits) on labels y — accuracy, NLL, Brier, ECE
 * (`bins` equal-width bins, default {@link BINS}) with a bootstrap 95% interval drawn from `seed`
 * (pass the unit's {@link bootstrapSeed}), MCE,
 * class-wise ECE, mean confidence, and `zero_prob_rows`: rows whose label has probability
 * exactly 0 (each makes the NLL +∞; from logits the NLL is taken by log-softmax and stays
 * finite, so this counts only probability inputs) — and the top-label reliability bins.
 */
export function heldOutMetrics(
  scores: Matrix,
  y: Int32Array,
  seed: number,
  { logits = false, bins = BINS }: { logits?: boolean; bins?: number } = {},
): { metrics: Record<string, number>; bins: Bin[] } {
  // With logits, NLL comes from log-softmax (finite where a probability underflows to 0).
  const ev = evaluatePredictions(scores, y, { bins, logits });
  const P = logits ? softmax(scores) : scores;
  let meanConfidence = 0;
  for (let i = 0; i < P.rows; i++) {
    let mx = 0;
    for (let k = 0; k < P.cols; k++) mx = Math.max(mx, P.data[i * P.cols + k]);
    meanConfidence += mx / P.rows;
  }
  const ci = bootstrapInterval(resampledEce(P, y, bins), P.rows, {
    resamples: BOOTSTRAP_RESAMPLES,
    rng: createRng(seed),
  });
  let zeroRows = 0;
  if (!logits) for (let i = 0; i < P.rows; i++) if (P.data[i * P.cols + y[i]] === 0) zeroRows++;
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
    zero_prob_rows: zeroRows,
  };
  return { metrics, bins: ev.bins };
}

/**
 * {@link heldOutMetrics} of a model on a data set, from the model's own scores: a softmax model's
 * logits (so its NLL is log-softmax's, finite where a probability underflows to 0), a one-vs-rest
 * model's probabilities. Every experiment measures a model this one way, so one model on one
 * split gives the same numbers everywhere.
 */
export function modelMetrics(
  m: LinearModel,
  d: Dataset,
  seed: number,
): { metrics: Record<string, number>; bins: Bin[] } {
  return m.model === "softmax"
    ? heldOutMetrics(decisionFunction(m, d.X), d.y, seed, { logits: true })
    : heldOutMetrics(predictProba(m, d.X), d.y, seed);
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

/** Rows of a figure and what it left out, in words (for the figure's subtitle). */
export interface FigureRows<R> {
  rows: R[];
  notes: string[];
}

/**
 * Mean and 95% interval over seeds (Student-t over the finite values, clipped into the metric's
 * range: `describeMetric`) of `metric` for each grid point matching `where`, as sweep rows; `notes`
 * says how many values were left out and why (failed units, non-finite values) — a figure must
 * say what it does not show.
 */
export function sweepRows(
  runs: readonly CompletedRun[],
  metric: string,
  param: string,
  series: string,
  where: (p: GridPoint) => boolean,
): FigureRows<SweepRow> {
  const groups = new Map<string, { param: number; series: string; runs: CompletedRun[] }>();
  for (const r of runs) {
    if (!where(r.point)) continue;
    const key = `${r.point[series]}|${r.point[param]}`;
    const g = groups.get(key) ?? { param: Number(r.point[param]), series: String(r.point[series]), runs: [] };
    g.runs.push(r);
    groups.set(key, g);
  }
  const rows: SweepRow[] = [];
  const left = new LeftOut();
  for (const g of groups.values()) {
    const d = describeRuns(g.runs, metric);
    left.add(d);
    if (d.mean === null) continue;
    rows.push({
      param: g.param,
      series: g.series,
      mean: d.mean,
      lo: d.ci95Lo ?? d.mean,
      hi: d.ci95Hi ?? d.mean,
    });
  }
  return { rows, notes: left.notes(metric) };
}

/** `describeMetric` of one metric over some runs (failed = the run reports a failure), clipped into `range` (default: the metric's in {@link HELD_OUT_RANGES} or {@link MODEL_RANGES}). */
export function describeRuns(
  runs: readonly CompletedRun[],
  metric: string,
  range: MetricRange | undefined = HELD_OUT_RANGES[metric] ?? MODEL_RANGES[metric],
): MetricDescription {
  return describeMetric(
    runs.map((r) => r.result.metrics[metric] ?? null),
    runs.map((r) => typeof r.result.failure === "string"),
    range,
  );
}

/** Tallies what summaries left out, for a figure's notes. */
export class LeftOut {
  private failed = 0;
  private nonFinite = 0;
  private total = 0;
  add(d: { planned: number; failed: number; nonFinite: number }): void {
    this.failed += d.failed;
    this.nonFinite += d.nonFinite;
    this.total += d.planned;
  }
  /** E.g. `left out: 4 of 60 runs failed (no result); 3 of 60 values of nll infinite`. */
  notes(metric: string): string[] {
    const out: string[] = [];
    if (this.failed > 0)
      out.push(`left out: ${this.failed} of ${this.total} runs failed (the method could not be fitted)`);
    if (this.nonFinite > 0) {
      out.push(
        `left out: ${this.nonFinite} of ${this.total} values of ${metric} not finite (e.g. p = 0 for a test label)`,
      );
    }
    return out;
  }
}

/** The paired effect of one level of an axis against the reference level, within one series. */
export interface EffectRow {
  level: ParamValue;
  series: string;
  effect: PairedEffect;
}

/**
 * Paired effects of `metric` for a figure: among the runs matching `where`, for each series value
 * and each level of `axis` other than `reference`, the differences level − reference by seed
 * index (`pairedEffect`, the same numbers paired.csv holds); `notes` says how many pairs were
 * left out and why.
 */
export function effectRows(
  runs: readonly CompletedRun[],
  {
    metric,
    axis,
    reference,
    series,
    where,
  }: {
    metric: string;
    axis: string;
    reference: ParamValue;
    series: string;
    where: (p: GridPoint) => boolean;
  },
): FigureRows<EffectRow> {
  const groups = new Map<string, Map<ParamValue, Map<number, number | null>>>();
  for (const r of runs) {
    if (!where(r.point)) continue;
    const s = String(r.point[series]);
    const levels = groups.get(s) ?? new Map<ParamValue, Map<number, number | null>>();
    const bySeed = levels.get(r.point[axis]) ?? new Map<number, number | null>();
    bySeed.set(r.seedIndex, r.result.metrics[metric] ?? null);
    levels.set(r.point[axis], bySeed);
    groups.set(s, levels);
  }
  const rows: EffectRow[] = [];
  let failed = 0;
  let nonFinite = 0;
  let pairs = 0;
  for (const [s, levels] of groups) {
    const ref = levels.get(reference);
    if (!ref) continue;
    const seeds = [...ref.keys()];
    for (const [level, bySeed] of levels) {
      if (level === reference) continue;
      const effect = pairedEffect(
        seeds.map((i) => bySeed.get(i) ?? null),
        seeds.map((i) => ref.get(i) ?? null),
      );
      failed += effect.failed;
      nonFinite += effect.nonFinite;
      pairs += seeds.length;
      rows.push({ level, series: s, effect });
    }
  }
  const notes: string[] = [];
  if (failed > 0) notes.push(`left out: ${failed} of ${pairs} pairs with a failed run`);
  if (nonFinite > 0) notes.push(`left out: ${nonFinite} of ${pairs} pairs with a non-finite ${metric}`);
  return { rows, notes };
}

/**
 * A figure-name-safe slug of a data value: a built-in name as is; a CSV path's file name without
 * `.csv`, every character outside `A-Za-z0-9._-` replaced by `_` (e.g. `../data/my file.csv` →
 * `my_file`). Two values with the same slug in one run are told apart by the caller's order
 * ({@link dataSlugs}).
 */
export function dataSlug(value: string): string {
  if (DATA_NAMES.includes(value)) return value;
  const base =
    value
      .split(/[\\/]/)
      .at(-1)
      ?.replace(/\.csv$/i, "") ?? "";
  const slug = base.replace(/[^A-Za-z0-9._-]/g, "_").replace(/^[._-]+/, "");
  return slug === "" ? "data" : slug;
}

/** Slugs of a run's data values in grid order, unique: a repeated slug gets `-2`, `-3`, …. */
export function dataSlugs(points: readonly GridPoint[]): Map<string, string> {
  const out = new Map<string, string>();
  const used = new Set<string>();
  for (const p of points) {
    const v = String(p.data);
    if (out.has(v)) continue;
    let slug = dataSlug(v);
    for (let i = 2; used.has(slug); i++) slug = `${dataSlug(v)}-${i}`;
    used.add(slug);
    out.set(v, slug);
  }
  return out;
}
