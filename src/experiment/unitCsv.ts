/**
 * The rows one unit contributes to runs.csv and reliability.csv, as CSV text. The tables are these
 * fragments concatenated in unit order (after a header), so a thread can format its units' rows as
 * it finishes them and the aggregation only joins strings: formatting 270,000 reliability rows at
 * the end of a 1,000-seed sweep was ~0.9 s that no other thread could share.
 */
import { csvRecords } from "../data/csvWrite.js";
import { BIN_COLUMNS, RUN_COLUMNS, type RunConfig, type UnitRecord } from "./config.js";
import type { ParamValue } from "./types.js";

/**
 * Formats one CSV cell: null/undefined → empty; numbers in JavaScript's shortest round-trip form
 * (`String(x)`: `0.1`, `1e-7`, `NaN`, `Infinity`; −0 → `0`); booleans `true`/`false`.
 */
export function formatCell(x: ParamValue | null | undefined): string {
  if (x === null || x === undefined) return "";
  return String(x);
}

/**
 * Rows as CSV text (RFC 4180 quoting, "\n" after every record: csvWrite.ts). Records are
 * formatted independently, so `csv(a) + csv(b) === csv([...a, ...b])` (a property test checks it).
 */
export function csv(rows: readonly (readonly string[])[]): string {
  return csvRecords(rows);
}

/** One unit's rows of runs.csv and reliability.csv, as CSV text. */
export interface UnitCsv {
  runs: string;
  reliability: string;
}

/** The header rows of runs.csv and reliability.csv. */
export function tableHeaders(config: RunConfig): UnitCsv {
  return {
    runs: csv([[...config.parameters, ...RUN_COLUMNS, ...config.metrics]]),
    reliability: csv([[...config.parameters, ...RUN_COLUMNS, ...BIN_COLUMNS]]),
  };
}

/**
 * A unit's runs.csv row (parameters, seed_index, seed, metrics) and reliability.csv rows (every bin
 * of every view: parameters, seed_index, seed, view, bin (0-based), lower, upper, count,
 * mean_predicted, observed — empty for an empty bin). Cost O(parameters + metrics + bins).
 */
export function unitCsv(config: RunConfig, u: UnitRecord): UnitCsv {
  const params = config.parameters.map((p) => formatCell(config.grid[u.pointIndex][p]));
  const seed = [String(u.seedIndex), String(u.seed)];
  const runs = csv([[...params, ...seed, ...config.metrics.map((m) => formatCell(u.result.metrics[m]))]]);
  const rows: string[][] = [];
  for (const view of u.result.reliability ?? []) {
    view.bins.forEach((b, i) => {
      rows.push([
        ...params,
        ...seed,
        view.view,
        String(i),
        formatCell(b.lower),
        formatCell(b.upper),
        formatCell(b.count),
        formatCell(b.meanPredicted),
        formatCell(b.observed),
      ]);
    });
  }
  return { runs, reliability: rows.length === 0 ? "" : csv(rows) };
}
