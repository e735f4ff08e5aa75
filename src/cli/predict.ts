/**
 * `softcal predict`: apply a saved model to a CSV file; write class probabilities as CSV.
 *
 * The data file is read in bounded memory (only the model's feature columns and the label column
 * are parsed, numbers straight into a Float64Array), and the output is formatted and written a
 * block of rows at a time — never held whole as text.
 */
import { closeSync, constants, fstatSync, openSync, readSync, type Stats, statSync } from "node:fs";
import type { Command } from "commander";
import { calibratedProba, calibrationFromJson } from "../calibration/crossFit.js";
import { csvField, csvRecords } from "../data/csvWrite.js";
import { featuresFromCsvFile } from "../data/dataset.js";
import { applyStandardizer } from "../data/standardize.js";
import { firstInvalidUtf8 } from "../data/utf8.js";
import { InputError } from "../errors.js";
import { fsErrorReason } from "../io/atomic.js";
import { type ModelBundle, modelFromJson } from "../model/modelFile.js";
import { predictProba } from "../model/predict.js";
import { checkOutputPath, formatNumber, writeOutput } from "./common.js";
import type { CliIo } from "./io.js";

interface PredictFlags {
  model: string;
  data: string;
  label?: string;
  out?: string;
  force?: boolean;
}

export function registerPredict(program: Command, io: CliIo): void {
  program
    .command("predict")
    .description("predict class probabilities with a saved model")
    .requiredOption("--model <model.json>", "a model saved by `softcal fit --save`")
    .requiredOption("--data <file>", "CSV with the model's feature columns (the label column is optional)")
    .option(
      "--label <col>",
      "label column, copied to the output when present (default: the model's label column, or `label` for a model saved without one)",
    )
    .option("--out <preds.csv>", "write the predictions here (default: stdout)")
    .option("--force", "overwrite an existing --out file")
    .addHelpText(
      "after",
      "\nOutput columns: p_<class> for each class in the model's order, then the label column (under its own name) if the input had it.\n\nExample:\n  softcal predict --model model.json --data test.csv --out preds.csv",
    )
    .action((flags: PredictFlags) => predictCommand(flags, io));
}

/**
 * The largest model file read: V8's longest string (2^29 − 24 characters, ~512 MiB), which
 * `JSON.parse` needs the whole file as.
 */
const MAX_MODEL_BYTES = 2 ** 29 - 24;

/**
 * Reads a saved model file: a regular file (a FIFO or device is refused before it is read), at most
 * {@link MAX_MODEL_BYTES}, UTF-8 (never decoded with U+FFFD replacements), then
 * {@link modelFromJson}. Every failure is a one-line InputError naming the file.
 */
