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
