/**
 * `softcal check`, the calibration gate: rules parsed and refused with one line, each rule judged at
 * every selected grid point exactly as documented (bounds on the mean; against a baseline, a
 * regression only when the 95% interval excludes the allowed change), the JUnit XML (well-formed,
 * every string escaped, every rule × point listed) and Markdown reports, and the exit codes on real
 * `l2-sweep` runs.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { fc, test } from "@fast-check/vitest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { GridPoint } from "../src/experiment/types.js";
import {
  checkRun,
  type GateReport,
  type GateRule,
  matchesValue,
  parseRule,
  parseWhere,
} from "../src/tracking/gate.js";
import { gateJUnit, junitXml, xmlEscape } from "../src/tracking/junit.js";
import { gateMarkdown, markdownCell, markdownTable } from "../src/tracking/markdown.js";
import type { RunFolder } from "../src/tracking/runFolder.js";
import { cli } from "./_shared/cli.js";
import { l2Run, memoryRun, tempDirs } from "./_shared/trackingRuns.js";

const tmp = tempDirs("softcal-check-");
afterAll(() => tmp.cleanup());

/** Whether /usr/bin/python3 can check XML (the well-formedness checks skip, saying why, without it). */
const python = spawnSync("/usr/bin/python3", ["-c", "import xml.dom.minidom"]).status === 0;
/** Parses an XML file with Python's expat (xml.dom.minidom): "" if well-formed, else the parser's message. */
function xmlProblem(file: string): string {
  const r = spawnSync(
    "/usr/bin/python3",
    ["-c", "import xml.dom.minidom,sys; xml.dom.minidom.parse(sys.argv[1])", file],
    {
      encoding: "utf8",
    },
  );
  return r.status === 0 ? "" : (r.stderr.trim().split("\n").pop() ?? "failed");
}
function expectWellFormed(file: string): void {
  if (!python) {
    console.log(
      `skipped the XML well-formedness check of ${file}: /usr/bin/python3 with xml.dom.minidom is not available`,
    );
    return;
  }
  expect(xmlProblem(file)).toBe("");
}

describe("rules", () => {
  it("parses METRIC=VALUE and refuses anything else with one line naming the flag", () => {
    expect(parseRule("max", "ece=0.05")).toEqual({ kind: "max", metric: "ece", bound: 0.05 });
    expect(parseRule("max-increase", " nll = 1e-2 ")).toEqual({
      kind: "max-increase",
      metric: "nll",
      bound: 0.01,
    });
    for (const bad of ["ece", "ece=", "=0.1", "ece=x", "ece=1e999", "ece=NaN", "ece=0.1=2"]) {
      expect(() => parseRule("max", bad)).toThrow(
        `--max: expected METRIC=VALUE with VALUE a finite number; got ${JSON.stringify(bad)}`,
      );
    }
    expect(parseWhere(["data=iris", "l2=0", "data=clusters"])).toEqual(
      new Map([
        ["data", ["iris", "clusters"]],
        ["l2", ["0"]],
      ]),
    );
    expect(() => parseWhere(["iris"])).toThrow('--where: expected AXIS=VALUE; got "iris"');
    expect([
      matchesValue(0.01, "1e-2"),
      matchesValue(0.01, "0.010"),
      matchesValue("0.01", "1e-2"),
      matchesValue(true, "true"),
    ]).toEqual([true, true, false, true]);
  });
});

/** A value as runs.csv may hold one: dyadic numbers (exact sums), sometimes missing, infinite or NaN. */
const cellArb = fc.oneof(
  { weight: 10, arbitrary: fc.integer({ min: -64, max: 64 }).map((i) => i / 16) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(null, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN),
  },
);
const GRID: GridPoint[] = [0, 1, 2].flatMap((a) => ["x", "y"].map((b) => ({ a, b })));
const runArb = (seeds: number) =>
  fc
    .array(
      fc.array(fc.array(cellArb, { minLength: seeds, maxLength: seeds }), { minLength: 1, maxLength: 1 }),
      {
        minLength: GRID.length,
        maxLength: GRID.length,
      },
    )
    .map((values) => memoryRun({ grid: GRID, metrics: ["m"], seeds, values }));
