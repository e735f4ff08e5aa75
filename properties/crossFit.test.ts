/**
 * Cross-fitted calibration (src/calibration/crossFit.ts, `fit --calibrate METHOD --cv K`), as
 * scikit-learn's CalibratedClassifierCV: the folds are scikit-learn's StratifiedKFold test folds
 * (fixture made by properties/fixtures/crossfit/make_folds.py with scikit-learn 1.2.1); each fold
 * pair is the base model fitted on the other folds and the recalibrator fitted on its scores for
 * the fold; the ensemble averages the pairs' probabilities, the non-ensemble form fits one
 * recalibrator on the out-of-fold scores of every sample. The saved model (version 2) predicts the
 * same probabilities bit for bit through `predict`.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fc, test } from "@fast-check/vitest";
import { afterAll, describe, expect, it } from "vitest";
import {
  type CrossFitCalibration,
  calibratedProba,
  calibrationFromJson,
  calibrationToJson,
  crossFitCalibration,
} from "../src/calibration/crossFit.js";
import { createRecalibrator } from "../src/calibration/recalibrators/registry.js";
import { createRng } from "../src/data/rng.js";
import { stratifiedKFold } from "../src/data/split.js";
import { InputError, RunError } from "../src/errors.js";
import { type Matrix, takeRows } from "../src/linalg/matrix.js";
import { fit } from "../src/model/fit.js";
import { modelFromJson, modelToJson } from "../src/model/modelFile.js";
import { argmaxRows, decisionFunction, predictProba } from "../src/model/predict.js";
import { cli } from "./_shared/cli.js";

interface FoldCase {
  y: number[];
  classes: number;
  n_splits: number;
  folds: number[];
}
const fixture = JSON.parse(
  fs.readFileSync(path.join(import.meta.dirname, "fixtures", "crossfit", "folds.json"), "utf8"),
) as { versions: Record<string, string>; cases: FoldCase[] };

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "softcal-crossfit-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("stratifiedKFold", () => {
  it(`equals scikit-learn ${fixture.versions["scikit-learn"]} StratifiedKFold (no shuffle) on every fixture case`, () => {
    expect(fixture.cases.length).toBeGreaterThanOrEqual(7);
    for (const c of fixture.cases) {
      expect(Array.from(stratifiedKFold(Int32Array.from(c.y), c.classes, c.n_splits))).toEqual(c.folds);
    }
  });

  const labels = fc
    .record({ K: fc.integer({ min: 2, max: 5 }), folds: fc.integer({ min: 2, max: 6 }) })
    .chain(({ K, folds }) =>
      fc.record({
        K: fc.constant(K),
        folds: fc.constant(folds),
        // Every class at least `folds` times, then anything.
        y: fc
          .array(fc.integer({ min: 0, max: K - 1 }), { maxLength: 60 })
          .map((rest) => Int32Array.from([...Array.from({ length: K * folds }, (_, i) => i % K), ...rest])),
        seed: fc.nat(),
        order: fc.array(fc.nat(), { minLength: K * folds + 60, maxLength: K * folds + 60 }),
      }),
    )
    .map((c) => {
      // Shuffle the samples so classes interleave arbitrarily.
      const y = Array.from(c.y);
      for (let i = y.length - 1; i > 0; i--) {
        const j = c.order[i] % (i + 1);
        [y[i], y[j]] = [y[j], y[i]];
      }
      return { ...c, y: Int32Array.from(y) };
    });

  test.prop([labels])(
    "every class is spread over the folds as evenly as possible (per-class counts differ by at most 1), shuffled or not; a seed gives the same folds",
    ({ K, folds, y, seed }) => {
      for (const rng of [undefined, createRng(seed)]) {
        const f = stratifiedKFold(y, K, folds, rng);
        for (let k = 0; k < K; k++) {
          const perFold = new Array<number>(folds).fill(0);
          for (let i = 0; i < y.length; i++) if (y[i] === k) perFold[f[i]]++;
          expect(Math.max(...perFold) - Math.min(...perFold)).toBeLessThanOrEqual(1);
          expect(Math.min(...perFold)).toBeGreaterThanOrEqual(1);
        }
      }
      expect(stratifiedKFold(y, K, folds, createRng(seed))).toEqual(
        stratifiedKFold(y, K, folds, createRng(seed)),
      );
    },
  );

  it("more folds than the smallest class holds: an InputError naming --cv", () => {
    expect(() => stratifiedKFold(Int32Array.of(0, 0, 0, 1, 1), 2, 3)).toThrow(
      new InputError(
        "--cv: expected an integer from 2 to 2 (the smallest class has 2 samples, and every fold needs one of each class); got 3",
      ),
    );
    expect(() => stratifiedKFold(Int32Array.of(0, 0, 1, 1), 2, 1)).toThrow(
      /^--cv: expected an integer from 2/,
    );
  });
});

/**
 * Labelled data with signal and noise: X uniform in [−3, 3]^d, the label the band of x₀ it falls
 * in (K equal bands), then about one label in four replaced by a random class — better than
 * chance (temperature scaling needs that) and not separable — with every class at least
 * 2·folds times.
 */
