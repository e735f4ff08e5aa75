/**
 * `softcal calibrate`: fit a recalibrator (temperature scaling by default) on a calibration set
 * of predictions, report before/after NLL and ECE, and optionally apply it to another file.
 */
import type { Command } from "commander";
import { stringify } from "csv-stringify/sync";
import { evaluatePredictions } from "../calibration/evaluate.js";
import { RECALIBRATION_METHODS } from "../calibration/recalibrators/recalibrator.js";
import { createRecalibrator } from "../calibration/recalibrators/registry.js";
import { TemperatureScaling } from "../calibration/recalibrators/temperature.js";
import { validateChoice } from "../calibration/validate.js";
import { InputError } from "../errors.js";
import { type CliIo, checkOutputPath, formatNumber, parseIntegerFlag, writeOutput } from "./common.js";
import { readPredictions } from "./predictions.js";

interface CalibrateFlags {
  method: string;
  fit: string;
  apply?: string;
  out?: string;
  save?: string;
  label: string;
  logits?: boolean;
  bins: string;
  json?: boolean;
  force?: boolean;
}

export function registerCalibrate(program: Command, io: CliIo): void {
  program
    .command("calibrate")
    .description("fit a recalibrator on a calibration set; apply it to new predictions")
    .option("--method <m>", RECALIBRATION_METHODS.join(" | "), "temperature")
    .requiredOption(
      "--fit <val.csv>",
      "calibration predictions: a label column plus one score column per class",
    )
    .option("--apply <test.csv>", "predictions to recalibrate (the label column is optional)")
    .option("--out <out.csv>", "where to write the recalibrated probabilities of --apply (default: stdout)")
    .option("--save <cal.json>", "write the fitted recalibrator (JSON)")
    .option("--label <col>", "label column", "label")
    .option("--logits", "the score columns are logits (recommended for temperature and vector scaling)")
    .option("--bins <B>", "bins for the ECE reported before/after (and for histogram binning)", "15")
    .option("--force", "overwrite existing --out/--save files")
    .option("--json", "print one JSON object on stdout")
    .addHelpText(
      "after",
      "\nExamples:\n  softcal calibrate --fit val_logits.csv --logits --json\n  softcal calibrate --method isotonic --fit val.csv --apply test.csv --out test_calibrated.csv",
    )
    .action((flags: CalibrateFlags) => calibrateCommand(flags, io));
}

function calibrateCommand(flags: CalibrateFlags, io: CliIo): void {
  const method = validateChoice(flags.method, RECALIBRATION_METHODS, "--method");
  const bins = parseIntegerFlag("--bins", flags.bins);
  if (bins < 1) throw new InputError(`--bins: expected an integer ≥ 1; got ${bins}`);
  if (flags.out && !flags.apply)
    throw new InputError("--out: expected --apply FILE too (--out holds its recalibrated probabilities)");
  checkOutputPath(flags.out, "--out", flags.force === true);
  checkOutputPath(flags.save, "--save", flags.force === true);

  const logits = flags.logits === true;
  const val = readPredictions(flags.fit, flags.label, true);
  const yVal = val.y as Int32Array;
  if (val.S.rows < bins) {
    throw new InputError(
      `expected at least as many calibration rows as bins (${bins}); got ${val.S.rows} — use a larger calibration set or fewer --bins`,
      { file: flags.fit },
    );
  }
  const rec = createRecalibrator(method, { bins }).fit(val.S, yVal, { logits }, val.source);
  const before = evaluatePredictions(val.S, yVal, { bins, logits }, val.source);
  const after = evaluatePredictions(rec.transform(val.S, { logits }, val.source), yVal, { bins });
  const params = rec.toJSON();
  const fitInfo = rec instanceof TemperatureScaling ? rec.lastFit : undefined;

  let applied: Record<string, unknown> | undefined;
  let csv: string | undefined;
  if (flags.apply) {
    const test = readPredictions(flags.apply, flags.label, false);
    const P = rec.transform(test.S, { logits }, test.source);
    const K = P.cols;
    const header = val.classNames.map((c) => `p_${c}`);
    if (test.y) header.push(flags.label);
    const rows: string[][] = [];
    for (let i = 0; i < P.rows; i++) {
      const r = Array.from(P.data.subarray(i * K, (i + 1) * K), formatNumber);
      if (test.y) r.push(val.classNames[test.y[i]]);
      rows.push(r);
    }
    csv = stringify([header, ...rows], { record_delimiter: "unix" });
    if (test.y) {
      const b = evaluatePredictions(test.S, test.y, { bins, logits }, test.source);
      const a = evaluatePredictions(P, test.y, { bins });
      applied = { n: P.rows, before: { nll: b.nll, ece: b.ece }, after: { nll: a.nll, ece: a.ece } };
    } else {
      applied = { n: P.rows };
    }
  }
  if (flags.save)
    writeOutput(flags.save, `${JSON.stringify(params, null, 2)}\n`, "--save", flags.force === true);
  if (csv !== undefined && flags.out) writeOutput(flags.out, csv, "--out", flags.force === true);

  const result = {
    method,
    temperature: method === "temperature" ? (params.temperature as number) : null,
    ...(fitInfo
      ? { converged: fitInfo.converged, iterations: fitInfo.iterations, gradient: fitInfo.gradient }
      : {}),
    n: val.S.rows,
    before: { nll: before.nll, ece: before.ece },
    after: { nll: after.nll, ece: after.ece },
    parameters: params,
    ...(applied ? { applied } : {}),
  };
  if (flags.json) {
    io.stdout(`${JSON.stringify(result)}\n`);
    return;
  }
  if (csv !== undefined && !flags.out) {
    io.stdout(csv);
    io.stderr(describe(result));
    return;
  }
  io.stdout(describe(result));
}

function describe(r: {
  method: string;
  temperature: number | null;
  n: number;
  before: { nll: number; ece: number };
  after: { nll: number; ece: number };
}): string {
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(4) : String(x));
  return [
    `${r.method} fitted on ${r.n} rows${r.temperature === null ? "" : `: T = ${r.temperature}`}`,
    `calibration set  NLL ${f(r.before.nll)} → ${f(r.after.nll)}   ECE ${f(r.before.ece)} → ${f(r.after.ece)}`,
    "",
  ].join("\n");
}
