/**
 * The four experiments through the real engine and CLI: reproducibility (same seeds ⇒ same bytes,
 * another root seed ⇒ other data), sharding + merge = one machine, the baseline's loss curve = the
 * lesson's numpy reference, and `softcal run`'s bad-input contract (exit 2, one line, nothing
 * touched).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fc, test } from "@fast-check/vitest";
import { afterAll, describe, expect, it } from "vitest";
import { experiments } from "../experiments/index.js";
import { expectedCalibrationError } from "../src/calibration/metrics.js";
import { maxThreads } from "../src/cli/bounds.js";
import { ALL } from "../src/cli/run.js";
import { BINS, resampledEce } from "../src/experiment/toolkit.js";
import { takeRows } from "../src/linalg/matrix.js";
import { probabilityMatrix } from "../src/testing/arbitraries.js";
import { cli } from "./_shared/cli.js";
import { expectClose } from "./_shared/expectClose.js";
import { snapshot } from "./_shared/runs.js";

const root = mkdtempSync(join(tmpdir(), "softcal-exp-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const CSVS = ["runs.csv", "summary.csv", "reliability.csv"];
const quick = ["--quick", "--seeds", "1", "--no-figures"];

function csvBytes(out: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const e of readdirSync(out)) {
    for (const f of readdirSync(join(out, e))) {
      if (f.endsWith(".csv")) files[`${e}/${f}`] = readFileSync(join(out, e, f), "utf8");
    }
  }
  return files;
}

describe("the experiments' bootstrap statistic", () => {
  // Exact equality: the same top-label values are binned in the same order by the same code, so
  // gathering the view by index instead of copying rows must not change a bit.
  test.prop([
    probabilityMatrix({ minClasses: 2, maxClasses: 5, minRows: 1, maxRows: 40 }).chain((P) =>
      fc.record({
        P: fc.constant(P),
        y: fc.array(fc.integer({ min: 0, max: P.cols - 1 }), { minLength: P.rows, maxLength: P.rows }),
        resamples: fc.array(
          fc.array(fc.integer({ min: 0, max: P.rows - 1 }), { minLength: P.rows, maxLength: P.rows }),
          { minLength: 1, maxLength: 4 },
        ),
      }),
    ),
  ])(
    "resampledEce(P, y)(idx) equals expectedCalibrationError on the copied rows, bit for bit",
    ({ P, y, resamples }) => {
      const labels = Int32Array.from(y);
      const statistic = resampledEce(P, labels);
      for (const r of resamples) {
        const idx = Int32Array.from(r);
        const copied = expectedCalibrationError(
          takeRows(P, idx),
          Int32Array.from(idx, (i) => labels[i]),
          { bins: BINS },
        );
        expect(statistic(idx)).toBe(copied);
      }
    },
  );
});

describe("reproducibility", () => {
  const a = join(root, "a");
  const b = join(root, "b");
  const c = join(root, "c");

  it("the same seeds give byte-identical CSVs (jobs 1 vs 2); another root seed gives other data", async () => {
    expect((await cli("run", "all", ...quick, "--jobs", "1", "--out", a)).code).toBe(0);
    // --parallel-min-ms 0: the worker starts at once (these quick units would not be worth one).
    expect(
      (await cli("run", "all", ...quick, "--jobs", "2", "--parallel-min-ms", "0", "--out", b)).code,
    ).toBe(0);
    const first = csvBytes(a);
    expect(Object.keys(first).sort()).toEqual(
      experiments
        .filter((e) => ALL.includes(e.name))
        .flatMap((e) =>
          [...CSVS, ...(e.name === "baseline" ? [] : ["paired.csv"])].map((f) => `${e.name}/${f}`),
        )
        .sort(),
    );
    expect(csvBytes(b)).toEqual(first);
    expect((await cli("run", "l2-sweep", ...quick, "--root-seed", "7", "--out", c)).code).toBe(0);
    expect(readFileSync(join(c, "l2-sweep", "runs.csv"), "utf8")).not.toBe(first["l2-sweep/runs.csv"]);
  });

  it("shards 1/2 + 2/2 merged equal the single run, byte for byte", async () => {
    const s = join(root, "shards");
    expect((await cli("run", "all", ...quick, "--shard", "1/2", "--out", join(s, "1"))).code).toBe(0);
    expect((await cli("run", "all", ...quick, "--shard", "2/2", "--out", join(s, "2"))).code).toBe(0);
    const merged = join(root, "merged");
    const m = await cli("merge", s, "--into", merged, "--no-figures");
    expect(m.code, m.stderr).toBe(0);
    expect(csvBytes(merged)).toEqual(csvBytes(a));
  });

  it("a second run over a finished one refuses without --resume/--force, touching nothing", async () => {
    const before = csvBytes(a);
    const r = await cli("run", "all", ...quick, "--out", a);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `softcal: ${join(a, "baseline")} already holds a run; pass --resume to continue it or --force to replace it\n`,
    );
    expect(csvBytes(a)).toEqual(before);
    const resumed = await cli("run", "all", ...quick, "--out", a, "--resume");
    expect(resumed.code).toBe(0);
    expect(csvBytes(a)).toEqual(before);
  });
});

describe("the baseline reproduces the lesson", () => {
  const python = spawnSync("python3", ["-c", "import numpy"], { encoding: "utf8" });
  const available = python.status === 0;
  if (!available)
    console.warn("experiments.test: numpy parity SKIPPED — python3 with numpy is not available");

  it.runIf(available)(
    "its loss curve on the notebook's exact data equals the numpy reference (1e-8)",
    async () => {
      const out = join(root, "lesson");
      expect(
        (await cli("run", "baseline", "--quick", "--seeds", "1", "--no-figures", "--out", out)).code,
      ).toBe(0);
      const unit = JSON.parse(snapshot(join(out, "baseline"))[join("units", "p0-s0")]);
      const ours = unit.result.extras.lossHistory as number[];
      const ref = JSON.parse(
        execFileSync(
          "python3",
          ["properties/reference/lesson_softmax.py", "properties/fixtures/lesson_data.csv"],
          {
            encoding: "utf8",
          },
        ),
      );
      // The reference takes log(p + 1e-9): its loss exceeds −log p by at most 1e-9/p_min ≤ ~3e-9 here.
      expectClose(ours, ref.lossHistory, { atol: 1e-8 }, "lossHistory");
    },
  );
});

describe("softcal run: bad input → exit 2, one line, nothing touched", () => {
  const cases: [string, string[], string][] = [
    [
      "unknown experiment",
      ["run", "l3-sweep"],
      'run: expected an experiment (baseline, l2-sweep, temperature, ovr-vs-softmax, recalibration, all) or a module file (./my-experiment.mjs); got "l3-sweep"',
    ],
    [
      "shard 0/2",
      ["run", "--shard", "0/2"],
      '--shard: expected I/N with integers 1 <= I <= N (e.g. 2/4), auto/N or auto; got "0/2"',
    ],
    [
      "shard 3/2",
      ["run", "--shard", "3/2"],
      '--shard: expected I/N with integers 1 <= I <= N (e.g. 2/4), auto/N or auto; got "3/2"',
    ],
    [
      "shard a/b",
      ["run", "--shard", "a/b"],
      '--shard: expected I/N with integers 1 <= I <= N (e.g. 2/4), auto/N or auto; got "a/b"',
    ],
    [
      "jobs 0",
      ["run", "--jobs", "0"],
      `--jobs: expected an integer from 1 to ${maxThreads()} (the machine's cores × 4); got 0`,
    ],
  ];
  it.each(cases)("%s", async (_, argv, message) => {
    const out = join(root, "untouched");
    const r = await cli(...argv, "--out", out);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`softcal: ${message}\n`);
    expect(existsSync(out)).toBe(false);
  });

  it("--out that is a file", async () => {
    const f = join(root, "a-file");
    writeFileSync(f, "precious");
    const r = await cli("run", "baseline", "--out", f);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^softcal: .*a-file.*\n$/);
    expect(r.stderr.split("\n")).toHaveLength(2);
    expect(readFileSync(f, "utf8")).toBe("precious");
  });

  it("--resume against a run with a different config names the difference", async () => {
    const out = join(root, "cfg");
    expect((await cli("run", "baseline", "--quick", "--seeds", "1", "--no-figures", "--out", out)).code).toBe(
      0,
    );
    const before = readFileSync(join(out, "baseline", "runs.csv"), "utf8");
    const r = await cli(
      "run",
      "baseline",
      "--quick",
      "--seeds",
      "2",
      "--no-figures",
      "--out",
      out,
      "--resume",
    );
    expect(r.code).toBe(2);
    expect(r.stderr.split("\n")).toHaveLength(2);
    expect(r.stderr).toMatch(/seeds/);
    expect(readFileSync(join(out, "baseline", "runs.csv"), "utf8")).toBe(before);
  });
});
