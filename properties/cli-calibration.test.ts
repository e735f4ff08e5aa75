/**
 * `softcal evaluate` and `softcal calibrate` end to end (CSV in, JSON out) against the committed
 * numpy / scikit-learn / scipy fixtures (properties/fixtures/calibration/calibration.json, made by
 * make_fixtures.py with the versions it records): bins to 1e-12, metrics to 1e-12, temperatures to
 * 1e-6 relative. Numbers go through the CSV in shortest round-trip form, so the CLI sees the
 * fixture's exact doubles.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cli } from "./_shared/cli.js";
import { expectClose } from "./_shared/expectClose.js";

interface Curve {
  name: string;
  bins: number;
  p: number[];
  y: number[];
  probTrue: number[];
  probPred: number[];
}
interface Multiclass {
  n: number;
  K: number;
  probabilities: number[][];
  logits: number[][];
  y: number[];
  accuracy: number;
  nllLogits: number;
  brier: number;
  metrics: { bins: number; ece: number; mce: number; classwiseEce: number }[];
}
interface Temperature {
  name: string;
  logits: number[][];
  y: number[];
  temperature: number;
}
const fixtures = JSON.parse(
  readFileSync(new URL("./fixtures/calibration/calibration.json", import.meta.url), "utf8"),
) as { curves: Curve[]; multiclass: Multiclass[]; temperature: Temperature[] };

const dir = mkdtempSync(join(tmpdir(), "softcal-cli-cal-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
function csv(name: string, header: string[], rows: number[][], y: number[]): string {
  const file = join(dir, name);
  writeFileSync(
    file,
    [[...header, "label"].join(","), ...rows.map((r, i) => [...r.map(String), y[i]].join(","))].join("\n"),
  );
  return file;
}
async function json(...argv: string[]) {
  const r = await cli(...argv, "--json");
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

describe("evaluate = scikit-learn's calibration_curve, bin for bin (binary, one probability column)", () => {
  it.each(fixtures.curves.map((c, i) => [`${c.name} B=${c.bins} #${i}`, c] as const))("%s", async (_, c) => {
    const file = csv(
      `curve-${c.name}-${c.bins}.csv`,
      ["p"],
      c.p.map((v) => [v]),
      c.y,
    );
    // scikit-learn's rule; its curve drops empty bins and is for the positive class (the
    // class-wise view of class 1).
    const out = await json(
      "evaluate",
      "--predictions",
      file,
      "--bins",
      String(c.bins),
      "--bin-rule",
      "sklearn",
    );
    const bins = (out.classwise[1] as { count: number; observed: number; meanPredicted: number }[]).filter(
      (b) => b.count > 0,
    );
    expectClose(
      bins.map((b) => b.observed),
      c.probTrue,
      { atol: 1e-12 },
      "prob_true",
    );
    expectClose(
      bins.map((b) => b.meanPredicted),
      c.probPred,
      { atol: 1e-12 },
      "prob_pred",
    );
    if (c.name === "random") {
      // Away from the edges (random confidences) softcal's default rule bins the same way.
      const dflt = await json("evaluate", "--predictions", file, "--bins", String(c.bins));
      const b2 = (dflt.classwise[1] as { count: number; observed: number }[]).filter((b) => b.count > 0);
      expectClose(
        b2.map((b) => b.observed),
        c.probTrue,
        { atol: 1e-12 },
        "default rule prob_true",
      );
    }
  });
});

describe("evaluate = numpy on multi-class predictions", () => {
  it.each(fixtures.multiclass.map((m, i) => [`n=${m.n} K=${m.K} #${i}`, m] as const))("%s", async (_, m) => {
    const header = Array.from({ length: m.K }, (_, k) => `p_${k}`);
    const file = csv(`multi-${m.n}-${m.K}.csv`, header, m.probabilities, m.y);
    for (const ref of m.metrics) {
      const out = await json("evaluate", "--predictions", file, "--bins", String(ref.bins));
      expectClose(out.ece, ref.ece, { atol: 1e-12 }, `ece (B=${ref.bins})`);
      expectClose(out.mce, ref.mce, { atol: 1e-12 }, `mce (B=${ref.bins})`);
      expectClose(out.classwiseEce, ref.classwiseEce, { atol: 1e-12 }, `classwise ece (B=${ref.bins})`);
      expectClose(out.brier, m.brier, { atol: 1e-12 }, "brier");
      expectClose(out.accuracy, m.accuracy, { atol: 0 }, "accuracy");
    }
    const logits = csv(`multi-logits-${m.n}-${m.K}.csv`, header, m.logits, m.y);
    const fromLogits = await json("evaluate", "--predictions", logits, "--logits");
    expectClose(fromLogits.nll, m.nllLogits, { rtol: 1e-12 }, "nll from logits");
  });
});

describe("calibrate --method temperature = scipy's bounded search (1e-6 relative)", () => {
  it.each(fixtures.temperature.map((t) => [t.name, t] as const))("%s", async (_, t) => {
    const K = t.logits[0].length;
    const header = K === 1 ? ["z"] : Array.from({ length: K }, (_, k) => `p_${k}`);
    const file = csv(`temp-${t.name}.csv`, header, t.logits, t.y);
    const out = await json("calibrate", "--method", "temperature", "--fit", file, "--logits", "--bins", "10");
    expect(out.method).toBe("temperature");
    expect(out.converged).toBe(true);
    expectClose(out.temperature, t.temperature, { rtol: 1e-6 }, "T");
    expect(out.after.nll).toBeLessThanOrEqual(out.before.nll);
  });
});

describe("evaluate/calibrate: bad input → exit 2 and one line", () => {
  const cases: [string, string, string[], string][] = [
    [
      "out of [0, 1]",
      "p_a,p_b,label\n0.2,0.8,a\n1.2,-0.2,b\n",
      ["evaluate"],
      ':3:1: expected a probability in [0, 1]; got 1.2 (column "p_a")',
    ],
    [
      "row not summing to 1",
      "p_a,p_b,label\n0.2,0.8,a\n0.5,0.4,b\n",
      ["evaluate"],
      ":3: expected probabilities summing to 1 (within 0.000001); got sum 0.9 (rows are never renormalized)",
    ],
    [
      "a label outside the columns' classes",
      "p_a,p_b,label\n0.2,0.8,a\n0.5,0.5,c\n",
      ["evaluate"],
      ':3:3: expected labels that are all class names ("a", "b") or all integers in 0..1; got "c"',
    ],
    [
      "an integer label beyond the columns",
      "a,b,label\n0.2,0.8,1\n0.5,0.5,2\n",
      ["evaluate"],
      ':3:3: expected labels that are all class names ("a", "b") or all integers in 0..1; got "2"',
    ],
    [
      "non-finite logit",
      "z0,z1,label\n0.2,Inf,0\n",
      ["evaluate", "--logits"],
      ':2:2: expected a finite number in column "z1"; got "Inf"',
    ],
    [
      "single-class calibration set",
      "p_a,p_b,label\n0.2,0.8,a\n0.6,0.4,a\n",
      ["calibrate", "--bins", "2"],
      ": expected at least two classes among the calibration labels; got only class 0 — use a larger or stratified calibration split",
    ],
    [
      "fewer rows than bins",
      "p_a,p_b,label\n0.2,0.8,a\n0.6,0.4,b\n",
      ["calibrate"],
      ": expected at least as many calibration rows as bins (15); got 2 — use a larger calibration set or fewer --bins",
    ],
  ];
  it.each(cases)("%s", async (name, text, [command, ...flags], message) => {
    const file = join(dir, `bad-${name.replace(/\W+/g, "-")}.csv`);
    writeFileSync(file, text);
    const r = await cli(command, command === "evaluate" ? "--predictions" : "--fit", file, ...flags);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(`softcal: ${file}${message}\n`);
  });

  const flags: [string[], string][] = [
    [["evaluate", "--bins", "0"], "--bins: expected an integer ≥ 1; got 0"],
    [["evaluate", "--bins", "1.5"], '--bins: expected an integer; got "1.5"'],
    [["evaluate", "--strategy", "median"], '--strategy: expected one of uniform, quantile; got "median"'],
    [
      ["calibrate", "--method", "magic"],
      '--method: expected one of temperature, vector, histogram, isotonic, platt; got "magic"',
    ],
  ];
  it.each(flags)("%j", async ([command, ...rest], message) => {
    const file = join(dir, "ok.csv");
    writeFileSync(file, "p_a,p_b,label\n0.2,0.8,a\n0.6,0.4,b\n");
    const r = await cli(command, command === "evaluate" ? "--predictions" : "--fit", file, ...rest);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`softcal: ${message}\n`);
  });

  it("temperature scaling on separable logits: exit 1 with the reason", async () => {
    const file = join(dir, "separable.csv");
    writeFileSync(file, "z0,z1,label\n0,3,1\n2,0,0\n0,1,1\n5,1,0\n");
    const r = await cli("calibrate", "--fit", file, "--logits", "--bins", "2");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^softcal: .*separable.*\n$/);
  });
});
