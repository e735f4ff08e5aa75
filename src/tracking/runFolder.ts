/**
 * Reading one run folder for `compare` and `check`: its config.json, its manifest.json (if any)
 * and its runs.csv — the files a finished run, a run merged from shards and a folder copied from
 * another machine all have. Unit records (`units/`) are not read: runs.csv holds every unit's
 * metrics, written from those records once every unit was on disk.
 *
 * Run folders are untrusted input: every file goes through the bounded readers (runFiles.ts,
 * readBounded.ts: a regular file inside the folder, size-bounded before reading, UTF-8, JSON
 * depth-bounded), config.json and manifest.json through their validators (`readConfig`,
 * `readManifest`), and runs.csv is checked cell by cell against the config: the header softcal
 * writes, one row per unit in unit order with that unit's parameters, seed index and seed, and
 * every metric cell empty or a number as softcal writes it. Each problem is one InputError line
 * naming the file (and line and column).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { cellLocation, parseCsvTable, showValue } from "../data/csv.js";
import { InputError } from "../errors.js";
import { RUN_COLUMNS, type RunConfig, readConfig } from "../experiment/config.js";
import { type Manifest, readManifest } from "../experiment/manifest.js";
import { formatCell } from "../experiment/unitCsv.js";
import { readBoundedTextIfPresent } from "../io/readBounded.js";

/** Largest runs.csv read: 512 MiB (250,000 units — `run`'s bound — of up to ~2 KB each). */
export const RUNS_CSV_MAX_BYTES = 512 * 1024 * 1024;

/** A run folder as `compare` and `check` read it. */
export interface RunFolder {
  /** The folder as given. */
  dir: string;
  config: RunConfig;
  /** manifest.json, if the folder has one (a folder written by shards only, or a copy of config.json and runs.csv, has none). */
  manifest: Manifest | undefined;
  /**
   * `values[point][metric][seedIndex]`: each unit's metric from runs.csv (point and metric indices
   * as in config.json's `grid` and `metrics`); null for an empty cell (a failed unit, or a metric
   * the unit leaves undefined); ±Infinity and NaN as written.
   */
  values: (number | null)[][][];
}

/** How a run ended, in words: the manifest's status, or what a folder without one holds. */
export function runStatus(run: Pick<RunFolder, "manifest">): string {
  return run.manifest ? run.manifest.status.toLowerCase() : "no manifest.json";
}

/**
 * Reads a run folder for comparison: config.json and runs.csv must be there (runs.csv is written
 * once every unit of the grid is on disk), manifest.json may be.
 *
 * Errors (InputError, one line): `dir` is not a folder; no config.json (`expected a run folder
 * (holding config.json); got a folder without one`); a config or manifest that fails validation;
 * no runs.csv (`expected runs.csv …; got no such file — the run is interrupted`, with the
 * manifest's status); runs.csv not matching the config (see the module doc).
 * Cost: one read of config.json, manifest.json and runs.csv.
 */
export function readRunFolder(dir: string): RunFolder {
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch {
    throw new InputError("expected a run folder (holding config.json and runs.csv); got no such folder", {
      file: dir,
    });
  }
  if (!st.isDirectory())
    throw new InputError("expected a run folder (holding config.json and runs.csv); got a file", {
      file: dir,
    });
  const config = readConfig(dir);
  if (config === undefined) {
    throw new InputError("expected a run folder (holding config.json); got a folder without one", {
      file: dir,
    });
  }
  const manifestFile = path.join(dir, "manifest.json");
  const manifest = readManifest(manifestFile, dir);
  if (manifest !== undefined && manifest.experiment !== config.experiment) {
    throw new InputError(
      `expected the manifest of experiment "${config.experiment}" (as config.json says); got ${JSON.stringify(manifest.experiment)}`,
      { file: manifestFile },
    );
  }
  const values = readRunsCsv(dir, config, manifest);
  return { dir, config, manifest, values };
}

/** A cell as softcal writes a number: JavaScript's shortest round-trip form, or NaN/±Infinity. */
function parseNumberCell(cell: string): number | undefined {
  const v = Number(cell);
  return cell !== "" && String(v) === cell ? v : undefined;
}

/** runs.csv's metric values, checked against the config (see the module doc). */
function readRunsCsv(dir: string, config: RunConfig, manifest: Manifest | undefined): (number | null)[][][] {
  const file = path.join(dir, "runs.csv");
  const text = readBoundedTextIfPresent(file, {
    what: "the runs table of a softcal run (runs.csv)",
    maxBytes: RUNS_CSV_MAX_BYTES,
    within: dir,
  });
  if (text === undefined) {
    const state = manifest
      ? `the run is ${manifest.status.toLowerCase()}${manifest.aggregated ? "" : ", not aggregated"}`
      : "a folder of shards not merged yet: run `softcal merge` once every shard finished";
    throw new InputError(`expected runs.csv (written once every unit is done); got no such file — ${state}`, {
      file: dir,
    });
  }
  const table = parseCsvTable(text, file);
  const { parameters, metrics, grid, units, seeds } = config;
  const header = [...parameters, ...RUN_COLUMNS, ...metrics];
  header.forEach((name, c) => {
    if (table.header[c] !== name) {
      throw new InputError(
        `expected column "${name}" (the columns config.json names: parameters, ${RUN_COLUMNS.join(", ")}, metrics); got ${table.header[c] === undefined ? "no such column" : showValue(table.header[c])}`,
        { file, line: 1, column: c + 1 },
      );
    }
  });
  if (table.header.length !== header.length) {
    throw new InputError(
      `expected ${header.length} columns (as config.json says); got ${table.header.length}`,
      {
        file,
        line: 1,
      },
    );
  }
  if (table.rows.length !== units.length) {
    throw new InputError(
      `expected ${units.length} rows (one per unit: ${grid.length} grid points × ${seeds} seeds); got ${table.rows.length}`,
      { file },
    );
  }
  const P = parameters.length;
  const values = grid.map(() => metrics.map(() => new Array<number | null>(seeds).fill(null)));
  table.rows.forEach((row, r) => {
    const u = units[r];
    const expect = (c: number, want: string, what: string) => {
      if (row[c] !== want)
        throw new InputError(
          `expected ${JSON.stringify(want)} (${what} of unit ${u.key}, as config.json says); got ${showValue(row[c])}`,
          cellLocation(table, r, c),
        );
    };
    parameters.forEach((p, c) => {
      expect(c, formatCell(grid[u.point][p]), `parameter "${p}"`);
    });
    expect(P, String(u.seedIndex), "the seed index");
    expect(P + 1, String(u.seed), "the seed");
    metrics.forEach((_, m) => {
      const c = P + RUN_COLUMNS.length + m;
      const cell = row[c];
      if (cell === "") return;
      const v = parseNumberCell(cell);
      if (v === undefined)
        throw new InputError(
          `expected a number (or nothing); got ${showValue(cell)}`,
          cellLocation(table, r, c),
        );
      values[u.point][m][u.seedIndex] = v;
    });
  });
  return values;
}
