/**
 * Which files of a run folder softcal wrote, and whether a run's aggregates are current.
 *
 * **What `--force` removes.** Only what a softcal run wrote: the fixed files (`config.json`,
 * `manifest.json`, `manifest.shard-I-of-N.json`, `runs.csv`, `summary.csv`, `reliability.csv`),
 * unit files named as the runner names them (`units/p<i>-s<j>.jsonl`, `units/p<i>-s<j>~<n>.jsonl`,
 * and the single-record `units/p<i>-s<j>.json` of earlier versions), leftover temp files of atomic
 * writes, and the extra tables and figures (`<table>.csv`, `figures/<name>.svg|png|vl.json`) that
 * an attempt recorded in its manifest (`outputs`) *before* writing them. Only regular files are
 * removed, and `units/` and `figures/` only once empty; everything else — a user's notes, a
 * symbolic link, tables and figures an older softcal wrote without a record — is kept and named in
 * a warning. A folder without a `config.json` is a softcal run folder only if it holds nothing but
 * such leftovers (a lock, temp files, an empty `units/`): anything else is refused. A kept file
 * is never written over either: a run that is to write a table or figure where a file no manifest
 * recorded already sits refuses (unless the folder's runs predate the record: then every table
 * and figure name there is taken as theirs).
 *
 * **When `--resume` skips the aggregates.** A manifest's `aggregates` record says which aggregate
 * files the last aggregation wrote and what they hold: who made them (the softcal version, its git
 * commit when softcal runs from a checkout, and a SHA-256 of the experiment's `tables` and
 * `figures` functions' source), whether figures were drawn, the SHA-256 of the unit records they
 * were computed from (their texts in unit order), and the SHA-256 of every file, each recorded
 * before the file is written; `complete` once the last one is. The aggregates on disk are current
 * — and skipped — when the record is complete, made by the same maker from the same unit records
 * (with figures, if figures are wanted now), and every file on disk still has its recorded hash.
 * An interrupted aggregation is resumed the same way, file by file: a figure whose SVG, PNG and
 * spec on disk match the record is not drawn again. (Code an experiment's figures call, changed
 * without a new softcal version or commit, goes unnoticed: `--force` recomputes everything.)
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { InputError } from "../errors.js";
import { TEMP_FILE_PATTERN } from "../io/atomic.js";
import { renderPool } from "../plot/renderPool.js";
import { VERSION } from "../version.js";
import type { RenderFigure, WriteFile } from "./aggregate.js";
import { type UnitRecord, unitText } from "./config.js";
import { environment, readManifest } from "./manifest.js";
import type { Experiment } from "./types.js";

/** The record of a run's aggregate files (the manifest's `aggregates` field; see the module doc). */
export interface AggregatesRecord {
  /** The softcal version that wrote them. */
  softcalVersion: string;
  /** Its git commit, when softcal ran from a checkout. */
  build?: string;
  /** SHA-256 of the experiment's `tables` and `figures` source ({@link experimentCodeHash}). */
  code: string;
  /** SHA-256 (hex) of the unit records' texts in unit order. */
  units: string;
  /** Whether figures were drawn. */
  figures: boolean;
  /** Each file, relative to the run folder (`/`-separated) → SHA-256 (hex) of its bytes. */
  files: Record<string, string>;
  /** True once every file was written. */
  complete: boolean;
}

/** The manifest fields this module reads and writes. */
export interface OutputsFields {
  /** Every extra table and figure file any attempt in this folder wrote (or began to), relative. */
  outputs?: string[];
  aggregates?: AggregatesRecord;
  /**
   * True if the folder held a run of a softcal that did not record its tables and figures: those
   * names may be written over (they were most likely that run's). Kept by every later attempt.
   */
  legacy?: boolean;
}

