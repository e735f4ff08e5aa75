/**
 * softcal/testing, tested by using it: the arbitraries generate what they promise (checked with
 * the matchers, on softcal's own softmax, fit and calibration metrics), the gradient checker and
 * the matchers pass on softcal's objectives and fail — with a readable message — on deliberately
 * broken ones, a failing property prints its replay command, and a separate project can
 * `import { … } from "softcal/testing"` by name.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { fc, test } from "@fast-check/vitest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { classwiseCalibrationError, expectedCalibrationError } from "../src/calibration/metrics.js";
import { createRng } from "../src/data/rng.js";
import { softmax } from "../src/kernels/softmax.js";
import { fit } from "../src/model/fit.js";
import { ovrObjective, softmaxObjective, type TrainingData } from "../src/model/objective.js";
import { predictProba } from "../src/model/predict.js";
import {
  calibratedPredictions,
  checkGradient,
  type LossWithGradient,
  labelledDataset,
  logitMatrix,
  probabilityMatrix,
  softcalMatchers,
} from "../src/testing/index.js";
import { replayCommand, runs } from "./_shared/replay.js";

expect.extend(softcalMatchers);

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const EPS = 2 ** -52;

/** softcal's softmax objective as a `(params) => { loss, grad }` function. */
function lossFn(data: TrainingData, l2: number, model: "softmax" | "ovr" = "softmax"): LossWithGradient {
  const obj = model === "softmax" ? softmaxObjective(data, l2) : ovrObjective(data, l2);
  return (theta) => {
    const grad = new Float64Array(obj.size);
    const loss = obj.evaluate(theta, grad);
    return { loss, grad };
  };
}

const datasetWithTheta = labelledDataset({ maxSamples: 12, maxFeatures: 3 }).chain((ds) =>
  fc.record({
    ds: fc.constant(ds),
    theta: fc
      .array(fc.double({ min: -3, max: 3, noNaN: true }), {
        minLength: ds.nClasses * (ds.X.cols + 1),
        maxLength: ds.nClasses * (ds.X.cols + 1),
      })
      .map((a) => Float64Array.from(a)),
    l2: fc.constantFrom(0, 1e-3, 0.5),
  }),
);

function training(ds: {
  X: { rows: number; cols: number; data: Float64Array };
  y: Int32Array;
  nClasses: number;
}) {
  return { X: ds.X.data, nSamples: ds.X.rows, nFeatures: ds.X.cols, y: ds.y, nClasses: ds.nClasses };
}

