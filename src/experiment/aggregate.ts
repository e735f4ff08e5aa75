/**
 * The aggregate files of a run — runs.csv, summary.csv, reliability.csv and figures — computed
 * from its unit records in unit order, so they are the same bytes however the units were run.
 */
import * as path from "node:path";
import { ensureDir, writeFileAtomic } from "../io/atomic.js";
import { type RenderedFigure, renderPool } from "../plot/renderPool.js";
import type { RunConfig, UnitRecord } from "./config.js";
import { pairedTable } from "./paired.js";
import { describeMetric, describeNotes } from "./stats.js";
import type { CompletedRun, Experiment, Figure } from "./types.js";
import { csv, formatCell, tableHeaders, type UnitCsv, unitCsv } from "./unitCsv.js";

/** Renders a vega-lite spec (the plot layer's `renderFigure`). */
export type RenderFigure = (spec: object) => Promise<RenderedFigure>;

/**
 * Writes a whole file (atomically by default; see `writeFileAtomic` for `durable`). Injected in
 * tests to simulate a crash.
 */
export type WriteFile = (file: string, data: string | Uint8Array, options?: { durable?: boolean }) => void;

/** Where the engine's messages go (stderr by default). */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
}

/**
 * runs.csv: one row per unit (grid order, then seed): parameters, seed_index, seed, metrics.
 * `parts`: units' rows already formatted ({@link unitCsv}), by unit key; the others are formatted here.
 */
export function runsCsv(
  config: RunConfig,
  units: readonly UnitRecord[],
  parts?: ReadonlyMap<string, UnitCsv>,
): string {
  return joinedTable("runs", config, units, parts);
}

/**
 * reliability.csv: every bin of every unit: parameters, seed_index, seed, view, bin (0-based),
 * lower, upper, count, mean_predicted, observed (empty for an empty bin). `parts` as in {@link runsCsv}.
 */
export function reliabilityCsv(
  config: RunConfig,
  units: readonly UnitRecord[],
  parts?: ReadonlyMap<string, UnitCsv>,
): string {
  return joinedTable("reliability", config, units, parts);
}

/** A table's header, then every unit's rows of it in the given order. */
function joinedTable(
  table: keyof UnitCsv,
  config: RunConfig,
  units: readonly UnitRecord[],
  parts: ReadonlyMap<string, UnitCsv> | undefined,
): string {
  return (
    tableHeaders(config)[table] + units.map((u) => (parts?.get(u.key) ?? unitCsv(config, u))[table]).join("")
  );
}

/**
 * summary.csv: one row per grid point: parameters, n (the units of the point), then for each
 * metric `<metric>_mean, _sd, _ci95_lo, _ci95_hi` over the finite values (Student-t, clipped into
 * the metric's range when config.json's `metricRanges` gives one), `_n` (finite values used), `_failed` (missing
 * because the unit failed), `_nonfinite` (left out of mean/sd/interval), `_median, _q25, _q75`
 * (over every non-missing value, infinities included); last, `notes`: what was left out, clipped
 * or could not be computed, in words (see `describeMetric`, `describeNotes`).
 */
export function summaryCsv(config: RunConfig, units: readonly UnitRecord[]): string {
  const ranges = config.metricRanges ?? {};
  const header = [...config.parameters, "n"];
  for (const m of config.metrics) {
    header.push(...SUMMARY_SUFFIXES.map((suffix) => `${m}_${suffix}`));
  }
  header.push("notes");
  const rows: string[][] = [header];
  const byPoint = config.grid.map(() => [] as UnitRecord[]);
  for (const u of units) byPoint[u.pointIndex].push(u);
  config.grid.forEach((point, i) => {
    const row = [...config.parameters.map((p) => formatCell(point[p])), String(byPoint[i].length)];
    const failed = byPoint[i].map((u) => typeof u.result.failure === "string");
    const notes: string[] = [];
    for (const m of config.metrics) {
      const d = describeMetric(
        byPoint[i].map((u) => u.result.metrics[m] ?? null),
        failed,
        ranges[m],
      );
      row.push(
        ...[d.mean, d.sd, d.ci95Lo, d.ci95Hi, d.n, d.failed, d.nonFinite, d.median, d.q25, d.q75].map(
          formatCell,
        ),
      );
      notes.push(...describeNotes(m, d, ranges[m]));
    }
    row.push(notes.join("; "));
    rows.push(row);
  });
  return csv(rows);
}

/** summary.csv's columns per metric, after the metric's name and `_`. */
export const SUMMARY_SUFFIXES = [
  "mean",
  "sd",
  "ci95_lo",
  "ci95_hi",
  "n",
  "failed",
  "nonfinite",
  "median",
  "q25",
  "q75",
] as const;

