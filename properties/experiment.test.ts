/**
 * The experiment engine: seeds, statistics, determinism, --jobs, shards + merge, resume after a
 * crash at every stage, failures, interruption, and the errors users can cause.
 * Toy experiments (properties/_shared/toyExperiments.ts) finish in microseconds.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fc, test } from "@fast-check/vitest";
import { parse as parseCsv } from "csv-parse/sync";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { hash32 } from "../src/data/rng.js";
import { InputError } from "../src/errors.js";
import type { WriteFile } from "../src/experiment/aggregate.js";
import { buildConfig, parseUnit, type UnitRecord, unitText } from "../src/experiment/config.js";
import { listRuns, mergeRuns } from "../src/experiment/merge.js";
import { defaultProgress } from "../src/experiment/progress.js";
import { type RunExperimentsOptions, runExperiments } from "../src/experiment/runner.js";
import { deriveRunSeed, pointKey, streamSeed, unitContext } from "../src/experiment/seeds.js";
import { inShard, parseShard } from "../src/experiment/shard.js";
import { studentTQuantile, summarize } from "../src/experiment/stats.js";
import type { Experiment, GridPoint } from "../src/experiment/types.js";
import { DEFAULT_FLUSH_MS } from "../src/experiment/unitBatch.js";
import { csv } from "../src/experiment/unitCsv.js";
import { writeFileAtomic } from "../src/io/atomic.js";
import { expectClose } from "./_shared/expectClose.js";
import { silent, snapshot, toyRun, unitRecordCount } from "./_shared/runs.js";
import { toy, toy2 } from "./_shared/toyExperiments.js";

const registryUrl = new URL("./_shared/toyExperiments.ts", import.meta.url);
const roots: string[] = [];
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "softcal-exp-"));
  roots.push(d);
  return d;
}
afterAll(() => {
  for (const d of roots) fs.rmSync(d, { recursive: true, force: true });
});

const base = toyRun;

function both(out: string): Record<string, string> {
  return {
    ...prefix("toy", snapshot(path.join(out, "toy"))),
    ...prefix("toy2", snapshot(path.join(out, "toy2"))),
  };
}
function prefix(p: string, o: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [`${p}/${k}`, v]));
}

let reference: Record<string, string>;
beforeAll(async () => {
  const out = tmp();
  const r = await runExperiments({ ...base, out });
  expect(r.exitCode).toBe(0);
  reference = both(out);
});

describe("seeds", () => {
  it("hash32 and deriveRunSeed match pinned vectors (computed independently in Python)", () => {
    expect(hash32("")).toBe(2872998923);
    expect(hash32("a")).toBe(444641715);
    expect(hash32("softcal")).toBe(3992118324);
    expect(deriveRunSeed(0, 0)).toBe(2731949278);
    expect(deriveRunSeed(7, 12)).toBe(2030560891);
  });

  test.prop([
    fc.dictionary(
      fc.string(),
      fc.oneof(fc.string(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean()),
    ),
  ])("pointKey ignores key order and identifies equal points", (point) => {
    const reversed = Object.fromEntries(Object.entries(point).reverse()) as GridPoint;
    expect(pointKey(reversed)).toBe(pointKey(point));
    expect(JSON.parse(pointKey(point))).toEqual(JSON.parse(JSON.stringify(point)));
  });

  test.prop([fc.nat(), fc.nat({ max: 1000 })])("deriveRunSeed is a uint32", (root, s) => {
    const seed = deriveRunSeed(root, s);
    expect(Number.isInteger(seed) && seed >= 0 && seed < 2 ** 32).toBe(true);
    expect(deriveRunSeed(root, s)).toBe(seed);
  });

  it("deriveRunSeed rejects non-integer seeds", () => {
    expect(() => deriveRunSeed(-1, 0)).toThrow(RangeError);
    expect(() => deriveRunSeed(0, 0.5)).toThrow(RangeError);
  });

  test.prop([fc.nat(), fc.nat({ max: 1000 }), fc.string(), fc.string(), fc.string()])(
    "a unit's streams depend on (seed index, purpose, parts) only, and purposes are separate streams",
    (root, s, purpose, other, part) => {
      fc.pre(purpose !== other);
      const a = unitContext({ seed: deriveRunSeed(root, s), seedIndex: s }, false);
      const b = unitContext({ seed: deriveRunSeed(root, s), seedIndex: s }, true);
      expect(a.stream(purpose, part)).toBe(b.stream(purpose, part));
      expect(a.stream(purpose, part)).toBe(streamSeed(deriveRunSeed(root, s), purpose, part));
      // Distinct inputs to a 32-bit hash collide with probability 2^-32 per pair: not seen in practice.
      expect(a.stream(purpose, part)).not.toBe(a.stream(other, part));
    },
  );
});

describe("statistics", () => {
  // scipy 1.17.1: scipy.stats.t.ppf(0.975, df)
  const scipy: [number, number][] = [
    [1, 12.706204736174694],
    [2, 4.302652729749462],
    [3, 3.1824463052837078],
    [4, 2.7764451051977934],
    [9, 2.262157162798205],
    [29, 2.045229642132703],
    [100, 1.9839715185235518],
    [1000, 1.9623390808264083],
  ];
  it("studentTQuantile(0.975, df) matches scipy", () => {
    // The incomplete-beta continued fraction converges to ~1e-15 relative for df <= 1000, and
    // bisection finds the root to the last bit; 1e-12 leaves room for log/exp rounding in the
    // prefactor (observed error <= 1.5e-14).
    for (const [df, t] of scipy)
      expectClose(studentTQuantile(0.975, df), t, { rtol: 1e-12 }, `t(0.975, ${df})`);
    // scipy 1.17.1: t.ppf(0.999, 3), t.ppf(0.6, 7)
    expectClose(studentTQuantile(0.999, 3), 10.214531852407383, { rtol: 1e-12 }, "t(0.999, 3)");
    expectClose(studentTQuantile(0.6, 7), 0.2631668613520229, { rtol: 1e-12 }, "t(0.6, 7)");
  });

  test.prop([fc.double({ min: 0.501, max: 0.999, noNaN: true }), fc.integer({ min: 1, max: 200 })])(
    "studentTQuantile is odd around 0.5 and decreasing in df",
    (p, df) => {
      expect(studentTQuantile(1 - p, df)).toBe(-studentTQuantile(p, df));
      expect(studentTQuantile(p, df + 1)).toBeLessThanOrEqual(studentTQuantile(p, df) * (1 + 1e-12));
    },
  );

  it("summarize: mean, sd, Student-t interval; nulls left out", () => {
    const s = summarize([1, null, 2, 3]);
    expect(s.mean).toBe(2);
    expect(s.sd).toBe(1);
    // 2 ± t(0.975, 2)·1/√3 with t from scipy: 4.302652729749462
    expectClose(s.ci95Hi!, 2 + 4.302652729749462 / Math.sqrt(3), { rtol: 1e-14 }, "ci95Hi");
    expect(summarize([5])).toEqual({ mean: 5, sd: null, ci95Lo: null, ci95Hi: null });
    expect(summarize([null])).toEqual({ mean: null, sd: null, ci95Lo: null, ci95Hi: null });
  });
});

describe("CSV fragments", () => {
  // runs.csv and reliability.csv are each unit's rows formatted on their own and concatenated
  // (unitCsv.ts): that is only the same bytes as formatting the whole table at once if
  // csv-stringify formats every record independently — quoting included.
  const cell = fc.oneof(
    fc.string(),
    fc.constantFrom("", ",", '"', "a,b", 'say "hi"', "line\nbreak", "cr\r", " lead", "trail "),
    fc.double().map(String),
  );
  const rows = fc.array(fc.array(cell, { minLength: 1, maxLength: 6 }), { maxLength: 8 });
  test.prop([fc.array(rows, { maxLength: 5 })])("csv(a) + csv(b) + … = csv(a ++ b ++ …)", (parts) => {
    expect(parts.map(csv).join("")).toBe(csv(parts.flat()));
  });
});

describe("unit record text", () => {
  // The documented encoding: JSON with each non-finite number written as {"$number": "NaN" | …}.
  const documented = (r: unknown) =>
    `${JSON.stringify(r, (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? { $number: String(v) } : v))}\n`;
  const value = fc.letrec((tie) => ({
    leaf: fc.oneof(
      fc.double(),
      fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY),
      fc.string(),
      fc.boolean(),
      fc.constant(null),
    ),
    node: fc.oneof(
      { depthSize: "small" },
      tie("leaf"),
      fc.array(tie("node"), { maxLength: 4 }),
      fc.dictionary(
        fc.string().filter((k) => k !== "__proto__"),
        tie("node"),
        { maxKeys: 4 },
      ),
    ),
  })).node;
  test.prop([value])("is the documented encoding, and parses back to the same values", (v) => {
    const record = {
      format: 1,
      key: "p0-s0",
      result: { metrics: { m: 1 }, extra: v },
    } as unknown as UnitRecord;
    const text = unitText(record);
    expect(text).toBe(documented(record));
    // −0 becomes 0 in JSON; everything else, non-finite numbers included, comes back.
    const noNegZero = (x: unknown): unknown =>
      Object.is(x, -0)
        ? 0
        : Array.isArray(x)
          ? x.map(noNegZero)
          : x !== null && typeof x === "object"
            ? Object.fromEntries(Object.entries(x).map(([k, y]) => [k, noNegZero(y)]))
            : x;
    expect(parseUnit(text)).toEqual(noNegZero(record));
  });
});

describe("determinism", () => {
  it("same config and seeds ⇒ the same bytes; another root seed ⇒ other metrics", async () => {
    const out = tmp();
    await runExperiments({ ...base, out });
    expect(both(out)).toEqual(reference);
    const other = tmp();
    await runExperiments({ ...base, out: other, rootSeed: 1 });
    const a = fs.readFileSync(path.join(other, "toy", "runs.csv"), "utf8");
    expect(a).not.toBe(reference["toy/runs.csv"]);
    expect(a.split("\n")[0]).toBe(reference["toy/runs.csv"].split("\n")[0]);
  });

  it("jobs = 1 and jobs = 2 (this thread and a worker, each writing unit files) write identical bytes", async () => {
    const out = tmp();
    // The main thread's first toy unit waits for a unit file from the worker: both threads write.
    process.env.TOY_MAIN_WAITS = path.join(out, "toy", "units");
    try {
      const r = await runExperiments({ ...base, out, jobs: 2, registryUrl });
      expect(r.exitCode).toBe(0);
      expect(r.experiments[0].unitsRun).toBe(15);
    } finally {
      delete process.env.TOY_MAIN_WAITS;
    }
    expect(both(out)).toEqual(reference);
  });

  it("figures drawn on several threads (--jobs 3: a render pool) are the bytes drawn on one, in figure order", async () => {
    // Four figures, so that three are in flight at once; units run on this thread (no registry).
    const many: Experiment = {
      ...toy,
      name: "toy-figures",
      figures: (input) => {
        const [f] = toy.figures!(input);
        return ["a", "b", "c", "d"].map((n, i) => ({
          name: `${f.name}-${n}`,
          spec: { ...(f.spec as object), description: `figure ${i}` },
        }));
      },
    };
    const one = tmp();
    const three = tmp();
    await runExperiments({ ...base, experiments: [many], figures: true, out: one, jobs: 1 });
    await runExperiments({ ...base, experiments: [many], figures: true, out: three, jobs: 3 });
    const figs = (out: string) => snapshot(path.join(out, "toy-figures"));
    const a = figs(one);
    expect(Object.keys(a).filter((k) => k.endsWith(".png"))).toHaveLength(4);
    expect(figs(three)).toEqual(a);
  });

  it("a worker that dies mid-unit: that unit fails (FAILED, exit 1), a new worker takes the rest; resume completes", async () => {
    const out = tmp();
    process.env.TOY_MAIN_WAITS = path.join(out, "toy", "units");
    process.env.TOY_WORKER_EXIT = path.join(out, "worker-exited");
    let r: Awaited<ReturnType<typeof runExperiments>>;
    try {
      r = await runExperiments({ ...base, out, jobs: 2, registryUrl });
    } finally {
      delete process.env.TOY_MAIN_WAITS;
      delete process.env.TOY_WORKER_EXIT;
    }
    expect(r.exitCode).toBe(1);
    expect(r.experiments[0].failures).toHaveLength(1);
    expect(r.experiments[0].failures[0].message).toBe("worker exited while running the unit");
    expect(r.experiments[0].unitsRun).toBe(14);
    expect(fs.readdirSync(path.join(out, "toy", "units"))).toHaveLength(14);
    const again = await runExperiments({ ...base, out, resume: true });
    expect(again.exitCode).toBe(0);
    expect(again.experiments[0].unitsSkipped).toBe(14);
    expect(both(out)).toEqual(reference);
  });

  it("a worker that cannot load the experiments: one warning, the other threads run its units, same bytes", async () => {
    const out = tmp();
    const warnings: string[] = [];
    const r = await runExperiments({
      ...base,
      out,
      jobs: 3,
      registryUrl: "data:text/javascript,export const experiments = [];",
      logger: { info() {}, warn: (m) => warnings.push(m) },
    });
    expect(r.exitCode).toBe(0);
    expect(both(out)).toEqual(reference);
    expect(warnings.filter((w) => w.startsWith("toy: "))).toEqual([
      'toy: a worker thread could not load the experiments (data:text/javascript,export const experiments = []; exports no experiment named "toy"); its units run on the other threads',
    ]);
  });

  it("workers start only when the work left is worth it (a faked clock: each unit takes the time the test says)", async () => {
    // A registry the workers cannot load makes any started worker say so: the warning tells
    // whether one started. The clock the runner reads (performance.now) is faked and moves only
    // when a unit "takes" time, so the decision is the same however loaded the machine is.
    const bad = "data:text/javascript,export const experiments = [];";
    const clocked = (n: number, ms: (i: number) => number): Experiment => ({
      name: "clocked",
      description: "unit i advances the faked clock by ms(i)",
      grid: () => Array.from({ length: n }, (_, i) => ({ i })),
      metrics: [],
      run: (point) => {
        vi.advanceTimersByTime(ms(point.i as number));
        return { metrics: {} };
      },
    });
    const started = async (exp: Experiment, parallelMinMs: number | undefined) => {
      const warnings: string[] = [];
      const { parallelMinMs: _, ...rest } = base;
      vi.useFakeTimers({ toFake: ["performance"] });
      try {
        const r = await runExperiments({
          ...rest,
          experiments: [exp],
          seeds: 1,
          ...(parallelMinMs === undefined ? {} : { parallelMinMs }),
          out: tmp(),
          jobs: 2,
          registryUrl: bad,
          logger: { info() {}, warn: (m) => warnings.push(m) },
        });
        expect(r.exitCode).toBe(0);
      } finally {
        vi.useRealTimers();
      }
      return warnings.some((w) => w.includes("a worker thread could not load the experiments"));
    };
    // Microsecond units: 15 of them are never worth the default 250 ms.
    expect(
      await started(
        clocked(15, () => 0.001),
        undefined,
      ),
    ).toBe(false);
    // 20 ms units: this thread has spent 100 ms after five of them, with ten left.
    expect(
      await started(
        clocked(15, () => 20),
        100,
      ),
    ).toBe(true);
    // The estimate: after 24 units (the last 8 at 20 ms, 160 ms in all) 100 are left, estimated at
    // 2 s — worth 250 ms, though the time spent never reaches it; not worth 5 s.
    const slowThenFast = (i: number) => (i >= 16 && i < 24 ? 20 : 0.001);
    expect(await started(clocked(124, slowThenFast), 250)).toBe(true);
    expect(await started(clocked(124, slowThenFast), 5000)).toBe(false);
    expect(
      await started(
        clocked(15, () => 0.001),
        0,
      ),
    ).toBe(true);
  });

  it("runs.csv holds every parameter, seed and metric, numbers in shortest round-trip form", () => {
    const lines = reference["toy/runs.csv"].trimEnd().split("\n");
    expect(lines[0]).toBe("a,b,flag,seed_index,seed,value,noise,maybe,ratio");
    expect(lines).toHaveLength(1 + 5 * 3);
    expect(lines[10]).toMatch(/^2\.5,"y, ""quoted""",,0,\d+,/);
    expect(lines[14]).toMatch(/^3,x,true,1,\d+,[^,]+,[^,]+,[^,]+,Infinity$/);
    for (const line of lines.slice(1)) {
      const value = Number(line.split(",").at(-4));
      expect(String(value)).toBe(line.split(",").at(-4));
    }
    const summary = reference["toy/summary.csv"].split("\n");
    const perMetric = [
      "mean",
      "sd",
      "ci95_lo",
      "ci95_hi",
      "n",
      "failed",
      "nonfinite",
      "median",
      "q25",
      "q75",
    ];
    expect(summary[0]).toBe(
      [
        "a,b,flag,n",
        ...["value", "noise", "maybe", "ratio"].map((m) => perMetric.map((c) => `${m}_${c}`).join(",")),
        "notes",
      ].join(","),
    );
    expect(summary).toHaveLength(1 + 5 + 1);
    // Honest counts: the flagged point's ratio is +Infinity at seed 1 — counted, left out of the
    // mean, kept in the median — and maybe is undefined (null, not failed) at seed 0.
    const header = summary[0].split(",");
    const rows = parseCsv(reference["toy/summary.csv"], { columns: true }) as Record<string, string>[];
    const flagged = rows.find((r) => r.flag === "true") as Record<string, string>;
    expect([flagged.ratio_n, flagged.ratio_nonfinite, flagged.ratio_failed]).toEqual(["2", "1", "0"]);
    expect(Number.isFinite(Number(flagged.ratio_mean))).toBe(true);
    expect(flagged.ratio_q75).toBe("Infinity");
    expect([flagged.maybe_n, flagged.maybe_failed]).toEqual(["2", "0"]);
    expect(flagged.notes).toBe(
      "maybe: 1 of 3 not defined; ratio: 1 of 3 non-finite, left out of mean/sd/ci95 (median and quartiles keep them)",
    );
    expect(header.at(-1)).toBe("notes");
    const table = reference["toy/toy-table.csv"].split("\n");
    expect(table[0]).toBe("a,b,runs,value_sum,none");
    expect(table[4]).toMatch(/^2\.5,"y, ""quoted""",3,[0-9.]+,$/);
    const rel = reference["toy/reliability.csv"].split("\n");
    expect(rel[0]).toBe("a,b,flag,seed_index,seed,view,bin,lower,upper,count,mean_predicted,observed");
    expect(rel[2]).toMatch(/^1,x,,0,\d+,test,1,0\.5,1,0,,$/);
  });
});

describe("shards", () => {
  const sized = (nPoints: number): Experiment => ({
    name: "sized",
    description: "",
    grid: () => Array.from({ length: nPoints }, (_, i) => ({ i })),
    metrics: [],
    run: () => ({ metrics: {} }),
  });

  test.prop([
    fc.integer({ min: 1, max: 20 }),
    fc.integer({ min: 1, max: 5 }),
    fc.integer({ min: 1, max: 8 }),
  ])("the shards of a grid cover every unit exactly once", (nPoints, seeds, n) => {
    const config = buildConfig(sized(nPoints), { seeds, rootSeed: 0, quick: false });
    const owners = config.units.map((_, i) =>
      Array.from({ length: n }, (_, k) => k + 1).filter((k) => inShard(i, { index: k, count: n })),
    );
    for (const o of owners) expect(o).toHaveLength(1);
    // Balanced: shard sizes differ by at most one.
    const sizes = Array.from({ length: n }, (_, k) => owners.filter((o) => o[0] === k + 1).length);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
  });

  it("shard 1/2 + 2/2 in separate folders, merged = one machine's run, byte for byte", async () => {
    const root = tmp();
    const r1 = await runExperiments({
      ...base,
      out: path.join(root, "shard-1"),
      shard: { index: 1, count: 2 },
    });
    const r2 = await runExperiments({
      ...base,
      out: path.join(root, "shard-2"),
      shard: { index: 2, count: 2 },
    });
    expect(r1.experiments.map((e) => e.aggregated)).toEqual([false, false]);
    expect(r2.experiments.map((e) => e.aggregated)).toEqual([false, false]);
    expect(fs.existsSync(path.join(root, "shard-1", "toy", "runs.csv"))).toBe(false);
    const into = path.join(root, "merged");
    const merged = await mergeRuns(root, { into, logger: silent, figures: false, experiments: [toy, toy2] });
    expect(merged.map((m) => [m.name, m.units])).toEqual([
      ["toy", 15],
      ["toy2", 9],
    ]);
    expect(both(into)).toEqual(reference);
    // Merging again is idempotent.
    await mergeRuns(root, { into, logger: silent, figures: false, experiments: [toy, toy2] });
    expect(both(into)).toEqual(reference);
  });

  it("shards sharing one folder: the last one to finish writes the aggregates", async () => {
    const out = tmp();
    await runExperiments({ ...base, out, shard: { index: 2, count: 3 } });
    await runExperiments({ ...base, out, shard: { index: 1, count: 3 } });
    expect(fs.existsSync(path.join(out, "toy", "runs.csv"))).toBe(false);
    const r = await runExperiments({ ...base, out, shard: { index: 3, count: 3 } });
    expect(r.experiments.every((e) => e.aggregated)).toBe(true);
    expect(both(out)).toEqual(reference);
    // A shard that already ran in the folder needs --resume.
    await expect(runExperiments({ ...base, out, shard: { index: 3, count: 3 } })).rejects.toThrow(
      `${path.join(out, "toy")} already holds a run; pass --resume to continue it or --force to replace it`,
    );
  });

  it("mergeRuns refuses missing units and differing configs", async () => {
    const root = tmp();
    await runExperiments({
      ...base,
      experiments: [toy2],
      out: path.join(root, "s1"),
      shard: { index: 1, count: 2 },
    });
    await expect(mergeRuns(root, { into: path.join(root, "m"), logger: silent })).rejects.toThrow(
      /toy2: expected every unit of the grid; got 4 of 9 missing \(first: p0-s1\)/,
    );
    expect(fs.existsSync(path.join(root, "m"))).toBe(false);
    await runExperiments({
      ...base,
      experiments: [toy2],
      out: path.join(root, "s2"),
      shard: { index: 2, count: 2 },
      rootSeed: 7,
    });
    await expect(mergeRuns(root, { into: path.join(root, "m"), logger: silent })).rejects.toThrow(
      /config\.json: expected the same config as .*s1\/toy2\/config\.json; got a different one \(rootSeed: 0 in the first, 7 here\)/,
    );
  });

  it("parseShard: I/N, auto/N from Slurm, Kubernetes and SOFTCAL_SHARD_INDEX; bad values are InputErrors", () => {
    expect(parseShard("2/4")).toEqual({ index: 2, count: 4 });
    expect(parseShard("auto/4", { SLURM_ARRAY_TASK_ID: "3" })).toEqual({ index: 4, count: 4 });
    expect(
      parseShard("auto", {
        SLURM_ARRAY_TASK_ID: "2",
        SLURM_ARRAY_TASK_MIN: "1",
        SLURM_ARRAY_TASK_COUNT: "4",
      }),
    ).toEqual({
      index: 2,
      count: 4,
    });
    expect(parseShard("/3", { JOB_COMPLETION_INDEX: "0" })).toEqual({ index: 1, count: 3 });
    expect(parseShard("auto/3", { SOFTCAL_SHARD_INDEX: "3", SLURM_ARRAY_TASK_ID: "0" })).toEqual({
      index: 3,
      count: 3,
    });
    const expected = "--shard: expected I/N with integers 1 <= I <= N (e.g. 2/4), auto/N or auto; got";
    for (const bad of ["0/2", "3/2", "a/b", "1/0", "2", "", "1/2/3", "-1/2"]) {
      expect(() => parseShard(bad, {})).toThrow(InputError);
      expect(() => parseShard(bad, {})).toThrow(`${expected} "${bad}"`);
    }
    expect(() => parseShard("auto/2", {})).toThrow(
      /expected SOFTCAL_SHARD_INDEX, SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX/,
    );
    expect(() => parseShard("auto", { JOB_COMPLETION_INDEX: "1" })).toThrow(/expected a shard count/);
    expect(() => parseShard("auto/2", { JOB_COMPLETION_INDEX: "2" })).toThrow(
      /JOB_COMPLETION_INDEX: expected a shard index in 1..2/,
    );
    expect(() => parseShard("auto/2", { SLURM_ARRAY_TASK_ID: "x" })).toThrow(
      'SLURM_ARRAY_TASK_ID: expected a non-negative integer; got "x"',
    );
  });
});

describe("resume", () => {
  /** A writer that throws on the n-th write matching `match` (simulating a crash there). */
  function crashingWriter(match: (file: string) => boolean, n: number): WriteFile {
    let seen = 0;
    return (file, data) => {
      if (match(file) && ++seen === n) throw new Error(`simulated crash writing ${path.basename(file)}`);
      writeFileAtomic(file, data);
    };
  }
  const isUnit = (f: string) => f.includes(`${path.sep}units${path.sep}`);

  it.each([1, 7, 15])(
    "crash after %i unit files, then --resume ⇒ the uninterrupted run's bytes",
    async (k) => {
      const out = tmp();
      await expect(runExperiments({ ...base, out, writeFile: crashingWriter(isUnit, k) })).rejects.toThrow(
        /simulated crash/,
      );
      expect(fs.readdirSync(path.join(out, "toy", "units"))).toHaveLength(k - 1);
      const r = await runExperiments({ ...base, out, resume: true });
      expect(r.exitCode).toBe(0);
      expect(r.experiments[0].unitsSkipped).toBe(k - 1);
      expect(both(out)).toEqual(reference);
    },
  );

  it("unit files a power loss could leave (empty, zero-filled, cut short) are re-run by --resume", async () => {
    // Unit files are not fsynced (runner.ts): this is the damage that choice allows.
    const out = tmp();
    await runExperiments({ ...base, out });
    const unit = (key: string) => path.join(out, "toy", "units", `${key}.jsonl`);
    const size = fs.statSync(unit("p0-s0")).size;
    fs.writeFileSync(unit("p0-s0"), "");
    fs.writeFileSync(unit("p1-s2"), Buffer.alloc(size));
    fs.writeFileSync(unit("p4-s1"), fs.readFileSync(unit("p4-s1")).subarray(0, size >> 1));
    for (const f of ["runs.csv", "summary.csv", "reliability.csv", "toy-table.csv"])
      fs.rmSync(path.join(out, "toy", f));
    const r = await runExperiments({ ...base, out, resume: true });
    expect(r.exitCode).toBe(0);
    expect(r.experiments[0].unitsSkipped).toBe(12);
    expect(r.experiments[0].unitsRun).toBe(3);
    expect(both(out)).toEqual(reference);
  });

  it("a batch file a power loss cut short, or with zeroed lines: only those units are re-run, and its name is kept", async () => {
    // Default batching: the toy's microsecond units all land in one batch per experiment.
    const out = tmp();
    await runExperiments({ ...base, out, flushMs: DEFAULT_FLUSH_MS });
    const units = path.join(out, "toy", "units");
    expect(fs.readdirSync(units)).toEqual(["p0-s0.jsonl"]);
    const batch = path.join(units, "p0-s0.jsonl");
    const lines = fs.readFileSync(batch, "utf8").split("\n");
    expect(lines).toHaveLength(16); // 15 records and the final newline's empty tail
    // Lines 3 and 4 zero-filled (same length), the file cut in the middle of line 11.
    const zeroed = lines.map((l, i) => (i === 3 || i === 4 ? "\0".repeat(l.length) : l));
    const cut = zeroed.slice(0, 11).join("\n").length + 1 + (lines[11].length >> 1);
    fs.writeFileSync(batch, zeroed.join("\n").slice(0, cut));
    for (const f of ["runs.csv", "summary.csv", "reliability.csv", "toy-table.csv"])
      fs.rmSync(path.join(out, "toy", f));
    const warnings: string[] = [];
    const r = await runExperiments({
      ...base,
      out,
      resume: true,
      flushMs: DEFAULT_FLUSH_MS,
      logger: { info() {}, warn: (m) => warnings.push(m) },
    });
    expect(warnings).toEqual([
      `${batch}: skipped 3 lines that are no unit record of this run (damaged, e.g. by a power loss); units without a record run again`,
    ]);
    expect(r.exitCode).toBe(0);
    expect(r.experiments[0].unitsSkipped).toBe(9);
    expect(r.experiments[0].unitsRun).toBe(6);
    // The damaged batch keeps its name (it still holds 9 good lines); the re-run units start at p1-s0.
    expect(fs.readdirSync(units).sort()).toEqual(["p0-s0.jsonl", "p1-s0.jsonl"]);
    expect(both(out)).toEqual(reference);
  });

  it("batches: units finishing within flushMs share a file; a crash writing the 2nd batch keeps the 1st; resume", async () => {
    const out = tmp();
    // The batch timer is faked and fires exactly when the test moves the clock: after the 3rd
    // unit finished. So the 1st batch holds units 1-3, and the 2nd (the final flush) crashes.
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    try {
      await expect(
        runExperiments({
          ...base,
          out,
          flushMs: 150,
          writeFile: crashingWriter(isUnit, 2),
          progress: (e) => {
            if (e.experiment === "toy" && e.done === 3) vi.advanceTimersByTime(150);
          },
        }),
      ).rejects.toThrow(/simulated crash/);
    } finally {
      vi.useRealTimers();
    }
    expect(fs.readdirSync(path.join(out, "toy", "units"))).toEqual(["p0-s0.jsonl"]);
    expect(unitRecordCount(path.join(out, "toy"))).toBe(3);
    const r = await runExperiments({ ...base, out, resume: true, flushMs: 150 });
    expect(r.exitCode).toBe(0);
    expect(r.experiments[0].unitsSkipped).toBe(3);
    expect(both(out)).toEqual(reference);
  });

  it("onBatch hears of every batch on disk, with its file and units, in order", async () => {
    const out = tmp();
    const heard: string[] = [];
    const r = await runExperiments({
      ...base,
      out,
      onBatch: (e) => {
        expect(fs.existsSync(e.file)).toBe(true);
        heard.push(`${e.experiment} ${path.basename(e.file)} ${e.units.join(",")}`);
      },
    });
    expect(r.exitCode).toBe(0);
    // flushMs 0: one batch per unit, in unit order (jobs 1).
    const keys = (n: number, seeds: number) =>
      Array.from({ length: n * seeds }, (_, i) => `p${Math.floor(i / seeds)}-s${i % seeds}`);
    expect(heard).toEqual([
      ...keys(5, 3).map((k) => `toy ${k}.jsonl ${k}`),
      ...keys(3, 3).map((k) => `toy2 ${k}.jsonl ${k}`),
    ]);
    // A callback that throws stops the run like a failed write.
    await expect(
      runExperiments({
        ...base,
        out: tmp(),
        onBatch: () => {
          throw new Error("listener failed");
        },
      }),
    ).rejects.toThrow("listener failed");
  });

  it("jobs 2, default batching: the same bytes as one unit per file", async () => {
    const out = tmp();
    process.env.TOY_MAIN_WAITS = path.join(out, "toy", "units");
    try {
      const r = await runExperiments({ ...base, out, jobs: 2, registryUrl, flushMs: DEFAULT_FLUSH_MS });
      expect(r.exitCode).toBe(0);
    } finally {
      delete process.env.TOY_MAIN_WAITS;
    }
    expect(fs.readdirSync(path.join(out, "toy", "units")).length).toBeLessThan(15);
    expect(both(out)).toEqual(reference);
  });

  it("jobs 2 with an injected writer (workers send the text here): crash after 5 unit files, then --resume", async () => {
    const out = tmp();
    process.env.TOY_MAIN_WAITS = path.join(out, "toy", "units");
    try {
      await expect(
        runExperiments({ ...base, out, jobs: 2, registryUrl, writeFile: crashingWriter(isUnit, 5) }),
      ).rejects.toThrow(/simulated crash/);
    } finally {
      delete process.env.TOY_MAIN_WAITS;
    }
    expect(fs.readdirSync(path.join(out, "toy", "units"))).toHaveLength(4);
    const r = await runExperiments({ ...base, out, resume: true });
    expect(r.experiments[0].unitsSkipped).toBe(4);
    expect(both(out)).toEqual(reference);
  });

  it.each(["runs.csv", "summary.csv", "reliability.csv"])(
    "crash writing %s (before / mid aggregates), then --resume ⇒ the same bytes",
    async (name) => {
      const out = tmp();
      await expect(
        runExperiments({ ...base, out, writeFile: crashingWriter((f) => path.basename(f) === name, 1) }),
      ).rejects.toThrow(/simulated crash/);
      expect(fs.existsSync(path.join(out, "toy", name))).toBe(false);
      expect(JSON.parse(fs.readFileSync(path.join(out, "toy", "manifest.json"), "utf8")).status).toBe(
        "FAILED",
      );
      const r = await runExperiments({ ...base, out, resume: true });
      expect(r.experiments[0].unitsSkipped).toBe(15);
      expect(both(out)).toEqual(reference);
    },
  );

  it("a unit that throws ⇒ FAILED (exit 1), other units kept; resume reruns only it", async () => {
    const out = tmp();
    process.env.TOY_FAIL = "2.5:1";
    try {
      const r = await runExperiments({ ...base, out, jobs: 2, registryUrl });
      expect(r.status).toBe("FAILED");
      expect(r.exitCode).toBe(1);
      // Points 2 and 3 both have a = 2.5; failures are listed in unit order whatever the arrival order.
      expect(r.experiments[0].failures).toEqual([
        { unit: "p2-s1", message: "toy failure at a=2.5" },
        { unit: "p3-s1", message: "toy failure at a=2.5" },
      ]);
      expect(r.experiments[1].status).toBe("COMPLETED");
      expect(fs.readdirSync(path.join(out, "toy", "units"))).toHaveLength(13);
      expect(fs.existsSync(path.join(out, "toy", "runs.csv"))).toBe(false);
      const m = JSON.parse(fs.readFileSync(path.join(out, "toy", "manifest.json"), "utf8"));
      expect(m.status).toBe("FAILED");
    } finally {
      delete process.env.TOY_FAIL;
    }
    const r = await runExperiments({ ...base, out, resume: true });
    expect(r.exitCode).toBe(0);
    expect(r.experiments[0].unitsRun).toBe(2);
    expect(both(out)).toEqual(reference);
    const m = JSON.parse(fs.readFileSync(path.join(out, "toy", "manifest.json"), "utf8"));
    expect(m.status).toBe("COMPLETED");
    expect(m.previousAttempts.map((a: { status: string }) => a.status)).toEqual(["FAILED"]);
  });

  it("an abort (as SIGINT) stops dispatching: INTERRUPTED, exit 130; resume completes it", async () => {
    const out = tmp();
    const ac = new AbortController();
    const r = await runExperiments({
      ...base,
      out,
      signal: ac.signal,
      progress: (e) => {
        if (e.done === 4) ac.abort();
      },
    });
    expect(r.status).toBe("INTERRUPTED");
    expect(r.exitCode).toBe(130);
    expect(r.experiments).toHaveLength(1);
    expect(JSON.parse(fs.readFileSync(path.join(out, "toy", "manifest.json"), "utf8")).status).toBe(
      "INTERRUPTED",
    );
    expect(fs.readdirSync(path.join(out, "toy", "units"))).toHaveLength(4);
    await runExperiments({ ...base, out, resume: true });
    expect(both(out)).toEqual(reference);
  });
});