/** The documented mean a bound is judged on: numbers (±Infinity included), missing values and NaN left out. */
function documentedMean(values: readonly (number | null)[]): number | null {
  const xs = values.filter((v): v is number => v !== null && !Number.isNaN(v));
  return xs.length === 0 ? null : xs.reduce((s, v) => s + v, 0) / xs.length;
}
const boundArb = fc.integer({ min: -80, max: 80 }).map((i) => i / 16);

describe("checkRun: bounds on the mean", () => {
  test.prop([runArb(3), boundArb])(
    "--max passes exactly where the mean is <= the bound; --min where it is >=",
    (run, bound) => {
      const report = checkRun(run, [
        { kind: "max", metric: "m", bound },
        { kind: "min", metric: "m", bound },
      ]);
      expect(report.results).toHaveLength(2 * GRID.length);
      report.results.forEach((r, k) => {
        const i = k % GRID.length;
        expect(r.point).toEqual(GRID[i]);
        const mean = documentedMean(run.values[i][0]);
        expect(r.value === null ? null : r.value).toEqual(mean);
        const holds = mean !== null && (r.rule.kind === "max" ? mean <= bound : mean >= bound);
        expect(r.status).toBe(holds ? "pass" : "fail");
      });
      expect(report.ok).toBe(report.results.every((r) => r.status === "pass"));
      expect(report.passed + report.failed + report.skipped).toBe(report.results.length);
    },
  );

  test.prop([runArb(3), boundArb, fc.nat({ max: 40 }).map((i) => i / 16)])(
    "is monotone: a --max that holds still holds for any larger bound",
    (run, bound, more) => {
      const at = (b: number) =>
        checkRun(run, [{ kind: "max", metric: "m", bound: b }]).results.map((r) => r.status);
      const loose = at(bound + more);
      at(bound).forEach((s, i) => {
        if (s === "pass") expect(loose[i]).toBe("pass");
      });
    },
  );

  test.prop([
    runArb(2),
    fc.subarray(["0", "1", "2"], { minLength: 1 }),
    fc.subarray(["x", "y"], { minLength: 1 }),
  ])("--where selects exactly the points with one of the named values on every named axis", (run, as, bs) => {
    const report = checkRun(run, [{ kind: "max", metric: "m", bound: 100 }], {
      where: parseWhere([...as.map((a) => `a=${a}`), ...bs.map((b) => `b=${b}`)]),
    });
    expect(report.results.map((r) => r.point)).toEqual(
      GRID.filter((p) => as.includes(String(p.a)) && bs.includes(String(p.b))),
    );
  });

  it("says what it left out, and fails a point with no value", () => {
    const run = memoryRun({
      grid: [{ a: 1 }, { a: 2 }, { a: 3 }],
      metrics: ["nll"],
      seeds: 3,
      values: [[[0.5, null, Number.NaN]], [[0.5, Number.POSITIVE_INFINITY, 0.25]], [[null, null, null]]],
    });
    const [a, b, c] = checkRun(run, [{ kind: "max", metric: "nll", bound: 1 }]).results;
    expect(a).toMatchObject({
      status: "pass",
      value: 0.5,
      message: "mean 0.5 <= 1 (1 of 3 missing (failed or undefined), 1 of 3 NaN)",
    });
    expect(b).toMatchObject({
      status: "fail",
      value: Number.POSITIVE_INFINITY,
      message: "mean Infinity is not <= 1 (1 of 3 infinite)",
    });
    expect(c).toMatchObject({
      status: "fail",
      value: null,
      message: "no value to judge (3 of 3 missing (failed or undefined))",
    });
  });
});

