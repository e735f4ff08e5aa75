/**
 * `recalibration` — which recalibrator should I use on my model's outputs? Given a model's
 * validation outputs (a predictions CSV in `evaluate`'s format: a label column and one probability
 * — or, with `--logits`, logit — column per class; one column for a binary problem), each seed
 * splits the rows, stratified, into a calibration half and a test half (or, with `--test FILE`,
 * calibrates on all of them and measures on the fixed test file), fits every method on the
 * calibration part and measures the test part: accuracy, NLL, Brier, ECE (bootstrap CI), MCE,
 * class-wise ECE, the fitted temperature. Paired: at one seed index every method sees the same
 * split, so paired.csv's effects against `none` carry no split-to-split noise.
 *
 * Without `--predictions`, it runs on `demo`: synthetic logits of an over-confident 3-class model
 * (4,000 rows drawn afresh per seed; the model's logits are 2.5× the true ones, so temperature
 * scaling should find T ≈ 2.5).
 *
 * Not part of `softcal run all`: run it by name, e.g.
 * `softcal run recalibration --predictions val_logits.csv --logits --seeds 20`.
 */
import {
  axisValues,
  BINS,
  bootstrapSeed,
  type CompletedRun,
  type DataFile,
  dataSlugs,
  type Experiment,
  effectRows,
  type Figure,
  type GridPoint,
  HELD_OUT_METRICS,
  HELD_OUT_RANGES,
  heldOutMetrics,
  MODEL_RANGES,
  type RunContext,
  STREAMS,
} from "../src/experiment/index.js";
import {
  type BarRow,
  barSpec,
  createRecalibrator,
  createRng,
  InputError,
  type Matrix,
  matrix,
  readPredictions,
  SoftcalError,
  sideBySideReliabilitySpec,
  softmax,
  stratifiedSplit,
  takeRows,
  validateProbabilities,
} from "../src/index.js";

/** The methods every run compares (Platt scaling is added for binary data files). */
const METHODS = ["none", "temperature", "vector", "matrix", "dirichlet", "histogram", "isotonic", "beta"];
const ALL_METHODS = [...METHODS, "platt"];
/** Rows and classes of the `demo` data, and how over-confident its model is. */
const DEMO = { rows: 4000, classes: 3, overconfidence: 2.5, spread: 1.5 };

/** Model outputs: scores (n×K, or n×1 for one binary column), labels, class names. */
interface Outputs {
  S: Matrix;
  y: Int32Array;
  classNames: string[];
}

/**
 * The `demo` outputs for a seed: true logits z* ~ N(0, 1.5²·I₃) per row, a label drawn from
 * softmax(z*), and the model's logits 2.5·z* (over-confident by construction).
 */
export function demoOutputs(seed: number): Outputs {
  const rng = createRng(seed);
  const { rows, classes: K, overconfidence, spread } = DEMO;
  const S = new Float64Array(rows * K);
  const y = new Int32Array(rows);
  const z = new Float64Array(K);
  for (let i = 0; i < rows; i++) {
    let max = -Infinity;
    for (let k = 0; k < K; k++) {
      z[k] = spread * rng.normal();
      max = Math.max(max, z[k]);
    }
    let total = 0;
    for (let k = 0; k < K; k++) total += Math.exp(z[k] - max);
    let u = rng.next() * total;
    let label = K - 1;
    for (let k = 0; k < K; k++) {
      u -= Math.exp(z[k] - max);
      if (u < 0) {
        label = k;
        break;
      }
    }
    y[i] = label;
    for (let k = 0; k < K; k++) S[i * K + k] = overconfidence * z[k];
  }
  return { S: matrix(rows, K, S), y, classNames: ["0", "1", "2"] };
}

/** Outputs read from files, by fingerprint (a thread's units share them; never modified). */
const read = new Map<string, Outputs>();

/** A recorded predictions file's outputs (read once per thread, its fingerprint checked). */
function fileOutputs(f: DataFile): Outputs {
  const key = `${f.sha256}\0${f.label}`;
  let o = read.get(key);
  if (o === undefined) {
    const p = readPredictions(f.path, f.label, true);
    o = { S: p.S, y: p.y as Int32Array, classNames: p.classNames };
    read.set(key, o);
    if (read.size > 8) read.delete(read.keys().next().value as string);
  }
  return o;
}