const noisyData = (folds: number) =>
  fc
    .record({
      K: fc.integer({ min: 2, max: 3 }),
      d: fc.integer({ min: 1, max: 3 }),
      n: fc.integer({ min: 40, max: 80 }),
    })
    .chain(({ K, d, n }) =>
      fc.record({
        K: fc.constant(K),
        d: fc.constant(d),
        X: fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: n * d, maxLength: n * d }),
        flips: fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: K - 1 })), {
          minLength: n,
          maxLength: n,
        }),
      }),
    )
    .map(({ K, d, X, flips }) => {
      const n = flips.length;
      const y = Int32Array.from(flips, ([coin, k], i) =>
        coin === 0 ? k : Math.min(K - 1, Math.floor(((X[i * d] + 3) / 6) * K)),
      );
      return { X: { rows: n, cols: d, data: Float64Array.from(X) }, y, nClasses: K };
    })
    .filter(({ y, nClasses }) => {
      const counts = new Array<number>(nClasses).fill(0);
      for (const k of y) counts[k]++;
      return counts.every((c) => c >= 2 * folds);
    });

/** The base model's scores as crossFit passes them to a recalibrator. */
function scores(model: ReturnType<typeof fit>, X: Matrix) {
  return model.model === "softmax"
    ? { S: decisionFunction(model, X), opts: { logits: true } }
    : { S: predictProba(model, X), opts: {} };
}