describe("arbitraries", () => {
  test.prop([logitMatrix({ minRows: 2, maxRows: 6, minClasses: 3, maxClasses: 4, maxAbs: 7 })])(
    "logitMatrix: the asked shape, finite logits within maxAbs; softcal's softmax maps them onto the simplex",
    (Z) => {
      expect(Z.rows).toBeGreaterThanOrEqual(2);
      expect(Z.rows).toBeLessThanOrEqual(6);
      expect([3, 4]).toContain(Z.cols);
      expect(Z.data).toHaveLength(Z.rows * Z.cols);
      for (const v of Z.data) expect(Math.abs(v)).toBeLessThanOrEqual(7);
      // softmax rounding: each p_k is within a few ulps, so the row sum is within ~K·ε of 1.
      expect(softmax(Z)).toBeOnSimplex({ tol: 4 * Z.cols * EPS });
    },
  );

  test.prop([probabilityMatrix({ maxClasses: 6 })])(
    "probabilityMatrix: rows on the simplex to within rounding (K·ε)",
    (P) => {
      // Softmax rows: each entry carries ≲ 2 ulps, uniform rows 1/K carry ≤ ½ ulp per entry.
      expect(P).toBeOnSimplex({ tol: 4 * P.cols * EPS });
    },
  );

  it("probabilityMatrix mixes in exact one-hot and uniform rows unless extremes: false", () => {
    const rows = (extremes: boolean) =>
      fc
        .sample(probabilityMatrix({ minClasses: 3, maxClasses: 3, extremes }), { seed: 7, numRuns: 200 })
        .flatMap((P) =>
          Array.from({ length: P.rows }, (_, i) => Array.from(P.data.subarray(3 * i, 3 * i + 3))),
        );
    const withEdges = rows(true);
    expect(withEdges.some((r) => r.includes(1) && r.filter((v) => v === 0).length === 2)).toBe(true);
    expect(withEdges.some((r) => r.every((v) => v === 1 / 3))).toBe(true);
    expect(rows(false).every((r) => r.every((v) => v > 0 && v < 1))).toBe(true);
  });

  test.prop([labelledDataset({ maxClasses: 3, maxFeatures: 2, maxSamples: 15 })], { numRuns: runs(25) })(
    "labelledDataset: every class present; softcal's fit on it predicts rows on the simplex",
    ({ X, y, nClasses }) => {
      expect(X.data).toHaveLength(X.rows * X.cols);
      expect(y).toHaveLength(X.rows);
      expect(new Set(y).size).toBe(nClasses);
      const model = fit(X, y, nClasses, { l2: 0.1, kernel: "js" });
      // Probabilities of a fitted model: softmax rounding only, as above.
      expect(predictProba(model, X)).toBeOnSimplex({ tol: 4 * nClasses * EPS });
    },
  );

  test.prop([
    calibratedPredictions(),
    fc.integer({ min: 1, max: 30 }),
    fc.constantFrom("uniform" as const, "quantile" as const),
  ])(
    "calibratedPredictions: ECE 0 (to rounding) for any bins, top-label and class-wise",
    ({ probs, labels }, bins, strategy) => {
      expect(labels).toHaveLength(probs.rows);
      // Exact by construction; what remains is the rounding of n sums of confidences (≤ n·ε each).
      expect({ probs, labels }).toBeCalibrated({ maxEce: 1e-12, bins, strategy });
      expect(classwiseCalibrationError(probs, labels, { bins, strategy })).toBeLessThanOrEqual(1e-12);
    },
  );

  it("arbitraries reject impossible option ranges with a RangeError", () => {
    expect(() => logitMatrix({ minRows: 5, maxRows: 2 })).toThrow(
      "rows: expected integers 0 <= min <= max; got min 5, max 2",
    );
    expect(() => probabilityMatrix({ maxLogit: 0 })).toThrow("maxLogit: expected a finite number > 0; got 0");
    expect(() => labelledDataset({ minClasses: 4, maxClasses: 4, maxSamples: 3 })).toThrow(RangeError);
    expect(() => calibratedPredictions({ maxGroups: 0 })).toThrow(RangeError);
  });
});

