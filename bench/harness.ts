/**
 * The bench harness: what every row group shares. The options (--reps, --rows, --quick, read from
 * process.argv when this module loads), the statistics of a sample set, the interleaved timing of
 * softcal against its reference, the rows recorded so far, and the report at the end — the table
 * on stdout and results/bench/bench.csv and bench.json.
 *
 * Rows live in module state: a bench run is one process that records rows in order and reports
 * once (bench/run.ts).
 */
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { csvRecords } from "../src/data/csvWrite.js";
import { writeFileAtomic } from "../src/io/atomic.js";

/** The repository's root folder. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
/** Where the report goes: results/bench/ (bench.csv, bench.json, and data/ for the generated data). */
export const OUT = join(ROOT, "results", "bench");

// ----------------------------------------------------------------------------------------------
// options
const argv = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
/** --quick: smaller problems and fewer iterations (3 repetitions unless --reps says otherwise). */
export const QUICK = argv.includes("--quick");
/** --reps N: samples per side of each row (default 5, 3 with --quick); some rows cap or floor it. */
export const REPS = Number(flag("--reps") ?? (QUICK ? 3 : 5));
const ONLY = flag("--rows")?.split(",");
/** Whether row `id` is to run: every row unless --rows lists the ones wanted. */
export const want = (id: string): boolean => !ONLY || ONLY.includes(id);

// ----------------------------------------------------------------------------------------------
// statistics and rows
/** A sample set (ms, or the row's unit) summarized: median, extremes, count, and the samples themselves. */
export interface Stats {
  median: number;
  min: number;
  max: number;
  n: number;
  samples: number[];
}

/** The median, minimum and maximum of `samples` (not empty). Cost: one sort of a copy. */
export function stats(samples: number[]): Stats {
  const s = [...samples].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { median, min: s[0], max: s[s.length - 1], n: s.length, samples };
}

/** One line of the table, of bench.csv and of bench.json's `rows`. */
export interface Row {
  id: string;
  name: string;
  unit: string;
  softcal: Stats | null;
  referenceName: string;
  reference: Stats | null;
  /** reference ÷ softcal medians (or, for memory, softcal's multiple of X's size). */
  ratio: number | null;
  /** reference ÷ softcal minima: the least disturbed samples, telling on a busy machine. */
  ratioMin?: number | null;
  target: string;
  met: boolean | null;
  note: string;
}

const rows: Row[] = [];

/**
 * Adds a row to the report (the ratio of minima filled in when the row leaves it out) and says
 * so on stderr at once, so a long run shows its progress.
 */
export function record(r: Row): void {
  if (r.ratioMin === undefined)
    r.ratioMin = r.softcal && r.reference ? r.reference.min / r.softcal.min : null;
  rows.push(r);
  process.stderr.write(`  ${r.id}: ${r.ratio === null ? r.note : `${fmtRatio(r.ratio)} (${r.note})`}\n`);
}

/** Records row `id` as not run, with the reason (`why`) as its note: e.g. "scikit-learn not installed". */
export function skipped(id: string, name: string, referenceName: string, target: string, why: string): void {
  record({
    id,
    name,
    unit: "",
    softcal: null,
    referenceName,
    reference: null,
    ratio: null,
    target,
    met: null,
    note: `skipped: ${why}`,
  });
}

/**
 * Records a row of softcal's samples `s` against the reference's `r` (unit ms unless the row says
 * otherwise; ratio = reference ÷ softcal medians); the target is met when `met` holds.
 */
export function recordPair(
  row: { id: string; name: string; unit?: string; referenceName: string; target: string; note: string },
  s: number[],
  r: number[],
  met: (S: Stats, R: Stats) => boolean,
): void {
  const S = stats(s);
  const R = stats(r);
  record({
    id: row.id,
    name: row.name,
    unit: row.unit ?? "ms",
    softcal: S,
    referenceName: row.referenceName,
    reference: R,
    ratio: R.median / S.median,
    target: row.target,
    met: met(S, R),
    note: row.note,
  });
}

/** The usual target of {@link recordPair}: softcal's median at least `x` times as fast as the reference's. */
export const atLeast =
  (x: number) =>
  (S: Stats, R: Stats): boolean =>
    R.median / S.median >= x;