describe("checkRun: against a baseline", () => {
  /** The run: baseline + c on every value (paired: same root seed and streams). */
  const shifted = (base: RunFolder, c: number): RunFolder => ({
    ...base,
    dir: "run",
    values: base.values.map((pm) => pm.map((ms) => ms.map((v) => (v === null ? null : v + c)))),
  });
  const finitePairs = (vs: readonly (number | null)[]) =>
    vs.filter((v) => v !== null && Number.isFinite(v)).length;

  test.prop([
    runArb(4),
    fc.integer({ min: -8, max: 8 }).map((i) => i / 8),
    fc.integer({ min: -8, max: 8 }).map((i) => i / 8),
  ])(
    "a constant change c fails --max-increase Δ exactly when c > Δ, and --max-decrease Δ when c < −Δ",
    (base, c, delta) => {
      const report = checkRun(
        shifted(base, c),
        [
          { kind: "max-increase", metric: "m", bound: delta },
          { kind: "max-decrease", metric: "m", bound: delta },
        ],
        { baseline: base },
      );
      expect(report.pairing?.paired).toBe(true);
      report.results.forEach((r, k) => {
        const pairs = finitePairs(base.values[k % GRID.length][0]);
        if (pairs < 2) {
          // No interval: the data cannot show the change is allowed.
          expect(r.status).toBe("fail");
          expect(r.message).toMatch(
            /^no 95% interval of run - baseline \(\d pairs with finite values; 2 needed\)$/,
          );
          return;
        }
        // Every paired difference is exactly c: the interval is [c, c].
        expect([r.value, r.ci95Lo, r.ci95Hi]).toEqual([c, c, c]);
        const fails = r.rule.kind === "max-increase" ? c > delta : c < -delta;
        expect(r.status).toBe(fails ? "fail" : "pass");
        expect(r.bound).toBe(r.rule.kind === "max-increase" ? delta : -delta);
      });
    },
  );

  it("judges by the interval, not the mean: a noisy increase above Δ passes while its interval reaches Δ", () => {
    const values = (xs: number[]) => [[xs]];
    const base = memoryRun({
      grid: [{ a: 1 }],
      metrics: ["ece"],
      seeds: 4,
      values: values([0.1, 0.1, 0.1, 0.1]),
    });
    const noisy = { ...base, values: values([0.12, 0.2, 0.1, 0.18]) }; // mean +0.05, interval ≈ [−0.02, 0.12]
    const tight = { ...base, values: values([0.15, 0.151, 0.149, 0.15]) }; // mean +0.05, interval ≈ [0.049, 0.051]
    const rule: GateRule = { kind: "max-increase", metric: "ece", bound: 0.01 };
    const [n] = checkRun(noisy, [rule], { baseline: base }).results;
    const [t] = checkRun(tight, [rule], { baseline: base }).results;
    expect(n.status).toBe("pass");
    expect(n.ci95Lo as number).toBeLessThan(0.01);
    expect(t.status).toBe("fail");
    expect(t.message).toMatch(
      /^run - baseline = 0\.05, 95% interval \[0\.04\d+, 0\.05\d+\] lies above the allowed 0\.01 \(paired t interval, exact sign-flip \(2\^4 assignments\)\)$/,
    );
  });

  it("skips the points only one run has, saying which", () => {
    const base = memoryRun({
      grid: [{ a: 1 }, { a: 2 }],
      metrics: ["m"],
      seeds: 2,
      values: [[[1, 1]], [[1, 1]]],
    });
    const run = memoryRun({
      grid: [{ a: 2 }, { a: 3 }],
      metrics: ["m"],
      seeds: 2,
      values: [[[1, 1]], [[1, 1]]],
    });
    const r = checkRun(run, [{ kind: "max-increase", metric: "m", bound: 0 }], { baseline: base });
    expect(r.results.map((x) => [x.point.a, x.status, x.message.split(" (")[0]])).toEqual([
      [2, "pass", "run - baseline = 0, 95% interval [0, 0] does not exclude the allowed 0"],
      [3, "skip", "the baseline run has no such grid point"],
      [1, "skip", "this run has no such grid point"],
    ]);
    expect([r.ok, r.passed, r.skipped]).toEqual([true, 1, 2]);
  });

  it("refuses bad rules with one line listing the valid choices", () => {
    const run = memoryRun({
      grid: [{ a: 1, b: "x" }],
      metrics: ["ece", "nll"],
      seeds: 2,
      values: [
        [
          [1, 1],
          [1, 1],
        ],
      ],
      dir: "r",
    });
    const base = memoryRun({
      grid: [{ a: 2, b: "x" }],
      metrics: ["ece"],
      seeds: 2,
      values: [[[1, 1]]],
      dir: "b",
    });
    const refuse = (rules: GateRule[], opts: Parameters<typeof checkRun>[2], message: string) =>
      expect(() => checkRun(run, rules, opts)).toThrow(message);
    const max: GateRule = { kind: "max", metric: "ece", bound: 1 };
    refuse(
      [],
      {},
      "check: expected at least one rule (--max, --min, --max-increase or --max-decrease); got none",
    );
    refuse([{ ...max, metric: "acc" }], {}, 'r: --max: expected a metric of toy (ece, nll); got "acc"');
    refuse([max], { where: parseWhere(["c=1"]) }, 'r: --where: expected an axis of toy (a, b); got "c"');
    refuse(
      [max],
      { where: parseWhere(["a=2"]) },
      'r: --where: expected a value of "a" in the grid (1); got "2"',
    );
    refuse(
      [{ kind: "max-increase", metric: "ece", bound: 0 }],
      {},
      "--max-increase: expected --baseline RUN0 to compare with; got none",
    );
    refuse(
      [{ kind: "max-decrease", metric: "nll", bound: 0 }],
      { baseline: base },
      'b: --max-decrease: expected a metric the baseline has too (ece); got "nll"',
    );
    refuse(
      [max],
      { baseline: base },
      "--baseline: expected --max-increase or --max-decrease rules to check against it; got none",
    );
    refuse(
      [{ kind: "max-increase", metric: "ece", bound: 0 }],
      { baseline: base },
      "b: --baseline: expected grid points in common with the run (among those selected); got none",
    );
    refuse(
      Array.from({ length: 1001 }, () => max),
      {},
      "check: expected at most 1000 rules and 1000 --where values; got 1001 and 0",
    );
  });
});