/** The outputs a data value names for a unit: `demo` drawn from its data stream, else a file. */
function outputs(name: string, ctx: RunContext): Outputs {
  return name === "demo" ? demoOutputs(ctx.stream("data", name)) : fileOutputs(ctx.file(name));
}

/** Scores as recalibrators take them: a single binary column becomes two (logits (0, z), probabilities (1 − p, p)). */
function twoColumns(S: Matrix, logits: boolean): Matrix {
  if (S.cols !== 1) return S;
  const out = new Float64Array(2 * S.rows);
  for (let i = 0; i < S.rows; i++) {
    out[2 * i] = logits ? 0 : 1 - S.data[i];
    out[2 * i + 1] = S.data[i];
  }
  return matrix(S.rows, 2, out);
}

export const recalibration: Experiment = {
  name: "recalibration",
  description:
    "which recalibrator for my model's outputs? every method fitted on a calibration split of --predictions, measured on the rest (or on --test), paired by seed",
  axes: {
    data: {
      description:
        "model outputs: demo (synthetic over-confident logits) or a predictions CSV (--predictions)",
      type: "data",
      values: ["demo"],
      choices: ["demo"],
    },
    scores: {
      description: "what the score columns hold (--logits sets logits; demo is drawn as logits either way)",
      type: "string",
      values: ["probabilities"],
      choices: ["probabilities", "logits"],
    },
    test: {
      description: "a fixed test file in the same format (--test), or none: split the outputs 50/50 per seed",
      type: "data",
      values: ["none"],
      choices: ["none"],
    },
    method: {
      description: "recalibrator (platt: binary data only; added for binary files by default)",
      type: "string",
      values: METHODS,
      choices: ALL_METHODS,
    },
    bins: {
      description: "bins of ECE, the reliability diagrams and histogram binning",
      type: "number",
      min: 2,
      max: 1000,
      values: [BINS],
    },
  },
  grid(opts) {
    const axes = axisValues(recalibration, opts);
    const points: GridPoint[] = [];
    for (const data of axes.data) {
      // The default methods of a binary file include Platt scaling.
      const binary = (opts.files ?? []).some((f) => f.name === data && f.classes.length === 2);
      const methods = binary && axes.method.join() === METHODS.join() ? [...METHODS, "platt"] : axes.method;
      for (const scores of axes.scores)
        for (const test of axes.test)
          for (const bins of axes.bins)
            for (const method of methods) points.push({ data, scores, test, bins, method });
    }
    return points;
  },
  metrics: [...HELD_OUT_METRICS, "temperature", "failed", "n_calibration", "n_test"],
  metricRanges: { ...HELD_OUT_RANGES, ...MODEL_RANGES, n_calibration: { min: 0 }, n_test: { min: 0 } },
  streams: {
    data: 'stream("data", data): the demo draw and the stratified 50/50 calibration/test split — depends on (root seed, seed index, data) only',
    bootstrap: STREAMS.bootstrap,
  },
  comparisons: [
    {
      axis: "method",
      reference: "none",
      metrics: ["accuracy", "nll", "brier", "ece", "mce", "classwise_ece", "mean_confidence"],
    },
  ],
  checkData(file, axes) {
    // The scores must be what the scores axis says: probabilities in [0, 1] summing to 1 per row.
    const p = readPredictions(file.path, file.label, true);
    if (axes.scores?.includes("probabilities")) {
      validateProbabilities(p.S, { ...p.source, file: file.name });
    }
    if (p.classNames.length > 2 && axes.method?.includes("platt")) {
      throw new InputError(
        `--set method=platt: expected a binary problem; got ${p.classNames.length} classes`,
        {
          file: file.name,
        },
      );
    }
  },
  run(point, ctx) {
    const data = String(point.data);
    const logits = data === "demo" || point.scores === "logits";
    const bins = Number(point.bins);
    const all = outputs(data, ctx);
    const demoAsProbabilities = data === "demo" && point.scores === "probabilities";
    const S = twoColumns(demoAsProbabilities ? softmax(all.S) : all.S, logits && !demoAsProbabilities);
    const isLogits = logits && !demoAsProbabilities;
    let cal: { S: Matrix; y: Int32Array };
    let test: { S: Matrix; y: Int32Array };
    if (point.test === "none") {
      const parts = stratifiedSplit(
        all.y,
        Math.max(2, all.classNames.length),
        { train: 0, calibration: 0.5, test: 0.5 },
        createRng(ctx.stream("data", data)),
      );
      cal = { S: takeRows(S, parts.calibration), y: Int32Array.from(parts.calibration, (i) => all.y[i]) };
      test = { S: takeRows(S, parts.test), y: Int32Array.from(parts.test, (i) => all.y[i]) };
    } else {
      const t = fileOutputs(ctx.file(String(point.test)));
      cal = { S, y: all.y };
      test = { S: twoColumns(t.S, isLogits), y: t.y };
    }
    const method = String(point.method);
    let scores = test.S;
    let scoresAreLogits = isLogits;
    let T: number | null = null;
    const sizes = { n_calibration: cal.y.length, n_test: test.y.length };
    if (method !== "none") {
      try {
        const r = createRecalibrator(method, { bins }).fit(cal.S, cal.y, { logits: isLogits });
        if (r.transformLogits && isLogits) {
          scores = r.transformLogits(test.S, { logits: true });
        } else {
          scores = r.transform(test.S, { logits: isLogits });
          scoresAreLogits = false;
        }
        if (method === "temperature") T = Number(r.toJSON().temperature);
      } catch (e) {
        if (!(e instanceof SoftcalError)) throw e;
        const empty = Object.fromEntries(recalibration.metrics.map((m) => [m, null]));
        return { metrics: { ...empty, ...sizes, failed: 1 }, failure: e.message };
      }
    }
    const held = heldOutMetrics(scores, test.y, bootstrapSeed(data, ctx), { logits: scoresAreLogits, bins });
    return {
      metrics: { ...held.metrics, temperature: T, failed: 0, ...sizes },
      reliability: [{ view: "test", bins: held.bins }],
    };
  },
  figures({ points, runs }) {
    const figures: Figure[] = [];
    const slugs = dataSlugs(points);
    const seeds = [...new Set(runs.map((u) => u.seedIndex))].sort((a, b) => a - b);
    for (const data of new Set(points.map((p) => String(p.data)))) {
      const mine = runs.filter((u) => u.point.data === data);
      const first = points.find((p) => p.data === data) as GridPoint;
      const same = (u: CompletedRun) =>
        u.point.scores === first.scores && u.point.test === first.test && u.point.bins === first.bins;
      // Reliability of each method on the first seed, side by side.
      const seed = seeds[0];
      const panels = [...new Set(points.map((p) => String(p.method)))].flatMap((method) => {
        const r = mine.find((u) => same(u) && u.seedIndex === seed && u.point.method === method);
        const rel = r?.result.reliability?.[0];
        if (!r || !rel) return [];
        const T = r.result.metrics.temperature;
        return [
          {
            title:
              method === "temperature" && T !== null ? `temperature (T = ${Number(T).toFixed(2)})` : method,
            bins: rel.bins,
            ece: Number(r.result.metrics.ece),
          },
        ];
      });
      const failed = mine.filter((u) => same(u) && u.seedIndex === seed && u.result.failure !== undefined);
      if (panels.length > 0) {
        figures.push({
          name: `reliability-by-method-${slugs.get(data)}`,
          spec: sideBySideReliabilitySpec(panels, {
            title: `Recalibrators on ${data}: test reliability (seed ${seed})`,
            notes: failed.map((u) => `${u.point.method} failed: ${u.result.failure}`),
          }),
        });
      }
    }
    for (const [metric, label] of [
      ["ece", "test ECE"],
      ["nll", "test NLL"],
    ] as const) {
      const { rows, notes } = effectRows(runs, {
        metric,
        axis: "method",
        reference: "none",
        series: "data",
        where: () => true,
      });
      const bars: BarRow[] = rows.flatMap((r) =>
        r.effect.meanDiff === null
          ? []
          : [
              {
                category: String(r.level),
                value: r.effect.meanDiff,
                ...(r.effect.ci95Lo !== null && r.effect.ci95Hi !== null
                  ? { lo: r.effect.ci95Lo, hi: r.effect.ci95Hi }
                  : {}),
                series: r.series,
              },
            ],
      );
      if (bars.length === 0) continue;
      figures.push({
        name: `${metric}-effect-by-method`,
        spec: barSpec(bars, {
          title: `Paired effect of each recalibrator on ${label}: method − none (same splits; mean, 95% CI)`,
          yTitle: `${label} difference (below 0: better)`,
          notes,
        }),
      });
    }
    return figures;
  },
};