/**
 * Runs a and b alternately `reps` times (a first on even repetitions), returns both sample sets:
 * a drift of the machine's load then falls on both sides alike. Either may be synchronous.
 */
export async function interleave(
  reps: number,
  a: () => Promise<number> | number,
  b: () => Promise<number> | number,
): Promise<[number[], number[]]> {
  const sa: number[] = [];
  const sb: number[] = [];
  for (let r = 0; r < reps; r++) {
    if (r % 2 === 0) {
      sa.push(await a());
      sb.push(await b());
    } else {
      sb.push(await b());
      sa.push(await a());
    }
  }
  return [sa, sb];
}

// ----------------------------------------------------------------------------------------------
// output
function fmt(x: number): string {
  return x >= 100 ? x.toFixed(0) : x >= 1 ? x.toFixed(2) : x.toPrecision(3);
}
function fmtRatio(x: number): string {
  return `${x >= 10 ? x.toFixed(1) : x.toFixed(2)}x`;
}
const cell = (s: Stats | null) => (s ? `${fmt(s.median)} [${fmt(s.min)}, ${fmt(s.max)}]` : "—");

function printTable(): void {
  const head = [
    "row",
    "unit",
    "softcal median [min, max]",
    "reference median [min, max]",
    "ratio",
    "of minima",
    "target",
    "",
  ];
  const body = rows.map((r) => [
    r.name,
    r.unit,
    cell(r.softcal),
    r.reference ? `${cell(r.reference)} ${r.referenceName}` : r.referenceName,
    r.ratio === null ? "—" : fmtRatio(r.ratio),
    r.ratioMin == null ? "—" : fmtRatio(r.ratioMin),
    r.target,
    r.met === null ? r.note : r.met ? "met" : "NOT MET",
  ]);
  const widths = head.map((h, c) => Math.max(h.length, ...body.map((b) => b[c].length)));
  const line = (cols: string[]) =>
    cols
      .map((v, c) => v.padEnd(widths[c]))
      .join("  ")
      .trimEnd();
  process.stdout.write(`${line(head)}\n${widths.map((w) => "-".repeat(w)).join("  ")}\n`);
  for (const b of body) process.stdout.write(`${line(b)}\n`);
  process.stdout.write("\nnotes:\n");
  for (const r of rows) process.stdout.write(`  ${r.id}: ${r.note}\n`);
}

const CSV_HEADER = [
  "id",
  "name",
  "unit",
  "softcal_median",
  "softcal_min",
  "softcal_max",
  "reference",
  "reference_median",
  "reference_min",
  "reference_max",
  "ratio",
  "ratio_of_minima",
  "target",
  "met",
  "note",
];

/** bench.csv's text: a header and a line a row, numbers as `String` prints them, absent ones empty. */
function csvText(): string {
  const num = (x: number | null | undefined) => (x == null ? "" : String(x));
  const body = rows.map((r) => [
    r.id,
    r.name,
    r.unit,
    num(r.softcal?.median),
    num(r.softcal?.min),
    num(r.softcal?.max),
    r.referenceName,
    num(r.reference?.median),
    num(r.reference?.min),
    num(r.reference?.max),
    num(r.ratio),
    num(r.ratioMin),
    r.target,
    r.met === null ? "" : String(r.met),
    r.note,
  ]);
  // No rows, no header: the file csv-stringify wrote before (its header came from the first row).
  return csvRecords(body.length ? [CSV_HEADER, ...body] : []);
}

/**
 * Prints the table of the rows recorded (then each row's note) and writes them, atomically, to
 * results/bench/bench.json (with the date, the options, `machine` and `reference` — what
 * describes the run) and bench.csv. Call once, after the last row.
 */
export function report(machine: object, reference: object): void {
  printTable();
  const json = { date: new Date().toISOString(), reps: REPS, quick: QUICK, machine, reference, rows };
  writeFileAtomic(join(OUT, "bench.json"), `${JSON.stringify(json, null, 2)}\n`);
  writeFileAtomic(join(OUT, "bench.csv"), csvText());
  process.stderr.write(`wrote ${join("results", "bench", "bench.csv")} and bench.json\n`);
}
