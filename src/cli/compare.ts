/**
 * `softcal compare RUN_A RUN_B`: for every grid point both runs have, each metric's mean in A and
 * B and the difference B − A with a 95% interval and a p-value — paired by seed index where the
 * runs share seeds and data, Welch otherwise (the output says which and why); points only one run
 * has are listed.
 */
import type { Command } from "commander";
import { InputError } from "../errors.js";
import type { HtmlTable } from "../plot/html.js";
import { compareRuns, pointText, type RunComparison } from "../tracking/compare.js";
import { cellInterval, cellNumber, cellP, comparisonMarkdown } from "../tracking/markdown.js";
import { readRunFolder } from "../tracking/runFolder.js";
import { oneLine, textTable } from "../tracking/textTable.js";
import type { CliIo } from "./io.js";

/** A run's line in the comparison's heading. */
function runLine(name: string, r: RunComparison["a"]): string {
  return `${name}: ${oneLine(r.dir)} (${oneLine(r.experiment)}, ${r.status}, root seed ${r.rootSeed}, ${r.seeds} seeds, ${r.gridPoints} grid points)\n`;
}

/** A comparison as terminal text: the runs, the test and why, the unshared points, then the table. */
export function comparisonText(c: RunComparison): string {
  let out = runLine("A", c.a) + runLine("B", c.b);
  out += `test: ${c.pairing.reason}\n`;
  out += `grid points: ${c.shared.length} shared, ${c.onlyInA.length} only in A, ${c.onlyInB.length} only in B\n`;
  const list = (points: RunComparison["onlyInA"]) =>
    oneLine(points.map((p) => pointText(p, c.parameters)).join("; "));
  if (c.onlyInA.length > 0) out += `only in A: ${list(c.onlyInA)}\n`;
  if (c.onlyInB.length > 0) out += `only in B: ${list(c.onlyInB)}\n`;
  if (c.metricsOnlyInA.length > 0)
    out += `metrics only in A (not compared): ${c.metricsOnlyInA.join(", ")}\n`;
  if (c.metricsOnlyInB.length > 0)
    out += `metrics only in B (not compared): ${c.metricsOnlyInB.join(", ")}\n`;
  for (const n of c.notes) out += `note: ${oneLine(n)}\n`;
  if (c.rows.length === 0) return `${out}no grid point in common: nothing to compare\n`;
  out += "\n";
  out += textTable(
    [...c.parameters, "metric", "mean A", "mean B", "B − A", "95% interval", "p", "n", "test"],
    c.rows.map((r) => [
      ...c.parameters.map((p) => (p in r.point ? String(r.point[p]) : "")),
      r.metric,
      cellNumber(r.meanA),
      cellNumber(r.meanB),
      cellNumber(r.diff),
      cellInterval(r.ci95Lo, r.ci95Hi),
      cellP(r.pValue),
      r.pairs === null ? `${r.nA}/${r.nB}` : String(r.pairs),
      r.test,
    ]),
  );
  const leftOut = c.rows.reduce((s, r) => s + r.missing + r.nonFinite, 0);
  if (leftOut > 0) {
    out += `left out: ${leftOut} ${c.pairing.paired ? "pairs" : "values"} with a missing or non-finite value (see --json: missing, nonFinite)\n`;
  }
  return out;
}

/** A comparison as tables of `report`'s page: the rows, and the grid points only one run has. */
export function comparisonHtmlTables(c: RunComparison): HtmlTable[] {
  const tables: HtmlTable[] = [
    {
      caption: `B = ${c.b.dir} against A = ${c.a.dir}: ${c.pairing.reason}${c.notes.length > 0 ? ` (${c.notes.join("; ")})` : ""}`,
      columns: [...c.parameters, "metric", "mean A", "mean B", "B − A", "95% interval", "p", "n", "test"],
      rows: c.rows.map((r) => [
        ...c.parameters.map((p) => (p in r.point ? String(r.point[p]) : null)),
        r.metric,
        r.meanA,
        r.meanB,
        r.diff,
        cellInterval(r.ci95Lo, r.ci95Hi),
        r.pValue,
        r.pairs === null ? `${r.nA}/${r.nB}` : r.pairs,
        r.test,
      ]),
    },
  ];
  if (c.onlyInA.length + c.onlyInB.length > 0) {
    tables.push({
      caption: "Grid points only one run has (not compared)",
      columns: ["only in", "grid point"],
      rows: [
        ...c.onlyInA.map((p) => ["A", pointText(p, c.parameters)]),
        ...c.onlyInB.map((p) => ["B", pointText(p, c.parameters)]),
      ],
    });
  }
  return tables;
}

export function registerCompare(program: Command, io: CliIo): void {
  program
    .command("compare")
    .description(
      "compare two runs point by point: means, B − A with a 95% interval and a p-value (paired by seed where possible)",
    )
    .argument("<run-a>", "the reference run folder, e.g. baseline/l2-sweep")
    .argument("<run-b>", "the run compared with it, e.g. results/l2-sweep")
    .option("--metric <list>", "comma-separated metrics to compare (default: every metric both runs have)")
    .option("--json", "print one JSON object on stdout")
    .option("--markdown", "print a Markdown table (for a pull request or a GitHub Actions step summary)")
    .addHelpText(
      "after",
      '\nExamples:\n  softcal compare baseline/l2-sweep results/l2-sweep --metric ece,nll\n  softcal compare a/l2-sweep b/l2-sweep --markdown >> "$GITHUB_STEP_SUMMARY"\n\n' +
        "Paired by seed index when both runs have the same root seed, seed derivation, random streams and\n" +
        "data (and equal seeds at each index): the paired t interval of the mean difference and a sign-flip\n" +
        "p-value. Otherwise Welch's t test, and the output says why. Reads config.json, manifest.json and\n" +
        "runs.csv only, so merged and copied run folders compare the same.",
    )
    .action((runA: string, runB: string, flags: { metric?: string; json?: boolean; markdown?: boolean }) => {
      if (flags.json && flags.markdown)
        throw new InputError("compare: expected --json or --markdown, not both");
      const metrics = flags.metric?.split(",").map((m) => m.trim());
      if (metrics?.some((m) => m === "")) {
        throw new InputError(
          `--metric: expected comma-separated metric names; got ${JSON.stringify(flags.metric)}`,
        );
      }
      const a = readRunFolder(runA);
      const b = readRunFolder(runB);
      const c = compareRuns(a, b, metrics === undefined ? {} : { metrics });
      if (flags.json) io.stdout(`${JSON.stringify(c)}\n`);
      else if (flags.markdown) io.stdout(comparisonMarkdown(c));
      else io.stdout(comparisonText(c));
    });
}
