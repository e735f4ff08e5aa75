/**
 * Shared pieces of the command line: strict
 * flag parsing, data loading (a CSV file or a built-in data set), and safe output files.
 */
import { existsSync, statSync } from "node:fs";
import { builtinNames, loadBuiltin } from "../data/builtin.js";
import { type Dataset, datasetFromCsvFile } from "../data/dataset.js";
import { InputError } from "../errors.js";
import { fsErrorReason, writeFileAtomic } from "../io/atomic.js";

/** A flag value as a finite number, or an InputError naming the flag. */
export function parseNumberFlag(flag: string, value: string): number {
  const v = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isFinite(v)) throw new InputError(`${flag}: expected a number; got "${value}"`);
  return v;
}

/** A flag value as an integer, or an InputError naming the flag. */
export function parseIntegerFlag(flag: string, value: string): number {
  const v = parseNumberFlag(flag, value);
  if (!Number.isInteger(v)) throw new InputError(`${flag}: expected an integer; got "${value}"`);
  return v;
}

/**
 * Loads `--data`: a CSV file when the path exists, otherwise a built-in data set by name
 * (lesson, clusters, iris, penguins).
 */
export function loadData(spec: string, label: string): Dataset {
  if (!existsSync(spec) && builtinNames().includes(spec)) {
    if (label !== "label") {
      throw new InputError(
        `--label: built-in data sets have their own label; got "${label}" with --data ${spec}`,
      );
    }
    return loadBuiltin(spec);
  }
  if (!existsSync(spec) && !/[./\\]/.test(spec)) {
    throw new InputError(
      `expected an existing CSV file or a built-in data set (${builtinNames().join(", ")}); got no such file or directory`,
      { file: spec },
    );
  }
  return datasetFromCsvFile(spec, { file: spec, label });
}

/**
 * Writes an output file atomically (temp file in the same folder, then rename). An existing file
 * is never replaced unless `force` — nothing a user had is lost without being asked.
 */
export function writeOutput(
  file: string,
  data: string | Uint8Array | Iterable<Uint8Array>,
  flag: string,
  force: boolean,
): void {
  if (existsSync(file)) {
    if (statSync(file).isDirectory())
      throw new InputError(`${flag}: expected a file path; got a directory`, { file });
    if (!force) throw new InputError(`${flag}: the file exists; pass --force to overwrite it`, { file });
  }
  try {
    writeFileAtomic(file, data);
  } catch (e) {
    const why = fsErrorReason(e);
    if (why === undefined) throw e;
    throw new InputError(`${flag}: cannot write the file: ${why}`, { file });
  }
}

/** Refuses early (before any work) when an output path cannot be written without --force. */
export function checkOutputPath(file: string | undefined, flag: string, force: boolean): void {
  if (file === undefined) return;
  if (existsSync(file)) {
    if (statSync(file).isDirectory())
      throw new InputError(`${flag}: expected a file path; got a directory`, { file });
    if (!force) throw new InputError(`${flag}: the file exists; pass --force to overwrite it`, { file });
  }
}

/** A number as the shortest string that parses back to the same double (CSV and JSON output). */
export function formatNumber(x: number): string {
  return Object.is(x, -0) ? "-0" : String(x);
}