describe("checkGradient and toHaveGradientMatchingFiniteDifferences", () => {
  test.prop([datasetWithTheta])(
    "softcal's softmax and one-vs-rest objectives pass (default tolerances)",
    ({ ds, theta, l2 }) => {
      expect(lossFn(training(ds), l2)).toHaveGradientMatchingFiniteDifferences(theta);
      expect(lossFn(training(ds), l2, "ovr")).toHaveGradientMatchingFiniteDifferences(theta);
    },
  );

  test.prop([datasetWithTheta])(
    "a broken gradient (the 1/m factor forgotten) fails whenever the data has m ≥ 2 and the gradient is not ~0",
    ({ ds, theta, l2 }) => {
      fc.pre(ds.X.rows >= 2);
      const good = lossFn(training(ds), l2);
      const broken: LossWithGradient = (t) => {
        const r = good(t);
        return { loss: r.loss, grad: Array.from(r.grad, (g) => g * ds.X.rows) };
      };
      const g = good(theta).grad;
      // The bug changes g by (m − 1)|g| ≥ |g|; require that to dwarf the allowed 1e-6 relative error.
      fc.pre(Math.max(...Array.from(g, Math.abs)) > 1e-3);
      expect(checkGradient(broken, theta).ok).toBe(false);
      expect(broken).not.toHaveGradientMatchingFiniteDifferences(theta);
    },
  );

  it("a deliberately broken objective (penalty left out of the gradient) fails with a readable message", () => {
    const data: TrainingData = {
      X: Float64Array.of(1, 2, -1, 0.5, 0.3, -2),
      nSamples: 3,
      nFeatures: 2,
      y: Int32Array.of(0, 1, 1),
      nClasses: 2,
    };
    const l2 = 0.5;
    const noPenalty = lossFn(data, 0);
    const broken: LossWithGradient = (t) => ({ loss: lossFn(data, l2)(t).loss, grad: noPenalty(t).grad });
    const theta = Float64Array.of(0.1, 1, -2, 0.3, 0.5, 0.7);
    expect(lossFn(data, l2)).toHaveGradientMatchingFiniteDifferences(theta);
    let message = "";
    try {
      expect(broken).toHaveGradientMatchingFiniteDifferences([new Float64Array(6), theta]);
    } catch (e) {
      message = (e as Error).message;
    }
    // At Θ = 0 the penalty's gradient is 0 (point 0 passes); at point 1 the four weights are off by
    // λ·θ_j; the worst relative to its tolerance is coordinate 1 (λ·1 = 0.5 on a gradient of ~0.25).
    expect(message).toMatch(
      /^expected the gradient to match central finite differences at point 1 of 2: 4 of 6 coordinates differ; worst at coordinate 1: gradient -0\.269803 vs finite difference 0\.230197 \(\|diff\| 0\.5, allowed [\d.e-]+\)$/,
    );
  });

  it("checkGradient on a known function: f(θ) = Σθ², ∇f = 2θ; a sign error is found", () => {
    const f: LossWithGradient = (t) => ({
      loss: t.reduce((s, v) => s + v * v, 0),
      grad: t.map((v) => 2 * v),
    });
    const r = checkGradient(f, [1, -2, 3]);
    expect(r.ok).toBe(true);
    expect(r.loss).toBe(14);
    // A quadratic has f''' = 0: central differences are exact up to rounding, ≈ ε·|f|/h ≈ 5e-10.
    for (const c of r.coordinates) expect(c.error).toBeLessThan(1e-8);
    const wrong: LossWithGradient = (t) => ({ loss: f(t).loss, grad: [2 * t[0], -2 * t[1], 2 * t[2]] });
    const w = checkGradient(wrong, [1, -2, 3]);
    expect(w.ok).toBe(false);
    expect(w.worst?.index).toBe(1);
    expect(w.summary).toMatch(
      /^1 of 3 coordinates differ; worst at coordinate 1: gradient 4 vs finite difference -4/,
    );
    expect(checkGradient(wrong, [1, -2, 3], { indices: [0, 2] }).ok).toBe(true);
  });

  it("non-finite losses fail; wrong shapes and arguments throw with a message", () => {
    const nan: LossWithGradient = () => ({ loss: Number.NaN, grad: [0] });
    expect(checkGradient(nan, [0]).ok).toBe(false);
    expect(checkGradient(nan, [0]).summary).toBe(
      "the loss at the given parameters is NaN, not a finite number",
    );
    expect(() => checkGradient(() => ({ loss: 0, grad: [0, 0] }), [1])).toThrow(
      "checkGradient: expected a gradient of length 1 (one per parameter); got 2",
    );
    expect(() => checkGradient(() => ({ loss: 0, grad: [0] }), [])).toThrow(RangeError);
    expect(() => checkGradient(() => ({ loss: 0, grad: [0] }), [1], { indices: [3] })).toThrow(
      "checkGradient: indices: expected integers in 0..0; got 3",
    );
    expect(() => expect(42).toHaveGradientMatchingFiniteDifferences([1])).toThrow(
      "toHaveGradientMatchingFiniteDifferences: expected a function (params) => { loss, grad }; got 42",
    );
  });
});