/** The files every run writes (besides units and figures), always removed by `--force`. */
export const FIXED_RUN_FILES: readonly string[] = [
  "config.json",
  "manifest.json",
  "runs.csv",
  "summary.csv",
  "reliability.csv",
];
const SHARD_MANIFEST_RE = /^manifest\.shard-\d+-of-\d+\.json$/;
/** Unit files as the runner names them: `<key>.jsonl`, `<key>~<n>.jsonl`, or `<key>.json` (earlier versions). */
const UNIT_FILE_RE = /^p\d+-s\d+(~\d+)?\.jsonl$|^p\d+-s\d+\.json$/;
const LOCK_RE = /^\.lock(\.shard-\d+-of-\d+|\.aggregates)?(\.take-[0-9a-f]{16}\.\d+)?$/;
const TABLE_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*\.csv$/;
const FIGURE_RE = /^figures\/[A-Za-z0-9][A-Za-z0-9._-]*\.(svg|png|vl\.json)$/;

/** True for a name an extra table or figure of a run can have (relative, `/`-separated). */
export function isOutputName(rel: string): boolean {
  return TABLE_RE.test(rel) || FIGURE_RE.test(rel);
}

/** Who makes aggregates now: the softcal version, its git commit if any, and the experiment's code. */
export interface AggregatesMaker {
  units: string;
  figures: boolean;
  code: string;
}

/**
 * SHA-256 of an experiment's name and the source text of its `tables` and `figures` functions:
 * an edit to them (a user's module, a development checkout) makes earlier aggregates stale.
 */
export function experimentCodeHash(exp: Pick<Experiment, "name" | "tables" | "figures">): string {
  return sha256(`${exp.name}\0${String(exp.tables ?? "")}\0${String(exp.figures ?? "")}`);
}

/** True if `record` was made by this softcal (version and commit) and experiment code from these units. */
function sameMaker(record: AggregatesRecord, now: AggregatesMaker): boolean {
  return (
    record.softcalVersion === VERSION &&
    (record.build ?? "") === (environment().gitCommit ?? "") &&
    record.code === now.code &&
    record.units === now.units
  );
}