describe("existing runs and bad input", () => {
  it("an existing run needs --resume or --force; --resume with another config names the difference, touches nothing", async () => {
    const out = tmp();
    await runExperiments({ ...base, out });
    const before = both(out);
    const dir = path.join(out, "toy");
    await expect(runExperiments({ ...base, out })).rejects.toThrow(
      new InputError(`${dir} already holds a run; pass --resume to continue it or --force to replace it`),
    );
    const manifestBefore = fs.readFileSync(path.join(dir, "manifest.json"), "utf8");
    await expect(runExperiments({ ...base, out, resume: true, seeds: 5 })).rejects.toThrow(
      `${path.join(dir, "config.json")}: expected the same config to resume this run; got a different one (seeds: 3 there, 5 now) — pass --force to replace the run`,
    );
    await expect(runExperiments({ ...base, out, resume: true, quick: true })).rejects.toThrow(
      /quick: false there, true now/,
    );
    expect(both(out)).toEqual(before);
    expect(fs.readFileSync(path.join(dir, "manifest.json"), "utf8")).toBe(manifestBefore);
    // --force replaces: a 2-seed run leaves no unit of seed index 2 behind.
    const r = await runExperiments({ ...base, out, force: true, seeds: 2 });
    expect(r.exitCode).toBe(0);
    expect(fs.readdirSync(path.join(dir, "units")).filter((f) => f.includes("-s2"))).toEqual([]);
    // and resuming a completed run is a no-op: its aggregates are current (runOutputs.test.ts)
    const again = await runExperiments({ ...base, out, seeds: 2, resume: true });
    expect(again.experiments[0].unitsRun).toBe(0);
    expect(again.experiments[0].aggregatesReused).toBe(true);
  });

  it("bad numbers and a bad --out are InputErrors and write nothing", async () => {
    const root = tmp();
    const out = path.join(root, "results");
    for (const [opts, msg] of [
      [{ jobs: 0 }, "--jobs: expected an integer >= 1; got 0"],
      [{ jobs: 1.5 }, "--jobs: expected an integer >= 1; got 1.5"],
      [{ seeds: 0 }, "--seeds: expected an integer >= 1; got 0"],
      [{ rootSeed: -1 }, "--seed: expected an integer >= 0; got -1"],
      [{ shard: { index: 3, count: 2 } }, "--shard: expected I/N with integers 1 <= I <= N; got 3/2"],
      [{ resume: true, force: true }, "--resume and --force: expected at most one; got both"],
    ] as [Partial<RunExperimentsOptions>, string][]) {
      await expect(runExperiments({ ...base, out, ...opts })).rejects.toThrow(new InputError(msg));
    }
    expect(fs.existsSync(out)).toBe(false);
    const file = path.join(root, "file.txt");
    fs.writeFileSync(file, "not a folder");
    await expect(runExperiments({ ...base, out: file })).rejects.toThrow(
      new InputError(`--out ${file}: expected a folder; got a file`),
    );
    const under = path.join(file, "sub");
    await expect(runExperiments({ ...base, out: under })).rejects.toThrow(
      new InputError(`--out ${under}: expected a folder; got a path under the file ${file}`),
    );
    expect(fs.readFileSync(file, "utf8")).toBe("not a folder");
    expect(fs.readdirSync(root).sort()).toEqual(["file.txt"]);
  });

  it("an experiment's programming errors are TypeError/RangeError before anything is written", async () => {
    const out = tmp();
    const bad = (over: Partial<Experiment>): Experiment => ({ ...toy2, ...over });
    await expect(runExperiments({ ...base, out, experiments: [bad({ grid: () => [] })] })).rejects.toThrow(
      RangeError,
    );
    await expect(
      runExperiments({ ...base, out, experiments: [bad({ grid: () => [{ k: 1 }, { k: 1 }] })] }),
    ).rejects.toThrow(/grid points 0 and 1 are equal/);
    await expect(runExperiments({ ...base, out, experiments: [bad({ metrics: ["seed"] })] })).rejects.toThrow(
      /column name "seed" is reserved/,
    );
    await expect(runExperiments({ ...base, out, experiments: [bad({ name: "../evil" })] })).rejects.toThrow(
      TypeError,
    );
    expect(fs.readdirSync(out)).toEqual([]);
    // A run returning the wrong metrics fails that unit with a clear message.
    const r = await runExperiments({
      ...base,
      out,
      experiments: [bad({ run: () => ({ metrics: { scor: 1 } }) })],
    });
    expect(r.experiments[0].failures[0].message).toBe('run result lacks metric "score"');
  });
});

