/**
 * `softcal evaluate`: calibration metrics and reliability bins of a predictions file.
 */
import type { Command } from "commander";
import { BIN_RULES, BIN_STRATEGIES, type BinRule, type BinStrategy } from "../calibration/bins.js";
import { bootstrapInterval } from "../calibration/bootstrap.js";
import { type Evaluation, evaluatePredictions } from "../calibration/evaluate.js";
import { readPredictions } from "../calibration/predictions.js";
import { zeroProbabilityRows } from "../calibration/scores.js";
import { validateChoice } from "../calibration/validate.js";
import { createRng } from "../data/rng.js";
import { InputError } from "../errors.js";
import { takeRows } from "../linalg/matrix.js";
import { boundedInteger, checkBinsForData, checkHeaderColumns, MAX_BOOTSTRAP, parseBins } from "./bounds.js";
import { checkOutputPath, parseNumberFlag, writeOutput } from "./common.js";
import type { CliIo } from "./io.js";

interface EvaluateFlags {
  predictions: string;
  label: string;
  logits?: boolean;
  bins: string;
  strategy: string;
  binRule: string;
  json?: boolean;
  plot?: string;
  force?: boolean;
  bootstrap?: string;
  seed: string;
  level: string;
  metric: string;
}

/** Scalar metrics a bootstrap interval can be asked for. */
const INTERVAL_METRICS = ["accuracy", "nll", "brier", "ece", "mce", "classwiseEce"] as const;
type IntervalMetric = (typeof INTERVAL_METRICS)[number];

export function registerEvaluate(program: Command, io: CliIo): void {
  program
    .command("evaluate")
    .description("calibration metrics (accuracy, NLL, Brier, ECE, MCE, class-wise ECE) and reliability bins")
    .requiredOption(
      "--predictions <file>",
      "CSV: a label column plus one probability (or logit) column per class",
    )
    .option("--label <col>", "label column", "label")
    .option("--logits", "the score columns are logits (softmax is applied; NLL from log-softmax)")
    .option("--bins <B>", "number of bins, ≤ max(rows, 15) and ≤ 10000", "15")
    .option("--strategy <s>", "uniform (equal-width) | quantile (equal-mass)", "uniform")
    .option(
      "--bin-rule <rule>",
      "softcal ([e_b, e_b+1), last bin closed) | sklearn (calibration_curve's rule)",
      "softcal",
    )
    .option("--bootstrap <N>", "add percentile bootstrap intervals from N resamples (≤ 1000000)")
    .option("--seed <S>", "bootstrap seed", "0")
    .option("--level <f>", "bootstrap interval level, a fraction", "0.95")
    .option(
      "--metric <list>",
      `comma-separated metrics for --bootstrap (${INTERVAL_METRICS.join(", ")})`,
      "ece",
    )
    .option("--plot <file>", "write the reliability diagram (.svg or .png)")
    .option("--force", "overwrite an existing --plot file")
    .option("--json", "print one JSON object on stdout")
    .addHelpText(
      "after",
      "\nExamples:\n  softcal evaluate --predictions preds.csv --json\n  softcal evaluate --predictions logits.csv --logits --bins 10 --strategy quantile --bootstrap 1000 --seed 1 --plot reliability.svg",
    )
    .action((flags: EvaluateFlags) => evaluateCommand(flags, io));
}