/** Options of {@link writeAggregates}. */
export interface AggregateOptions {
  /** The experiment, for its figures (absent: no figures, e.g. merging without the code). */
  experiment?: Experiment;
  /** Render figures (default true). */
  figures?: boolean;
  /** Renderer; default: `renderFigure` from `src/plot/render.ts`, on this thread. */
  render?: RenderFigure;
  /**
   * Figures requested from `render` at a time (default 1): a renderer on several threads
   * (`renderPool`) draws that many side by side. A kill while writing figures loses at most the
   * figures in flight (a resume draws them again).
   */
  renderConcurrency?: number;
  writeFile?: WriteFile;
  logger: Logger;
  /** Units' runs.csv and reliability.csv rows already formatted by the threads that ran them, by key. */
  unitCsv?: ReadonlyMap<string, UnitCsv>;
}

const FIGURE_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const RESERVED_TABLES = ["runs", "summary", "reliability", "config", "manifest"];

/**
 * Writes runs.csv, summary.csv, reliability.csv (in that order), the experiment's extra tables
 * (`<name>.csv`) and the figures of a complete run
 * into `dir`. `units` must be every unit of `config`, in unit order. Returns the figure files
 * written (each figure as SVG, PNG and its vega-lite spec `<name>.vl.json`); a failing figure throws.
 */
export async function writeAggregates(
  dir: string,
  config: RunConfig,
  units: readonly UnitRecord[],
  opts: AggregateOptions,
): Promise<string[]> {
  const write = opts.writeFile ?? writeFileAtomic;
  // Each unit's rows are formatted once (or were, by the thread that ran it: opts.unitCsv).
  const parts = new Map(opts.unitCsv);
  for (const u of units) if (!parts.has(u.key)) parts.set(u.key, unitCsv(config, u));
  write(path.join(dir, "runs.csv"), runsCsv(config, units, parts));
  write(path.join(dir, "summary.csv"), summaryCsv(config, units));
  write(path.join(dir, "reliability.csv"), reliabilityCsv(config, units, parts));
  const exp = opts.experiment;
  const runs: CompletedRun[] = units.map((u) => ({
    point: config.grid[u.pointIndex],
    pointIndex: u.pointIndex,
    seedIndex: u.seedIndex,
    seed: u.seed,
    result: u.result,
  }));
  // The paired effects of the comparisons config.json records (so a merge without the code writes them too).
  const tables = config.comparisons?.length
    ? [pairedTable(config.comparisons, config.parameters, config.grid, runs, config.seeds)]
    : [];
  if (exp?.tables) tables.push(...exp.tables({ points: config.grid, runs }));
  if (tables.length > 0) {
    const names = new Set<string>();
    for (const t of tables) {
      if (!FIGURE_NAME_RE.test(t.name) || RESERVED_TABLES.includes(t.name) || names.has(t.name)) {
        throw new RangeError(
          `experiment "${config.experiment}": table name must match ${FIGURE_NAME_RE}, be used once (paired.csv is the comparisons') and not be ${RESERVED_TABLES.join("/")}; got "${t.name}"`,
        );
      }
      names.add(t.name);
      t.rows.forEach((r, i) => {
        if (r.length !== t.columns.length) {
          throw new RangeError(
            `experiment "${config.experiment}": table "${t.name}" row ${i} has ${r.length} cells; expected ${t.columns.length} (one per column)`,
          );
        }
      });
      write(path.join(dir, `${t.name}.csv`), csv([t.columns, ...t.rows.map((r) => r.map(formatCell))]));
    }
  }
  if (opts.figures === false || exp?.figures === undefined) return [];
  const figures: Figure[] = exp.figures({ points: config.grid, runs });
  if (figures.length === 0) return [];
  const render = opts.render ?? renderPool(1).render;
  for (const f of figures) {
    if (!FIGURE_NAME_RE.test(f.name)) {
      throw new RangeError(
        `experiment "${exp.name}": figure name must match ${FIGURE_NAME_RE}; got "${f.name}"`,
      );
    }
  }
  // Up to renderConcurrency figures are drawn at a time (a renderPool draws them side by side);
  // each is written as soon as it and those before it are drawn, in figure order.
  const inFlight = Math.max(1, Math.floor(opts.renderConcurrency ?? 1));
  const drawing: Promise<RenderedFigure>[] = [];
  const request = () => {
    const f = figures[drawing.length];
    if (f === undefined) return;
    const p = render(f.spec);
    p.catch(() => {}); // awaited below, in order; a later one failing first is not unhandled
    drawing.push(p);
  };
  for (let k = 0; k < inFlight; k++) request();
  const figDir = path.join(dir, "figures");
  ensureDir(figDir);
  const written: string[] = [];
  for (let i = 0; i < figures.length; i++) {
    const f = figures[i];
    const { svg, png } = await drawing[i];
    const svgFile = path.join(figDir, `${f.name}.svg`);
    const pngFile = path.join(figDir, `${f.name}.png`);
    // The spec itself (data inline) is kept beside the images: `softcal show` and `report`
    // draw it interactively.
    const specFile = path.join(figDir, `${f.name}.vl.json`);
    write(svgFile, svg);
    write(pngFile, png);
    write(specFile, `${JSON.stringify(f.spec)}\n`);
    written.push(svgFile, pngFile, specFile);
    request();
  }
  return written;
}
