/**
 * The saved model file: `modelFromJson(modelToJson(m))` is m bit for bit (every double, including
 * −0, subnormals and the largest finite double; any names), the CLI's `fit --save` → `predict`
 * reproduces the in-process `predictProba` bit for bit, and bad files fail with one exact message.
 * Then contract tests — each case kills a mutant that survived `npm run mutate` (docs/mutation.md
 * maps them): the exact bytes written (layout, −0, shortest round-trip numbers), the round trip bit
 * for bit, and every validation message — including the line and column of malformed JSON located
 * from V8's position or its unexpected token (skipping strings with escaped quotes).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fc, test } from "@fast-check/vitest";
import { stringify } from "csv-stringify/sync";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "../src/cli/main.js";
import { readCsvFile } from "../src/data/csv.js";
import { datasetFromTable } from "../src/data/dataset.js";
import { applyStandardizer, fitStandardizer } from "../src/data/standardize.js";
import { InputError } from "../src/errors.js";
import { fit } from "../src/model/fit.js";
import { type ModelBundle, modelFromJson, modelToJson } from "../src/model/modelFile.js";
import { predictProba } from "../src/model/predict.js";

const tmp = mkdtempSync(join(tmpdir(), "softcal-modelfile-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let fileCounter = 0;
const freshPath = (name: string) => join(tmp, `${fileCounter++}-${name}`);

// ----- arbitraries ----------------------------------------------------------------------------------

/** Doubles that stress a text round trip: −0, ±5e-324, ±max, the smallest normal, plus any finite. */
const EXTREMES = [
  -0, 0, 5e-324, -5e-324, 1.7976931348623157e308, -1.7976931348623157e308, 2.2250738585072014e-308,
];
const finiteDouble = fc.oneof(
  fc.constantFrom(...EXTREMES),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);
const positiveDouble = fc.oneof(
  fc.constantFrom(5e-324, 1.7976931348623157e308, 2.2250738585072014e-308, 1),
  fc.double({ min: 5e-324, max: 1.7976931348623157e308, noNaN: true }),
);
/** Names with JSON/CSV metacharacters, any code point (lone surrogates included), or plain text. */
const name = fc.oneof(
  fc.constantFrom('say "hi"', "a,b", "back\\slash", "line\nbreak", "é", "日本語", "𝔘𝔫𝔦", "", " "),
  fc.string({ unit: "binary", maxLength: 8 }),
);

const bundleArb: fc.Arbitrary<ModelBundle> = fc
  .record({ K: fc.integer({ min: 2, max: 6 }), d: fc.integer({ min: 0, max: 5 }) })
  .chain(({ K, d }) =>
    fc.record({
      model: fc.constantFrom("softmax" as const, "ovr" as const),
      nClasses: fc.constant(K),
      nFeatures: fc.constant(d),
      theta: fc
        .array(finiteDouble, { minLength: K * (d + 1), maxLength: K * (d + 1) })
        .map((a) => Float64Array.from(a)),
      classNames: fc.array(name, { minLength: K, maxLength: K }),
      featureNames: fc.array(name, { minLength: d, maxLength: d }),
      // The label column: absent in files written before it was recorded, else any non-empty name.
      labelColumn: fc.option(
        name.filter((n) => n !== ""),
        { nil: undefined },
      ),
      standardization: fc.option(
        fc.record({
          mean: fc.array(finiteDouble, { minLength: d, maxLength: d }),
          scale: fc.array(positiveDouble, { minLength: d, maxLength: d }),
        }),
        { nil: null },
      ),
      // Informational record; its numbers exclude −0 (JSON.stringify writes −0 as 0: see below).
      training: fc.dictionary(
        fc.string({ maxLength: 6 }).filter((k) => k !== "__proto__"),
        fc.oneof(
          fc.string({ maxLength: 6 }),
          fc.double({ noNaN: true, noDefaultInfinity: true }).map((v) => v + 0),
          fc.boolean(),
          fc.constant(null),
        ),
        { maxKeys: 4 },
      ),
    }),
  );

/** Bit-for-bit equality of two doubles (distinguishes −0 from 0). */
function sameBits(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  expect(a.length, `${what}: length`).toBe(b.length);
  for (let i = 0; i < a.length; i++) {
    if (!Object.is(a[i], b[i])) expect.fail(`${what}[${i}]: ${Object.is(a[i], -0) ? "-0" : a[i]} vs ${b[i]}`);
  }
}