async function evaluateCommand(flags: EvaluateFlags, io: CliIo): Promise<void> {
  const bins = parseBins(flags.bins);
  const strategy = validateChoice<BinStrategy>(flags.strategy, BIN_STRATEGIES, "--strategy");
  const binRule = validateChoice<BinRule>(flags.binRule, BIN_RULES, "--bin-rule");
  const metrics = flags.metric
    .split(",")
    .map((m) => validateChoice<IntervalMetric>(m.trim(), INTERVAL_METRICS, "--metric"));
  const resamples =
    flags.bootstrap === undefined
      ? 0
      : boundedInteger("--bootstrap", flags.bootstrap, 1, MAX_BOOTSTRAP, "memory: two doubles per resample");
  const seed = boundedInteger(
    "--seed",
    flags.seed,
    -Number.MAX_SAFE_INTEGER,
    Number.MAX_SAFE_INTEGER,
    "a safe integer",
  );
  const level = parseNumberFlag("--level", flags.level);
  if (!(level > 0 && level < 1)) throw new InputError(`--level: expected a fraction in (0, 1); got ${level}`);
  if (flags.plot !== undefined && !/\.(svg|png)$/i.test(flags.plot)) {
    throw new InputError(`--plot: expected a file name ending in .svg or .png; got "${flags.plot}"`);
  }
  checkOutputPath(flags.plot, "--plot", flags.force === true);

  checkHeaderColumns(flags.predictions);
  const pred = readPredictions(flags.predictions, flags.label, true);
  const y = pred.y as Int32Array;
  checkBinsForData(bins, y.length, pred.classNames.length, flags.predictions);
  const logits = flags.logits === true;
  const options = { bins, strategy, binRule, logits };
  const ev = evaluatePredictions(pred.S, y, options, pred.source);
  const zeros = zeroProbabilityRows(pred.S, y, { logits }, pred.source);
  if (zeros > 0) {
    io.stderr(
      `softcal evaluate: warning: ${flags.predictions}: NLL is +Infinity because ${zeros} of ${y.length} rows give their label probability 0\n`,
    );
  }

  const intervals: Record<
    string,
    { lower: number; upper: number; level: number; resamples: number; excludesEstimate: boolean }
  > = {};
  if (resamples > 0) {
    for (const metric of metrics) {
      const rng = createRng(seed);
      const ci = bootstrapInterval(
        (idx) =>
          evaluatePredictions(
            takeRows(pred.S, idx),
            Int32Array.from(idx, (i) => y[i]),
            options,
            pred.source,
          )[metric] as number,
        y.length,
        { resamples, level, rng },
      );
      // Binned ECE (and MCE) are biased upward: resamples repeat rows, which fills bins more
      // unevenly, so the bootstrap distribution can sit wholly above the estimate.
      const excludesEstimate = !(ci.lower <= ci.estimate && ci.estimate <= ci.upper);
      intervals[metric] = { lower: ci.lower, upper: ci.upper, level, resamples, excludesEstimate };
    }
  }

  if (flags.plot) {
    const { reliabilityDiagramSpec } = await import("../plot/reliability.js");
    const { renderFigure } = await import("../plot/render.js");
    const fig = await renderFigure(
      reliabilityDiagramSpec(ev.bins, { title: `Reliability: ${flags.predictions}`, ece: ev.ece }),
    );
    writeOutput(flags.plot, /\.png$/i.test(flags.plot) ? fig.png : fig.svg, "--plot", flags.force === true);
  }

  if (flags.json) {
    io.stdout(
      `${JSON.stringify({
        ...summaryOf(ev),
        zeroProbabilityRows: zeros,
        classes: pred.classNames,
        binning: { bins, strategy, binRule },
        ...(resamples > 0 ? { intervals, seed } : {}),
        bins: ev.bins,
        classwise: ev.classwise,
      })}\n`,
    );
    return;
  }
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(4) : String(x));
  const ci = (m: string) =>
    intervals[m]
      ? `  [${f(intervals[m].lower)}, ${f(intervals[m].upper)}] (${level * 100}% bootstrap${intervals[m].excludesEstimate ? "; excludes the estimate" : ""})`
      : "";
  const excluded = Object.keys(intervals).filter((m) => intervals[m].excludesEstimate);
  const lines = [
    `${flags.predictions}: n = ${ev.n}, K = ${ev.K}, ${bins} ${strategy} bins (${binRule} rule)`,
    `accuracy      ${f(ev.accuracy)}${ci("accuracy")}`,
    `nll           ${f(ev.nll)}${ci("nll")}`,
    `brier         ${f(ev.brier)}${ci("brier")}`,
    `ece           ${f(ev.ece)}${ci("ece")}`,
    `mce           ${f(ev.mce)}${ci("mce")}`,
    `classwise ece ${f(ev.classwiseEce)}${ci("classwiseEce")}`,
    ...(zeros > 0 ? [`${zeros} rows give their label probability 0, so NLL is +Infinity`] : []),
    ...(excluded.length > 0
      ? [
          `note: the bootstrap interval of ${excluded.join(", ")} excludes the estimate: binned ECE/MCE are biased upward (resampled rows fill bins unevenly), so the percentile interval can sit above the point estimate`,
        ]
      : []),
    "",
    "bin  lower   upper   count  mean conf  accuracy",
    ...ev.bins.map(
      (b, i) =>
        `${String(i).padStart(3)}  ${b.lower.toFixed(3)}   ${b.upper.toFixed(3)}  ${String(b.count).padStart(5)}  ${b.meanPredicted === null ? "     -   " : b.meanPredicted.toFixed(4).padStart(9)}  ${b.observed === null ? "   -" : b.observed.toFixed(4)}`,
    ),
    ...(flags.plot ? ["", `wrote ${flags.plot}`] : []),
  ];
  io.stdout(`${lines.join("\n")}\n`);
}

function summaryOf(ev: Evaluation) {
  return {
    n: ev.n,
    K: ev.K,
    accuracy: ev.accuracy,
    nll: ev.nll,
    brier: ev.brier,
    ece: ev.ece,
    mce: ev.mce,
    classwiseEce: ev.classwiseEce,
  };
}
