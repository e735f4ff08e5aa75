/**
 * `softcal report [DIR]` and `softcal show RUN_DIR`: self-contained offline HTML pages over run
 * folders — every figure drawn interactively from its saved vega-lite spec, and the summary tables.
 */
import { existsSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import type { Command } from "commander";
import type { TopLevelSpec } from "vega-lite";
import { parseCsvTable } from "../data/csv.js";
import { InputError } from "../errors.js";
import { listRuns, type RunInfo } from "../experiment/merge.js";
import { RUN_FILE_LIMITS, readRunJson, readRunText } from "../experiment/runFiles.js";
import { readBoundedPrefix } from "../io/readBounded.js";
import { type HtmlSection, type HtmlTable, htmlPage } from "../plot/html.js";
import { openInBrowser } from "../plot/openInBrowser.js";
import { compareRuns } from "../tracking/compare.js";
import { readRunFolder } from "../tracking/runFolder.js";
import { indexRuns } from "../tracking/runIndex.js";
import { checkOutputPath, writeOutput } from "./common.js";
import { comparisonHtmlTables } from "./compare.js";
import type { CliIo } from "./io.js";
import { runsHtmlTable } from "./runs.js";

export function registerReport(program: Command, io: CliIo): void {
  program
    .command("report")
    .description("one self-contained HTML page over every run in DIR (figures and summary tables)")
    .argument("[dir]", "folder holding run folders", "results")
    .option("--out <file>", "where to write the page (default: DIR/report.html)")
    .option("--force", "overwrite an existing page")
    .option(
      "--compare <runs...>",
      "add the comparison of two run folders: --compare RUN_A RUN_B (as softcal compare)",
    )
    .addHelpText(
      "after",
      "\nExamples:\n  softcal run all && softcal report results\n  softcal report results --compare baseline/l2-sweep results/l2-sweep",
    )
    .action((dir: string, flags: { out?: string; force?: boolean; compare?: string[] }) => {
      if (flags.compare !== undefined && flags.compare.length !== 2) {
        throw new InputError(
          `--compare: expected two run folders (RUN_A RUN_B); got ${flags.compare.length}`,
        );
      }
      const runs = runsIn(dir);
      const index: HtmlSection = { heading: "Runs", figures: [], tables: [runsHtmlTable(indexRuns([dir]))] };
      const compared: HtmlSection[] = [];
      if (flags.compare !== undefined) {
        const [a, b] = flags.compare.map(readRunFolder);
        compared.push({
          heading: "Comparison (B − A)",
          figures: [],
          tables: comparisonHtmlTables(compareRuns(a, b)),
        });
      }
      const out = flags.out ?? join(dir, "report.html");
      // The report is derived output: regenerating it over an earlier report is expected.
      const force = flags.force === true || (flags.out === undefined && isOwnPage(out, dir));
      checkOutputPath(out, "--out", force);
      const page = htmlPage({
        title: "softcal report",
        intro: `${runs.length} run(s) in ${dir}. Figures are interactive (hover for values); the tables give the mean and 95% interval over seeds.`,
        sections: [index, ...compared, ...runs.map(section)],
      });
      writeOutput(out, page, "--out", force);
      io.stdout(`${out}\n`);
    });

  program
    .command("show")
    .description("open a run's figures in the browser (an offline HTML page; nothing is served)")
    .argument("<run-dir>", "a run folder, e.g. results/l2-sweep")
    .option("--no-open", "write the page without trying to open a browser")
    .option("--force", "overwrite an existing RUN_DIR/index.html")
    .addHelpText("after", "\nExample:\n  softcal show results/temperature")
    .action((dir: string, flags: { open: boolean; force?: boolean }) => {
      const out = join(dir, "index.html");
      const force = flags.force === true;
      const runs = runsIn(dir).filter((r) => resolve(r.dir) === resolve(dir));
      if (runs.length !== 1) {
        throw new InputError(
          "expected a run folder (holding config.json and figures/); got a folder with none or several",
          {
            file: dir,
          },
        );
      }
      checkOutputPath(out, "show", force);
      writeOutput(
        out,
        htmlPage({ title: `softcal: ${runs[0].name}`, sections: [section(runs[0])] }),
        "show",
        force,
      );
      io.stdout(`${out}\n`);
      if (flags.open) openInBrowser(out, { log: () => {} });
    });
}

function runsIn(dir: string): RunInfo[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new InputError("expected a folder of runs (from `softcal run`); got no such folder", { file: dir });
  }
  const runs = listRuns(dir);
  if (runs.length === 0)
    throw new InputError("expected run folders (from `softcal run`); got none", { file: dir });
  return runs;
}