describe("toBeOnSimplex", () => {
  it("accepts a Matrix, rows, or one row; names the first bad row", () => {
    expect([0.2, 0.8]).toBeOnSimplex();
    expect([
      [1, 0],
      [0.5, 0.5],
    ]).toBeOnSimplex();
    expect(() =>
      expect([
        [0.2, 0.8],
        [0.5, 0.6],
      ]).toBeOnSimplex(),
    ).toThrow(
      "expected every row on the probability simplex (entries in [0, 1], sums within 1e-6 of 1); row 1 sums to 1.1 (off by 0.1, tolerance 1e-6): [0.5, 0.6]",
    );
    expect(() => expect([1.5, -0.5]).toBeOnSimplex()).toThrow(
      "row 0, column 0 is 1.5, outside [0, 1]: [1.5, -0.5]",
    );
    expect(() => expect([Number.NaN, 1]).toBeOnSimplex()).toThrow("row 0, column 0 is NaN");
    expect([0.5, 0.6]).not.toBeOnSimplex();
    expect(() => expect([0.5, 0.5]).not.toBeOnSimplex()).toThrow(
      "expected the 1×2 matrix not to be on the probability simplex, but every row is",
    );
    expect(() => expect("0.5").toBeOnSimplex()).toThrow(
      'toBeOnSimplex: expected a softcal Matrix, an array of rows, or one row of numbers; got "0.5"',
    );
  });

  test.prop([logitMatrix({ maxAbs: 5 }), fc.nat(), fc.double({ min: 1e-3, max: 1 })])(
    "perturbing one entry of a softmax row by δ ≥ 1e-3 is always caught",
    (Z, at, delta) => {
      const P = softmax(Z);
      const i = at % P.data.length;
      P.data[i] = P.data[i] + (P.data[i] + delta <= 1 ? delta : -delta);
      expect(P).not.toBeOnSimplex();
    },
  );
});

describe("toBeCalibrated on softcal itself and on a deliberately broken model", () => {
  // Data from a known 3-class logistic model, so a well-fitted model is calibrated on fresh data.
  const trueTheta = [
    [0, 1, -0.5],
    [0.3, -0.8, 0.6],
    [-0.2, 0.1, 1.1],
  ];
  function draw(seed: number, n: number) {
    const rng = createRng(seed);
    const X = new Float64Array(n * 2);
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      X[2 * i] = 2 * rng.normal();
      X[2 * i + 1] = 2 * rng.normal();
      const z = trueTheta.map((t) => t[0] + t[1] * X[2 * i] + t[2] * X[2 * i + 1]);
      const p = softmax({ rows: 1, cols: 3, data: Float64Array.from(z) }).data;
      const u = rng.next();
      let k = 0;
      let c = p[0];
      while (u >= c && k < 2) c += p[++k];
      y[i] = k;
    }
    return { X: { rows: n, cols: 2, data: X }, y };
  }
  const train = draw(1, 3000);
  const test_ = draw(2, 3000);
  const model = fit(train.X, train.y, 3, { kernel: "js" });

  it("softcal's fit is calibrated on held-out data; the same model with Θ doubled (over-confident) is not", () => {
    const probs = predictProba(model, test_.X);
    // n = 3000, B = 10: sampling noise alone gives ECE ≈ 0.4·√(B/n) ≈ 0.023 (measured: 0.0185).
    expect({ probs, labels: test_.y }).toBeCalibrated({ maxEce: 0.05, bins: 10 });
    const broken = { ...model, theta: model.theta.map((v) => 2 * v) };
    const overconfident = predictProba(broken, test_.X);
    expect({ probs: overconfident, labels: test_.y }).not.toBeCalibrated({ maxEce: 0.05, bins: 10 });
    let message = "";
    try {
      expect({ probs: overconfident, labels: test_.y }).toBeCalibrated({ maxEce: 0.05, bins: 10 });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(
      /^expected predictions to be calibrated: top-label ECE 0\.1\d+ > maxEce 0\.05 \(10 equal-width bins, n = 3000\); the largest contribution is bin \[0\.\d+, [\d.]+\]: mean confidence 0\.\d+, accuracy 0\.\d+ \(\d+ samples\); sampling noise alone gives a calibrated model about 0\.0\d+$/,
    );
    expect(expectedCalibrationError(overconfident, test_.y, { bins: 10 })).toBeGreaterThan(0.1);
  });

  it("bad input is an error with softcal's message, also under .not", () => {
    expect(() => expect({ probs: [[0.5, 0.6]], labels: [0] }).not.toBeCalibrated({ maxEce: 0.1 })).toThrow(
      /toBeCalibrated: row 0: expected probabilities summing to 1/,
    );
    expect(() => expect({ probs: [[0.5, 0.5]], labels: [0] }).toBeCalibrated(undefined as never)).toThrow(
      "toBeCalibrated: expected options { maxEce: number >= 0, bins?, strategy?, logits? }; got undefined",
    );
    expect(() => expect([[0.5, 0.5]]).toBeCalibrated({ maxEce: 0.1 })).toThrow(
      "toBeCalibrated: expected { probs, labels }; got [[0.5,0.5]]",
    );
  });

  it("logits are accepted with logits: true", () => {
    const Z = { rows: 2, cols: 2, data: Float64Array.of(0, 0, 0, 0) };
    expect({ probs: Z, labels: [0, 1] }).toBeCalibrated({ maxEce: 1e-15, logits: true, bins: 4 });
  });
});

