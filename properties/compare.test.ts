/**
 * `softcal compare`: Welch's test and the t CDF against scipy, the paired/unpaired choice, the
 * comparison's algebra (a run against itself, A against B vs B against A, grids that differ), and
 * the command on real `l2-sweep` run folders — identical settings, another root seed, another grid,
 * a copied folder without unit records, a folder merged from shards — and on damaged ones.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { fc, test } from "@fast-check/vitest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pointKey } from "../src/experiment/seeds.js";
import { studentTCdf, studentTQuantile } from "../src/experiment/stats.js";
import type { GridPoint } from "../src/experiment/types.js";
import { compareRuns, pairing, type RunComparison } from "../src/tracking/compare.js";
import { welchTest } from "../src/tracking/welch.js";
import { cli } from "./_shared/cli.js";
import { expectClose } from "./_shared/expectClose.js";
import { l2Run, memoryRun, tempDirs } from "./_shared/trackingRuns.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const fixture = JSON.parse(
  fs.readFileSync(path.join(here, "fixtures", "tracking", "welch.json"), "utf8"),
) as {
  welch: {
    x: number[];
    y: number[];
    diff: number;
    t: number;
    p: number;
    df: number;
    ci95: [number, number];
  }[];
  cdf: { t: number; df: number; cdf: number }[];
};

describe("welchTest and studentTCdf against scipy 1.10.1 (properties/fixtures/tracking/make_welch.py)", () => {
  it("matches ttest_ind(y, x, equal_var=False): difference, t, p and Welch–Satterthwaite df", () => {
    for (const c of fixture.welch) {
      const r = welchTest(c.x, c.y);
      // Sums of a few dozen doubles in different orders: a few ulps; p through the incomplete beta
      // (pinned to scipy's cdf below at 2e-13 relative): 1e-12.
      expectClose(r.diff as number, c.diff, { rtol: 1e-13, atol: 1e-300 }, "diff");
      expectClose(r.t as number, c.t, { rtol: 1e-13 }, "t");
      expectClose(r.df as number, c.df, { rtol: 1e-13 }, "df");
      expectClose(r.pValue as number, c.p, { rtol: 1e-12 }, "p");
    }
  });

  it("gives the 95% interval diff ± t_0.975(df)·se, its quantile exact where scipy's t.ppf is not", () => {
    for (const c of fixture.welch) {
      const r = welchTest(c.x, c.y);
      const half = ((r.ci95Hi as number) - (r.ci95Lo as number)) / 2;
      const refHalf = (c.ci95[1] - c.ci95[0]) / 2;
      // scipy 1.10's t.ppf at non-integer df misses its own cdf by up to 2.4e-11 (ppf_cdf_error in
      // the fixture), ~7e-10 relative in the quantile at df ≈ 1.47: the interval agrees to 1e-9.
      expectClose(half, refHalf, { rtol: 1e-9 }, "half-width");
      // Ours is the exact quantile of the CDF that matches scipy's t.cdf (next test).
      expectClose(studentTCdf(half / (r.se as number), r.df as number), 0.975, { atol: 1e-14 }, "cdf at q");
      expectClose(((r.ci95Lo as number) + (r.ci95Hi as number)) / 2, c.diff, { rtol: 1e-12, atol: 1e-15 });
    }
  });

  it("studentTCdf matches scipy.stats.t.cdf, far tails and non-integer df included", () => {
    for (const c of fixture.cdf) {
      // Relative in the lower tail (computed directly, never as 1 − …): 1e-12 (worst seen 2e-13).
      expectClose(studentTCdf(c.t, c.df), c.cdf, { rtol: 1e-12 }, `t.cdf(${c.t}, ${c.df})`);
    }
  });
});

const finiteSample = (min: number, max: number) =>
  fc.array(fc.double({ min: -1e3, max: 1e3, noNaN: true, noDefaultInfinity: true }), {
    minLength: min,
    maxLength: max,
  });
/** Two samples whose variances are not both ~0 (t is then well-conditioned). */
const twoSamples = fc.tuple(finiteSample(2, 12), finiteSample(2, 12)).filter(([x, y]) => {
  const r = welchTest(x, y);
  return r.se !== null && r.se > 1e-6 * (1 + Math.abs(r.diff as number));
});