/** XML character data and attribute values decoded (the five entities and numeric references). */
function xmlDecode(s: string): string {
  return s.replace(/&(amp|lt|gt|quot|apos|#\d+);/g, (_, e: string) =>
    e.startsWith("#")
      ? String.fromCharCode(Number(e.slice(1)))
      : ({ amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" } as Record<string, string>)[e],
  );
}
/** What survives into XML: characters XML cannot hold (and C1 controls) become `\uXXXX` text. */
function xmlVisible(s: string): string {
  return s.replace(/[\p{Cc}\uFFFE\uFFFF]|\p{Cs}/gu, (c) =>
    c === "\t" || c === "\n" || c === "\r" ? c : `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}
const anyText = fc.string({
  unit: fc.oneof(
    fc.constantFrom("<", ">", "&", '"', "'", "\n", "\r", "\t", "\u0000", "\u001b", "\uFFFE", "\uD800", "]]>"),
    fc.string({ unit: "grapheme", minLength: 1, maxLength: 1 }),
    fc.string({ unit: "binary", minLength: 1, maxLength: 1 }),
  ),
  maxLength: 30,
});

describe("JUnit XML", () => {
  test.prop([anyText, anyText])(
    "attributes and text decode back to what was written (XML-illegal characters shown as \\uXXXX)",
    (a, t) => {
      const xml = junitXml(a, [
        { name: a, cases: [{ classname: a, name: a, failure: { message: a, text: t } }] },
      ]);
      const attr = /<testcase classname="([^"]*)" name="([^"]*)">/.exec(xml);
      expect(attr).not.toBeNull();
      expect(xmlDecode(attr?.[1] ?? "")).toBe(xmlVisible(a));
      const body = /type="softcal\.check">([^<]*)<\/failure>/.exec(xml);
      expect(xmlDecode(body?.[1] ?? "")).toBe(xmlVisible(t));
      // Nothing unescaped: no raw "<" inside values, no raw quote inside attributes, no "]]>".
      expect(xmlEscape(a, true)).not.toMatch(/[<>"&](?!(amp|lt|gt|quot|apos|#\d+);)/);
    },
  );

  (python ? it : it.skip)("is well-formed XML for hostile strings (checked by Python's expat)", () => {
    const strings = fc.sample(anyText, { numRuns: 300 });
    const doc = junitXml("hostile", [
      {
        name: "suite",
        cases: strings.map((s, i) =>
          i % 3 === 0
            ? { classname: s, name: s, failure: { message: s, text: s } }
            : i % 3 === 1
              ? { classname: s, name: s, skipped: s }
              : { classname: s, name: s, output: s },
        ),
      },
    ]);
    const file = path.join(tmp.make(), "hostile.xml");
    fs.writeFileSync(file, doc);
    expect(xmlProblem(file)).toBe("");
  });
  if (!python)
    it("skips the Python XML check", () =>
      console.log("skipped: /usr/bin/python3 with xml.dom.minidom is not available"));

  it("lists every rule as a suite and every rule × point as a case, with counts", () => {
    const run = memoryRun({ grid: GRID, metrics: ["m"], seeds: 2, values: GRID.map((_, i) => [[i, i]]) });
    const report = checkRun(run, [
      { kind: "max", metric: "m", bound: 2 },
      { kind: "min", metric: "m", bound: 1 },
    ]);
    const xml = gateJUnit(report);
    expect(xml).toContain(
      `<testsuites name="softcal check mem" tests="12" failures="${report.failed}" errors="0" skipped="0">`,
    );
    expect(xml).toContain('<testsuite name="m &lt;= 2" tests="6" failures="3" errors="0" skipped="0">');
    expect(xml).toContain('<testsuite name="m &gt;= 1" tests="6" failures="1" errors="0" skipped="0">');
    expect(xml.match(/<testcase /g)).toHaveLength(12);
    expect(xml).toContain(
      '<testcase classname="softcal.check.toy" name="a=0, b=x">\n      <failure message="mean 0 is not &gt;= 1" type="softcal.check">',
    );
  });
});

describe("Markdown", () => {
  const unescapedPipes = (line: string) => line.replace(/\\./g, "").split("|").length - 1;
  test.prop([fc.array(anyText, { minLength: 1, maxLength: 5 })])(
    "a cell cannot break its table: one line, and exactly the table's column separators",
    (cells) => {
      for (const c of cells) expect(markdownCell(c)).not.toMatch(/[\n\r\u2028\u2029]/);
      const table = markdownTable(
        cells.map((_, i) => `h${i}`),
        [cells],
      );
      const lines = table.split("\n");
      expect(lines).toHaveLength(3);
      expect(unescapedPipes(lines[2])).toBe(cells.length + 1);
      // No raw HTML or emphasis can start in a cell.
      expect(lines[2].replace(/\\./g, "")).not.toMatch(/[<>*_`[\]]/);
    },
  );
});

