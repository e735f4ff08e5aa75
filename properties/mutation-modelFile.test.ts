/**
 * Properties of src/model/modelFile.ts added to kill mutants that survived `npm run mutate`
 * (docs/mutation.md): the exact bytes written (layout, −0, shortest round-trip numbers), the round
 * trip bit for bit, and every validation message — including the line and column of malformed JSON
 * located from V8's position or its unexpected token (skipping strings with escaped quotes).
 */
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { InputError } from "../src/errors.js";
import { type ModelBundle, modelFromJson, modelToJson } from "../src/model/modelFile.js";

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
