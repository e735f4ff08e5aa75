/**
 * `softcal predict`: apply a saved model to a CSV file; write class probabilities as CSV.
 */
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { stringify } from "csv-stringify/sync";
import { readCsvFile } from "../data/csv.js";
import { featuresFromTable } from "../data/dataset.js";
import { applyStandardizer } from "../data/standardize.js";
import { InputError } from "../errors.js";
import { modelFromJson } from "../model/modelFile.js";
import { predictProba } from "../model/predict.js";
import { type CliIo, checkOutputPath, formatNumber, writeOutput } from "./common.js";

interface PredictFlags {
  model: string;
  data: string;
  label: string;
  out?: string;
  force?: boolean;
}

export function registerPredict(program: Command, io: CliIo): void {
  program
    .command("predict")
    .description("predict class probabilities with a saved model")
    .requiredOption("--model <model.json>", "a model saved by `softcal fit --save`")
    .requiredOption("--data <file>", "CSV with the model's feature columns (the label column is optional)")
    .option("--label <col>", "label column, copied to the output when present", "label")
    .option("--out <preds.csv>", "write the predictions here (default: stdout)")
    .option("--force", "overwrite an existing --out file")
    .addHelpText(
      "after",
      "\nOutput columns: p_<class> for each class in the model's order, then `label` if the input had it.\n\nExample:\n  softcal predict --model model.json --data test.csv --out preds.csv",
    )
    .action((flags: PredictFlags) => predictCommand(flags, io));
}

/** Reads a saved model file, mapping file errors to one-line InputErrors. */
export function readModelFile(file: string) {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(
      code === "ENOENT"
        ? "expected an existing model file; got no such file"
        : `expected a readable model file; got ${code}`,
      { file },
    );
  }
  return modelFromJson(text, file);
}

function predictCommand(flags: PredictFlags, io: CliIo): void {
  checkOutputPath(flags.out, "--out", flags.force === true);
  const model = readModelFile(flags.model);
  const table = readCsvFile(flags.data);
  const ft = featuresFromTable(table, {
    file: flags.data,
    featureNames: model.featureNames,
    label: flags.label,
  });
  const X = model.standardization
    ? applyStandardizer(ft.X, { mean: model.standardization.mean, scale: model.standardization.scale })
    : ft.X;
  const P = predictProba(model, X);
  const K = model.nClasses;
  const header = model.classNames.map((c) => `p_${c}`);
  if (ft.labels) header.push(flags.label);
  const rows: string[][] = [];
  for (let i = 0; i < P.rows; i++) {
    const r = Array.from(P.data.subarray(i * K, (i + 1) * K), formatNumber);
    if (ft.labels) r.push(ft.labels[i]);
    rows.push(r);
  }
  const csv = stringify([header, ...rows], { record_delimiter: "unix" });
  if (flags.out) writeOutput(flags.out, csv, "--out", flags.force === true);
  else io.stdout(csv);
}