describe("crossFitCalibration", () => {
  const folds = 3;
  const fitOptions = { l2: 0.1 };

  test.prop([noisyData(folds), fc.constantFrom("isotonic", "histogram", "temperature"), fc.boolean()], {
    numRuns: 15,
  })(
    "equals the fold pairs computed by hand: the mean of K recalibrated fold models (ensemble), or one recalibrator on the out-of-fold scores",
    ({ X, y, nClasses }, method, ensemble) => {
      // Histogram binning needs a row per bin in every fold: 5 bins (folds hold ≥ 13 rows).
      const recalibrator = { bins: 5 };
      let got: ReturnType<typeof crossFitCalibration>;
      try {
        got = crossFitCalibration(X, y, nClasses, {
          method,
          recalibrator,
          cv: folds,
          ensemble,
          fit: fitOptions,
        });
      } catch (err) {
        // Temperature scaling refuses a fold whose labels are all at their row's largest logit
        // (no finite optimum): a true reason, rare on random labels.
        if (err instanceof RunError && /non-separable/.test(err.message)) return;
        throw err;
      }
      const f = stratifiedKFold(y, nClasses, folds);
      const base = fit(X, y, nClasses, fitOptions);
      expect(got.base.theta).toEqual(base.theta);
      const n = X.rows;
      const K = nClasses;
      const want = new Float64Array(n * K);
      const oof = new Float64Array(n * K);
      let opts = {};
      for (let k = 0; k < folds; k++) {
        const train = [...y.keys()].filter((i) => f[i] !== k);
        const held = [...y.keys()].filter((i) => f[i] === k);
        const m = fit(
          takeRows(X, train),
          Int32Array.from(train, (i) => y[i]),
          K,
          fitOptions,
        );
        const s = scores(m, takeRows(X, held));
        opts = s.opts;
        if (ensemble) {
          const r = createRecalibrator(method, recalibrator).fit(
            s.S,
            Int32Array.from(held, (i) => y[i]),
            s.opts,
          );
          const P = r.transform(scores(m, X).S, s.opts);
          for (let i = 0; i < want.length; i++) want[i] += P.data[i];
        } else {
          held.forEach((i, r) => {
            oof.set(s.S.data.subarray(r * K, (r + 1) * K), i * K);
          });
        }
      }
      if (ensemble) for (let i = 0; i < want.length; i++) want[i] /= folds;
      else {
        const r = createRecalibrator(method, recalibrator).fit({ rows: n, cols: K, data: oof }, y, opts);
        want.set(r.transform(scores(base, X).S, opts).data);
      }
      const P = calibratedProba(got.base, got.calibration, X);
      expect(Array.from(P.data)).toEqual(Array.from(want));
      expect(got.calibration.members).toHaveLength(ensemble ? folds : 1);
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += P.data[i * K + k];
        expect(Math.abs(s - 1)).toBeLessThanOrEqual(K * Number.EPSILON * 4);
      }
    },
  );

  test.prop([noisyData(folds)], { numRuns: 15 })(
    "temperature scaling on the out-of-fold scores never changes a prediction's class (T > 0 keeps every argmax)",
    ({ X, y, nClasses }) => {
      let got: ReturnType<typeof crossFitCalibration>;
      try {
        got = crossFitCalibration(X, y, nClasses, {
          method: "temperature",
          cv: folds,
          ensemble: false,
          fit: fitOptions,
        });
      } catch (err) {
        if (err instanceof RunError && /non-separable/.test(err.message)) return;
        throw err;
      }
      expect(argmaxRows(calibratedProba(got.base, got.calibration, X))).toEqual(
        argmaxRows(predictProba(got.base, X)),
      );
    },
  );

  test.prop([noisyData(folds), fc.boolean()], { numRuns: 10 })(
    "saved in a model file and read back, it predicts the same probabilities bit for bit",
    ({ X, y, nClasses }, ensemble) => {
      const { base, calibration } = crossFitCalibration(X, y, nClasses, {
        method: "isotonic",
        cv: folds,
        ensemble,
        fit: fitOptions,
      });
      const bundle = {
        ...base,
        classNames: Array.from({ length: nClasses }, (_, k) => `c${k}`),
        featureNames: Array.from({ length: X.cols }, (_, j) => `x${j}`),
        standardization: null,
        training: {},
      };
      const text = modelToJson(bundle, calibrationToJson(calibration, base));
      const read = modelFromJson(text, "m.json");
      expect(JSON.parse(text).version).toBe(2);
      const back: CrossFitCalibration = calibrationFromJson(read.calibration!, read, "m.json");
      expect(Array.from(calibratedProba(read, back, X).data)).toEqual(
        Array.from(calibratedProba(base, calibration, X).data),
      );
    },
  );

  it("a fold whose recalibrator cannot be fitted names the fold", () => {
    // Perfectly separated classes: every fold's labels sit at their row's largest logit.
    const X = { rows: 12, cols: 1, data: Float64Array.from([0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15]) };
    const y = Int32Array.from([0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1]);
    expect(() => crossFitCalibration(X, y, 2, { method: "temperature", cv: 3, fit: { l2: 0.01 } })).toThrow(
      /^--cv: fold 1 of 3: temperature scaling needs a non-separable calibration set/,
    );
  });
});

