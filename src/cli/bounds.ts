/**
 * Every size a user can type on the command line, with its bound — in one place, checked before
 * any work starts (a file is read only after the flags that do not depend on it pass; bounds that
 * depend on the data are checked right after reading it, before computing). A value outside its
 * bound is an InputError (exit 2) with one line naming the flag, the bound and where the bound
 * comes from. README's command-line notes list the same numbers.
 *
 * Where each bound comes from:
 * - memory: `evaluate`/`calibrate --bins` (one top-label bin per B and one class-wise bin per B·K,
 *   each a small object), `--bootstrap` (two doubles per resample), `fit --iters` (one loss per
 *   iteration in `lossHistory`), `run --seeds` (a stored record per unit), CSV columns;
 * - the machine: `fit --threads` and `run --jobs` (each thread holds its own copy of the kernels'
 *   memory; more threads than cores × 4 only queue);
 * - the data: `--bins` ≤ max(rows, 15) (more bins than rows can only add empty bins; 15, the
 *   default, is always allowed), histogram binning's bins ≤ calibration rows (its own rule).
 */
import { closeSync, openSync, readSync, statSync } from "node:fs";
import { availableParallelism } from "node:os";
import { InputError } from "../errors.js";
import { parseIntegerFlag, parseNumberFlag } from "./common.js";

/** Largest `--bins` for any data: 10 000 bins. */
export const MAX_BINS = 10_000;
/** Largest bins × classes (`evaluate`'s class-wise bins, one object each): 2²⁰. */
export const MAX_BIN_CELLS = 1 << 20;
/** The default bin count, always allowed even on fewer rows. */
export const DEFAULT_BINS = 15;
/** Largest `evaluate --bootstrap`: 1 000 000 resamples (16 MB of values). */
export const MAX_BOOTSTRAP = 1_000_000;
/** Largest `fit --iters`: 1 000 000 (8 MB of loss history; far past any convergence). */
export const MAX_ITERS = 1_000_000;
/** Largest `run --seeds`: 100 000 per grid point. */
export const MAX_SEEDS = 100_000;
/** Largest number of units (seeds × grid points, summed over the experiments run): 250 000. */
export const MAX_UNITS = 250_000;
/** Largest `--parallel-min-ms`: one day. */
export const MAX_PARALLEL_MIN_MS = 86_400_000;
/** Most columns a CSV header may have (checked on the header line before the file is parsed). */
export const MAX_COLUMNS = 100_000;
/** Longest CSV header line read by the column check: 64 MiB. */
export const MAX_HEADER_BYTES = 64 * 1024 * 1024;

/** Threads a command may start: the machine's cores × 4 (`os.availableParallelism()`). */
export function maxThreads(): number {
  return Math.max(1, availableParallelism()) * 4;
}

/** An integer flag in [min, max]; the message says where max comes from. @throws InputError */
export function boundedInteger(flag: string, value: string, min: number, max: number, why: string): number {
  const v = parseIntegerFlag(flag, value);
  if (v < min || v > max) {
    throw new InputError(`${flag}: expected an integer from ${min} to ${max} (${why}); got ${value.trim()}`);
  }
  return v;
}

/** A finite number flag with a lower bound (≥ or >). @throws InputError */
export function boundedNumber(flag: string, value: string, opts: { min: number; strict?: boolean }): number {
  const v = parseNumberFlag(flag, value);
  if (opts.strict ? !(v > opts.min) : !(v >= opts.min)) {
    throw new InputError(
      `${flag}: expected a finite number ${opts.strict ? ">" : "≥"} ${opts.min}; got ${value.trim()}`,
    );
  }
  return v;
}

/** `--bins` before reading: an integer from 1 to {@link MAX_BINS}. */
export function parseBins(value: string, flag = "--bins"): number {
  return boundedInteger(flag, value, 1, MAX_BINS, "memory: one bin object per bin and class");
}

/**
 * `--bins` against the data, after reading and before computing: B ≤ max(rows, 15) and
 * B × K ≤ {@link MAX_BIN_CELLS}. `file` names the data in the message. @throws InputError
 */
export function checkBinsForData(bins: number, rows: number, classes: number, file: string): void {
  if (bins > Math.max(rows, DEFAULT_BINS)) {
    throw new InputError(
      `--bins: expected at most max(rows, ${DEFAULT_BINS}) = ${Math.max(rows, DEFAULT_BINS)} bins for ${rows} rows (more bins than rows are empty); got ${bins}`,
      { file },
    );
  }
  if (bins * classes > MAX_BIN_CELLS) {
    throw new InputError(
      `--bins: expected bins × classes ≤ ${MAX_BIN_CELLS} (one class-wise bin each); got ${bins} × ${classes} = ${bins * classes}`,
      { file },
    );
  }
}

/**
 * Refuses a CSV whose header line has more than {@link MAX_COLUMNS} fields (or is longer than
 * {@link MAX_HEADER_BYTES}) before the file is parsed: reads the first line in 1 MiB chunks,
 * counting commas outside double quotes, and stops at the first line break outside quotes, at the
 * bound, or at the end. Only regular files are checked (a FIFO or device would be consumed: the
 * reader handles those). Missing files are left to the reader's message. Cost: reads at most the
 * header line, never more than 64 MiB. @throws InputError
 */
export function checkHeaderColumns(file: string): void {
  let fd: number;
  try {
    if (!statSync(file).isFile()) return;
    fd = openSync(file, "r");
  } catch {
    return;
  }
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    let fields = 1;
    let quoted = false;
    let read = 0;
    for (;;) {
      const got = readSync(fd, buf, 0, buf.length, read);
      if (got === 0) return;
      for (let i = 0; i < got; i++) {
        const c = buf[i];
        if (c === 0x22) quoted = !quoted;
        else if (!quoted && (c === 0x0a || c === 0x0d)) return;
        else if (!quoted && c === 0x2c && ++fields > MAX_COLUMNS) {
          throw new InputError(
            `expected at most ${MAX_COLUMNS} columns in the header; got more than ${MAX_COLUMNS}`,
            { file, line: 1 },
          );
        }
      }
      read += got;
      if (read >= MAX_HEADER_BYTES) {
        throw new InputError(
          `expected a header line of at most ${MAX_HEADER_BYTES} bytes; got a longer one`,
          {
            file,
            line: 1,
          },
        );
      }
    }
  } finally {
    closeSync(fd);
  }
}