describe("softcal check on real l2-sweep runs", () => {
  let root: string;
  let a: string;
  let same: string;
  let seed7: string;
  let worse: string;
  beforeAll(async () => {
    root = tmp.make();
    a = await l2Run(path.join(root, "a"));
    same = await l2Run(path.join(root, "same"));
    seed7 = await l2Run(path.join(root, "seed7"), "--root-seed", "7");
    // A copy of `same` whose ECE got worse by 0.0625 on every unit (an exact binary fraction).
    worse = path.join(root, "worse", "l2-sweep");
    fs.mkdirSync(worse, { recursive: true });
    fs.copyFileSync(path.join(same, "config.json"), path.join(worse, "config.json"));
    const lines = fs.readFileSync(path.join(same, "runs.csv"), "utf8").split("\n");
    const col = lines[0].split(",").indexOf("ece");
    const edited = lines.map((l, i) => {
      if (i === 0 || l === "") return l;
      const cells = l.split(",");
      cells[col] = String(Number(cells[col]) + 0.0625);
      return cells.join(",");
    });
    fs.writeFileSync(path.join(worse, "runs.csv"), edited.join("\n"));
  });

  it("exits 1 on the loose model (--set l2=0 on separable clusters) with --max ece=0.01, listing the violation", async () => {
    const dir = tmp.make();
    const junit = path.join(dir, "check.xml");
    const md = path.join(dir, "check.md");
    const loose = await l2Run(path.join(dir, "loose"), "--set", "l2=0", "--data", "clusters");
    const r = await cli("check", loose, "--max", "ece=0.01", "--junit", junit, "--markdown", md);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(/^FAIL {2}ece <= 0\.01 at data=clusters, l2=0: mean 0\.04\d* is not <= 0\.01$/m);
    expect(r.stdout).toContain("FAILED: 1 of 1 checks violated (0 hold, 0 skipped)\n");
    // The same point of the full sweep, selected with --where, fails the same way.
    const where = await cli("check", a, "--where", "l2=0", "--where", "data=clusters", "--max", "ece=0.01");
    expect([where.code, where.stdout.split("\n")[1]]).toEqual([1, r.stdout.split("\n")[1]]);
    expectWellFormed(junit);
    const xml = fs.readFileSync(junit, "utf8");
    expect(xml).toContain('<testsuite name="ece &lt;= 0.01" tests="1" failures="1" errors="0" skipped="0">');
    expect(fs.readFileSync(md, "utf8")).toMatch(
      /^### softcal check: FAILED: 1 of 1 checks violated\n[\s\S]*\n\| FAIL \| ece \\<= 0\.01 \| data=clusters, l2=0 \| 0\.04\d* \| 0\.01 \|/,
    );
  });

  it("exits 0 on lenient rules; the JUnit file lists every rule at every point", async () => {
    const junit = path.join(tmp.make(), "check.xml");
    const r = await cli("check", a, "--max", "ece=1", "--min", "accuracy=0", "--junit", junit);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("PASSED: 36 of 36 checks hold\n");
    expectWellFormed(junit);
    const xml = fs.readFileSync(junit, "utf8");
    expect(xml.match(/<testsuite /g)).toHaveLength(2);
    expect(xml.match(/<testcase /g)).toHaveLength(36);
    expect(xml).toContain('tests="36" failures="0"');
  });

  it("against a baseline: no change passes at Δ = 0; a +0.0625 regression fails at Δ = 0.05 and passes at 0.1", async () => {
    const same0 = await cli("check", same, "--baseline", a, "--max-increase", "ece=0");
    expect(same0.code).toBe(0);
    expect(same0.stdout).toContain(
      `baseline ${a}: same root seed (0), seed derivation, streams and data: paired by seed index\n`,
    );
    const fail = await cli("check", worse, "--baseline", a, "--max-increase", "ece=0.05", "--json");
    expect(fail.code).toBe(1);
    const report = JSON.parse(fail.stdout) as GateReport;
    expect(report.ok).toBe(false);
    expect(report.results).toHaveLength(18);
    for (const r of report.results) {
      expect(r.status).toBe("fail");
      expect(r.value as number).toBeCloseTo(0.0625, 12);
      expect(r.ci95Lo as number).toBeGreaterThan(0.05);
    }
    const pass = await cli(
      "check",
      worse,
      "--baseline",
      a,
      "--max-increase",
      "ece=0.1",
      "--max-decrease",
      "accuracy=0",
    );
    expect(pass.code).toBe(0);
    expect(pass.stdout).toContain("PASSED: 36 of 36 checks hold\n");
  });

  it("against a baseline with another root seed: Welch, and it says so", async () => {
    const r = await cli("check", seed7, "--baseline", a, "--max-increase", "ece=0.5");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`baseline ${a}: different root seed (0 vs 7): unpaired Welch\n`);
    const j = JSON.parse(
      (await cli("check", seed7, "--baseline", a, "--max-increase", "ece=0.5", "--json")).stdout,
    ) as GateReport;
    expect(j.results.every((x) => x.test?.startsWith("Welch t"))).toBe(true);
  });

  it("exits 2 with one line for a bad rule or run, and writes nothing", async () => {
    const dir = tmp.make();
    const junit = path.join(dir, "check.xml");
    const bad = async (args: string[], message: string | RegExp) => {
      const r = await cli("check", ...args, "--junit", junit);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr.split("\n")).toHaveLength(2);
      expect(r.stderr).toMatch(message);
      expect(fs.existsSync(junit)).toBe(false);
    };
    await bad(
      [a, "--max", "eec=0.1"],
      /--max: expected a metric of l2-sweep \(accuracy, nll, brier, ece, .*\); got "eec"$/m,
    );
    await bad(
      [a, "--max", "ece=0.1", "--where", "lambda=0"],
      /--where: expected an axis of l2-sweep \(data, l2\); got "lambda"$/m,
    );
    await bad(
      [a, "--max", "ece=0.1", "--where", "l2=0.5"],
      /--where: expected a value of "l2" in the grid \(0, 0\.0001, 0\.001, 0\.01, 0\.1, 1\); got "0\.5"$/m,
    );
    await bad([a, "--max", "ece"], /--max: expected METRIC=VALUE with VALUE a finite number; got "ece"$/m);
    await bad([a], /check: expected at least one rule/);
    await bad(
      [a, "--max-increase", "ece=0"],
      /--max-increase: expected --baseline RUN0 to compare with; got none/,
    );
    await bad(
      [a, "--baseline", same, "--max", "ece=1"],
      /--baseline: expected --max-increase or --max-decrease rules/,
    );
    await bad(
      [path.join(root, "missing"), "--max", "ece=1"],
      /missing: expected a run folder \(holding config\.json and runs\.csv\); got no such folder/,
    );
    await bad(
      [a, "--max", "ece=1", "--markdown", junit],
      /--junit and --markdown: expected two different files; got the same path/,
    );
    fs.writeFileSync(junit, "keep me");
    const exists = await cli("check", a, "--max", "ece=1", "--junit", junit);
    expect(exists.code).toBe(2);
    expect(exists.stderr).toBe(`softcal: ${junit}: --junit: the file exists; pass --force to overwrite it\n`);
    expect(fs.readFileSync(junit, "utf8")).toBe("keep me");
    expect((await cli("check", a, "--max", "ece=1", "--junit", junit, "--force")).code).toBe(0);
    expectWellFormed(junit);
  });

  it("--json prints one object; --help shows examples", async () => {
    const r = await cli("check", a, "--max", "ece=1", "--json");
    expect(r.stdout.trimEnd().split("\n")).toHaveLength(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, passed: 18, failed: 0, skipped: 0 });
    const help = await cli("check", "--help");
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Examples:\n  softcal check results/l2-sweep --max ece=0.1");
  });

  it("the Markdown report suits a step summary: verdict heading, failures first", () => {
    const run = memoryRun({ grid: GRID, metrics: ["m"], seeds: 1, values: GRID.map((_, i) => [[i]]) });
    const md = gateMarkdown(checkRun(run, [{ kind: "max", metric: "m", bound: 3.5 }]));
    const rows = md.split("\n").filter((l) => l.startsWith("| "));
    expect(md.split("\n")[0]).toBe("### softcal check: FAILED: 2 of 6 checks violated");
    expect(rows.slice(1).map((l) => l.split(" | ")[0])).toEqual([
      "| FAIL",
      "| FAIL",
      "| pass",
      "| pass",
      "| pass",
      "| pass",
    ]);
  });
});