describe("fit --calibrate METHOD --cv K, then predict", () => {
  /** The feature columns (x1, x2) of noisyCsv()'s file. */
  function features(file: string): Matrix {
    const rows = fs.readFileSync(file, "utf8").trim().split("\n").slice(1);
    return {
      rows: rows.length,
      cols: 2,
      data: Float64Array.from(rows.flatMap((l) => l.split(",").slice(0, 2).map(Number))),
    };
  }

  /** A noisy three-class CSV (labels from a seeded draw), with a label column. */
  function noisyCsv(): string {
    const rng = createRng(11);
    const lines = ["x1,x2,label"];
    for (let i = 0; i < 150; i++) {
      const k = i % 3;
      lines.push(`${(k + 2 * rng.next() - 1).toFixed(6)},${(k * 0.5 + 2 * rng.next() - 1).toFixed(6)},c${k}`);
    }
    const file = path.join(dir, "noisy.csv");
    fs.writeFileSync(file, `${lines.join("\n")}\n`);
    return file;
  }

  it("writes a version 2 model whose predict output is the calibrated probabilities, bit for bit", async () => {
    const data = noisyCsv();
    const model = path.join(dir, "calibrated.json");
    const r = await cli(
      "fit",
      "--data",
      data,
      "--l2",
      "0.01",
      "--calibrate",
      "temperature",
      "--cv",
      "5",
      "--save",
      model,
      "--json",
    );
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).calibration).toEqual({ method: "temperature", cv: 5, ensemble: true });
    const saved = modelFromJson(fs.readFileSync(model, "utf8"), model);
    const calibration = calibrationFromJson(saved.calibration!, saved, model);
    expect(calibration.members).toHaveLength(5);
    const p = await cli("predict", "--model", model, "--data", data);
    expect(p.code, p.stderr).toBe(0);
    const rows = p.stdout.trim().split("\n");
    expect(rows[0]).toBe("p_c0,p_c1,p_c2,label");
    const X = features(data);
    const want = calibratedProba(saved, calibration, X);
    const got = rows.slice(1).map((l) => l.split(",").slice(0, 3).map(Number));
    expect(got.flat()).toEqual(Array.from(want.data));
    // Calibrated, not the base model's probabilities.
    expect(got.flat()).not.toEqual(Array.from(predictProba(saved, X).data));
  });

  it("every method fits, saves and reloads through the CLI: fit --calibrate M --save, then predict gives the calibrated probabilities", async () => {
    const data = noisyCsv();
    const X = features(data);
    for (const [method, ...extra] of [
      ["beta"],
      ["beta", "--variant", "am"],
      ["matrix", "--odir-lambda", "0.01", "--odir-mu", "0.01"],
      ["dirichlet"],
      ["vector", "--cal-l2", "0.01"],
      ["histogram", "--cal-bins", "5", "--no-ensemble"],
    ]) {
      const model = path.join(dir, `${method}.json`);
      const r = await cli(
        "fit",
        "--data",
        data,
        "--l2",
        "0.01",
        "--calibrate",
        method,
        "--cv",
        "3",
        ...extra,
        "--save",
        model,
        "--force",
      );
      expect(r.code, `${method}: ${r.stderr}`).toBe(0);
      const saved = modelFromJson(fs.readFileSync(model, "utf8"), model);
      const calibration = calibrationFromJson(saved.calibration!, saved, model);
      expect(calibration.method).toBe(method);
      const p = await cli("predict", "--model", model, "--data", data);
      expect(p.code, `${method}: ${p.stderr}`).toBe(0);
      const got = p.stdout
        .trim()
        .split("\n")
        .slice(1)
        .flatMap((l) => l.split(",").slice(0, 3).map(Number));
      expect(got, method).toEqual(Array.from(calibratedProba(saved, calibration, X).data));
    }
  });

  it("flags of --calibrate without it, bad folds and a tampered calibration: exit 2, one line", async () => {
    const data = noisyCsv();
    for (const [args, message] of [
      [
        ["--cv", "5"],
        "softcal: --cv: expected --calibrate METHOD too (it is an option of the cross-fitted calibration)",
      ],
      [
        ["--no-ensemble"],
        "softcal: --no-ensemble: expected --calibrate METHOD too (it is an option of the cross-fitted calibration)",
      ],
      [["--calibrate", "nope"], /^softcal: --calibrate: expected one of temperature, vector, /],
      [
        ["--calibrate", "isotonic", "--cv", "51"],
        /^softcal: --cv: expected an integer from 2 to 50 \(the smallest class has 50 samples/,
      ],
      [["--calibrate", "isotonic", "--cv", "1000"], /^softcal: --cv: expected an integer from 2 to 100 /],
      [
        ["--calibrate", "temperature", "--cal-bins", "5"],
        "softcal: --cal-bins: expected --calibrate histogram (the only method it applies to); got --calibrate temperature",
      ],
    ] as [string[], string | RegExp][]) {
      const r = await cli("fit", "--data", data, ...args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
      if (typeof message === "string") expect(r.stderr.trimEnd()).toBe(message);
      else expect(r.stderr.trimEnd()).toMatch(message);
    }
    const model = path.join(dir, "tampered.json");
    expect(
      (await cli("fit", "--data", data, "--calibrate", "isotonic", "--cv", "3", "--save", model)).code,
    ).toBe(0);
    const json = JSON.parse(fs.readFileSync(model, "utf8"));
    json.calibration.members.pop();
    fs.writeFileSync(model, JSON.stringify(json));
    const p = await cli("predict", "--model", model, "--data", data);
    expect(p.code).toBe(2);
    expect(p.stderr.trimEnd()).toBe(
      `softcal: ${model}: expected "calibration".members: 3 members (cv 3, ensemble true); got ${JSON.stringify(json.calibration.members).slice(0, 60)}`,
    );
  });
});
