/**
 * Markdown tables for `compare --markdown` and `check --markdown` (GitHub-flavoured: what a GitHub
 * Actions step summary renders), with every cell escaped so a parameter value or a folder name
 * cannot break the table or inject markup.
 */
import type { RunComparison } from "./compare.js";
import { pointText } from "./compare.js";
import type { GateReport } from "./gate.js";

/**
 * `s` as the text of a Markdown table cell: line breaks become spaces; `\`, `` ` ``, `*`, `_`,
 * `[`, `]`, `<`, `>`, `|`, `~`, `#`, `!` and `$` are backslash-escaped (GFM's escapable
 * punctuation: no emphasis, link, HTML, math or column break can come from a value), `&` becomes
 * `&amp;` (no entity). Cost: O(length).
 * @example markdownCell("a|b <x>") // "a\\|b \\<x\\>"
 */
export function markdownCell(s: string): string {
  return s
    .replace(/\r\n|[\r\n\u2028\u2029]/g, " ")
    .replace(/&/g, "&amp;")
    .replace(/[\\`*_[\]<>|~#!$]/g, (c) => `\\${c}`);
}

/** A Markdown table: header, alignment row, rows (every cell escaped by {@link markdownCell}). */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.map(markdownCell).join(" | ")} |`;
  return [line(header), `|${header.map(() => "---").join("|")}|`, ...rows.map(line)].join("\n");
}

/** A number in a table: up to 4 significant digits (integers and non-finite values as they are); "" for none. */
export function cellNumber(x: number | null | undefined): string {
  if (x === null || x === undefined) return "";
  if (!Number.isFinite(x) || Number.isInteger(x)) return String(x);
  return String(Number(x.toPrecision(4)));
}

/** A 95% interval in a table: `[lo, hi]`, or "" when there is none. */
export function cellInterval(lo: number | null | undefined, hi: number | null | undefined): string {
  return lo === null || lo === undefined || hi === null || hi === undefined
    ? ""
    : `[${cellNumber(lo)}, ${cellNumber(hi)}]`;
}

/** A p-value in a table: 3 significant digits, or "" for none. */
export function cellP(p: number | null): string {
  return p === null ? "" : String(Number(p.toPrecision(3)));
}

/** The points of a list in words, for Markdown text: `data=iris, l2=0; data=iris, l2=1` (escaped). */
function pointsLine(points: RunComparison["onlyInA"], parameters: readonly string[]): string {
  return markdownCell(points.map((p) => pointText(p, parameters)).join("; "));
}

/**
 * A comparison as Markdown: the two runs, the test and why, the points only one run has, then one
 * table row per shared point × metric (parameters, metric, mean A, mean B, B − A, 95% interval, p,
 * n, test).
 */
export function comparisonMarkdown(c: RunComparison): string {
  const out: string[] = [
    `### softcal compare: ${markdownCell(c.b.experiment)} B against A`,
    "",
    `- A: ${markdownCell(c.a.dir)} (${markdownCell(`${c.a.experiment}, ${c.a.status}, root seed ${c.a.rootSeed}, ${c.a.seeds} seeds`)})`,
    `- B: ${markdownCell(c.b.dir)} (${markdownCell(`${c.b.experiment}, ${c.b.status}, root seed ${c.b.rootSeed}, ${c.b.seeds} seeds`)})`,
    `- test: ${markdownCell(c.pairing.reason)}`,
    `- grid points: ${c.shared.length} shared, ${c.onlyInA.length} only in A, ${c.onlyInB.length} only in B`,
  ];
  if (c.onlyInA.length > 0) out.push(`- only in A: ${pointsLine(c.onlyInA, c.parameters)}`);
  if (c.onlyInB.length > 0) out.push(`- only in B: ${pointsLine(c.onlyInB, c.parameters)}`);
  for (const n of c.notes) out.push(`- note: ${markdownCell(n)}`);
  out.push("");
  const header = [...c.parameters, "metric", "mean A", "mean B", "B − A", "95% interval", "p", "n", "test"];
  const rows = c.rows.map((r) => [
    ...c.parameters.map((p) => (p in r.point ? String(r.point[p]) : "")),
    r.metric,
    cellNumber(r.meanA),
    cellNumber(r.meanB),
    cellNumber(r.diff),
    cellInterval(r.ci95Lo, r.ci95Hi),
    cellP(r.pValue),
    r.pairs === null ? `${r.nA} / ${r.nB}` : String(r.pairs),
    r.test,
  ]);
  out.push(markdownTable(header, rows));
  return `${out.join("\n")}\n`;
}

/**
 * `check`'s report as Markdown, for a GitHub Actions step summary: a heading saying whether every
 * rule held (`PASSED` / `FAILED: k of n checks`), the run (and baseline, with the test and why),
 * then one table row per rule × point, failures first.
 */
export function gateMarkdown(report: GateReport): string {
  const total = report.results.length;
  const verdict = report.ok
    ? `PASSED: ${report.passed} of ${total} checks hold${report.skipped > 0 ? `, ${report.skipped} skipped` : ""}`
    : `FAILED: ${report.failed} of ${total} checks violated`;
  const out: string[] = [
    `### softcal check: ${verdict}`,
    "",
    `- run: ${markdownCell(report.run.dir)} (${markdownCell(`${report.run.experiment}, ${report.run.status}, root seed ${report.run.rootSeed}, ${report.run.seeds} seeds`)})`,
  ];
  if (report.baseline && report.pairing) {
    out.push(
      `- baseline: ${markdownCell(report.baseline.dir)} (${markdownCell(`${report.baseline.experiment}, root seed ${report.baseline.rootSeed}, ${report.baseline.seeds} seeds`)})`,
      `- against the baseline: ${markdownCell(report.pairing.reason)}`,
    );
  }
  out.push("");
  const order = { fail: 0, skip: 2, pass: 1 } as const;
  const sorted = report.results
    .map((r, i) => ({ r, i }))
    .sort((x, y) => order[x.r.status] - order[y.r.status] || x.i - y.i)
    .map(({ r }) => r);
  out.push(
    markdownTable(
      ["result", "rule", "grid point", "value", "bound", "95% interval", "why"],
      sorted.map((r) => [
        r.status === "fail" ? "FAIL" : r.status === "skip" ? "skip" : "pass",
        r.ruleText,
        r.pointText,
        cellNumber(r.value),
        cellNumber(r.bound),
        cellInterval(r.ci95Lo, r.ci95Hi),
        r.message,
      ]),
    ),
  );
  return `${out.join("\n")}\n`;
}
