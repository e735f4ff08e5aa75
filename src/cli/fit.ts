/**
 * `softcal fit`: fit softmax or one-vs-rest logistic regression to a CSV file or a built-in data
 * set; print a summary (or one JSON object with --json) and optionally save the model.
 */
import { performance } from "node:perf_hooks";
import type { Command } from "commander";
import type { CrossFitCalibration } from "../calibration/crossFit.js";
import { expectedCalibrationError } from "../calibration/metrics.js";
import { RECALIBRATION_METHODS } from "../calibration/recalibrators/recalibrator.js";
import { accuracy, brier, nll } from "../calibration/scores.js";
import { validateChoice } from "../calibration/validate.js";
import { requireTwoClasses } from "../data/dataset.js";
import { createRng } from "../data/rng.js";
import { applyStandardizer, fitStandardizer } from "../data/standardize.js";
import { InputError } from "../errors.js";
import { toRows } from "../linalg/matrix.js";
import { DEFAULTS, fit, type ModelKind, type OptimizerName } from "../model/fit.js";
import { type ModelBundle, modelToJson } from "../model/modelFile.js";
import { decisionFunction, predictProba } from "../model/predict.js";
import {
  boundedInteger,
  boundedNumber,
  checkHeaderColumns,
  MAX_ITERS,
  maxThreads,
  parseBins,
} from "./bounds.js";
import { checkOutputPath, loadData, writeOutput } from "./common.js";
import type { CliIo } from "./io.js";
import {
  addRecalibratorOptions,
  type RecalibratorFlagValues,
  recalibratorOptions,
} from "./recalibratorFlags.js";

interface FitFlags extends RecalibratorFlagValues {
  data: string;
  label: string;
  model: string;
  l2: string;
  optimizer: string;
  alpha: string;
  iters?: string;
  tol: string;
  threads?: string;
  standardize?: boolean;
  save?: string;
  force?: boolean;
  json?: boolean;
  calibrate?: string;
  cv?: string;
  ensemble: boolean;
  shuffleSeed?: string;
  calL2?: string;
  calBins?: string;
}

/** Most folds of `fit --cv` (each is a fit of the base model). */
const MAX_CV = 100;

export function registerFit(program: Command, io: CliIo): void {
  const cmd = program
    .command("fit")
    .description("fit softmax (multinomial) or one-vs-rest logistic regression")
    .requiredOption("--data <file>", "training CSV (header; numeric features) or a built-in data set")
    .option("--label <col>", "label column", "label")
    .option("--model <kind>", "softmax | ovr", DEFAULTS.model)
    .option(
      "--l2 <lambda>",
      "L2 strength λ ≥ 0 on the weights (bias not penalized); scikit-learn C = 1/(λ·m)",
      "0",
    )
    .option(
      "--optimizer <name>",
      "lbfgs (exact optimum) | gd (the lesson's gradient descent)",
      DEFAULTS.optimizer,
    )
    .option("--alpha <alpha>", "gradient-descent step size", String(DEFAULTS.alpha))
    .option(
      "--iters <n>",
      `iterations, ≤ ${MAX_ITERS} (default: ${DEFAULTS.gdIterations} for gd, ${DEFAULTS.lbfgsIterations} for lbfgs)`,
    )
    .option(
      "--tol <eps>",
      "L-BFGS stops when max |gradient| ≤ tol (a finite number > 0)",
      String(DEFAULTS.tol),
    )
    .option(
      "--threads <n>",
      "threads for the WebAssembly kernel, ≤ cores × 4 (default: fastest for the problem size; results are identical for any n)",
    )
    .option("--standardize", "standardize features (mean 0, std 1, fitted on this data; saved in the model)")
    .option(
      "--calibrate <method>",
      `cross-fitted calibration (as scikit-learn's CalibratedClassifierCV): ${RECALIBRATION_METHODS.join(" | ")}`,
    )
    .option(
      "--cv <K>",
      `folds of --calibrate, 2..${MAX_CV} and at most the smallest class's size (default 5)`,
    )
    .option(
      "--no-ensemble",
      "--calibrate: one recalibrator on the out-of-fold scores, applied to the model fitted on all data (default: the mean of the K fold pairs)",
    )
    .option(
      "--shuffle-seed <n>",
      "--calibrate: shuffle each class's folds with this seed (default: scikit-learn's unshuffled StratifiedKFold)",
    )
    .option(
      "--cal-l2 <lambda>",
      "--calibrate vector, matrix or dirichlet: the recalibrator's L2 penalty λ ≥ 0 toward the identity",
    )
    .option("--cal-bins <B>", "--calibrate histogram: bins (default 15)");
  addRecalibratorOptions(cmd)
    .option("--save <model.json>", "write the fitted model (JSON)")
    .option("--force", "overwrite an existing --save file")
    .option("--json", "print one JSON object on stdout")
    .addHelpText(
      "after",
      "\nExamples:\n  softcal fit --data iris --l2 0.01 --json\n  softcal fit --data lesson_data.csv --optimizer gd --alpha 0.1 --iters 300 --save model.json\n  softcal fit --data digits --l2 0.001 --calibrate temperature --cv 5 --save calibrated.json",
    )
    .action((flags: FitFlags) => fitCommand(flags, io));
}

