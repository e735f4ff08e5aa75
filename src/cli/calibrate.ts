/**
 * `softcal calibrate`: fit a recalibrator (temperature scaling by default) on a calibration set
 * of predictions, report before/after NLL and ECE, and optionally apply it to another file.
 */
import type { Command } from "commander";
import { type Evaluation, evaluatePredictions } from "../calibration/evaluate.js";
import { readPredictions } from "../calibration/predictions.js";
import { RECALIBRATION_METHODS } from "../calibration/recalibrators/recalibrator.js";
import { createRecalibrator } from "../calibration/recalibrators/registry.js";
import { TemperatureScaling } from "../calibration/recalibrators/temperature.js";
import { VectorScaling } from "../calibration/recalibrators/vector.js";
import { zeroProbabilityRows } from "../calibration/scores.js";
import { validateChoice } from "../calibration/validate.js";
import { csvRecords } from "../data/csvWrite.js";
import { InputError } from "../errors.js";
import type { Matrix } from "../linalg/matrix.js";
import { checkBinsForData, checkHeaderColumns, parseBins } from "./bounds.js";
import { checkOutputPath, formatNumber, writeOutput } from "./common.js";
import type { CliIo } from "./io.js";
import {
  addRecalibratorOptions,
  type RecalibratorFlagValues,
  recalibratorOptions,
} from "./recalibratorFlags.js";

interface CalibrateFlags extends RecalibratorFlagValues {
  method: string;
  fit: string;
  apply?: string;
  out?: string;
  save?: string;
  label: string;
  logits?: boolean;
  bins: string;
  l2?: string;
  json?: boolean;
  force?: boolean;
}

export function registerCalibrate(program: Command, io: CliIo): void {
  const cmd = program
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
    .option(
      "--bins <B>",
      "bins for the ECE reported before/after, ≤ max(rows, 15) (and for histogram binning: ≤ calibration rows)",
      "15",
    )
    .option(
      "--l2 <lambda>",
      "vector and matrix scaling, Dirichlet calibration: L2 penalty λ ≥ 0 toward the identity (default 0: a separable calibration set exits 1)",
    );
  addRecalibratorOptions(cmd)
    .option("--force", "overwrite existing --out/--save files")
    .option("--json", "print one JSON object on stdout")
    .addHelpText(
      "after",
      "\nExamples:\n  softcal calibrate --fit val_logits.csv --logits --json\n  softcal calibrate --method isotonic --fit val.csv --apply test.csv --out test_calibrated.csv\n  softcal calibrate --method vector --l2 0.01 --fit val_logits.csv --logits --apply test_logits.csv --json",
    )
    .action((flags: CalibrateFlags) => calibrateCommand(flags, io));
}

/** Held-out metrics of one score matrix, as `calibrate --json`'s `test.before` / `test.after`. */
interface HeldOut {
  nll: number;
  ece: number;
  brier: number;
  accuracy: number;
  /** Rows whose label probability is exactly 0 (each makes the NLL +Infinity). */
  zeroProbabilityRows: number;
}

function heldOut(ev: Evaluation, zeros: number): HeldOut {
  return { nll: ev.nll, ece: ev.ece, brier: ev.brier, accuracy: ev.accuracy, zeroProbabilityRows: zeros };
}