/** True if `file` (inside folder `dir`) is a regular file whose first 4 KiB say softcal wrote it. */
function isOwnPage(file: string, dir: string): boolean {
  const head = readBoundedPrefix(file, { what: "an HTML page", maxBytes: RUN_FILE_LIMITS.page, within: dir });
  return head?.toString("latin1").includes('name="generator" content="softcal"') === true;
}

/**
 * How a run ended, for its heading: its manifest's status and seeds; for a run written by shards
 * only (no manifest.json: a Slurm-style array into one folder), "completed, S seeds, N shards" once a
 * shard wrote the aggregates, else "shards only: K of N completed, not aggregated yet".
 */
export function runStatusLabel(run: Pick<RunInfo, "manifest" | "shardManifests" | "config">): string {
  if (run.manifest) return `${run.manifest.status.toLowerCase()}, ${run.manifest.seeds} seeds`;
  const shards = run.shardManifests;
  const counts = new Set(shards.map((m) => m.shard?.count));
  const count = counts.size === 1 ? [...counts][0] : undefined;
  if (count !== undefined && shards.some((m) => m.status === "COMPLETED" && m.aggregated))
    return `completed, ${run.config.seeds} seeds, ${count} shards`;
  const done = shards.filter((m) => m.status === "COMPLETED").length;
  const of = count === undefined ? `${shards.length} shard manifests` : `${count}`;
  return `shards only: ${done} of ${of} completed, not aggregated yet`;
}

function section(run: RunInfo): HtmlSection {
  const figures: HtmlSection["figures"] = [];
  for (const svg of run.figures.filter((f) => f.endsWith(".svg"))) {
    const file = svg.replace(/\.svg$/, ".vl.json");
    const spec = readRunJson("figureSpec", file, run.dir);
    if (spec === undefined) continue; // an image without its spec (drawn by an older softcal)
    if (spec === null || typeof spec !== "object" || Array.isArray(spec))
      throw new InputError(`expected a vega-lite figure spec (a JSON object); got ${typeof spec}`, { file });
    figures.push({ title: basename(file).replace(/\.vl\.json$/, ""), spec: spec as TopLevelSpec });
  }
  const tables: HtmlTable[] = [];
  if (run.summary && run.summary.length > 0) tables.push(summaryTable(run));
  for (const extra of extraTables(run)) tables.push(extra);
  return { heading: `${run.name} (${runStatusLabel(run)})`, figures, tables };
}

/** summary.csv as "mean [lo, hi]" cells, one column per metric. */
function summaryTable(run: RunInfo): HtmlTable {
  const rows = run.summary ?? [];
  const params = run.config.parameters;
  const metrics = run.config.metrics.filter((m) => `${m}_mean` in rows[0]);
  const fmt = (s: string | undefined) => (s === undefined || s === "" ? "" : Number(s).toPrecision(4));
  return {
    caption: `${run.name}: mean [95% interval] over seeds (summary.csv)`,
    columns: [...params, "n", ...metrics],
    rows: rows.map((r) => [
      ...params.map((p) => r[p]),
      r.n ?? null,
      ...metrics.map((m) => {
        const mean = fmt(r[`${m}_mean`]);
        const lo = fmt(r[`${m}_ci95_lo`]);
        return lo === "" ? mean : `${mean} [${lo}, ${fmt(r[`${m}_ci95_hi`])}]`;
      }),
    ]),
  };
}

/** Other CSV tables an experiment writes (e.g. ovr-vs-softmax's paired.csv). */
function extraTables(run: RunInfo): HtmlTable[] {
  const names = ["paired.csv"];
  const out: HtmlTable[] = [];
  for (const n of names) {
    const f = join(run.dir, n);
    const text = readRunText("table", f, run.dir);
    if (text === undefined) continue;
    const t = parseCsvTable(text, f);
    out.push({ caption: `${run.name}: ${n}`, columns: t.header, rows: t.rows });
  }
  return out;
}