describe("welchTest properties", () => {
  test.prop([twoSamples])(
    "swapping the samples negates diff, t and the interval and keeps p and df",
    ([x, y]) => {
      const a = welchTest(x, y);
      const b = welchTest(y, x);
      // mean(y) − mean(x) vs mean(x) − mean(y): the same two rounded means, so exactly negated.
      expect(b.diff).toBe(-(a.diff as number));
      expect(b.t).toBe(-(a.t as number));
      expect(b.df).toBe(a.df);
      expect(b.pValue).toBe(a.pValue);
      expect(b.ci95Lo).toBe(-(a.ci95Hi as number));
    },
  );

  test.prop([twoSamples])(
    "p < 0.05 exactly when the 95% interval excludes 0 (the test and its interval agree)",
    ([x, y]) => {
      const r = welchTest(x, y);
      const p = r.pValue as number;
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThanOrEqual(1);
      expect(r.ci95Lo as number).toBeLessThanOrEqual(r.diff as number);
      expect(r.ci95Hi as number).toBeGreaterThanOrEqual(r.diff as number);
      // Both are |t| against t_0.975(df); near the boundary rounding may decide either way.
      fc.pre(Math.abs(p - 0.05) > 1e-9);
      const excludes = (r.ci95Lo as number) > 0 || (r.ci95Hi as number) < 0;
      expect(excludes).toBe(p < 0.05);
    },
  );

  test.prop([twoSamples, fc.integer({ min: -20, max: 20 }), fc.integer({ min: 1, max: 8 })])(
    "shifting both samples by c and scaling them by a power of two leave t, df and p unchanged",
    ([x, y], c, k) => {
      const s = 2 ** k; // exact scaling: t and df do not change by a single bit… up to the shift's rounding
      const a = welchTest(x, y);
      const b = welchTest(
        x.map((v) => v * s + c),
        y.map((v) => v * s + c),
      );
      // The shift by c rounds each value (|v| ≤ 1e3·2^8): relative error ≲ 1e-13 in the centred
      // values, amplified by 1/se in t. The filter keeps se ≥ 1e-6·(1 + |diff|).
      expectClose(b.t as number, a.t as number, { rtol: 1e-6, atol: 1e-6 }, "t");
      expectClose(b.df as number, a.df as number, { rtol: 1e-6 }, "df");
      expectClose(b.pValue as number, a.pValue as number, { atol: 1e-6 }, "p");
    },
  );

  it("has documented edge cases: too few values, two constant samples", () => {
    expect(welchTest([], [1, 2])).toMatchObject({ diff: null, pValue: null, ci95Lo: null });
    expect(welchTest([1], [1, 2])).toMatchObject({ diff: 0.5, se: null, pValue: null, ci95Lo: null });
    expect(welchTest([2, 2, 2], [2, 2])).toMatchObject({
      diff: 0,
      ci95Lo: 0,
      ci95Hi: 0,
      pValue: 1,
      df: null,
    });
    expect(welchTest([1, 1], [3, 3])).toMatchObject({
      diff: 2,
      ci95Lo: 2,
      ci95Hi: 2,
      pValue: 0,
      t: Infinity,
    });
    expect(() => welchTest([1, Number.NaN], [1, 2])).toThrow(RangeError);
  });
});