describe("the README's GitHub Actions recipe (docs/recipes/github-actions-check.yml)", () => {
  interface Step {
    uses?: string;
    run?: string;
    if?: string;
    with?: Record<string, string>;
  }
  const recipe = path.join(
    path.dirname(new URL(import.meta.url).pathname),
    "..",
    "docs",
    "recipes",
    "github-actions-check.yml",
  );
  const wf = parse(fs.readFileSync(recipe, "utf8")) as {
    on: Record<string, unknown>;
    jobs: { gate: { steps: Step[] } };
  };
  const SOFTCAL = "node dist/src/cli/main.js ";

  /**
   * Runs the gate job's steps in `workspace` as a runner would after checkout and `npm ci`: softcal
   * command lines in-process (arguments split on spaces: the recipe quotes none), other `run` steps
   * through bash with GITHUB_STEP_SUMMARY set, `if: always()` steps even after a failure; actions
   * are skipped. Returns the exit code of the first failing step (0 if none) and the summary.
   */
  async function gate(workspace: string): Promise<{ code: number; summary: string }> {
    const summary = path.join(workspace, "summary.md");
    fs.writeFileSync(summary, "");
    let code = 0;
    const cwd = process.cwd();
    process.chdir(workspace);
    try {
      for (const step of wf.jobs.gate.steps) {
        if (code !== 0 && step.if !== "always()") continue;
        if (step.run === undefined || step.run === "npm ci") continue;
        let c: number;
        if (step.run.startsWith(SOFTCAL)) {
          const r = await cli(...step.run.slice(SOFTCAL.length).split(" "));
          c = r.code;
        } else {
          c =
            spawnSync("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", step.run], {
              cwd: workspace,
              env: { PATH: process.env.PATH, GITHUB_STEP_SUMMARY: summary },
            }).status ?? 1;
        }
        if (code === 0) code = c;
      }
    } finally {
      process.chdir(cwd);
    }
    return { code, summary: fs.readFileSync(summary, "utf8") };
  }

  it("runs on pull requests, writes JUnit for a test reporter and Markdown to the step summary", () => {
    expect(Object.keys(wf.on)).toEqual(["pull_request"]);
    const uses = wf.jobs.gate.steps.flatMap((s) => (s.uses ? [s.uses.replace(/@.*/, "")] : []));
    expect(uses).toEqual(["actions/checkout", "actions/setup-node", "mikepenz/action-junit-report"]);
    expect(wf.jobs.gate.steps.find((s) => s.uses?.startsWith("mikepenz/"))?.with?.report_paths).toBe(
      "check.xml",
    );
  });

  it("passes a pull request that leaves the model alone and fails one that makes ECE worse", {
    timeout: 120_000,
  }, async () => {
    const workspace = tmp.make();
    // The stored baseline: the sweep step's own command with --out .softcal/baseline (on main).
    const sweep = wf.jobs.gate.steps.find((s) => s.run?.startsWith(`${SOFTCAL}run `))?.run as string;
    const args = sweep.slice(SOFTCAL.length).split(" ");
    args[args.indexOf("--out") + 1] = path.join(workspace, ".softcal", "baseline");
    expect((await cli(...args)).code).toBe(0);
    // Keep only what the recipe says the repository stores.
    const base = path.join(workspace, ".softcal", "baseline", "l2-sweep");
    for (const f of fs.readdirSync(base)) {
      if (!["config.json", "manifest.json", "runs.csv"].includes(f))
        fs.rmSync(path.join(base, f), { recursive: true });
    }

    const same = await gate(workspace);
    expect(same.code).toBe(0);
    expect(same.summary).toMatch(/^### softcal check: PASSED: \d+ of \d+ checks hold\n/);
    expectWellFormed(path.join(workspace, "check.xml"));

    // A pull request that makes every unit's ECE worse by 0.03: the baseline's runs.csv is made
    // better by 0.03 instead (the same paired difference, without editing the code under test).
    const file = path.join(base, "runs.csv");
    const lines = fs.readFileSync(file, "utf8").split("\n");
    const col = lines[0].split(",").indexOf("ece");
    fs.writeFileSync(
      file,
      lines
        .map((l, i) => {
          if (i === 0 || l === "") return l;
          const cells = l.split(",");
          cells[col] = String(Number(cells[col]) - 0.03);
          return cells.join(",");
        })
        .join("\n"),
    );
    for (const f of ["check.xml", "check.md"]) fs.rmSync(path.join(workspace, f));
    fs.rmSync(path.join(workspace, "candidate"), { recursive: true });
    const worse = await gate(workspace);
    expect(worse.code).toBe(1);
    expect(worse.summary).toMatch(/^### softcal check: FAILED: 18 of \d+ checks violated\n/);
    expect(worse.summary).toContain("| FAIL | ece - baseline \\<= 0.01 | data=clusters, l2=0 | 0.03 |");
    expectWellFormed(path.join(workspace, "check.xml"));
    expect(fs.readFileSync(path.join(workspace, "check.xml"), "utf8")).toContain(
      '<testsuite name="ece - baseline &lt;= 0.01" tests="18" failures="18" errors="0" skipped="0">',
    );
  });
});
