/**
 * JUnit XML, the test-report format CI systems render (GitHub Actions test reporters, GitLab,
 * Jenkins): a small writer that escapes every string, and `check`'s report in it — one test case
 * per rule × grid point, one test suite per rule.
 */
import type { GateReport } from "./gate.js";

/** One test case: passed unless it has a failure or is skipped. */
export interface JUnitCase {
  classname: string;
  name: string;
  /** A failed case: a one-line message and a longer text. */
  failure?: { message: string; text: string };
  /** A skipped case, with the reason. */
  skipped?: string;
  /** Text shown with a passing case (`system-out`). */
  output?: string;
}

/** A test suite: a named list of cases. */
export interface JUnitSuite {
  name: string;
  cases: readonly JUnitCase[];
}

/**
 * Characters shown as `\uXXXX` text: the C0 controls other than tab, LF and CR, U+FFFE, U+FFFF and
 * lone surrogates (XML 1.0 cannot hold them at all, not even as character references), and DEL and
 * the C1 controls (allowed, but invisible). Tab, LF and CR are kept (matched, then returned as they are).
 */
const NOT_XML = /[\p{Cc}\uFFFE\uFFFF]|\p{Cs}/gu;

/**
 * `s` as XML character data (or, with `attribute`, as a double-quoted attribute value): `&`, `<`,
 * `>`, `"` and `'` as entities; in attributes also tab, LF and CR as character references (an XML
 * parser would turn them into spaces); characters XML 1.0 cannot hold at all (C0 controls, U+FFFE,
 * U+FFFF, lone surrogates) as the visible text `\uXXXX`. Cost: O(length).
 *
 * @example xmlEscape('a<b & "c"', true) // 'a&lt;b &amp; &quot;c&quot;'
 */
export function xmlEscape(s: string, attribute = false): string {
  const out = s
    .replace(NOT_XML, (c) =>
      c === "\t" || c === "\n" || c === "\r" ? c : `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
    )
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
  return attribute
    ? out.replace(/\t/g, "&#9;").replace(/\n/g, "&#10;").replace(/\r/g, "&#13;")
    : out.replace(/\r/g, "&#13;");
}

/**
 * A JUnit XML document: `<testsuites name tests failures skipped errors>` holding one
 * `<testsuite>` per suite, each `<testcase classname name>` with a `<failure message>`, a
 * `<skipped message>` or a `<system-out>`. No timing attributes (the report is the same bytes for
 * the same run). UTF-8, every string escaped by {@link xmlEscape}. Cost: O(output size).
 */
export function junitXml(name: string, suites: readonly JUnitSuite[]): string {
  const counts = (cases: readonly JUnitCase[]) => {
    const failures = cases.filter((c) => c.failure).length;
    const skipped = cases.filter((c) => !c.failure && c.skipped !== undefined).length;
    return `tests="${cases.length}" failures="${failures}" errors="0" skipped="${skipped}"`;
  };
  const a = (s: string) => xmlEscape(s, true);
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${a(name)}" ${counts(suites.flatMap((s) => s.cases))}>`,
  ];
  for (const suite of suites) {
    lines.push(`  <testsuite name="${a(suite.name)}" ${counts(suite.cases)}>`);
    for (const c of suite.cases) {
      const open = `    <testcase classname="${a(c.classname)}" name="${a(c.name)}"`;
      if (c.failure) {
        lines.push(
          `${open}>`,
          `      <failure message="${a(c.failure.message)}" type="softcal.check">${xmlEscape(c.failure.text)}</failure>`,
          "    </testcase>",
        );
      } else if (c.skipped !== undefined) {
        lines.push(`${open}>`, `      <skipped message="${a(c.skipped)}"/>`, "    </testcase>");
      } else if (c.output !== undefined) {
        lines.push(`${open}>`, `      <system-out>${xmlEscape(c.output)}</system-out>`, "    </testcase>");
      } else {
        lines.push(`${open}/>`);
      }
    }
    lines.push("  </testsuite>");
  }
  lines.push("</testsuites>");
  return `${lines.join("\n")}\n`;
}

/**
 * `check`'s report as JUnit XML: one suite per rule (named by the rule, `ece <= 0.05`), one case per
 * selected grid point (classname `softcal.check.<experiment>`, named by the point), failing with
 * the violation's message, skipped with the reason, or passing with how it held.
 */
export function gateJUnit(report: GateReport): string {
  const suites: JUnitSuite[] = [];
  const classname = `softcal.check.${report.run.experiment}`;
  for (const result of report.results) {
    let suite = suites.find((s) => s.name === result.ruleText);
    if (!suite) {
      suite = { name: result.ruleText, cases: [] };
      suites.push(suite);
    }
    const name = result.pointText === "" ? "(the only grid point)" : result.pointText;
    const detail = `${result.ruleText} at ${name}: ${result.message}\nrun: ${report.run.dir}${report.baseline ? `\nbaseline: ${report.baseline.dir} (${report.pairing?.reason})` : ""}`;
    (suite.cases as JUnitCase[]).push(
      result.status === "fail"
        ? { classname, name, failure: { message: result.message, text: detail } }
        : result.status === "skip"
          ? { classname, name, skipped: result.message }
          : { classname, name, output: detail },
    );
  }
  return junitXml(`softcal check ${report.run.dir}`, suites);
}