async function fitCommand(flags: FitFlags, io: CliIo): Promise<void> {
  const optimizer = flags.optimizer as OptimizerName;
  const options = {
    model: flags.model as ModelKind,
    optimizer,
    l2: boundedNumber("--l2", flags.l2, { min: 0 }),
    alpha: boundedNumber("--alpha", flags.alpha, { min: 0, strict: true }),
    tol: boundedNumber("--tol", flags.tol, { min: 0, strict: true }),
    maxIter:
      flags.iters === undefined
        ? optimizer === "gd"
          ? DEFAULTS.gdIterations
          : DEFAULTS.lbfgsIterations
        : boundedInteger("--iters", flags.iters, 1, MAX_ITERS, "memory: one loss per iteration"),
    ...(flags.threads === undefined
      ? {}
      : {
          threads: boundedInteger("--threads", flags.threads, 1, maxThreads(), "the machine's cores × 4"),
        }),
  };
  const calFlags = calibrationFlags(flags);
  // The recalibrators load only for --calibrate: a plain fit starts faster without them.
  const cal = calFlags && { options: calFlags, lib: await import("../calibration/crossFit.js") };
  checkOutputPath(flags.save, "--save", flags.force === true);
  checkHeaderColumns(flags.data);
  const ds = loadData(flags.data, flags.label);
  requireTwoClasses(ds, flags.data);

  const t0 = performance.now();
  const standardizer = flags.standardize ? fitStandardizer(ds.X) : null;
  const X = standardizer ? applyStandardizer(ds.X, standardizer) : ds.X;
  let calibration: CrossFitCalibration | undefined;
  let r: ReturnType<typeof fit>;
  if (cal) {
    const crossFit = cal.lib.crossFitCalibration(X, ds.y, ds.nClasses, { ...cal.options, fit: options });
    r = crossFit.base;
    calibration = crossFit.calibration;
  } else {
    r = fit(X, ds.y, ds.nClasses, options);
  }
  const fitMs = performance.now() - t0;

  // Training-set metrics of what `predict` will output (calibrated when --calibrate).
  const P = cal && calibration ? cal.lib.calibratedProba(r, calibration, X) : predictProba(r, X);
  const logits = r.model === "softmax" && calibration === undefined;
  const scores = logits ? decisionFunction(r, X) : P;
  const train = {
    accuracy: accuracy(P, ds.y),
    nll: nll(scores, ds.y, { logits }),
    brier: brier(P, ds.y),
    ece: expectedCalibrationError(P, ds.y),
  };
  if (!r.converged && optimizer === "lbfgs")
    io.stderr(`softcal fit: warning: not converged: ${r.stopReason}\n`);

  const bundle: ModelBundle = {
    ...r,
    classNames: ds.classNames,
    labelColumn: flags.label,
    featureNames: ds.featureNames,
    standardization: standardizer ? { mean: [...standardizer.mean], scale: [...standardizer.scale] } : null,
    training: {
      data: ds.name,
      rows: ds.X.rows,
      optimizer: r.optimizer,
      l2: r.l2,
      objective: r.objective,
      iterations: r.iterations,
      converged: r.converged,
      gradMaxAbs: r.gradMaxAbs,
    },
  };
  if (flags.save) {
    const text = modelToJson(bundle, cal && calibration && cal.lib.calibrationToJson(calibration, r));
    writeOutput(flags.save, text, "--save", flags.force === true);
  }

  const w = r.nFeatures + 1;
  const theta = toRows({ rows: r.nClasses, cols: w, data: r.theta });
  if (flags.json) {
    io.stdout(
      `${JSON.stringify({
        model: r.model,
        classes: ds.classNames,
        features: ds.featureNames,
        theta,
        objective: r.objective,
        lossHistory: r.lossHistory,
        iterations: r.iterations,
        converged: r.converged,
        fitMs,
        train,
        optimizer: r.optimizer,
        l2: r.l2,
        ...(optimizer === "gd" ? { alpha: options.alpha } : { tol: options.tol }),
        gradMaxAbs: r.gradMaxAbs,
        stopReason: r.stopReason,
        standardization: bundle.standardization,
        data: { name: ds.name, rows: ds.X.rows, dropped: ds.dropped ?? 0 },
        ...(calibration
          ? {
              calibration: { method: calibration.method, cv: calibration.cv, ensemble: calibration.ensemble },
            }
          : {}),
        ...(flags.save ? { saved: flags.save } : {}),
      })}\n`,
    );
    return;
  }
  const lines = [
    `${r.model} regression on ${ds.name}: ${ds.X.rows} rows, ${ds.featureNames.length} features, ${ds.nClasses} classes`,
    `optimizer ${r.optimizer}${optimizer === "gd" ? ` (α = ${options.alpha})` : ` (tol ${options.tol})`}, λ = ${r.l2}: ${r.iterations} iterations, ${r.converged ? "converged" : "not converged"} (${r.stopReason})`,
    `objective ${r.objective}   max|gradient| ${r.gradMaxAbs.toExponential(2)}   ${fitMs.toFixed(1)} ms`,
    ...(calibration
      ? [
          `calibrated: ${calibration.method}, cross-fitted on ${calibration.cv} stratified folds (${calibration.ensemble ? `the mean of ${calibration.cv} fold models` : "one recalibrator on the out-of-fold scores"})`,
        ]
      : []),
    `train${calibration ? " (calibrated)" : ""}: accuracy ${train.accuracy.toFixed(4)}  nll ${train.nll.toFixed(4)}  brier ${train.brier.toFixed(4)}  ece ${train.ece.toFixed(4)}`,
    ...(flags.save ? [`saved ${flags.save}`] : []),
  ];
  io.stdout(`${lines.join("\n")}\n`);
}