describe("replayable failures", () => {
  it("a failing property reports fast-check's seed and path, then the exact replay command", () => {
    let message = "";
    try {
      fc.assert(
        fc.property(fc.integer(), (n) => n < 1000),
        { seed: 42 },
      );
    } catch (e) {
      message = (e as Error).message;
    }
    const m =
      /Replay: FC_SEED=42 FC_PATH=([\d:]+) npx vitest run properties\/testing\.test\.ts -t '(.+)'$/.exec(
        message,
      );
    expect(m, message).not.toBeNull();
    expect(m?.[2]).toBe(
      "a failing property reports fast-check's seed and path, then the exact replay command".replace(
        /'/g,
        "'\\''",
      ),
    );
    expect(message).toContain("Counterexample: [1000]");
    // Replaying with that seed and path goes straight to the same counterexample.
    const replay = fc.check(
      fc.property(fc.integer(), (n) => n < 1000),
      { seed: 42, path: m?.[1], endOnFailure: true },
    );
    expect(replay.failed).toBe(true);
    expect(replay.counterexample).toEqual([1000]);
  });

  it("replayCommand quotes and escapes the test name; a path is optional", () => {
    expect(replayCommand(7, "1:2", "/x/properties/a.test.ts", "suite > it's (a+b) (with seed=7)")).toBe(
      `FC_SEED=7 FC_PATH=1:2 npx vitest run ${path.relative(process.cwd(), "/x/properties/a.test.ts")} -t 'it'\\''s \\(a\\+b\\)'`,
    );
    expect(replayCommand(-3, null)).toBe("FC_SEED=-3 npx vitest run");
  });
});

