/**
 * `softcal report [DIR]` and `softcal show RUN_DIR`: self-contained offline HTML pages over run
 * folders — every figure drawn interactively from its saved vega-lite spec, and the summary tables.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import type { TopLevelSpec } from "vega-lite";
import { readCsvFile } from "../data/csv.js";
import { InputError } from "../errors.js";
import { listRuns, type RunInfo } from "../experiment/merge.js";
import { type HtmlSection, type HtmlTable, htmlPage } from "../plot/html.js";
import { openInBrowser } from "../plot/openInBrowser.js";
import { type CliIo, checkOutputPath, writeOutput } from "./common.js";

export function registerReport(program: Command, io: CliIo): void {
  program
    .command("report")
    .description("one self-contained HTML page over every run in DIR (figures and summary tables)")
    .argument("[dir]", "folder holding run folders", "results")
    .option("--out <file>", "where to write the page (default: DIR/report.html)")
    .option("--force", "overwrite an existing page")
    .addHelpText("after", "\nExample:\n  softcal run all && softcal report results")
    .action((dir: string, flags: { out?: string; force?: boolean }) => {
      const runs = runsIn(dir);
      const out = flags.out ?? join(dir, "report.html");
      // The report is derived output: regenerating it over an earlier report is expected.
      const force = flags.force === true || (flags.out === undefined && isOwnPage(out));
      checkOutputPath(out, "--out", force);
      const page = htmlPage({
        title: "softcal report",
        intro: `${runs.length} run(s) in ${dir}. Figures are interactive (hover for values); the tables give the mean and 95% interval over seeds.`,
        sections: runs.map(section),
      });
      writeOutput(out, page, "--out", force);
      io.stdout(`${out}\n`);
    });

  program
    .command("show")
    .description("open a run's figures in the browser (an offline HTML page; nothing is served)")
    .argument("<run-dir>", "a run folder, e.g. results/l2-sweep")
    .option("--no-open", "write the page without trying to open a browser")
    .addHelpText("after", "\nExample:\n  softcal show results/temperature")
    .action((dir: string, flags: { open: boolean }) => {
      const runs = runsIn(dir).filter((r) => resolve(r.dir) === resolve(dir));
      if (runs.length !== 1) {
        throw new InputError(
          "expected a run folder (holding config.json and figures/); got a folder with none or several",
          {
            file: dir,
          },
        );
      }
      const out = join(dir, "index.html");
      writeOutput(
        out,
        htmlPage({ title: `softcal: ${runs[0].name}`, sections: [section(runs[0])] }),
        "show",
        true,
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

function isOwnPage(file: string): boolean {
  return (
    existsSync(file) &&
    readFileSync(file, "utf8").slice(0, 4096).includes('name="generator" content="softcal"')
  );
}

function section(run: RunInfo): HtmlSection {
  const specs = run.figures
    .filter((f) => f.endsWith(".svg"))
    .map((svg) => svg.replace(/\.svg$/, ".vl.json"))
    .filter((f) => existsSync(f));
  const status = run.manifest
    ? `${run.manifest.status.toLowerCase()}, ${run.manifest.seeds} seeds`
    : "shards only";
  const tables: HtmlTable[] = [];
  if (run.summary && run.summary.length > 0) tables.push(summaryTable(run));
  for (const extra of extraTables(run)) tables.push(extra);
  return {
    heading: `${run.name} (${status})`,
    figures: specs.map((f) => ({
      title: f.replace(/^.*\//, "").replace(/\.vl\.json$/, ""),
      spec: JSON.parse(readFileSync(f, "utf8")) as TopLevelSpec,
    })),
    tables,
  };
}

/** summary.csv as "mean [lo, hi]" cells, one column per metric. */
function summaryTable(run: RunInfo): HtmlTable {
  const rows = run.summary ?? [];
  const params = Object.keys(run.config.grid[0] ?? {});
  const metrics = Object.keys(rows[0])
    .filter((c) => c.endsWith("_mean"))
    .map((c) => c.slice(0, -"_mean".length));
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
    if (!existsSync(f)) continue;
    const t = readCsvFile(f);
    out.push({ caption: `${run.name}: ${n}`, columns: t.header, rows: t.rows });
  }
  return out;
}
