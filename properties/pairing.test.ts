/**
 * Sound comparisons, checked on the CSVs of a default `softcal run all` (10 seeds): common random
 * numbers make the experiments agree where they fit the same model on the same split, summaries
 * count what they leave out and keep intervals in range, and paired.csv holds the paired effects.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "csv-parse/sync";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HELD_OUT_METRICS, HELD_OUT_RANGES } from "../src/experiment/toolkit.js";
import { cli } from "./_shared/cli.js";

type Row = Record<string, string>;
const root = mkdtempSync(join(tmpdir(), "softcal-pairing-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const read = (experiment: string, file: string): Row[] =>
  parse(readFileSync(join(root, experiment, file), "utf8"), { columns: true }) as Row[];

let l2: Map<string, Row>;
let temperature: Row[];
let ovr: Row[];

beforeAll(async () => {
  const r = await cli("run", "all", "--no-figures", "--out", root);
  expect(r.stderr).not.toMatch(/internal error/);
  expect(r.code).toBe(0);
  l2 = new Map(read("l2-sweep", "runs.csv").map((r) => [`${r.data}|${Number(r.l2)}|${r.seed_index}`, r]));
  temperature = read("temperature", "runs.csv");
  ovr = read("ovr-vs-softmax", "runs.csv");
}, 300_000);

describe("common random numbers on a default run", () => {
  it("every unit of one seed index has the same seed, in every experiment", () => {
    const seeds = new Map<string, string>();
    for (const e of ["baseline", "l2-sweep", "temperature", "ovr-vs-softmax"]) {
      for (const r of read(e, "runs.csv")) {
        const known = seeds.get(r.seed_index) ?? r.seed;
        expect(r.seed).toBe(known);
        seeds.set(r.seed_index, known);
      }
    }
    expect(seeds.size).toBe(10);
  });

  it("temperature: accuracy is identical for none and temperature at every (data, λ, seed index)", () => {
    const none = new Map(
      temperature.filter((r) => r.method === "none").map((r) => [`${r.data}|${r.l2}|${r.seed_index}`, r]),
    );
    let compared = 0;
    for (const r of temperature.filter((t) => t.method === "temperature")) {
      if (r.failed === "1") continue;
      expect(r.accuracy).toBe(none.get(`${r.data}|${r.l2}|${r.seed_index}`)?.accuracy);
      compared++;
    }
    expect(compared).toBeGreaterThan(0.5 * (temperature.length / 5));
  });

  it("temperature's none rows equal l2-sweep's rows at the same (data, λ, seed index), every held-out metric", () => {
    let compared = 0;
    for (const r of temperature.filter((t) => t.method === "none")) {
      const twin = l2.get(`${r.data}|${Number(r.l2)}|${r.seed_index}`);
      if (r.data === "clusters-large") {
        expect(twin).toBeUndefined();
        continue;
      }
      expect(twin, `${r.data} λ=${r.l2} seed ${r.seed_index}`).toBeDefined();
      for (const m of HELD_OUT_METRICS) expect(r[m], `${m} at ${r.data} λ=${r.l2}`).toBe(twin?.[m]);
      compared++;
    }
    expect(compared).toBe(3 * 4 * 10);
  });

  it("ovr-vs-softmax's softmax columns equal l2-sweep's row at the same (data, λ, seed index)", () => {
    for (const r of ovr) {
      const twin = l2.get(`${r.data}|${Number(r.l2)}|${r.seed_index}`) as Row;
      for (const m of ["accuracy", "nll", "brier", "ece", "mce", "classwise_ece"]) {
        expect(r[`softmax_${m}`], `${m} at ${r.data} λ=${r.l2}`).toBe(twin[m]);
      }
    }
    expect(ovr).toHaveLength(3 * 2 * 10);
  });

  it("config.json records the seed derivation, the streams and the resolved comparisons", () => {
    const config = JSON.parse(readFileSync(join(root, "temperature", "config.json"), "utf8"));
    expect(config.seedDerivation).toMatch(/the same for every grid point and experiment/);
    expect(Object.keys(config.streams)).toEqual(["data", "bootstrap"]);
    expect(config.comparisons).toEqual([
      {
        axis: "method",
        reference: "none",
        metrics: ["accuracy", "nll", "brier", "ece", "mce", "classwise_ece", "mean_confidence"],
      },
    ]);
    const l2Config = JSON.parse(readFileSync(join(root, "l2-sweep", "config.json"), "utf8"));
    expect(l2Config.comparisons[0]).toMatchObject({ axis: "l2", reference: 1e-4 });
  });
});

describe("paired effects", () => {
  it("temperature − none: accuracy differs by exactly 0 on every seed the fit succeeded", () => {
    const rows = read("temperature", "paired.csv").filter(
      (r) => r.method === "temperature" && r.metric === "accuracy",
    );
    expect(rows).toHaveLength(4 * 4);
    for (const r of rows) {
      const failed = temperature.filter(
        (t) => t.method === "temperature" && t.data === r.data && t.l2 === r.l2 && t.failed === "1",
      ).length;
      expect(Number(r.n_failed)).toBe(failed);
      expect(Number(r.n) + Number(r.n_failed) + Number(r.n_nonfinite)).toBe(10);
      if (Number(r.n) > 0) {
        expect([Number(r.mean_diff), Number(r.p_value)]).toEqual([0, 1]);
      }
    }
  });

  it("paired.csv of every comparison experiment names its test, and its counts add up to the seeds", () => {
    for (const e of ["l2-sweep", "temperature", "ovr-vs-softmax"]) {
      const rows = read(e, "paired.csv");
      expect(rows.length).toBeGreaterThan(0);
      for (const r of rows) {
        expect(Number(r.n) + Number(r.n_failed) + Number(r.n_nonfinite)).toBe(10);
        if (Number(r.n) > 0) expect(r.test).toBe(`exact sign-flip (2^${r.n} assignments)`);
        if (r.p_value !== "") expect(Number(r.p_value)).toBeGreaterThan(0);
      }
    }
  });
});

describe("honest summaries", () => {
  it("every summary.csv counts finite, failed and non-finite values; intervals stay in range", () => {
    for (const e of ["baseline", "l2-sweep", "temperature", "ovr-vs-softmax"]) {
      const text = readFileSync(join(root, e, "summary.csv"), "utf8");
      expect(text).not.toMatch(/NaN/);
      const rows = read(e, "summary.csv");
      for (const r of rows) {
        for (const m of HELD_OUT_METRICS) {
          if (!(`${m}_mean` in r)) continue;
          const counts = Number(r[`${m}_n`]) + Number(r[`${m}_failed`]) + Number(r[`${m}_nonfinite`]);
          expect(counts).toBe(Number(r.n));
          if (r[`${m}_mean`] !== "") expect(Number.isFinite(Number(r[`${m}_mean`]))).toBe(true);
          const { min = -Infinity, max = Infinity } = HELD_OUT_RANGES[m];
          for (const c of ["ci95_lo", "ci95_hi"]) {
            if (r[`${m}_${c}`] === "") continue;
            const v = Number(r[`${m}_${c}`]);
            expect(v, `${e} ${m}_${c}`).toBeGreaterThanOrEqual(min);
            expect(v, `${e} ${m}_${c}`).toBeLessThanOrEqual(max);
          }
          if (Number(r[`${m}_nonfinite`]) > 0) expect(r.notes).toContain(`${m}: ${r[`${m}_nonfinite`]} of`);
          if (Number(r[`${m}_failed`]) > 0) expect(r.notes).toContain(`${m}: ${r[`${m}_failed`]} of`);
        }
      }
    }
  });

  it("a failed recalibration is counted as failed in summary.csv, with its reason kept in the unit", () => {
    const failed = temperature.filter((t) => t.failed === "1");
    const summary = read("temperature", "summary.csv");
    for (const s of summary) {
      const mine = failed.filter((t) => t.data === s.data && t.l2 === s.l2 && t.method === s.method).length;
      expect(Number(s.nll_failed)).toBe(mine);
    }
  });
});
