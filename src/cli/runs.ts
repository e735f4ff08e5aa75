/**
 * `softcal runs [DIR…]`: every run folder under the given folders — what ran, when, with which
 * softcal and commit, its seeds, units and data, and a headline metric per grid point; damaged
 * folders listed with the reason.
 */
import type { Command } from "commander";
import { InputError } from "../errors.js";
import { csv } from "../experiment/unitCsv.js";
import type { HtmlTable } from "../plot/html.js";
import { pointText } from "../tracking/compare.js";
import { cellNumber } from "../tracking/markdown.js";
import { indexRuns, type RunIndexEntry } from "../tracking/runIndex.js";
import { oneLine, textTable } from "../tracking/textTable.js";
import type { CliIo } from "./io.js";

/** The columns of `runs --csv`, one row per run folder. */
export const RUNS_CSV_COLUMNS = [
  "dir",
  "experiment",
  "status",
  "started_at",
  "ended_at",
  "duration_s",
  "softcal_version",
  "git_commit",
  "git_dirty",
  "root_seed",
  "seeds",
  "units",
  "units_done",
  "units_failed",
  "data",
  "grid_points",
  "headline_metric",
  "headline",
  "damaged",
] as const;

/** The headline metric per point in words: `data=clusters, l2=0: 0.0431; …`. */
function headlineText(e: RunIndexEntry): string {
  if (!e.headline) return "";
  const params = headlineParameters(e.headline);
  return e.headline.points.map((p) => `${pointText(p.point, params)}: ${cellNumber(p.mean)}`).join("; ");
}

/** A headline's parameters: the keys of its points in order of first appearance. */
function headlineParameters(h: RunIndexEntry["headline"]): string[] {
  const keys: string[] = [];
  for (const p of h?.points ?? []) for (const k of Object.keys(p.point)) if (!keys.includes(k)) keys.push(k);
  return keys;
}

/** One run folder as a CSV row (in {@link RUNS_CSV_COLUMNS} order). */
function csvRow(e: RunIndexEntry): string[] {
  const s = (v: string | number | boolean | null | undefined) =>
    v === undefined || v === null ? "" : String(v);
  return [
    e.dir,
    s(e.experiment),
    s(e.status),
    s(e.startedAt),
    s(e.endedAt),
    s(e.durationS),
    s(e.softcalVersion),
    s(e.gitCommit),
    s(e.gitDirty),
    s(e.rootSeed),
    s(e.seeds),
    s(e.units),
    s(e.unitsDone),
    s(e.unitsFailed),
    (e.data ?? []).join(";"),
    s(e.gridPoints),
    s(e.headline?.metric),
    headlineText(e),
    s(e.damaged),
  ];
}

/** The range of a headline over its points, for the one-line table: `ece 0.021–0.088 (18 points)`. */
function headlineRange(e: RunIndexEntry): string {
  if (!e.headline) return "";
  const xs = e.headline.points.flatMap((p) => (p.mean === null || !Number.isFinite(p.mean) ? [] : [p.mean]));
  if (xs.length === 0) return `${e.headline.metric} -`;
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  const n = e.headline.points.length;
  return `${e.headline.metric} ${lo === hi ? cellNumber(lo) : `${cellNumber(lo)}–${cellNumber(hi)}`} (${n} point${n === 1 ? "" : "s"})`;
}

/** The columns of the index table (terminal and `report`). */
const INDEX_COLUMNS = [
  "started",
  "experiment",
  "status",
  "duration",
  "softcal",
  "commit",
  "root seed",
  "seeds",
  "units done/failed",
  "grid",
  "data",
  "headline (mean over seeds)",
  "folder",
];

/** A run's cells in the index table ({@link INDEX_COLUMNS}). */
function indexCells(e: RunIndexEntry): string[] {
  return [
    e.startedAt?.replace("T", " ").replace(/\.\d+Z$/, "Z") ?? "",
    e.experiment ?? "",
    e.status ?? "",
    e.durationS === null || e.durationS === undefined ? "" : `${cellNumber(e.durationS)} s`,
    e.softcalVersion ?? "",
    e.gitCommit === undefined ? "" : `${e.gitCommit.slice(0, 10)}${e.gitDirty ? " (dirty)" : ""}`,
    String(e.rootSeed ?? ""),
    String(e.seeds ?? ""),
    `${e.unitsDone ?? 0}/${e.unitsFailed ?? 0} of ${e.units ?? 0}`,
    `${e.gridPoints ?? 0} points`,
    (e.data ?? []).join(", "),
    headlineRange(e),
    e.dir,
  ];
}

/** The index as a terminal table, damaged folders after it. */
export function runsText(entries: readonly RunIndexEntry[]): string {
  const ok = entries.filter((e) => !e.damaged);
  const damaged = entries.filter((e) => e.damaged);
  let out = "";
  if (ok.length > 0) out += textTable(INDEX_COLUMNS, ok.map(indexCells));
  if (ok.length === 0 && damaged.length === 0) out += "no run folders found\n";
  for (const e of damaged) out += `damaged: ${oneLine(e.dir)}: ${oneLine(e.damaged ?? "")}\n`;
  return out;
}

/** The index as a table of `report`'s page (damaged folders as rows saying why). */
export function runsHtmlTable(entries: readonly RunIndexEntry[]): HtmlTable {
  return {
    caption:
      "Runs (softcal runs): sorted by start time; the headline is the mean over seeds per grid point (its range over the points)",
    columns: INDEX_COLUMNS,
    rows: entries.map((e) =>
      e.damaged
        ? [`damaged: ${e.damaged}`, ...INDEX_COLUMNS.slice(1, -1).map(() => null), e.dir]
        : indexCells(e),
    ),
  };
}

export function registerRuns(program: Command, io: CliIo): void {
  program
    .command("runs")
    .description(
      "every run folder under DIR…: experiment, status, when, softcal and commit, seeds, units, data, a headline metric",
    )
    .argument("[dir...]", "folders holding run folders (searched 3 levels down)", ["results"])
    .option(
      "--metric <m>",
      "the headline metric shown per grid point (default: ece, else each run's first metric)",
    )
    .option("--json", "print one JSON object on stdout: { runs: [...] }")
    .option("--csv", `print CSV on stdout, one row per run folder (${RUNS_CSV_COLUMNS.length} columns)`)
    .addHelpText(
      "after",
      "\nExamples:\n  softcal runs\n  softcal runs results shards --metric nll --csv > runs.csv\n\nA damaged run folder is listed with the reason (the file and what is wrong); the exit code stays 0.",
    )
    .action((dirs: string[], flags: { metric?: string; json?: boolean; csv?: boolean }) => {
      if (flags.json && flags.csv) throw new InputError("runs: expected --json or --csv, not both");
      const entries = indexRuns(dirs, flags.metric === undefined ? {} : { metric: flags.metric });
      if (flags.json) io.stdout(`${JSON.stringify({ runs: entries })}\n`);
      else if (flags.csv) io.stdout(csv([[...RUNS_CSV_COLUMNS], ...entries.map(csvRow)]));
      else io.stdout(runsText(entries));
      const damaged = entries.filter((e) => e.damaged).length;
      if (damaged > 0) io.stderr(`warning: ${damaged} damaged run folder(s) listed with the reason\n`);
    });
}
