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
import seedrandom from "seedrandom";
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
      "histogram binning on fewer rows than bins",
      "p_a,p_b,label\n0.2,0.8,a\n0.6,0.4,b\n",
      ["calibrate", "--method", "histogram"],
      ": expected at least 15 calibration rows (one per bin); got 2 — use fewer bins or more rows",
    ],
    [
      "more ECE bins than max(rows, 15)",
      "p_a,p_b,label\n0.2,0.8,a\n0.6,0.4,b\n",
      ["calibrate", "--bins", "16"],
      ": --bins: expected at most max(rows, 15) = 15 bins for 2 rows (more bins than rows are empty); got 16",
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
    [
      ["evaluate", "--bins", "0"],
      "--bins: expected an integer from 1 to 10000 (memory: one bin object per bin and class); got 0",
    ],
    [["evaluate", "--bins", "1.5"], '--bins: expected an integer; got "1.5"'],
    [["evaluate", "--strategy", "median"], '--strategy: expected one of uniform, quantile; got "median"'],
    [
      ["calibrate", "--method", "magic"],
      '--method: expected one of temperature, vector, matrix, dirichlet, histogram, isotonic, platt, beta; got "magic"',
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

describe("calibrate: held-out metrics, zero-probability rows, vector scaling's refusal or --l2", () => {
  const rng = seedrandom.alea("cli-calibration-heldout");
  /** n rows of 3-class logits 3× too confident, labels drawn from softmax(z / 3). */
  function logitRows(n: number): { rows: number[][]; y: number[] } {
    const rows: number[][] = [];
    const y: number[] = [];
    for (let i = 0; i < n; i++) {
      const z = [0, 1, 2].map(() => 6 * (rng() - 0.5));
      const e = z.map((v) => Math.exp(v / 3));
      const s = e.reduce((a, b) => a + b, 0);
      let u = rng() * s;
      let k = 0;
      while (k < 2 && (u -= e[k]) >= 0) k++;
      rows.push(z);
      y.push(k);
    }
    return { rows, y };
  }

  it("--apply with labels: test {n, before, after} equal `evaluate` on the input and on --out; old keys unchanged", async () => {
    const val = logitRows(300);
    const tst = logitRows(200);
    const header = ["p_0", "p_1", "p_2"];
    const fit = csv("heldout-val.csv", header, val.rows, val.y);
    const apply = csv("heldout-test.csv", header, tst.rows, tst.y);
    const out = join(dir, "heldout-out.csv");
    const r = await json("calibrate", "--fit", fit, "--apply", apply, "--out", out, "--logits", "--force");
    expect(Object.keys(r.before)).toEqual(["nll", "ece"]);
    expect(Object.keys(r.after)).toEqual(["nll", "ece"]);
    expect(r.method).toBe("temperature");
    expect(r.temperature).toBeGreaterThan(1);
    const before = await json("evaluate", "--predictions", apply, "--logits");
    const after = await json("evaluate", "--predictions", out);
    const pick = (e: Record<string, number>) => ({
      nll: e.nll,
      ece: e.ece,
      brier: e.brier,
      accuracy: e.accuracy,
      zeroProbabilityRows: e.zeroProbabilityRows,
    });
    expect(r.test).toEqual({ n: 200, before: pick(before), after: pick(after) });
    expect(r.applied).toEqual({
      n: 200,
      before: { nll: before.nll, ece: before.ece },
      after: { nll: after.nll, ece: after.ece },
    });
    // Temperature scaling keeps every argmax: held-out accuracy is unchanged.
    expect(r.test.after.accuracy).toBe(r.test.before.accuracy);
    const human = await cli("calibrate", "--fit", fit, "--apply", apply, "--out", out, "--logits", "--force");
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(
      `${apply} (200 rows, held out)  NLL ${before.nll.toFixed(4)} → ${after.nll.toFixed(4)}`,
    );
    expect(human.stdout).toContain(`accuracy ${before.accuracy.toFixed(4)} → ${after.accuracy.toFixed(4)}`);
  });

  it("histogram binning: held-out rows with p_y = 0 are counted (JSON, stderr) and match the written file", async () => {
    // Confidences of class 1 below 0.5 are always class 0 in the calibration set: bins with
    // frequency 0 for class 1. Test rows there with label 1 get p_1 = 0 exactly.
    const pv = Array.from({ length: 40 }, (_, i) => (i + 0.5) / 40);
    const fit = csv(
      "hist-val.csv",
      ["p"],
      pv.map((p) => [p]),
      pv.map((p, i) => (p < 0.5 ? 0 : i % 2)),
    );
    const pt = [0.05, 0.15, 0.3, 0.45, 0.55, 0.7, 0.9];
    const yt = [1, 0, 1, 1, 1, 0, 1];
    const apply = csv(
      "hist-test.csv",
      ["p"],
      pt.map((p) => [p]),
      yt,
    );
    const out = join(dir, "hist-out.csv");
    const r = await cli(
      "calibrate",
      "--method",
      "histogram",
      "--bins",
      "10",
      "--fit",
      fit,
      "--apply",
      apply,
      "--out",
      out,
      "--force",
      "--json",
    );
    expect(r.code, r.stderr).toBe(0);
    const written = readFileSync(out, "utf8").trim().split("\n").slice(1);
    const zeros = written.filter((line) => {
      const [p0, p1, label] = line.split(",");
      return Number(label === "1" ? p1 : p0) === 0;
    }).length;
    expect(zeros).toBe(3);
    const j = JSON.parse(r.stdout);
    expect(j.test.after.zeroProbabilityRows).toBe(zeros);
    expect(j.test.after.nll).toBeNull(); // +Infinity: JSON.stringify writes null
    expect(j.test.before.zeroProbabilityRows).toBe(0);
    expect(r.stderr).toBe(
      `softcal calibrate: warning: ${apply}: NLL after histogram is +Infinity because 3 of 7 rows get probability 0 for their label\n`,
    );
  });

  it("temperature scaling on 10 rows with the default 15 ECE bins works (only histogram binning needs rows ≥ bins)", async () => {
    const { rows, y } = logitRows(10);
    y[0] = (y[0] + 1) % 3; // keep two classes and some error
    y[1] = (y[0] + 1) % 3;
    const file = csv("ten.csv", ["p_0", "p_1", "p_2"], rows, y);
    const r = await cli("calibrate", "--fit", file, "--logits", "--json");
    if (r.code === 1) {
      // A 10-row sample can be separable or worse than chance: a true reason, never exit 2.
      expect(r.stderr).toMatch(/non-separable|better-than-chance/);
      return;
    }
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    const ev = await json("evaluate", "--predictions", file, "--logits", "--bins", "15");
    expect(j.before).toEqual({ nll: ev.nll, ece: ev.ece });
  });

  it("vector scaling on a separable set exits 1 with the reason; --l2 fits and says so", async () => {
    const file = join(dir, "vector-separable.csv");
    writeFileSync(file, "z0,z1,z2,label\n2,0,-1,0\n0,1,0.5,1\n-1,0,3,2\n1.5,1,0,0\n");
    const r = await cli("calibrate", "--method", "vector", "--fit", file, "--logits", "--bins", "2");
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(
      new RegExp(
        `^softcal: ${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: vector scaling needs a non-separable calibration set; .* — pass --l2 λ \\(a penalty toward the identity\\) or use more calibration data\\n$`,
      ),
    );
    const ok = await json(
      "calibrate",
      "--method",
      "vector",
      "--l2",
      "0.01",
      "--fit",
      file,
      "--logits",
      "--bins",
      "2",
    );
    expect(ok.vector).toMatchObject({ l2: 0.01, separable: true, regularized: true });
    expect(ok.converged).toBe(true);
    expect(ok.gradient).toBeLessThanOrEqual(1e-7);
    const human = await cli(
      "calibrate",
      "--method",
      "vector",
      "--l2",
      "0.01",
      "--fit",
      file,
      "--logits",
      "--bins",
      "2",
    );
    expect(human.stdout).toContain(
      "the calibration set is separable (no finite unpenalized fit); L2 penalty λ = 0.01 toward the identity",
    );
    const wrong = await cli("calibrate", "--l2", "0.01", "--fit", file, "--logits");
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toBe(
      "softcal: --l2: expected --method vector, matrix, dirichlet; got --method temperature\n",
    );
  });
});

describe("evaluate: zero-probability rows and bootstrap intervals that exclude the estimate", () => {
  it("rows with p_y = 0: zeroProbabilityRows in JSON, one warning line, NLL infinite", async () => {
    const file = join(dir, "zeros.csv");
    writeFileSync(file, "p_a,p_b,label\n1,0,b\n0.5,0.5,a\n0,1,a\n0.3,0.7,b\n");
    const r = await cli("evaluate", "--predictions", file, "--json");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).zeroProbabilityRows).toBe(2);
    expect(r.stderr).toBe(
      `softcal evaluate: warning: ${file}: NLL is +Infinity because 2 of 4 rows give their label probability 0\n`,
    );
    const human = await cli("evaluate", "--predictions", file);
    expect(human.stdout).toContain("2 rows give their label probability 0, so NLL is +Infinity");
  });

  it("excludesEstimate is exactly 'estimate outside [lower, upper]'; the text says so (binned ECE's upward bias)", async () => {
    // Confidence equals accuracy in both occupied bins (0.75: 15 of 20 right; 0.8: 8 of 10), so
    // the ECE is 0 up to rounding, while a resample's bin frequencies drift: ECE > 0.
    const p = [...Array(20).fill(0.75), ...Array(10).fill(0.2)];
    const y = [...Array(15).fill(1), ...Array(5).fill(0), ...Array(8).fill(0), ...Array(2).fill(1)];
    const file = csv(
      "calibrated.csv",
      ["p"],
      p.map((v) => [v]),
      y,
    );
    const flags = ["--bootstrap", "200", "--seed", "3", "--metric", "ece,accuracy,brier"];
    const j = await json("evaluate", "--predictions", file, ...flags);
    for (const m of ["ece", "accuracy", "brier"]) {
      const ci = j.intervals[m];
      expect(ci.excludesEstimate).toBe(!(ci.lower <= j[m] && j[m] <= ci.upper));
    }
    // Binned ECE is biased upward: this interval sits above the estimate.
    expect(j.intervals.ece.excludesEstimate).toBe(true);
    expect(j.intervals.ece.lower).toBeGreaterThan(j.ece);
    const human = await cli("evaluate", "--predictions", file, ...flags);
    expect(human.stdout).toMatch(/^ece {11}\S+ {2}\[\S+, \S+\] \(95% bootstrap; excludes the estimate\)$/m);
    expect(human.stdout).toContain(
      "note: the bootstrap interval of ece excludes the estimate: binned ECE/MCE are biased upward",
    );
  });
});
