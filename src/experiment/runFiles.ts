/**
 * Reading a run folder's files as untrusted input. Run folders travel between machines (shards,
 * CI artifacts), so every file softcal reads from one is read through {@link readRunText} /
 * {@link readRunJson}: a regular file inside the run folder (no FIFO, device, or symlink leading
 * out of it), at most its kind's size bound (checked before reading), UTF-8, and JSON nested at
 * most {@link RUN_JSON_MAX_DEPTH} levels. Each refusal is one InputError line naming the file.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { InputError } from "../errors.js";
import {
  fileKindText,
  parseJsonBounded,
  readBoundedTextIfPresent,
  readDirBounded,
} from "../io/readBounded.js";

const MiB = 1024 * 1024;

/** The kinds of files softcal reads from a run folder. */
export type RunFileKind = "config" | "manifest" | "units" | "table" | "figureSpec" | "page";

/**
 * Size bounds (bytes) per kind of run file, each far above what softcal writes:
 * - `config`: config.json, 256 MiB (~100 bytes per unit: ~2.5 million units);
 * - `manifest`: manifest.json and manifest.shard-I-of-N.json, 64 MiB (its failures list);
 * - `units`: one `units/*.jsonl` batch (or `*.json` record) file, 256 MiB (a batch holds the units
 *   finished within 200 ms; the largest built-in records are ~70 KB);
 * - `table`: summary.csv and extra tables (paired.csv), 64 MiB (one row per grid point);
 * - `figureSpec`: `figures/*.vl.json`, 64 MiB (the largest built-in spec is ~0.5 MB);
 * - `page`: the first bytes of an existing report/index page, read to recognize softcal's own.
 */
export const RUN_FILE_LIMITS: Readonly<Record<RunFileKind, number>> = {
  config: 256 * MiB,
  manifest: 64 * MiB,
  units: 256 * MiB,
  table: 64 * MiB,
  figureSpec: 64 * MiB,
  page: 4096,
};

/** Deepest nesting of arrays and objects accepted in a run folder's JSON (softcal writes ≤ 12). */
export const RUN_JSON_MAX_DEPTH = 256;

/** Most entries accepted in a folder softcal lists inside a run folder (`figures/`, the run folder itself). */
export const RUN_DIR_MAX_ENTRIES = 100_000;

const WHAT: Record<RunFileKind, string> = {
  config: "a softcal run config",
  manifest: "a softcal run manifest",
  units: "a softcal unit file",
  table: "a CSV table of a softcal run",
  figureSpec: "a vega-lite figure spec",
  page: "an HTML page",
};

/**
 * The text of run file `file` of kind `kind` in run folder `runDir` (bounded, regular, inside the
 * folder, UTF-8; see the module doc), or undefined if there is no such file.
 */
export function readRunText(kind: RunFileKind, file: string, runDir: string): string | undefined {
  return readBoundedTextIfPresent(file, {
    what: WHAT[kind],
    maxBytes: RUN_FILE_LIMITS[kind],
    within: runDir,
  });
}

/** Parses run-file JSON text (nesting bounded by {@link RUN_JSON_MAX_DEPTH} first). */
export function parseRunJson(
  kind: RunFileKind,
  text: string,
  file: string,
  reviver?: (key: string, value: unknown) => unknown,
): unknown {
  return parseJsonBounded(text, file, {
    what: WHAT[kind],
    maxDepth: RUN_JSON_MAX_DEPTH,
    ...(reviver ? { reviver } : {}),
  });
}

/** {@link readRunText} then {@link parseRunJson}; undefined if there is no such file. */
export function readRunJson(kind: RunFileKind, file: string, runDir: string): unknown {
  const text = readRunText(kind, file, runDir);
  return text === undefined ? undefined : parseRunJson(kind, text, file);
}

/** The entry names of a folder inside run folder `runDir` (bounded; undefined if it does not exist). */
export function readRunDir(
  dir: string,
  runDir: string,
  maxEntries = RUN_DIR_MAX_ENTRIES,
): string[] | undefined {
  return readDirBounded(dir, { what: "a folder of a softcal run", maxEntries, within: runDir })?.map(
    (e) => e.name,
  );
}

/**
 * Refuses to write a run into folder `target` unless `target` (when it is not a folder the user
 * named themselves: `named`), `target/units` and `target/figures` are each absent or a real folder
 * — a symlink there (in a run folder from elsewhere) would send the files written into it out of
 * the folder the user named — and `target/.lock` is absent or a regular file (it is read when
 * present). Errors: InputError naming the path. Cost: four lstat calls.
 */
export function checkRunFolderForWriting(target: string, named: boolean): void {
  const kind = (p: string): fs.Stats | undefined => {
    try {
      return fs.lstatSync(p);
    } catch {
      return undefined; // absent: created as a real folder (or file)
    }
  };
  for (const d of [...(named ? [] : [target]), path.join(target, "units"), path.join(target, "figures")]) {
    const st = kind(d);
    if (st !== undefined && !st.isDirectory()) {
      throw new InputError(`expected a folder to write a run into; got ${fileKindText(st)}`, { file: d });
    }
  }
  const lock = path.join(target, ".lock");
  const st = kind(lock);
  if (st !== undefined && !st.isFile())
    throw new InputError(`expected a softcal lock file; got ${fileKindText(st)}`, { file: lock });
}

/** A value as shown in one-line messages: JSON, cut to 60 characters. */
export function shown(v: unknown): string {
  let s: string;
  try {
    s = v === undefined ? "nothing" : JSON.stringify(v);
  } catch {
    s = String(v);
  }
  return s.length > 60 ? `${s.slice(0, 57)}…` : s;
}

/** An InputError `<file>: expected <what>; got <value>`. */
export function badField(file: string, what: string, got: unknown): InputError {
  return new InputError(`expected ${what}; got ${shown(got)}`, { file });
}