export function readModelFile(file: string): ModelBundle {
  const unreadable = (e: unknown): InputError => {
    const code = (e as NodeJS.ErrnoException).code;
    return new InputError(
      code === "ENOENT"
        ? "expected an existing model file; got no such file"
        : `expected a readable model file; got ${fsErrorReason(e) ?? String(e)}`,
      { file },
    );
  };
  const checkKind = (st: Stats): void => {
    if (st.isDirectory()) throw new InputError("expected a model file; got a directory", { file });
    if (!st.isFile()) {
      const kind = st.isFIFO() ? "a FIFO (named pipe)" : st.isSocket() ? "a socket" : "a device";
      throw new InputError(`expected a model file (a regular file); got ${kind}`, { file });
    }
    if (st.size > MAX_MODEL_BYTES) {
      throw new InputError(`expected a model file of at most ${MAX_MODEL_BYTES} bytes; got ${st.size}`, {
        file,
      });
    }
  };
  // The kind is checked before opening (opening a FIFO waits for a writer), and again after.
  try {
    checkKind(statSync(file));
  } catch (e) {
    throw e instanceof InputError ? e : unreadable(e);
  }
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw unreadable(e);
  }
  let bytes: Buffer;
  try {
    const st = fstatSync(fd);
    checkKind(st);
    // One byte more than the size: a file that grew since is cut at the bound, not read on.
    bytes = Buffer.allocUnsafe(Math.min(st.size + 1, MAX_MODEL_BYTES + 1));
    let n = 0;
    while (n < bytes.length) {
      const got = readSync(fd, bytes, n, bytes.length - n, null);
      if (got === 0) break;
      n += got;
    }
    if (n > MAX_MODEL_BYTES) {
      throw new InputError(`expected a model file of at most ${MAX_MODEL_BYTES} bytes; got more`, { file });
    }
    bytes = bytes.subarray(0, n);
  } catch (e) {
    throw e instanceof InputError ? e : unreadable(e);
  } finally {
    closeSync(fd);
  }
  const bad = firstInvalidUtf8(bytes, 0, bytes.length);
  if (bad >= 0) {
    const before = bytes.subarray(0, bad).toString("utf8");
    const line = before.split("\n").length;
    const column = before.length - before.lastIndexOf("\n");
    throw new InputError(
      `expected UTF-8 text; got byte 0x${bytes[bad].toString(16).toUpperCase()}, which is not valid UTF-8 here`,
      {
        file,
        line,
        column,
      },
    );
  }
  return modelFromJson(bytes.toString("utf8"), file);
}

/** Bytes of output formatted before they are written (at least two of the longest rows). */
const OUTPUT_CHUNK_BYTES = 2 ** 20;

function predictCommand(flags: PredictFlags, io: CliIo): void {
  checkOutputPath(flags.out, "--out", flags.force === true);
  const model = readModelFile(flags.model);
  // A calibrated model (fit --calibrate) is checked whole before the data is read.
  const calibration = model.calibration && calibrationFromJson(model.calibration, model, flags.model);
  const label = flags.label ?? model.labelColumn ?? "label";
  const ft = featuresFromCsvFile(flags.data, { featureNames: model.featureNames, label });
  const X = model.standardization
    ? applyStandardizer(ft.X, { mean: model.standardization.mean, scale: model.standardization.scale })
    : ft.X;
  const P = calibration ? calibratedProba(model, calibration, X) : predictProba(model, X);
  const K = model.nClasses;
  const labels = ft.labels;
  const header = model.classNames.map((c) => `p_${c}`);
  if (labels) header.push(label);
  // Each distinct label's CSV form (quoted where needed).
  const cells = labels?.values.map((v) => Buffer.from(csvField(v), "utf8"));
  // A row is K numbers (String(x) of a double is at most 25 characters) and a label cell.
  const longestRow = 26 * K + (cells ? Math.max(...cells.map((c) => c.length)) + 1 : 0) + 1;
  function* chunks(): Generator<Buffer> {
    yield Buffer.from(csvRecords([header]), "utf8");
    // One buffer, reused: each chunk is written before the next is formatted (no line strings
    // are kept, so the output costs this buffer, not garbage in proportion to the rows).
    const buf = Buffer.allocUnsafe(Math.max(OUTPUT_CHUNK_BYTES, 2 * longestRow));
    let at = 0;
    for (let i = 0; i < P.rows; i++) {
      for (let k = 0; k < K; k++) {
        if (k > 0) buf[at++] = 0x2c;
        at += buf.write(formatNumber(P.data[i * K + k]), at, "latin1");
      }
      if (labels && cells) {
        buf[at++] = 0x2c;
        at += cells[labels.ids[i]].copy(buf, at);
      }
      buf[at++] = 0x0a;
      if (at > buf.length - longestRow) {
        yield buf.subarray(0, at);
        at = 0;
      }
    }
    if (at > 0) yield buf.subarray(0, at);
  }
  if (flags.out) writeOutput(flags.out, chunks(), "--out", flags.force === true);
  else for (const chunk of chunks()) io.stdout(chunk.toString("utf8"));
}
