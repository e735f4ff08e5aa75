/**
 * `softcal check RUN`: the calibration gate for CI — exit 0 when every rule holds at every selected
 * grid point, 1 listing each violation (grid point, value, bound and, against a baseline, the 95%
 * interval), 2 for a bad rule or run folder. Optionally a JUnit XML report and a Markdown table.
 */
import type { Command } from "commander";
import { InputError } from "../errors.js";
import {
  checkRun,
  type GateReport,
  type GateRule,
  type GateRuleKind,
  parseRule,
  parseWhere,
} from "../tracking/gate.js";
import { gateJUnit } from "../tracking/junit.js";
import { gateMarkdown } from "../tracking/markdown.js";
import { type RunFolder, readRunFolder } from "../tracking/runFolder.js";
import { oneLine } from "../tracking/textTable.js";
import { checkOutputPath, writeOutput } from "./common.js";
import { type CliIo, ExitCode } from "./io.js";

interface CheckFlags {
  max: string[];
  min: string[];
  baseline?: string;
  maxIncrease: string[];
  maxDecrease: string[];
  where: string[];
  junit?: string;
  markdown?: string;
  force?: boolean;
  json?: boolean;
}

/** Collects a repeatable flag's values. */
function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** The report as terminal text: the verdict, every failure and skip, then the counts. */
export function gateText(report: GateReport): string {
  const total = report.results.length;
  let out = `check ${oneLine(report.run.dir)} (${oneLine(report.run.experiment)}, ${report.run.status}, root seed ${report.run.rootSeed}, ${report.run.seeds} seeds)\n`;
  if (report.baseline && report.pairing) {
    out += `baseline ${oneLine(report.baseline.dir)}: ${report.pairing.reason}\n`;
  }
  for (const r of report.results) {
    if (r.status === "pass") continue;
    out += `${r.status === "fail" ? "FAIL" : "skip"}  ${r.ruleText} at ${oneLine(r.pointText)}: ${oneLine(r.message)}\n`;
  }
  out += report.ok
    ? `PASSED: ${report.passed} of ${total} checks hold${report.skipped > 0 ? ` (${report.skipped} skipped)` : ""}\n`
    : `FAILED: ${report.failed} of ${total} checks violated (${report.passed} hold, ${report.skipped} skipped)\n`;
  return out;
}

export function registerCheck(program: Command, io: CliIo): void {
  program
    .command("check")
    .description(
      "CI gate on a run's metrics: exit 1 if a rule is violated at a grid point (JUnit and Markdown reports)",
    )
    .argument("<run>", "the run folder checked, e.g. results/l2-sweep")
    .option(
      "--max <metric=v>",
      "the metric's mean over seeds must be <= v at every selected point (repeatable)",
      collect,
      [],
    )
    .option("--min <metric=v>", "the metric's mean over seeds must be >= v (repeatable)", collect, [])
    .option("--baseline <run0>", "a baseline run folder for --max-increase / --max-decrease")
    .option(
      "--max-increase <metric=d>",
      "vs --baseline: fails where the 95% interval of run − baseline lies entirely above d (repeatable)",
      collect,
      [],
    )
    .option(
      "--max-decrease <metric=d>",
      "vs --baseline: fails where the 95% interval of run − baseline lies entirely below −d (repeatable)",
      collect,
      [],
    )
    .option(
      "--where <axis=value>",
      "check only grid points with this value (repeatable; values of one axis are alternatives)",
      collect,
      [],
    )
    .option("--junit <file.xml>", "write a JUnit XML report: one test case per rule × grid point")
    .option("--markdown <file.md>", "write a Markdown table (e.g. for $GITHUB_STEP_SUMMARY)")
    .option("--force", "overwrite existing --junit / --markdown files")
    .option("--json", "print one JSON object on stdout")
    .addHelpText(
      "after",
      "\nExamples:\n  softcal check results/l2-sweep --max ece=0.1 --min accuracy=0.8 --where data=iris\n" +
        "  softcal check results/l2-sweep --baseline baseline/l2-sweep --max-increase ece=0.01 --junit check.xml --markdown check.md\n\n" +
        "Exit 0: every rule holds; 1: a rule is violated (each violation listed); 2: a bad rule, flag or run folder.\n" +
        "Against a baseline, a change counts as a regression only when its 95% interval excludes the allowed\n" +
        "change (paired by seed index when the runs share seeds and data, Welch otherwise).",
    )
    .action((run: string, flags: CheckFlags) => {
      const rules: GateRule[] = [];
      const kinds: [GateRuleKind, string[]][] = [
        ["max", flags.max],
        ["min", flags.min],
        ["max-increase", flags.maxIncrease],
        ["max-decrease", flags.maxDecrease],
      ];
      for (const [kind, texts] of kinds) for (const t of texts) rules.push(parseRule(kind, t));
      const where = parseWhere(flags.where);
      const force = flags.force === true;
      if (flags.junit !== undefined && flags.junit === flags.markdown) {
        throw new InputError("--junit and --markdown: expected two different files; got the same path");
      }
      checkOutputPath(flags.junit, "--junit", force);
      checkOutputPath(flags.markdown, "--markdown", force);
      const folder = readRunFolder(run);
      let baseline: RunFolder | undefined;
      if (flags.baseline !== undefined) baseline = readRunFolder(flags.baseline);
      const report = checkRun(folder, rules, { where, ...(baseline ? { baseline } : {}) });
      if (flags.junit !== undefined) writeOutput(flags.junit, gateJUnit(report), "--junit", force);
      if (flags.markdown !== undefined)
        writeOutput(flags.markdown, gateMarkdown(report), "--markdown", force);
      io.stdout(flags.json ? `${JSON.stringify(report)}\n` : gateText(report));
      if (!report.ok) throw new ExitCode(1);
    });
}