/** SHA-256 (hex) of bytes or text (UTF-8). */
export function sha256(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** SHA-256 of the unit records' texts (as unit files hold them), in the given (unit) order. Cost: O(their size). */
export function hashUnits(records: readonly UnitRecord[]): string {
  const h = createHash("sha256");
  for (const r of records) h.update(unitText(r));
  return h.digest("hex");
}

/**
 * SHA-256 of a regular file's bytes, read in chunks; undefined if it is missing or not a regular
 * file (a FIFO is never opened: reading one could block).
 */
export function fileHash(file: string): string | undefined {
  let fd: number;
  try {
    if (!fs.lstatSync(file).isFile()) return undefined;
    fd = fs.openSync(file, "r");
  } catch {
    return undefined;
  }
  try {
    const h = createHash("sha256");
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
    return h.digest("hex");
  } catch {
    return undefined;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The `outputs` and `aggregates` fields of a parsed manifest (untrusted: entries that are not a
 * table or figure name are dropped; an `aggregates` of the wrong shape is absent).
 */
export function readOutputsFields(manifest: unknown): OutputsFields {
  if (manifest === null || typeof manifest !== "object") return {};
  const m = manifest as Record<string, unknown>;
  const fields: OutputsFields = {};
  if (m.legacy === true) fields.legacy = true;
  if (Array.isArray(m.outputs)) {
    fields.outputs = m.outputs.filter((x): x is string => typeof x === "string" && isOutputName(x));
  }
  const a = m.aggregates as Record<string, unknown> | null | undefined;
  const hex = (v: unknown) => typeof v === "string" && /^[0-9a-f]{64}$/.test(v);
  if (
    a !== null &&
    typeof a === "object" &&
    typeof a.softcalVersion === "string" &&
    (a.build === undefined || typeof a.build === "string") &&
    hex(a.code) &&
    hex(a.units) &&
    typeof a.figures === "boolean" &&
    typeof a.complete === "boolean" &&
    a.files !== null &&
    typeof a.files === "object" &&
    !Array.isArray(a.files) &&
    Object.entries(a.files).every(([k, v]) => (isOutputName(k) || FIXED_RUN_FILES.includes(k)) && hex(v))
  ) {
    fields.aggregates = {
      softcalVersion: a.softcalVersion,
      ...(typeof a.build === "string" ? { build: a.build } : {}),
      code: a.code as string,
      units: a.units as string,
      figures: a.figures,
      files: { ...(a.files as Record<string, string>) },
      complete: a.complete,
    };
  }
  return fields;
}

/**
 * The tables and figures the manifests in run folder `dir` (`manifest.json`,
 * `manifest.shard-I-of-N.json`) record, and whether any manifest there predates the record
 * (`legacy`: it has no `outputs` field, says `legacy`, or cannot be read). Cost: one read of each
 * manifest.
 */
export function recordedOutputs(dir: string): { outputs: string[]; legacy: boolean } {
  const outputs = new Set<string>();
  let legacy = false;
  for (const name of list(dir)) {
    if (name !== "manifest.json" && !SHARD_MANIFEST_RE.test(name)) continue;
    try {
      const m = readManifest(path.join(dir, name), dir);
      const fields = readOutputsFields(m);
      if (fields.outputs === undefined || fields.legacy) legacy = true;
      for (const x of fields.outputs ?? []) outputs.add(x);
    } catch {
      legacy = true; // a damaged manifest records nothing
    }
  }
  return { outputs: [...outputs], legacy };
}

/**
 * True if `record` describes the aggregate files in `dir` as this softcal would write them from
 * unit records hashing to `now.units` (see the module doc). Cost: one read of every recorded file.
 */
export function aggregatesAreCurrent(
  record: AggregatesRecord | undefined,
  dir: string,
  now: AggregatesMaker,
): boolean {
  if (!record?.complete || !sameMaker(record, now)) return false;
  if (now.figures && !record.figures) return false;
  for (const name of ["runs.csv", "summary.csv", "reliability.csv"])
    if (!(name in record.files)) return false;
  return Object.entries(record.files).every(([rel, h]) => fileHash(path.join(dir, rel)) === h);
}

/**
 * The manifest in run folder `dir`, other than `own`, whose aggregates record describes the files
 * on disk as this softcal would write them now ({@link aggregatesAreCurrent}): its file name and
 * record, or undefined. How a shard that finds the grid complete learns that another shard has
 * already written the aggregates. A manifest that cannot be read is passed over. Cost: one read of
 * each manifest, and of the recorded files of those whose record could be current.
 */
export function currentAggregatesElsewhere(
  dir: string,
  own: string,
  now: AggregatesMaker,
): { manifest: string; record: AggregatesRecord } | undefined {
  for (const name of list(dir).sort()) {
    if (name === own || (name !== "manifest.json" && !SHARD_MANIFEST_RE.test(name))) continue;
    let record: AggregatesRecord | undefined;
    try {
      record = readOutputsFields(readManifest(path.join(dir, name), dir)).aggregates;
    } catch {
      continue; // a damaged manifest records nothing
    }
    if (aggregatesAreCurrent(record, dir, now)) return { manifest: name, record: record! };
  }
  return undefined;
}

/** The figure files (absolute) a record lists, in the order they were written. */
export function recordedFigures(record: AggregatesRecord, dir: string): string[] {
  return Object.keys(record.files)
    .filter((rel) => rel.startsWith("figures/"))
    .map((rel) => path.join(dir, rel));
}

/**
 * Writes a run's aggregate files while keeping its manifest's record of them (see the module
 * doc): pass {@link AggregatesRecorder.writeFile} and {@link AggregatesRecorder.render} to
 * `writeAggregates`, then call {@link AggregatesRecorder.finish}.
 *
 * `fields` is the manifest object (its `outputs` and `aggregates` are updated in place) and
 * `persist` writes it. The manifest is written before each file whose name or hash it does not
 * record yet — so `--force` can always find the file, and an interrupted aggregation keeps every
 * file it finished (each run of kills makes progress: a resume writes again only files not on
 * disk as recorded) — and by the caller at the end. When `previous` (the
 * record found on disk) was made by this version from the same units, a file whose bytes on disk
 * are already the ones to write is not written again, and a figure whose three files on disk
 * match it is not drawn again. A table or figure name no manifest in the folder recorded
 * (`known`), where a file already exists, is refused (InputError) unless `legacy`.
 */
export class AggregatesRecorder {
  readonly record: AggregatesRecord;
  private readonly reuse: AggregatesRecord | undefined;
  /** The file hashes the manifest on disk records (what was last persisted). */
  private persisted: Record<string, string>;

  constructor(
    private readonly dir: string,
    private readonly fields: OutputsFields,
    now: AggregatesMaker & { previous: AggregatesRecord | undefined },
    private readonly write: WriteFile,
    private readonly persist: () => void,
    private readonly folder: { outputs: readonly string[]; legacy: boolean } = { outputs: [], legacy: false },
  ) {
    const p = now.previous;
    this.reuse = p && sameMaker(p, now) ? p : undefined;
    const build = environment().gitCommit;
    this.record = {
      softcalVersion: VERSION,
      ...(build === undefined ? {} : { build }),
      code: now.code,
      units: now.units,
      figures: now.figures,
      files: { ...this.reuse?.files },
      complete: false,
    };
    // The manifest on disk still holds `previous` (written when the attempt started).
    this.persisted = { ...this.reuse?.files };
    fields.outputs ??= [];
    fields.aggregates = this.record;
  }

  /** A `WriteFile` that records each file (see the class doc) and skips rewriting identical bytes. */
  readonly writeFile: WriteFile = (file, data, options) => {
    const rel = path.relative(this.dir, file).split(path.sep).join("/");
    const h = sha256(data);
    const names = FIGURE_RE.test(rel) ? figureFiles(rel) : [rel];
    const unrecorded = names.filter(
      (n) => isOutputName(n) && !FIXED_RUN_FILES.includes(n) && !this.outputs.includes(n),
    );
    if (unrecorded.length > 0 && !this.folder.legacy) {
      for (const n of unrecorded) {
        if (this.folder.outputs.includes(n)) continue;
        const there = path.join(this.dir, n);
        if (fs.existsSync(there) || isSymlink(there)) {
          throw new InputError(
            "expected no file here (the run writes one of that name, and no softcal run recorded writing this one); got one — move it away, then run again with --resume",
            { file: there },
          );
        }
      }
    }
    this.outputs.push(...unrecorded);
    this.record.files[rel] = h;
    // Record first, then write: a kill in between leaves a recorded hash the file does not have
    // (redone next time), never a file the manifest does not name.
    if (unrecorded.length > 0 || this.persisted[rel] !== h) {
      this.persist();
      this.persisted = { ...this.record.files };
    }
    if (!(this.reuse?.files[rel] === h && fileHash(file) === h)) this.write(file, data, options);
  };

  /** A renderer that takes a figure already on disk (matching the reusable record) instead of drawing it. */
  render(base: RenderFigure | undefined): RenderFigure {
    const draw = base ?? renderPool(1).render;
    const reuse = this.reuse;
    if (!reuse) return draw;
    return async (spec) => {
      const h = sha256(`${JSON.stringify(spec)}\n`);
      for (const [rel, recorded] of Object.entries(reuse.files)) {
        if (recorded !== h || !rel.endsWith(".vl.json") || !FIGURE_RE.test(rel)) continue;
        const [svg, png] = figureFiles(rel);
        const [svgFile, pngFile, specFile] = [svg, png, rel].map((r) => path.join(this.dir, r));
        if (
          reuse.files[svg] !== undefined &&
          reuse.files[png] !== undefined &&
          fileHash(svgFile) === reuse.files[svg] &&
          fileHash(pngFile) === reuse.files[png] &&
          fileHash(specFile) === h
        ) {
          return { svg: fs.readFileSync(svgFile, "utf8"), png: new Uint8Array(fs.readFileSync(pngFile)) };
        }
      }
      return draw(spec);
    };
  }

  /** Marks the record complete (the caller then writes the manifest). */
  finish(): void {
    this.record.complete = true;
  }

  private get outputs(): string[] {
    return this.fields.outputs!;
  }
}

/** The three files of the figure `rel` names (`figures/<name>.svg`, `.png`, `.vl.json`). */
function figureFiles(rel: string): [string, string, string] {
  const base = rel.replace(/\.(svg|png|vl\.json)$/, "");
  return [`${base}.svg`, `${base}.png`, `${base}.vl.json`];
}

function isRegularFile(file: string): boolean {
  try {
    return fs.lstatSync(file).isFile();
  } catch {
    return false;
  }
}

function isSymlink(file: string): boolean {
  try {
    return fs.lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
}

function isRealDir(dir: string): boolean {
  try {
    return fs.lstatSync(dir).isDirectory();
  } catch {
    return false;
  }
}

function list(dir: string): string[] {
  try {
    return fs.readdirSync(dir).sort();
  } catch {
    return [];
  }
}

/**
 * The entries of run folder `dir` that are not a softcal run's leftovers, for a folder without
 * a config.json (see the module doc): anything but a lock, a claim file, a temp file, or a
 * `units/` or `figures/` folder holding only temp files. Relative paths, sorted.
 */
export function foreignEntries(dir: string): string[] {
  const foreign: string[] = [];
  for (const name of list(dir)) {
    if (LOCK_RE.test(name) || (TEMP_FILE_PATTERN.test(name) && isRegularFile(path.join(dir, name)))) continue;
    if ((name === "units" || name === "figures") && isRealDir(path.join(dir, name))) {
      for (const inner of list(path.join(dir, name)))
        if (!TEMP_FILE_PATTERN.test(inner)) foreign.push(`${name}/${inner}`);
      continue;
    }
    foreign.push(name);
  }
  return foreign;
}

/**
 * Removes the files of the softcal run in `dir` (see the module doc for which), keeping anything
 * else; returns the relative paths of what was kept (sorted). `recorded` are the table and figure
 * names the folder's manifests list (their `outputs`). Lock files are left to their holders.
 * Cost: a listing of the folder, `units/` and `figures/`, one unlink per file.
 */
export function removeRunFiles(dir: string, recorded: readonly string[]): string[] {
  const kept: string[] = [];
  const remove = (rel: string) => {
    const file = path.join(dir, rel);
    if (isRegularFile(file)) fs.rmSync(file, { force: true });
    else kept.push(rel);
  };
  const outputs = new Set(recorded.filter(isOutputName));
  for (const name of list(dir)) {
    if (LOCK_RE.test(name)) continue;
    if (name === "units" || name === "figures") {
      const sub = path.join(dir, name);
      if (!isRealDir(sub)) {
        kept.push(name);
        continue;
      }
      for (const inner of list(sub)) {
        const rel = `${name}/${inner}`;
        const ours =
          TEMP_FILE_PATTERN.test(inner) || (name === "units" ? UNIT_FILE_RE.test(inner) : outputs.has(rel));
        if (ours) remove(rel);
        else kept.push(rel);
      }
      if (list(sub).length === 0) fs.rmdirSync(sub);
      continue;
    }
    const ours =
      FIXED_RUN_FILES.includes(name) ||
      SHARD_MANIFEST_RE.test(name) ||
      TEMP_FILE_PATTERN.test(name) ||
      outputs.has(name);
    if (ours) remove(name);
    else kept.push(name);
  }
  return kept.sort();
}