function calibrateCommand(flags: CalibrateFlags, io: CliIo): void {
  const method = validateChoice(flags.method, RECALIBRATION_METHODS, "--method");
  const bins = parseBins(flags.bins);
  const options = recalibratorOptions(method, flags, "--method", { flag: "--l2", value: flags.l2 });
  if (flags.out && !flags.apply)
    throw new InputError("--out: expected --apply FILE too (--out holds its recalibrated probabilities)");
  checkOutputPath(flags.out, "--out", flags.force === true);
  checkOutputPath(flags.save, "--save", flags.force === true);
  checkHeaderColumns(flags.fit);
  if (flags.apply) checkHeaderColumns(flags.apply);

  const logits = flags.logits === true;
  const val = readPredictions(flags.fit, flags.label, true);
  const yVal = val.y as Int32Array;
  const K = val.classNames.length;
  // The before/after ECE bins like `evaluate`; only histogram binning needs rows ≥ bins (its own
  // InputError says so).
  checkBinsForData(bins, val.S.rows, K, flags.fit);
  const rec = createRecalibrator(method, { ...options, bins }).fit(val.S, yVal, { logits }, val.source);
  const before = evaluatePredictions(val.S, yVal, { bins, logits }, val.source);
  const after = evaluatePredictions(rec.transform(val.S, { logits }, val.source), yVal, { bins });
  const params = rec.toJSON();
  const fitInfo = rec instanceof TemperatureScaling ? rec.lastFit : undefined;
  const vectorInfo = rec instanceof VectorScaling ? rec.lastFit : undefined;

  let applied: Record<string, unknown> | undefined;
  let test: { n: number; before: HeldOut; after: HeldOut } | undefined;
  let csv: string | undefined;
  if (flags.apply) {
    const t = readPredictions(flags.apply, flags.label, false);
    if (t.y) checkBinsForData(bins, t.S.rows, K, flags.apply);
    const P = rec.transform(t.S, { logits }, t.source);
    const header = val.classNames.map((c) => `p_${c}`);
    if (t.y) header.push(flags.label);
    const rows: string[][] = [];
    for (let i = 0; i < P.rows; i++) {
      const r = Array.from(P.data.subarray(i * K, (i + 1) * K), formatNumber);
      if (t.y) r.push(val.classNames[t.y[i]]);
      rows.push(r);
    }
    csv = csvRecords([header, ...rows]);
    if (t.y) {
      const b = evaluatePredictions(t.S, t.y, { bins, logits }, t.source);
      const a = evaluatePredictions(P, t.y, { bins });
      applied = { n: P.rows, before: { nll: b.nll, ece: b.ece }, after: { nll: a.nll, ece: a.ece } };
      test = {
        n: P.rows,
        before: heldOut(b, zeroProbabilityRows(t.S, t.y, { logits }, t.source)),
        after: heldOut(a, zeroProbabilityRows(P as Matrix, t.y)),
      };
      warnZeros(io, flags.apply, "before recalibration", test.before.zeroProbabilityRows, P.rows);
      warnZeros(io, flags.apply, `after ${method}`, test.after.zeroProbabilityRows, P.rows);
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
    ...(vectorInfo
      ? {
          converged: vectorInfo.converged,
          iterations: vectorInfo.iterations,
          gradient: vectorInfo.gradient,
          vector: {
            l2: vectorInfo.l2,
            separable: vectorInfo.separable,
            regularized: vectorInfo.l2 > 0,
            objective: vectorInfo.objective,
          },
        }
      : {}),
    n: val.S.rows,
    before: { nll: before.nll, ece: before.ece },
    after: { nll: after.nll, ece: after.ece },
    parameters: params,
    ...(applied ? { applied } : {}),
    ...(test ? { test } : {}),
  };
  if (flags.json) {
    io.stdout(`${JSON.stringify(result)}\n`);
    return;
  }
  if (csv !== undefined && !flags.out) {
    io.stdout(csv);
    io.stderr(describe(result, flags.apply));
    return;
  }
  io.stdout(describe(result, flags.apply));
}

/** The stderr line for rows with p_y = 0 in the held-out file (nothing when there are none). */
function warnZeros(io: CliIo, file: string, when: string, zeros: number, n: number): void {
  if (zeros > 0) {
    io.stderr(
      `softcal calibrate: warning: ${file}: NLL ${when} is +Infinity because ${zeros} of ${n} rows get probability 0 for their label\n`,
    );
  }
}

function describe(
  r: {
    method: string;
    temperature: number | null;
    n: number;
    before: { nll: number; ece: number };
    after: { nll: number; ece: number };
    vector?: { l2: number; separable: boolean | null };
    test?: { n: number; before: HeldOut; after: HeldOut };
  },
  apply: string | undefined,
): string {
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(4) : String(x));
  const lines = [
    `${r.method} fitted on ${r.n} rows${r.temperature === null ? "" : `: T = ${r.temperature}`}`,
    `calibration set  NLL ${f(r.before.nll)} → ${f(r.after.nll)}   ECE ${f(r.before.ece)} → ${f(r.after.ece)}`,
  ];
  if (r.vector) {
    const sep =
      r.vector.separable === null
        ? "separability not checked (calibration set too large for the test)"
        : r.vector.separable
          ? "the calibration set is separable (no finite unpenalized fit)"
          : "the calibration set is not separable";
    lines.push(r.vector.l2 > 0 ? `${sep}; L2 penalty λ = ${r.vector.l2} toward the identity` : sep);
  }
  if (r.test) {
    const { before: b, after: a } = r.test;
    lines.push(
      `${apply} (${r.test.n} rows, held out)  NLL ${f(b.nll)} → ${f(a.nll)}   ECE ${f(b.ece)} → ${f(a.ece)}   Brier ${f(b.brier)} → ${f(a.brier)}   accuracy ${f(b.accuracy)} → ${f(a.accuracy)}`,
    );
    if (a.zeroProbabilityRows > 0)
      lines.push(
        `  ${a.zeroProbabilityRows} held-out rows get probability 0 for their label (NLL = +Infinity)`,
      );
  }
  lines.push("");
  return lines.join("\n");
}
