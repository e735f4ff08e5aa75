/**
 * A user's CSV files as data of a sweep: read, validated and fingerprinted (SHA-256) before any
 * unit runs, recorded in config.json, and loaded by units through `ctx.dataset(name)` — each
 * thread reads a file once and checks its fingerprint, so a file changed during the run fails
 * the unit instead of mixing data, and `--resume`/`merge` refuse a file whose content changed.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { builtinNames, loadBuiltin } from "../data/builtin.js";
import { type Dataset, datasetFromCsvFile, requireTwoClasses } from "../data/dataset.js";
import { InputError } from "../errors.js";

/** A CSV file of a run, as config.json records it. */
export interface DataFile {
  /** The value as given (the grid's data value, e.g. `my.csv` or `../data/x.csv`). */
  name: string;
  /** The absolute path it was read from. */
  path: string;
  /** SHA-256 of the file's bytes, hex. */
  sha256: string;
  /** Size in bytes. */
  bytes: number;
  /** The label column. */
  label: string;
  rows: number;
  /** Feature columns (every column but the label). */
  columns: number;
  /** Class names in class order. */
  classes: string[];
}

/** SHA-256 of a regular file's bytes (hex), read in 1 MiB chunks. @throws InputError if it is not a readable regular file. */
export function sha256File(file: string, shown: string = file): { sha256: string; bytes: number } {
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch (e) {
    throw new InputError(
      `expected a readable CSV file; got ${(e as NodeJS.ErrnoException).code ?? "an error"}`,
      {
        file: shown,
      },
    );
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile())
      throw new InputError("expected a regular CSV file; got something else", { file: shown });
    const hash = createHash("sha256");
    const buf = Buffer.allocUnsafe(2 ** 20);
    let bytes = 0;
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      hash.update(buf.subarray(0, n));
      bytes += n;
    }
    return { sha256: hash.digest("hex"), bytes };
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Reads, validates and fingerprints a CSV file given as a data value: a header, a label column
 * (`label`, default "label"), numeric features, at least two classes — the rules of `softcal fit`'s
 * `--data`. Relative paths resolve against `cwd`. @throws InputError (file:line:column) for any
 * problem. Cost: two reads of the file (hash, then parse).
 */
export function fingerprintDataFile(name: string, label = "label", cwd = process.cwd()): DataFile {
  const file = path.resolve(cwd, name);
  const { sha256, bytes } = sha256File(file, name);
  const ds = readDataset(file, name, label);
  requireTwoClasses(ds, name);
  return {
    name,
    path: file,
    sha256,
    bytes,
    label,
    rows: ds.X.rows,
    columns: ds.X.cols,
    classes: [...ds.classNames],
  };
}

/** Files whose fingerprint this thread has checked (path and SHA-256). */
const verified = new Set<string>();

/**
 * The record of the CSV file named `name` among a run's `files`, its content checked (once per
 * thread) to be what the run recorded — for an experiment that reads the file with its own reader
 * (e.g. model outputs). @throws InputError if the name is not a recorded file or its content changed.
 */
export function verifiedDataFile(name: string, files: readonly DataFile[]): DataFile {
  const f = files.find((d) => d.name === name);
  if (f === undefined) throw new InputError(`expected a CSV file recorded in config.json; got "${name}"`);
  const key = `${f.path}\0${f.sha256}`;
  if (!verified.has(key)) {
    const now = sha256File(f.path, f.name);
    if (now.sha256 !== f.sha256) {
      throw new InputError(
        `expected the file the run started with (sha256 ${f.sha256.slice(0, 12)}…); got different content (sha256 ${now.sha256.slice(0, 12)}…)`,
        { file: f.name },
      );
    }
    verified.add(key);
  }
  return f;
}

/** Data sets already loaded by this thread, by fingerprint (a sweep's units share them). */
const cache = new Map<string, Dataset>();
/** Data sets kept per thread (least recently used first out). */
const CACHED = 8;

/**
 * The data set named `name` for a unit: a file recorded in `files` (loaded once per thread, its
 * fingerprint checked against the record), else a built-in data set. The returned data set is
 * shared by the thread's units: read it, never modify it.
 * @throws InputError if the file changed since the run recorded it, or the name is neither.
 */
export function loadRunData(name: string, files: readonly DataFile[]): Dataset {
  const f = files.find((d) => d.name === name);
  if (f === undefined) {
    if (builtinNames().includes(name)) return loadBuiltin(name);
    throw new InputError(
      `expected a built-in data set (${builtinNames().join(", ")}) or a CSV file recorded in config.json; got "${name}"`,
    );
  }
  const key = `${f.sha256}\0${f.label}\0${f.path}`;
  const hit = cache.get(key);
  if (hit) {
    cache.delete(key);
    cache.set(key, hit);
    return hit;
  }
  verifiedDataFile(name, files);
  const ds = readDataset(f.path, f.name, f.label);
  cache.set(key, ds);
  if (cache.size > CACHED) cache.delete(cache.keys().next().value as string);
  return ds;
}

/** A CSV file as a data set (read in bounded memory), messages naming it as given. */
function readDataset(file: string, shown: string, label: string): Dataset {
  return datasetFromCsvFile(file, { file: shown, label });
}