function expectSameModel(got: ModelBundle, want: ModelBundle): void {
  expect(got.model).toBe(want.model);
  expect(got.nClasses).toBe(want.nClasses);
  expect(got.nFeatures).toBe(want.nFeatures);
  expect(got.theta).toBeInstanceOf(Float64Array);
  sameBits(got.theta, want.theta, "theta");
  expect(got.classNames).toEqual(want.classNames);
  expect(got.labelColumn).toBe(want.labelColumn);
  expect(got.featureNames).toEqual(want.featureNames);
  if (want.standardization === null) expect(got.standardization).toBeNull();
  else {
    expect(got.standardization).not.toBeNull();
    sameBits(got.standardization?.mean ?? [], want.standardization.mean, "mean");
    sameBits(got.standardization?.scale ?? [], want.standardization.scale, "scale");
  }
  expect(got.training).toEqual(want.training);
}

// ----- round trip ---------------------------------------------------------------------------------

describe("model file round trip", () => {
  test.prop([bundleArb])("modelFromJson(modelToJson(m)) is m, bit for bit", (m) => {
    fc.pre(m.labelColumn === undefined || !m.featureNames.includes(m.labelColumn));
    const text = modelToJson(m);
    expectSameModel(modelFromJson(text, "m.json"), m);
    // Deterministic: same model ⇒ same bytes, also after a round trip.
    expect(modelToJson(modelFromJson(text, "m.json"))).toBe(text);
  });

  test("the extremes are written in shortest round-trip form (−0 as -0)", () => {
    const m: ModelBundle = {
      model: "softmax",
      nClasses: 2,
      nFeatures: 2,
      theta: Float64Array.from([-0, 5e-324, 1.7976931348623157e308, 0.1, -2.2250738585072014e-308, 1]),
      classNames: ['"q"', "a,b"],
      featureNames: ["é", "x"],
      standardization: { mean: [-0, 1e-300], scale: [5e-324, 3] },
      training: {},
    };
    const text = modelToJson(m);
    expect(text).toContain("[-0, 5e-324, 1.7976931348623157e+308]");
    expect(text).toContain("[0.1, -2.2250738585072014e-308, 1]");
    expect(text).toContain('"mean": [-0, 1e-300], "scale": [5e-324, 3]');
    expectSameModel(modelFromJson(text, "m.json"), m);
  });

  // Not a property: −0 inside the informational `training` record is written as 0 (JSON.stringify),
  // so that record alone is not bit-exact for −0. Θ and the standardization, which predictions use,
  // are. Pinned here so a change is noticed.
  test("training: −0 reads back as 0 (informational record only)", () => {
    const m: ModelBundle = {
      model: "softmax",
      nClasses: 2,
      nFeatures: 0,
      theta: Float64Array.from([0, 0]),
      classNames: ["a", "b"],
      featureNames: [],
      standardization: null,
      training: { l2: -0 },
    };
    expect(Object.is(modelFromJson(modelToJson(m), "m.json").training.l2, 0)).toBe(true);
  });
});

// ----- through files and the CLI -------------------------------------------------------------------

interface Captured {
  code: number;
  out: string;
  err: string;
}
async function cli(args: string[]): Promise<Captured> {
  let out = "";
  let err = "";
  const code = await runCli(args, {
    stdout: (s) => void (out += s),
    stderr: (s) => void (err += s),
    stderrIsTTY: false,
    env: {},
  });
  return { code, out, err };
}

const FEATURE_NAMES = ['x "q"', "a,b", "é", "𝔘 z"];
const CLASS_NAMES = ['cat "A"', "b,c", "ü", "日本"];

const trainingCsvArb = fc
  .record({
    K: fc.integer({ min: 2, max: 4 }),
    d: fc.integer({ min: 1, max: 4 }),
    m: fc.integer({ min: 6, max: 30 }),
  })
  .chain(({ K, d, m }) =>
    fc.record({
      K: fc.constant(K),
      d: fc.constant(d),
      X: fc.array(fc.array(fc.double({ min: -5, max: 5, noNaN: true }), { minLength: d, maxLength: d }), {
        minLength: m,
        maxLength: m,
      }),
      labels: fc.array(fc.integer({ min: 0, max: K - 1 }), { minLength: m - K, maxLength: m - K }),
      // The label column's name: predict must find it through the model (item 12 of issue 16).
      labelName: fc.constantFrom("label", "species", 'my "class", 2'),
      standardize: fc.boolean(),
      l2: fc.constantFrom(1e-3, 0.1, 1),
    }),
  );