describe("a separate project imports softcal/testing by name", () => {
  const dist = path.join(repoRoot, "dist", "src", "testing", "index.js");
  let project = "";
  beforeAll(() => {
    project = fs.mkdtempSync(path.join(os.tmpdir(), "softcal-user-"));
  });
  afterAll(() => {
    if (project) fs.rmSync(project, { recursive: true, force: true });
  });

  it("a user's vitest file with the README's example runs green there, and type-checks", () => {
    expect(fs.existsSync(dist), `${dist} is missing: run \`npm run build\` first (npm test does)`).toBe(true);
    const nm = path.join(project, "node_modules");
    fs.mkdirSync(path.join(nm, "@fast-check"), { recursive: true });
    fs.symlinkSync(repoRoot, path.join(nm, "softcal"), "dir");
    for (const dep of ["vitest", "fast-check", "@fast-check/vitest", "typescript", "@types", "vite"]) {
      fs.symlinkSync(path.join(repoRoot, "node_modules", dep), path.join(nm, dep), "dir");
    }
    fs.writeFileSync(
      path.join(project, "package.json"),
      '{ "name": "user-project", "type": "module", "private": true }\n',
    );
    fs.writeFileSync(
      path.join(project, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "ES2022",
          module: "NodeNext",
          moduleResolution: "NodeNext",
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: ["node"],
        },
        include: ["*.ts"],
      }),
    );
    fs.writeFileSync(
      path.join(project, "vitest.config.ts"),
      'export default { test: { include: ["*.test.ts"] } };\n',
    );
    fs.writeFileSync(path.join(project, "model.test.ts"), README_EXAMPLE);
    const vitest = spawnSync(
      process.execPath,
      [path.join(repoRoot, "node_modules", "vitest", "vitest.mjs"), "run", "--reporter=json"],
      { cwd: project, encoding: "utf8", timeout: 60_000, env: { ...process.env, FC_SEED: "1" } },
    );
    const report = JSON.parse(vitest.stdout.slice(vitest.stdout.indexOf("{"))) as {
      numPassedTests: number;
      numFailedTests: number;
      testResults: { assertionResults: { title: string; status: string; failureMessages: string[] }[] }[];
    };
    const results = report.testResults.flatMap((f) => f.assertionResults);
    expect(results.map((r) => [r.title.replace(/ \(with seed=-?\d+\)$/, ""), r.status])).toEqual([
      ["softmax rows are probabilities", "passed"],
      ["my model's gradient matches finite differences", "passed"],
      ["calibrated-by-construction predictions pass toBeCalibrated", "passed"],
      ["an over-confident model fails toBeCalibrated", "passed"],
    ]);
    const tsc = spawnSync(
      process.execPath,
      [path.join(repoRoot, "node_modules", "typescript", "bin", "tsc"), "-p", "."],
      {
        cwd: project,
        encoding: "utf8",
        timeout: 60_000,
      },
    );
    expect(tsc.stdout + tsc.stderr).toBe("");
    expect(tsc.status).toBe(0);
  });
});

/** The README's example test (kept here verbatim so it is known to run). */
const README_EXAMPLE = `import { fc, test } from "@fast-check/vitest";
import { expect } from "vitest";
import { softmax } from "softcal";
import {
  calibratedPredictions,
  logitMatrix,
  softcalMatchers,
} from "softcal/testing";

expect.extend(softcalMatchers);

// Any logits → rows on the probability simplex.
test.prop([logitMatrix({ maxClasses: 6 })])("softmax rows are probabilities", (Z) => {
  expect(softmax(Z)).toBeOnSimplex();
});

// Your model's hand-written gradient against central finite differences.
// Here: mean squared error of a linear model, loss(w) = (1/n) Σ (x_i·w − t_i)².
const xs = [[1, 2], [3, -1], [0.5, 0.5]];
const ts = [1, 0, 2];
function loss(w: Float64Array) {
  const grad = new Float64Array(w.length);
  let sum = 0;
  xs.forEach((x, i) => {
    const r = x[0] * w[0] + x[1] * w[1] - ts[i];
    sum += r * r;
    for (let j = 0; j < w.length; j++) grad[j] += (2 * r * x[j]) / xs.length;
  });
  return { loss: sum / xs.length, grad };
}
test.prop([fc.tuple(fc.double({ min: -5, max: 5, noNaN: true }), fc.double({ min: -5, max: 5, noNaN: true }))])(
  "my model's gradient matches finite differences",
  (w) => {
    expect(loss).toHaveGradientMatchingFiniteDifferences(w);
  },
);

// Predictions that are calibrated by construction have ECE 0 for any binning.
test.prop([calibratedPredictions()])("calibrated-by-construction predictions pass toBeCalibrated", (preds) => {
  expect(preds).toBeCalibrated({ maxEce: 1e-12, bins: 10 });
});

// A deliberately broken model: it claims 95% confidence but is right half the time.
test("an over-confident model fails toBeCalibrated", () => {
  const probs = Array.from({ length: 100 }, () => [0.95, 0.05]);
  const labels = Array.from({ length: 100 }, (_, i) => i % 2);
  expect({ probs, labels }).not.toBeCalibrated({ maxEce: 0.1 });
  expect(() => expect({ probs, labels }).toBeCalibrated({ maxEce: 0.1 })).toThrow(/top-label ECE 0.45 > maxEce 0.1/);
});
`;