describe("studentTCdf properties", () => {
  const df = fc.oneof(fc.integer({ min: 1, max: 200 }), fc.double({ min: 0.5, max: 500, noNaN: true }));
  test.prop([fc.double({ min: -50, max: 50, noNaN: true }), df])(
    "F(−t) + F(t) = 1 and F is increasing",
    (t, d) => {
      expectClose(studentTCdf(-t, d) + studentTCdf(t, d), 1, { atol: 4e-16 }, "symmetry");
      expect(studentTCdf(t + 0.5, d)).toBeGreaterThanOrEqual(studentTCdf(t, d));
    },
  );
  test.prop([fc.double({ min: 0.001, max: 0.999, noNaN: true }), df])("inverts studentTQuantile", (p, d) => {
    // The quantile is bisected to the last bit of t against the same incomplete beta, so F(Q(p))
    // is p up to that function's own error: ≲ 2e-12 absolute near t = 0 at large df (1 − x, with
    // x = df/(df + t²) ≈ 1, loses digits), 1e-12 relative in the tails.
    expectClose(studentTCdf(studentTQuantile(p, d), d), p, { rtol: 1e-12, atol: 5e-12 });
  });
  it("has its limits", () => {
    expect(studentTCdf(0, 3)).toBe(0.5);
    expect(studentTCdf(Number.NEGATIVE_INFINITY, 3)).toBe(0);
    expect(studentTCdf(Number.POSITIVE_INFINITY, 3)).toBe(1);
    expect(studentTCdf(Number.NaN, 3)).toBeNaN();
    expect(() => studentTCdf(1, 0)).toThrow(RangeError);
    expect(() => studentTCdf(1, Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });
});

/** Grids over axes a ∈ {0, 1, 2, 3} and b ∈ {"x", "y"}: a non-empty subset, in a shuffled order. */
const gridArb = fc
  .subarray(
    [0, 1, 2, 3].flatMap((a) => ["x", "y"].map((b) => ({ a, b }) as GridPoint)),
    { minLength: 1 },
  )
  .chain((g) => fc.shuffledSubarray(g, { minLength: g.length, maxLength: g.length }));
/** A metric value as runs.csv may hold one: a number (dyadic, so sums are exact), missing, ±Infinity, NaN. */
const cellArb = fc.oneof(
  { weight: 12, arbitrary: fc.integer({ min: -64, max: 64 }).map((i) => i / 8) },
  { weight: 1, arbitrary: fc.constantFrom(null, Number.POSITIVE_INFINITY, Number.NaN) },
);
const runArb = (seeds: number, rootSeed = 0) =>
  gridArb.chain((grid) =>
    fc
      .array(
        fc.array(fc.array(cellArb, { minLength: seeds, maxLength: seeds }), { minLength: 2, maxLength: 2 }),
        {
          minLength: grid.length,
          maxLength: grid.length,
        },
      )
      .map((values) => memoryRun({ grid, metrics: ["m1", "m2"], seeds, rootSeed, values })),
  );

describe("pairing: paired by seed index only where the runs share seeds, streams and data", () => {
  const base = { grid: [{ a: 1 }], metrics: ["m"], values: [[[1, 2, 3]]] };
  it("pairs runs with the same root seed, derivation, streams and data — over the seed indices both have", () => {
    const p = pairing(
      memoryRun({ ...base, seeds: 3 }).config,
      memoryRun({ ...base, seeds: 5, values: [[[1, 2, 3, 4, 5]]] }).config,
    );
    expect(p).toEqual({
      paired: true,
      seedIndices: 3,
      reason:
        "same root seed (0), seed derivation, streams and data: paired by seed index over the 3 seed indices both have (A has 3, B 5)",
    });
  });
  it("falls back to Welch and says why", () => {
    const a = memoryRun({ ...base, seeds: 3 }).config;
    const why = (b: ReturnType<typeof memoryRun>["config"]) => pairing(a, b);
    expect(why(memoryRun({ ...base, seeds: 3, rootSeed: 7 }).config)).toEqual({
      paired: false,
      seedIndices: 0,
      reason: "different root seed (0 vs 7): unpaired Welch",
    });
    expect(why(memoryRun({ ...base, seeds: 3, streams: null }).config).reason).toBe(
      'run B records no random streams (config.json "streams"): unpaired Welch',
    );
    expect(why(memoryRun({ ...base, seeds: 3, streams: { data: "another split" } }).config).reason).toBe(
      'different random streams (config.json "streams"): unpaired Welch',
    );
    expect(
      why(memoryRun({ ...base, seeds: 3, extra: { seedDerivation: "something else" } }).config).reason,
    ).toBe("different seed derivation: unpaired Welch");
    const tampered = memoryRun({ ...base, seeds: 3 }).config;
    tampered.units[1] = { ...tampered.units[1], seed: 12345 };
    expect(why(tampered).reason).toBe(
      "different seeds at seed index 1 (1089201338 vs 12345): unpaired Welch",
    );
    const perPoint = memoryRun({ grid: [{ a: 1 }, { a: 2 }], metrics: ["m"], seeds: 2, values: [] }).config;
    perPoint.units[2] = { ...perPoint.units[2], seed: 99 };
    expect(pairing(perPoint, perPoint).reason).toBe(
      "run A gives one seed index different seeds (no common random numbers): unpaired Welch",
    );
  });
  it("compares the data fingerprints config.json records (names the file and both hashes)", () => {
    const file = {
      name: "my.csv",
      path: "/x/my.csv",
      sha256: "",
      bytes: 10,
      label: "label",
      rows: 3,
      columns: 2,
      classes: ["0", "1"],
    };
    const print = (sha: string) => ({
      data: [{ ...file, sha256: sha }],
    });
    const a = memoryRun({ ...base, seeds: 3, extra: print("a".repeat(64)) }).config;
    const same = memoryRun({
      ...base,
      seeds: 3,
      extra: {
        data: [{ ...file, path: "/elsewhere/my.csv", sha256: "a".repeat(64) }],
      },
    }).config;
    expect(pairing(a, same).paired).toBe(true); // the path may differ (a folder copied from another machine)
    expect(pairing(a, memoryRun({ ...base, seeds: 3, extra: print("b".repeat(64)) }).config).reason).toBe(
      'different data: "my.csv" has sha256 aaaaaaaaaaaa… in A, bbbbbbbbbbbb… in B: unpaired Welch',
    );
    expect(pairing(a, memoryRun({ ...base, seeds: 3 }).config).reason).toBe(
      'data "my.csv" is a fingerprinted file in run A only: unpaired Welch',
    );
  });
  test.prop([
    fc.integer({ min: 0, max: 3 }),
    fc.integer({ min: 0, max: 3 }),
    fc.integer({ min: 1, max: 4 }),
    fc.integer({ min: 1, max: 4 }),
  ])(
    "is symmetric in the decision, and pairs exactly when the root seeds agree (all else equal)",
    (ra, rb, sa, sb) => {
      const a = memoryRun({ ...base, seeds: sa, rootSeed: ra }).config;
      const b = memoryRun({ ...base, seeds: sb, rootSeed: rb }).config;
      expect(pairing(a, b).paired).toBe(pairing(b, a).paired);
      expect(pairing(a, b).paired).toBe(ra === rb);
      expect(pairing(a, b).seedIndices).toBe(ra === rb ? Math.min(sa, sb) : 0);
    },
  );
});

/** Rows by (point, metric). */
const rowKey = (r: RunComparison["rows"][number]) => `${pointKey(r.point)} ${r.metric}`;

describe("compareRuns", () => {
  test.prop([runArb(3)])(
    "a run against itself: every difference 0 with a zero-width interval, p = 1",
    (run) => {
      const c = compareRuns(run, run);
      expect(c.pairing.paired).toBe(true);
      expect(c.onlyInA).toEqual([]);
      expect(c.onlyInB).toEqual([]);
      expect(c.rows).toHaveLength(run.config.grid.length * 2);
      for (const r of c.rows) {
        // Pairs with two finite values (NaN, ±Infinity and missing are left out and counted).
        if (r.pairs === null || r.pairs === 0) continue;
        expect(r.diff).toBe(0);
        if (r.pairs >= 2) {
          expect([r.ci95Lo, r.ci95Hi]).toEqual([0, 0]);
        }
        expect(r.pValue).toBe(1);
        expect(r.pairs + r.missing + r.nonFinite).toBe(3);
      }
    },
  );

  test.prop([runArb(3), runArb(4, 0), fc.boolean()])(
    "B against A is A against B negated (paired or Welch); shared and one-sided points partition both grids",
    (a, b0, sameSeed) => {
      const b = sameSeed ? b0 : { ...b0, config: { ...b0.config, rootSeed: 9 } };
      const ab = compareRuns(a, b);
      const ba = compareRuns(b, a);
      expect(ab.pairing.paired).toBe(sameSeed);
      const keys = (ps: GridPoint[]) => ps.map(pointKey).sort();
      expect(keys([...ab.shared, ...ab.onlyInA])).toEqual(keys(a.config.grid));
      expect(keys([...ab.shared, ...ab.onlyInB])).toEqual(keys(b.config.grid));
      expect(keys(ab.shared)).toEqual(keys(ba.shared));
      expect(new Set(keys(ab.onlyInA)).size + new Set(keys(ab.shared)).size).toBe(a.config.grid.length);
      const back = new Map(ba.rows.map((r) => [rowKey(r), r]));
      for (const r of ab.rows) {
        const s = back.get(rowKey(r));
        expect(s).toBeDefined();
        // Dyadic values: every mean and difference here is exact, so negation is exact too.
        expect(s?.diff === null ? null : -(s?.diff as number) + 0).toBe(r.diff === null ? null : r.diff + 0);
        expect(s?.pValue).toBe(r.pValue);
        expect([s?.meanA, s?.meanB]).toEqual([r.meanB, r.meanA]);
      }
    },
  );

  test.prop([runArb(4), fc.integer({ min: -40, max: 40 }).map((i) => i / 4)])(
    "paired: B = A + c on every value gives difference c with a zero-width interval",
    (a, c) => {
      const b = {
        ...a,
        values: a.values.map((pm) => pm.map((ms) => ms.map((v) => (v === null ? null : v + c)))),
      };
      for (const r of compareRuns(a, b).rows) {
        if (r.pairs === null || r.pairs < 2) continue;
        expect(r.diff).toBe(c);
        expect([r.ci95Lo, r.ci95Hi]).toEqual([c, c]);
      }
    },
  );

  it("pairing removes the split-to-split noise Welch cannot: a small constant effect is found only paired", () => {
    // Seed-to-seed variation (one split easy, one hard) is shared by A and B; B is better by 0.01.
    const a = [0.1, 0.3, 0.05, 0.4, 0.2, 0.25];
    const b = a.map((v, i) => v - 0.01 + (i % 2 === 0 ? 0.001 : -0.001));
    const run = (values: number[], rootSeed: number) =>
      memoryRun({ grid: [{ a: 1 }], metrics: ["ece"], seeds: 6, rootSeed, values: [[values]] });
    const paired = compareRuns(run(a, 0), run(b, 0)).rows[0];
    const welch = compareRuns(run(a, 0), { ...run(b, 0), config: { ...run(b, 0).config, rootSeed: 1 } })
      .rows[0];
    expect(paired.test).toBe("paired t interval, exact sign-flip (2^6 assignments)");
    expect(paired.ci95Hi as number).toBeLessThan(0);
    expect(welch.test).toMatch(/^Welch t \(df \d/);
    expect(welch.ci95Lo as number).toBeLessThan(0);
    expect(welch.ci95Hi as number).toBeGreaterThan(0);
    expectClose(paired.diff as number, welch.diff as number, { atol: 1e-15 });
  });

  it("refuses a requested metric one run lacks, listing those both have", () => {
    const a = memoryRun({ grid: [{ a: 1 }], metrics: ["m1", "m2"], seeds: 1, values: [[[1], [2]]] });
    const b = memoryRun({ grid: [{ a: 1 }], metrics: ["m2", "m3"], seeds: 1, values: [[[1], [2]]] });
    expect(() => compareRuns(a, b, { metrics: ["m1"] })).toThrow(
      '--metric: expected a metric both runs have (m2); got "m1"',
    );
    const c = compareRuns(a, b);
    expect([c.metrics, c.metricsOnlyInA, c.metricsOnlyInB]).toEqual([["m2"], ["m1"], ["m3"]]);
  });
});

describe("softcal compare on real l2-sweep runs", () => {
  const tmp = tempDirs("softcal-compare-");
  let root: string;
  let a: string;
  let same: string;
  let otherSeed: string;
  let otherGrid: string;
  beforeAll(async () => {
    root = tmp.make();
    a = await l2Run(path.join(root, "a"));
    same = await l2Run(path.join(root, "same"));
    otherSeed = await l2Run(path.join(root, "seed7"), "--root-seed", "7");
    otherGrid = await l2Run(path.join(root, "grid"), "--set", "l2=0,0.01,0.5", "--data", "clusters,iris");
  });
  afterAll(() => tmp.cleanup());

  const json = async (...args: string[]): Promise<RunComparison> => {
    const r = await cli("compare", ...args, "--json");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout.trimEnd().split("\n")).toHaveLength(1); // exactly one JSON object
    return JSON.parse(r.stdout) as RunComparison;
  };

  it("identical settings and root seed: paired, every difference 0 with a zero-width interval", async () => {
    const c = await json(a, same);
    expect(c.pairing).toEqual({
      paired: true,
      seedIndices: 3,
      reason: "same root seed (0), seed derivation, streams and data: paired by seed index",
    });
    expect(c.shared).toHaveLength(18);
    expect([c.onlyInA, c.onlyInB]).toEqual([[], []]);
    expect(c.rows).toHaveLength(18 * c.metrics.length);
    for (const r of c.rows) {
      if (r.pairs === 0) continue; // a metric with no finite value at this point
      expect(r.diff).toBe(0);
      expect([r.ci95Lo, r.ci95Hi]).toEqual([0, 0]);
      expect(r.pValue).toBe(1);
    }
    const text = await cli("compare", a, same, "--metric", "ece");
    expect(text.stdout).toContain(
      "test: same root seed (0), seed derivation, streams and data: paired by seed index\n",
    );
    expect(text.stdout).toMatch(
      /\nclusters +0 +ece +0\.04\d* +0\.04\d* +0 +\[0, 0\] +1 +3 +paired t interval/,
    );
  });

  it("a different root seed: Welch, and the output says so", async () => {
    const c = await json(a, otherSeed, "--metric", "ece,nll");
    expect(c.pairing).toEqual({
      paired: false,
      seedIndices: 0,
      reason: "different root seed (0 vs 7): unpaired Welch",
    });
    expect(c.metrics).toEqual(["nll", "ece"]); // in the run's order, whatever the flag's
    expect(c.rows.every((r) => r.test.startsWith("Welch t") && r.pairs === null)).toBe(true);
    expect(c.rows.some((r) => r.diff !== 0)).toBe(true); // other splits: other values
    const text = await cli("compare", a, otherSeed);
    expect(text.stdout).toContain("test: different root seed (0 vs 7): unpaired Welch\n");
    const md = await cli("compare", a, otherSeed, "--markdown", "--metric", "ece");
    expect(md.stdout).toContain("- test: different root seed (0 vs 7): unpaired Welch\n");
    expect(md.stdout.split("\n").filter((l) => l.startsWith("|"))).toHaveLength(2 + 18);
  });

  it("different grids: only the shared points are compared, and the others are listed", async () => {
    const c = await json(a, otherGrid, "--metric", "ece");
    const shown = (ps: GridPoint[]) => ps.map((p) => `${p.data}/${p.l2}`);
    expect(shown(c.shared)).toEqual(["clusters/0", "clusters/0.01", "iris/0", "iris/0.01"]);
    expect(shown(c.onlyInB)).toEqual(["clusters/0.5", "iris/0.5"]);
    expect(c.onlyInA).toHaveLength(18 - 4);
    expect(shown(c.onlyInA)).toContain("penguins/0.01");
    // --set and --data change the grid, not the seeds or streams: paired, and the same λ on the
    // same split is the same model.
    expect(c.pairing.paired).toBe(true);
    expect(c.rows.map((r) => [r.diff, r.ci95Lo, r.ci95Hi])).toEqual(c.shared.map(() => [0, 0, 0]));
    const text = await cli("compare", a, otherGrid, "--metric", "ece");
    expect(text.code).toBe(0);
    expect(text.stdout).toContain("grid points: 4 shared, 14 only in A, 2 only in B\n");
    expect(text.stdout).toContain("only in B: data=clusters, l2=0.5; data=iris, l2=0.5\n");
  });

  it("different data: a CSV whose content changed between the runs gives Welch, naming the file and both hashes", async () => {
    const dir = tmp.make();
    const csv = path.join(dir, "my.csv");
    const rows = (shift: number) =>
      [
        "x1,x2,label",
        ...Array.from(
          { length: 60 },
          (_, i) => `${(i % 3) * 2 + ((i * 7) % 5) / 5 + shift},${(i % 3) + ((i * 3) % 7) / 7},${i % 3}`,
        ),
      ].join("\n");
    fs.writeFileSync(csv, rows(0));
    const run = (out: string) => l2Run(path.join(dir, out), "--data", csv, "--set", "l2=0.01,1");
    const first = await run("first");
    const again = await run("again");
    fs.writeFileSync(csv, rows(0.5));
    const changed = await run("changed");
    const paired = await json(first, again);
    expect(paired.pairing.paired).toBe(true);
    expect(paired.rows.every((r) => r.diff === 0 || r.pairs === 0)).toBe(true);
    const c = await json(first, changed, "--metric", "ece");
    expect(c.pairing.paired).toBe(false);
    expect(c.pairing.reason).toMatch(
      new RegExp(
        `^different data: ${JSON.stringify(csv).replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")} has sha256 [0-9a-f]{12}… in A, [0-9a-f]{12}… in B: unpaired Welch$`,
      ),
    );
    expect(c.shared).toHaveLength(2);
  });

  it("reads only config.json, manifest.json and runs.csv: a copy without units/ or summaries compares the same", async () => {
    const copy = path.join(root, "copied", "l2-sweep");
    fs.mkdirSync(copy, { recursive: true });
    for (const f of ["config.json", "runs.csv"]) fs.copyFileSync(path.join(same, f), path.join(copy, f));
    const c = await json(a, copy);
    const d = await json(a, same);
    expect(c.rows).toEqual(d.rows);
    expect(c.b.status).toBe("no manifest.json");
  });

  it("a folder merged from shards compares as the unsharded run it equals", async () => {
    const shards = path.join(root, "shards");
    for (const i of [1, 2]) await l2Run(path.join(shards, `s${i}`), "--shard", `${i}/2`);
    const merged = await cli("merge", shards, "--into", path.join(root, "merged"), "--no-figures");
    expect(merged.code, merged.stderr).toBe(0);
    const c = await json(a, path.join(root, "merged", "l2-sweep"));
    expect(c.pairing.paired).toBe(true);
    expect(c.rows.filter((r) => r.pairs !== 0).every((r) => r.diff === 0 && r.ci95Hi === 0)).toBe(true);
  });

  it("a bad RUN argument exits 2 with one line naming the file", async () => {
    const bad = async (args: string[], message: string | RegExp) => {
      const r = await cli("compare", ...args);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr.split("\n")).toHaveLength(2); // one line and its newline
      expect(r.stderr).toMatch(message);
    };
    const missing = path.join(root, "nope");
    await bad(
      [missing, a],
      `softcal: ${missing}: expected a run folder (holding config.json and runs.csv); got no such folder`,
    );
    await bad([a, root], /expected a run folder \(holding config\.json\); got a folder without one/);
    await bad(
      [a, same, "--metric", "ece,bogus"],
      /--metric: expected a metric both runs have \(accuracy, nll, .*\); got "bogus"/,
    );
    await bad([a, same, "--json", "--markdown"], "compare: expected --json or --markdown, not both");

    const damaged = (name: string) => {
      const d = path.join(root, "damaged", name, "l2-sweep");
      fs.mkdirSync(d, { recursive: true });
      fs.copyFileSync(path.join(a, "config.json"), path.join(d, "config.json"));
      return d;
    };
    const noRuns = damaged("no-runs");
    fs.copyFileSync(path.join(a, "manifest.json"), path.join(noRuns, "manifest.json"));
    await bad(
      [a, noRuns],
      /expected runs\.csv \(written once every unit is done\); got no such file — the run is completed/,
    );

    const lines = fs.readFileSync(path.join(a, "runs.csv"), "utf8").split("\n");
    const edit = (name: string, f: (ls: string[]) => string[]) => {
      const d = damaged(name);
      fs.writeFileSync(path.join(d, "runs.csv"), f([...lines]).join("\n"));
      return path.join(d, "runs.csv");
    };
    const seedCell = edit("seed", (ls) => {
      ls[2] = ls[2].replace(/^clusters,0,1,\d+,/, "clusters,0,1,42,");
      return ls;
    });
    await bad(
      [a, path.dirname(seedCell)],
      `${seedCell}:3:4: expected "1089201338" (the seed of unit p0-s1, as config.json says); got "42"`,
    );
    const text = edit("text", (ls) => {
      ls[1] = ls[1].replace(/^(clusters,0,0,\d+,)[^,]+,/, "$1high,");
      return ls;
    });
    await bad([a, path.dirname(text)], `${text}:2:5: expected a number (or nothing); got "high"`);
    const short = edit("short", (ls) => ls.slice(0, 10));
    await bad(
      [a, path.dirname(short)],
      `${short}: expected 54 rows (one per unit: 18 grid points × 3 seeds); got 9`,
    );
    const header = edit("header", (ls) => {
      ls[0] = ls[0].replace("accuracy", "acc");
      return ls;
    });
    await bad([a, path.dirname(header)], /runs\.csv:1:5: expected column "accuracy" .*; got "acc"/);

    // A FIFO (reading would block forever) and a symlink leading out of the run folder.
    const fifo = damaged("fifo");
    if (spawnSync("mkfifo", [path.join(fifo, "runs.csv")]).status === 0) {
      await bad([a, fifo], /runs\.csv: expected the runs table of a softcal run \(runs\.csv\); got a FIFO/);
    } else console.log("skipped the FIFO case: mkfifo is not available here");
    const link = damaged("link");
    fs.symlinkSync("/dev/zero", path.join(link, "runs.csv"));
    await bad(
      [a, link],
      /runs\.csv: expected the runs table of a softcal run \(runs\.csv\) inside .*; got a symlink leading out of it/,
    );
  });

  it("--help shows an example", async () => {
    const r = await cli("compare", "--help");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Examples:\n  softcal compare baseline/l2-sweep results/l2-sweep");
  });
});