describe("fit --save → predict (CLI, in-process)", () => {
  test.prop([trainingCsvArb], { numRuns: 25 })(
    "reproduces predictProba bit for bit (names with quotes, commas, unicode); the label column and class names round-trip to evaluate",
    async ({ K, d, X, labels, labelName, standardize, l2 }) => {
      const y = [...Array.from({ length: K }, (_, k) => k), ...labels]; // every class present
      const rows = X.map((r, i) => [...r.map(String), CLASS_NAMES[y[i]]]);
      const data = freshPath("train.csv");
      writeFileSync(data, stringify([[...FEATURE_NAMES.slice(0, d), labelName], ...rows]));
      const model = freshPath("model.json");
      const flags = ["--l2", String(l2), ...(standardize ? ["--standardize"] : [])];
      const f = await cli(["fit", "--data", data, "--label", labelName, ...flags, "--save", model, "--json"]);
      expect(f.code, f.err).toBe(0);
      // No --label: predict takes the label column from the model.
      const p = await cli(["predict", "--model", model, "--data", data]);
      expect(p.code, p.err).toBe(0);

      // The same fit in-process, from the same file.
      const ds = datasetFromTable(readCsvFile(data), { file: data, label: labelName });
      const Xs = standardize ? applyStandardizer(ds.X, fitStandardizer(ds.X)) : ds.X;
      const r = fit(Xs, ds.y, ds.nClasses, { l2 });
      const P = predictProba(r, Xs);

      const fitJson = JSON.parse(f.out) as { theta: number[][]; classes: string[]; features: string[] };
      sameBits(fitJson.theta.flat(), r.theta, "fit --json theta");
      expect(fitJson.classes).toEqual(ds.classNames);
      expect(fitJson.features).toEqual(FEATURE_NAMES.slice(0, d));
      const saved = modelFromJson(readFileSync(model, "utf8"), model);
      sameBits(saved.theta, r.theta, "saved theta");
      expect(saved.classNames).toEqual(ds.classNames);
      expect(saved.labelColumn).toBe(labelName);

      const predsFile = writeTemp(p.out);
      const preds = readCsvFile(predsFile);
      expect(preds.header).toEqual([...ds.classNames.map((c) => `p_${c}`), labelName]);
      const got = preds.rows.flatMap((row) => row.slice(0, K).map(Number));
      sameBits(got, P.data, "predict probabilities");
      expect(preds.rows.map((row) => row[K])).toEqual(rows.map((row) => row[d]));
      // Byte for byte what csv-stringify writes for the whole table (the output is written in blocks).
      const want = stringify(
        [
          preds.header,
          ...Array.from({ length: P.rows }, (_, i) => [
            ...Array.from(P.data.subarray(i * K, (i + 1) * K), (v) => (Object.is(v, -0) ? "-0" : String(v))),
            rows[i][d],
          ]),
        ],
        { record_delimiter: "unix" },
      );
      expect(p.out).toBe(want);

      // evaluate reads the class names back from p_<class> and the labels by name.
      const e = await cli(["evaluate", "--predictions", predsFile, "--label", labelName, "--json"]);
      expect(e.code, e.err).toBe(0);
      const ev = JSON.parse(e.out) as { n: number; K: number; accuracy: number };
      expect([ev.n, ev.K]).toEqual([rows.length, K]);
      const argmax = Array.from({ length: P.rows }, (_, i) => {
        let b = 0;
        for (let k = 1; k < K; k++) if (P.data[i * K + k] > P.data[i * K + b]) b = k;
        return b;
      });
      expect(ev.accuracy).toBe(argmax.filter((k, i) => k === ds.y[i]).length / rows.length);
    },
  );

  it("an output of several MiB (several reused write buffers): --out and stdout hold csv-stringify's bytes", async () => {
    const rows = Array.from({ length: 40_000 }, (_, i) => [
      String(Math.sin(i)),
      String(Math.cos(3 * i)),
      ["a", 'b"q', "c,d"][i % 3],
    ]);
    const data = freshPath("many.csv");
    writeFileSync(data, stringify([["x1", "x2", "label"], ...rows]));
    const model = freshPath("many.json");
    expect((await cli(["fit", "--data", data, "--save", model])).code).toBe(0);
    const out = freshPath("many-preds.csv");
    const toFile = await cli(["predict", "--model", model, "--data", data, "--out", out]);
    expect(toFile.code, toFile.err).toBe(0);
    const toStdout = await cli(["predict", "--model", model, "--data", data]);
    expect(toStdout.out.length).toBeGreaterThan(2 * 2 ** 20); // three 1 MiB buffers at least
    expect(readFileSync(out, "utf8")).toBe(toStdout.out);
    const saved = modelFromJson(readFileSync(model, "utf8"), model);
    const ds = datasetFromTable(readCsvFile(data), { file: data });
    const P = predictProba(saved, ds.X);
    const want = stringify(
      [
        [...saved.classNames.map((c) => `p_${c}`), "label"],
        ...rows.map((r, i) => [...Array.from(P.data.subarray(i * 3, i * 3 + 3), String), r[2]]),
      ],
      { record_delimiter: "unix" },
    );
    expect(toStdout.out).toBe(want);
  });

  it("--label overrides the model's label column; a model saved without one looks for `label`", async () => {
    // Trained on x1 → species; new data has both a `species` and a `label` column.
    const data = freshPath("species.csv");
    writeFileSync(data, "x1,species,label\n0,a,p\n1,b,q\n0.2,a,p\n0.9,b,q\n");
    const clean = freshPath("clean.csv");
    writeFileSync(clean, "x1,species\n0,a\n1,b\n0.2,a\n0.9,b\n");
    const m2 = freshPath("clean.json");
    expect((await cli(["fit", "--data", clean, "--label", "species", "--save", m2])).code).toBe(0);
    const byModel = await cli(["predict", "--model", m2, "--data", data]);
    expect(byModel.code, byModel.err).toBe(0);
    expect(byModel.out.split("\n")[0]).toBe("p_a,p_b,species");
    expect(byModel.out.split("\n")[1].endsWith(",a")).toBe(true);
    const override = await cli(["predict", "--model", m2, "--data", data, "--label", "label"]);
    expect(override.out.split("\n")[0]).toBe("p_a,p_b,label");
    expect(override.out.split("\n")[1].endsWith(",p")).toBe(true);
    // The same model file without its "label" line (as softcal wrote them before): `label`.
    const old = freshPath("old.json");
    writeFileSync(old, readFileSync(m2, "utf8").replace(/ {2}"label": "species",\n/, ""));
    expect(modelFromJson(readFileSync(old, "utf8"), old).labelColumn).toBeUndefined();
    const fromOld = await cli(["predict", "--model", old, "--data", data]);
    expect(fromOld.out.split("\n")[0]).toBe("p_a,p_b,label");
  });
});