describe("figures and listing", () => {
  it("the default renderer (src/plot/render) writes SVG, PNG and the vega-lite spec", async () => {
    const out = tmp();
    const r = await runExperiments({ ...base, experiments: [toy], seeds: 2, out, figures: true });
    expect(r.experiments[0].figures.map((f) => path.basename(f))).toEqual([
      "toy-value.svg",
      "toy-value.png",
      "toy-value.vl.json",
    ]);
    expect(fs.readFileSync(path.join(out, "toy", "figures", "toy-value.svg"), "utf8")).toMatch(/^<svg/);
    const png = fs.readFileSync(path.join(out, "toy", "figures", "toy-value.png"));
    expect([...png.subarray(0, 4)]).toEqual([137, 80, 78, 71]);
  });

  it("without a TTY, progress is a log line per 10% (at most 11 per experiment)", () => {
    const lines: string[] = [];
    const p = defaultProgress({ info: (m) => lines.push(m), warn() {} }, false);
    for (let done = 3; done <= 40; done++)
      p.update({ experiment: "x", done, total: 40, skipped: 3, failed: done > 30 ? 1 : 0 });
    p.stop();
    expect(lines[0]).toBe("x: 3/40 units (3 already done)");
    expect(lines.at(-1)).toBe("x: 40/40 units (3 already done, 1 failed)");
    expect(lines).toHaveLength(11);
  });

  it("figures are rendered through the renderer, deterministically; listRuns reports runs", async () => {
    const out = tmp();
    const render = async (spec: object) => ({
      svg: `<svg>${JSON.stringify(spec)}</svg>`,
      png: new Uint8Array([137, 80, 78, 71, JSON.stringify(spec).length % 256]),
    });
    const r = await runExperiments({ ...base, out, figures: true, render });
    expect(r.experiments[0].figures.map((f) => path.basename(f))).toEqual([
      "toy-value.svg",
      "toy-value.png",
      "toy-value.vl.json",
    ]);
    const svg = fs.readFileSync(path.join(out, "toy", "figures", "toy-value.svg"), "utf8");
    expect(svg).toContain('"description":"5 points"');
    expect(svg.match(/"value":/g)).toHaveLength(15);
    const runs = listRuns(out);
    expect(runs.map((x) => x.name)).toEqual(["toy", "toy2"]);
    expect(runs[0].manifest?.status).toBe("COMPLETED");
    expect(runs[0].summary).toHaveLength(5);
    expect(runs[0].summary?.[3].b).toBe('y, "quoted"');
    expect(runs[0].figures.map((f) => path.basename(f))).toEqual(["toy-value.png", "toy-value.svg"]);
    expect(runs[1].figures).toEqual([]);
  });
});