/**
 * The cross-fitting options of `--calibrate` and its flags, checked before any data is read;
 * undefined without `--calibrate` (its flags are then refused).
 */
function calibrationFlags(flags: FitFlags) {
  if (flags.calibrate === undefined) {
    const names = {
      cv: "--cv",
      shuffleSeed: "--shuffle-seed",
      calL2: "--cal-l2",
      calBins: "--cal-bins",
      variant: "--variant",
      odirLambda: "--odir-lambda",
      odirMu: "--odir-mu",
    } as const;
    const given = (Object.keys(names) as (keyof typeof names)[]).find((k) => flags[k] !== undefined);
    const flag =
      given === undefined ? (flags.ensemble === false ? "--no-ensemble" : undefined) : names[given];
    if (flag !== undefined)
      throw new InputError(
        `${flag}: expected --calibrate METHOD too (it is an option of the cross-fitted calibration)`,
      );
    return undefined;
  }
  const method = validateChoice(flags.calibrate, RECALIBRATION_METHODS, "--calibrate");
  const recalibrator = recalibratorOptions(method, flags, "--calibrate", {
    flag: "--cal-l2",
    value: flags.calL2,
  });
  if (flags.calBins !== undefined) {
    if (method !== "histogram")
      throw new InputError(
        `--cal-bins: expected --calibrate histogram (the only method it applies to); got --calibrate ${method}`,
      );
    recalibrator.bins = parseBins(flags.calBins, "--cal-bins");
  }
  return {
    method,
    recalibrator,
    cv: boundedInteger("--cv", flags.cv ?? "5", 2, MAX_CV, "each fold is a fit of the base model"),
    ensemble: flags.ensemble,
    ...(flags.shuffleSeed === undefined
      ? {}
      : {
          rng: createRng(
            boundedInteger("--shuffle-seed", flags.shuffleSeed, 0, 2 ** 32 - 1, "a 32-bit seed"),
          ),
        }),
  };
}