function writeTemp(text: string): string {
  const file = freshPath("preds.csv");
  writeFileSync(file, text);
  return file;
}

// ----- bad model files ------------------------------------------------------------------------------

const GOOD = {
  format: "softcal-model",
  version: 1,
  model: "softmax",
  classes: ["a", "b", "c"],
  features: ["x1", "x2"],
  standardization: null,
  theta: [
    [0, 1, 2],
    [0, -1, 0.5],
    [0, 0, -2.5],
  ],
  training: {},
};
const withField = (k: string, v: unknown) => JSON.stringify({ ...GOOD, [k]: v }, null, 2);

function expectInputError(text: string, message: string): void {
  let caught: unknown;
  try {
    modelFromJson(text, "m.json");
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(InputError);
  expect((caught as InputError).message).toBe(message);
  expect((caught as InputError).exitCode).toBe(2);
}

describe("bad model files → InputError with the exact message", () => {
  test("a good file parses (the baseline of the cases below)", () => {
    expect(modelFromJson(JSON.stringify(GOOD), "m.json").nClasses).toBe(3);
  });

  test.each([
    [
      "invalid JSON: line and column of the first bad character",
      '{\n  "format": "softcal-model",\n  oops\n}',
      "m.json:3:3: expected a softcal model (valid JSON)",
    ],
    [
      "a trailing comma",
      '{"format": "softcal-model",}',
      "m.json:1:28: expected a softcal model (valid JSON)",
    ],
    [
      "garbage after the object",
      '{"format": "softcal-model"}\nx',
      "m.json:2:1: expected a softcal model (valid JSON)",
    ],
    ["empty file", "", "m.json: expected a softcal model (valid JSON); the file is empty or cut short"],
    [
      "cut short between tokens",
      '{"format": ',
      "m.json: expected a softcal model (valid JSON); the file is empty or cut short",
    ],
    // Cut inside a string or an array, V8 reports the end position: the column just past the end.
    [
      "cut short inside a string",
      '{"format": "softcal-mo',
      "m.json:1:23: expected a softcal model (valid JSON)",
    ],
    [
      "cut short inside theta",
      '{"format": "softcal-model",\n  "theta": [[1, 2',
      "m.json:2:18: expected a softcal model (valid JSON)",
    ],
    ["not an object", "[1, 2]", "m.json: expected a JSON object (a softcal model); got [1,2]"],
    ["wrong format", withField("format", "other"), 'm.json: expected "format": "softcal-model"; got "other"'],
    [
      "missing format",
      withField("format", undefined),
      'm.json: expected "format": "softcal-model"; got undefined',
    ],
    [
      "wrong version",
      withField("version", 3),
      'm.json: expected "version": 1, or 2 for a calibrated model (this softcal reads versions 1 and 2); got 3',
    ],
    [
      "version 2 without its calibration",
      withField("version", 2),
      'm.json: expected "calibration": an object (a version 2 model is a calibrated one); got undefined',
    ],
    [
      "a calibration in a version 1 file",
      withField("calibration", {}),
      'm.json: expected no "calibration" in a version 1 model (a calibrated model is version 2); got {}',
    ],
    [
      "unknown model kind",
      withField("model", "svm"),
      'm.json: expected "model" one of softmax, ovr; got "svm"',
    ],
    [
      "one class",
      withField("classes", ["a"]),
      'm.json: expected "classes": an array of at least 2 class names; got ["a"]',
    ],
    [
      "too few theta rows",
      withField("theta", [
        [0, 1, 2],
        [0, 1, 2],
      ]),
      'm.json: expected "theta": 3 rows (one per class); got [[0,1,2],[0,1,2]]',
    ],
    [
      "a theta row of the wrong length",
      withField("theta", [
        [0, 1, 2],
        [0, 1],
        [0, 1, 2],
      ]),
      'm.json: expected "theta"[1]: 3 finite numbers (bias first); got [0,1]',
    ],
    [
      "a non-number in theta",
      withField("theta", [
        [0, 1, 2],
        [0, 1, 2],
        [0, "1", 2],
      ]),
      'm.json: expected "theta"[2]: 3 finite numbers (bias first); got [0,"1",2]',
    ],
    // 1e999 parses to Infinity, which JSON.stringify shows as null.
    [
      "a non-finite theta entry (1e999)",
      JSON.stringify(GOOD).replace("[0,1,2]", "[0,1e999,2]"),
      'm.json: expected "theta"[0]: 3 finite numbers (bias first); got [0,null,2]',
    ],
    [
      "a zero scale",
      withField("standardization", { mean: [0, 0], scale: [1, 0] }),
      'm.json: expected "standardization".scale entries > 0; got [1,0]',
    ],
    [
      "a short mean",
      withField("standardization", { mean: [0], scale: [1, 1] }),
      'm.json: expected "standardization": { mean, scale } with 2 finite numbers each; got {"mean":[0],"scale":[1,1]}',
    ],
    ["training not an object", withField("training", [1]), 'm.json: expected "training": an object; got [1]'],
    [
      "a training value that is not a scalar",
      withField("training", { l2: [1] }),
      'm.json: expected "training": an object of strings, numbers, booleans and nulls; got {"l2":[1]}',
    ],
    [
      "a label column that is not a string",
      withField("label", 3),
      'm.json: expected "label": the name of the label column (a non-empty string, not a feature); got 3',
    ],
    [
      "an empty label column",
      withField("label", ""),
      'm.json: expected "label": the name of the label column (a non-empty string, not a feature); got ""',
    ],
    [
      "a label column that is also a feature",
      withField("label", "x2"),
      'm.json: expected "label": the name of the label column (a non-empty string, not a feature); got "x2"',
    ],
    [
      "classes nested 10^5 deep (too deep to show: no stack overflow)",
      JSON.stringify(GOOD).replace('["a","b","c"]', `${"[".repeat(100_000)}${"]".repeat(100_000)}`),
      'm.json: expected "classes": an array of at least 2 class names; got an array nested too deep to show',
    ],
  ])("%s", (_, text, message) => expectInputError(text, message));

  it("a file without a label column (written before it was recorded) loads, with no labelColumn", () => {
    const m = modelFromJson(JSON.stringify(GOOD), "m.json");
    expect(m.labelColumn).toBeUndefined();
    expect("labelColumn" in m).toBe(false);
    expect(modelFromJson(withField("label", "species"), "m.json").labelColumn).toBe("species");
  });

  it("model files that are not UTF-8, not regular files, or missing: one line naming the file", async () => {
    const data = freshPath("d.csv");
    writeFileSync(data, "x1,x2\n1,2\n");
    const latin1 = freshPath("latin1.json");
    writeFileSync(latin1, Buffer.from(JSON.stringify(GOOD).replace('"a"', '"\xe9"'), "latin1"));
    const missing = freshPath("missing.json");
    const cases: [string, string][] = [
      [latin1, `${latin1}:1:69: expected UTF-8 text; got byte 0xE9, which is not valid UTF-8 here`],
      [missing, `${missing}: expected an existing model file; got no such file`],
      [tmp, `${tmp}: expected a model file; got a directory`],
      ["/dev/null", "/dev/null: expected a model file (a regular file); got a device"],
    ];
    for (const [model, message] of cases) {
      const r = await cli(["predict", "--model", model, "--data", data]);
      expect(r.code).toBe(2);
      expect(r.out).toBe("");
      expect(r.err).toBe(`softcal: ${message}\n`);
    }
  });

  // A token JSON.parse rejects without a position (V8: `Unexpected token 'N', "…" is not valid
  // JSON`) — e.g. a NaN written by another tool — must still get its line and column, not the
  // "empty or cut short" message (the file is neither).
  test("a NaN literal (unexpected token): line and column, not 'empty or cut short'", () => {
    expectInputError(
      '{\n  "format": "softcal-model",\n  "theta": [[NaN]]\n}',
      "m.json:3:14: expected a softcal model (valid JSON)",
    );
  });

  test("through the CLI: exit 2, one line on stderr naming the file, no output file", async () => {
    const model = freshPath("bad.json");
    writeFileSync(model, withField("version", 7));
    const data = freshPath("d.csv");
    writeFileSync(data, "x1,x2\n1,2\n");
    const out = freshPath("preds.csv");
    const r = await cli(["predict", "--model", model, "--data", data, "--out", out]);
    expect(r.code).toBe(2);
    expect(r.out).toBe("");
    expect(r.err).toBe(
      `softcal: ${model}: expected "version": 1, or 2 for a calibrated model (this softcal reads versions 1 and 2); got 7\n`,
    );
    expect(() => readFileSync(out)).toThrow();
  });
});

const bundle = (over: Partial<ModelBundle> = {}): ModelBundle => ({
  model: "softmax",
  nClasses: 2,
  nFeatures: 1,
  theta: Float64Array.of(-0, 0.1, 2, -3e-300),
  classNames: ["a", "b"],
  featureNames: ["x"],
  standardization: { mean: [1.5], scale: [2] },
  training: { optimizer: "lbfgs", l2: 0.01 },
  ...over,
});

const text = (o: Record<string, unknown>): string => JSON.stringify(o);
const valid = {
  format: "softcal-model",
  version: 1,
  model: "ovr",
  classes: ["a", "b", "c"],
  features: ["x", "y"],
  standardization: null,
  theta: [
    [0, 1, 2],
    [3, 4, 5],
    [6, 7, 8],
  ],
};

describe("modelToJson / modelFromJson", () => {
  it("writes the documented layout byte for byte", () => {
    expect(modelToJson(bundle())).toBe(
      [
        "{",
        '  "format": "softcal-model",',
        '  "version": 1,',
        '  "model": "softmax",',
        '  "classes": ["a","b"],',
        '  "features": ["x"],',
        '  "standardization": { "mean": [1.5], "scale": [2] },',
        '  "theta": [',
        "    [-0, 0.1],",
        "    [2, -3e-300]",
        "  ],",
        '  "training": {"optimizer":"lbfgs","l2":0.01}',
        "}",
        "",
      ].join("\n"),
    );
    expect(modelToJson(bundle({ standardization: null }))).toContain('  "standardization": null,\n');
    // The label column, when known, goes between the classes and the features; absent otherwise.
    expect(modelToJson(bundle({ labelColumn: 'spe"cies' }))).toContain(
      '  "classes": ["a","b"],\n  "label": "spe\\"cies",\n  "features": ["x"],\n',
    );
    expect(modelToJson(bundle())).not.toContain('"label"');
    expect(modelFromJson(modelToJson(bundle({ labelColumn: "y" })), "m.json").labelColumn).toBe("y");
  });

  test.prop([
    fc.integer({ min: 2, max: 4 }).chain((K) =>
      fc.integer({ min: 0, max: 3 }).chain((d) =>
        fc.record({
          K: fc.constant(K),
          d: fc.constant(d),
          theta: fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), {
            minLength: K * (d + 1),
            maxLength: K * (d + 1),
          }),
          std: fc.option(
            fc.record({
              mean: fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), {
                minLength: d,
                maxLength: d,
              }),
              scale: fc.array(fc.double({ min: 1e-300, max: 1e300, noNaN: true }), {
                minLength: d,
                maxLength: d,
              }),
            }),
          ),
          kind: fc.constantFrom("softmax" as const, "ovr" as const),
        }),
      ),
    ),
  ])("reads back what it wrote, bit for bit", ({ K, d, theta, std, kind }) => {
    const m = bundle({
      model: kind,
      nClasses: K,
      nFeatures: d,
      theta: Float64Array.from(theta),
      classNames: Array.from({ length: K }, (_, k) => `c${k}`),
      featureNames: Array.from({ length: d }, (_, j) => `f"${j}`),
      standardization: std,
      training: {},
    });
    const back = modelFromJson(modelToJson(m), "m.json");
    expect(back).toEqual(m);
    for (let i = 0; i < theta.length; i++) expect(Object.is(back.theta[i], theta[i])).toBe(true);
  });

  it("fills defaults: no training ⇒ {}, undefined standardization ⇒ null", () => {
    const r = modelFromJson(text(valid), "m.json");
    expect(r.training).toEqual({});
    expect(r.standardization).toBeNull();
    expect([r.model, r.nClasses, r.nFeatures]).toEqual(["ovr", 3, 2]);
    expect(Array.from(r.theta)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    const { standardization: _, ...noStd } = valid;
    expect(modelFromJson(text(noStd), "m.json").standardization).toBeNull();
  });

  const rejects: [string, Record<string, unknown> | unknown, string][] = [
    ["array", [1], "expected a JSON object (a softcal model); got [1]"],
    ["null", null, "expected a JSON object (a softcal model); got null"],
    ["number", 3, "expected a JSON object (a softcal model); got 3"],
    ["format", { ...valid, format: "x" }, 'expected "format": "softcal-model"; got "x"'],
    ["no format", { ...valid, format: undefined }, 'expected "format": "softcal-model"; got undefined'],
    [
      "version",
      { ...valid, version: 3 },
      'expected "version": 1, or 2 for a calibrated model (this softcal reads versions 1 and 2); got 3',
    ],
    [
      "version 2 without calibration",
      { ...valid, version: 2 },
      'expected "calibration": an object (a version 2 model is a calibrated one); got undefined',
    ],
    ["model", { ...valid, model: "tree" }, 'expected "model" one of softmax, ovr; got "tree"'],
    [
      "classes",
      { ...valid, classes: ["a"] },
      'expected "classes": an array of at least 2 class names; got ["a"]',
    ],
    [
      "classes type",
      { ...valid, classes: ["a", 1] },
      'expected "classes": an array of at least 2 class names; got ["a",1]',
    ],
    ["features", { ...valid, features: "x" }, 'expected "features": an array of feature names; got "x"'],
    [
      "features type",
      { ...valid, features: [1, "y"] },
      'expected "features": an array of feature names; got [1,"y"]',
    ],
    [
      "theta rows",
      { ...valid, theta: [[0, 1, 2]] },
      'expected "theta": 3 rows (one per class); got [[0,1,2]]',
    ],
    ["theta type", { ...valid, theta: {} }, 'expected "theta": 3 rows (one per class); got {}'],
    [
      "theta row",
      {
        ...valid,
        theta: [
          [0, 1, 2],
          [3, 4],
          [6, 7, 8],
        ],
      },
      'expected "theta"[1]: 3 finite numbers (bias first); got [3,4]',
    ],
    [
      "theta entry",
      {
        ...valid,
        theta: [
          [0, 1, 2],
          [3, 4, 5],
          [6, "7", 8],
        ],
      },
      'expected "theta"[2]: 3 finite numbers (bias first); got [6,"7",8]',
    ],
    [
      "standardization",
      { ...valid, standardization: { mean: [0], scale: [1, 1] } },
      'expected "standardization": { mean, scale } with 2 finite numbers each; got {"mean":[0],"scale":[1,1]}',
    ],
    [
      "standardization scale length",
      { ...valid, standardization: { mean: [0, 0], scale: [1] } },
      'expected "standardization": { mean, scale } with 2 finite numbers each; got {"mean":[0,0],"scale":[1]}',
    ],
    [
      "standardization type",
      { ...valid, standardization: 5 },
      'expected "standardization": { mean, scale } with 2 finite numbers each; got 5',
    ],
    [
      "scale",
      { ...valid, standardization: { mean: [0, 0], scale: [1, 0] } },
      'expected "standardization".scale entries > 0; got [1,0]',
    ],
    ["training", { ...valid, training: [1] }, 'expected "training": an object; got [1]'],
    ["training null", { ...valid, training: null }, 'expected "training": an object; got null'],
    ["training string", { ...valid, training: "x" }, 'expected "training": an object; got "x"'],
    [
      "long value",
      { ...valid, format: "y".repeat(80) },
      `expected "format": "softcal-model"; got "${"y".repeat(56)}...`,
    ],
  ];
  for (const [name, o, msg] of rejects) {
    it(`rejects: ${name}`, () => {
      expect(() => modelFromJson(JSON.stringify(o), "m.json")).toThrowError(
        new InputError(msg, { file: "m.json" }),
      );
    });
  }
  it("rejects a number that JSON.parse reads as Infinity (1e999)", () => {
    const t = JSON.stringify(valid).replace("[6,7,8]", "[6,1e999,8]");
    expect(() => modelFromJson(t, "m.json")).toThrowError(
      new InputError('expected "theta"[2]: 3 finite numbers (bias first); got [6,null,8]', {
        file: "m.json",
      }),
    );
  });

  it("a 60-character value is shown whole", () => {
    const v = "z".repeat(58); // JSON string of 60 characters.
    expect(() => modelFromJson(text({ ...valid, format: v }), "m.json")).toThrowError(
      `m.json: expected "format": "softcal-model"; got "${v}"`,
    );
    const w = "z".repeat(59); // 61 characters: cut to 57 + "...".
    expect(() => modelFromJson(text({ ...valid, format: w }), "m.json")).toThrowError(
      `m.json: expected "format": "softcal-model"; got "${"z".repeat(56)}...`,
    );
  });

  it("locates malformed JSON by line and column", () => {
    const at = (t: string) => {
      try {
        modelFromJson(t, "m.json");
      } catch (e) {
        return (e as Error).message;
      }
      return "no error";
    };
    // V8: "… at position 8".
    expect(at('{"a": 1,}')).toBe("m.json:1:9: expected a softcal model (valid JSON)");
    expect(at('{\n  "a": 1,\n}')).toBe("m.json:3:1: expected a softcal model (valid JSON)");
    // V8: "Unexpected token '}'": its first occurrence outside strings (one holds } and \").
    expect(at('{"b": "}\\"}",\n "a": tru}')).toBe("m.json:2:10: expected a softcal model (valid JSON)");
    expect(at('{"b": "x\\\\",\n "a": tru}')).toBe("m.json:2:10: expected a softcal model (valid JSON)");
    expect(at("")).toBe("m.json: expected a softcal model (valid JSON); the file is empty or cut short");
    // Cut short after some text: no position, no token (the token scan must not run).
    expect(at('{"a": ')).toBe(
      "m.json: expected a softcal model (valid JSON); the file is empty or cut short",
    );
    // The line is counted up to the error, not over the whole file.
    expect(at('{"a": 1,}\n\n')).toBe("m.json:1:9: expected a softcal model (valid JSON)");
    // A token inside a string (after its first character) is not the place.
    expect(at('{"b": "x}y",\n "a": tru}')).toBe("m.json:2:10: expected a softcal model (valid JSON)");
    expect(at('{"a": [1, 2]')).toMatch(/^m\.json(:1:13)?: expected a softcal model \(valid JSON\)/);
  });
});
