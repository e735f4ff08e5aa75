/**
 * Contract tests of src/calibration/recalibrators/registry.ts: each case kills a mutant that
 * survived `npm run mutate` (docs/mutation.md maps them): createRecalibrator's class per method and option defaults,
 * recalibratorFromJSON's dispatch (object or JSON text) and every exact message, with the default
 * and a given `where`.
 */
import { describe, expect, it } from "vitest";
import { HistogramBinning } from "../src/calibration/recalibrators/histogram.js";
import { IsotonicCalibration } from "../src/calibration/recalibrators/isotonic.js";
import { PlattScaling } from "../src/calibration/recalibrators/platt.js";
import { createRecalibrator, recalibratorFromJSON } from "../src/calibration/recalibrators/registry.js";
import { TemperatureScaling } from "../src/calibration/recalibrators/temperature.js";
import { VectorScaling } from "../src/calibration/recalibrators/vector.js";
import { InputError } from "../src/errors.js";

const header = { format: "softcal-recalibrator", version: 1 };
const methods = "temperature, vector, matrix, dirichlet, histogram, isotonic, platt, beta";

describe("createRecalibrator", () => {
  it("one class per method, options applied to theirs only", () => {
    const t = createRecalibrator("temperature");
    expect(t).toBeInstanceOf(TemperatureScaling);
    expect(t.method).toBe("temperature");
    expect(createRecalibrator("vector")).toBeInstanceOf(VectorScaling);
    expect(createRecalibrator("isotonic")).toBeInstanceOf(IsotonicCalibration);
    const h = createRecalibrator("histogram");
    expect(h).toBeInstanceOf(HistogramBinning);
    expect((h as HistogramBinning).bins).toBe(15);
    expect((createRecalibrator("histogram", { bins: 4 }) as HistogramBinning).bins).toBe(4);
    const p = createRecalibrator("platt", { bins: 3 });
    expect(p).toBeInstanceOf(PlattScaling);
    expect((p as PlattScaling).targetSmoothing).toBe(true);
    expect((createRecalibrator("platt", { targetSmoothing: false }) as PlattScaling).targetSmoothing).toBe(
      false,
    );
    for (const m of [
      "temperature",
      "vector",
      "matrix",
      "dirichlet",
      "histogram",
      "isotonic",
      "platt",
      "beta",
    ]) {
      expect(createRecalibrator(m).method).toBe(m);
    }
  });

  it("unknown methods and bad options: exact messages", () => {
    expect(() => createRecalibrator("foo")).toThrow(
      new InputError(`method: expected one of ${methods}; got "foo"`),
    );
    expect(() => createRecalibrator("Platt", {}, "--method")).toThrow(
      new InputError(`--method: expected one of ${methods}; got "Platt"`),
    );
    expect(() => createRecalibrator("histogram", { bins: 0 })).toThrow(
      new InputError("bins: expected an integer ≥ 1; got 0"),
    );
  });
});

describe("recalibratorFromJSON", () => {
  it("rebuilds every method from an object or its JSON text", () => {
    const t = recalibratorFromJSON({ ...header, method: "temperature", classes: 3, temperature: 2 });
    expect(t).toBeInstanceOf(TemperatureScaling);
    expect(t.toJSON()).toMatchObject({ method: "temperature", classes: 3, temperature: 2 });
    const v = recalibratorFromJSON(
      JSON.stringify({ ...header, method: "vector", classes: 2, scale: [1, 2], bias: [0, -1] }),
    );
    expect(v).toBeInstanceOf(VectorScaling);
    expect(v.toJSON()).toMatchObject({ classes: 2, scale: [1, 2], bias: [0, -1] });
    const h = recalibratorFromJSON({
      ...header,
      method: "histogram",
      classes: 3,
      bins: 1,
      values: [[0.5], [null], [1]],
    });
    expect(h).toBeInstanceOf(HistogramBinning);
    expect(h.toJSON()).toMatchObject({ classes: 3, bins: 1 });
    const i = recalibratorFromJSON({
      ...header,
      method: "isotonic",
      classes: 2,
      maps: [{ x: [0.5], y: [0.25] }],
    });
    expect(i).toBeInstanceOf(IsotonicCalibration);
    expect(i.toJSON()).toMatchObject({ classes: 2, maps: [{ x: [0.5], y: [0.25] }] });
    const p = recalibratorFromJSON({
      ...header,
      method: "platt",
      classes: 2,
      a: 1,
      b: 0,
      targetSmoothing: false,
    });
    expect(p).toBeInstanceOf(PlattScaling);
    expect(p.toJSON()).toMatchObject({ a: 1, b: 0, targetSmoothing: false });
  });

  it("exact messages, default `where`", () => {
    const W = "recalibrator JSON";
    expect(() => recalibratorFromJSON("{")).toThrow(
      /^recalibrator JSON: expected JSON text; got a parse error \(.+\)$/,
    );
    let parse = "";
    try {
      JSON.parse("[1,");
    } catch (e) {
      parse = (e as Error).message;
    }
    expect(() => recalibratorFromJSON("[1,", "c.json")).toThrow(
      new InputError(`c.json: expected JSON text; got a parse error (${parse})`),
    );
    expect(() => recalibratorFromJSON("[1]")).toThrow(
      new InputError(`${W}: expected a JSON object; got [1]`),
    );
    expect(() => recalibratorFromJSON(null, "c.json")).toThrow(
      new InputError("c.json: expected a JSON object; got null"),
    );
    expect(() => recalibratorFromJSON("3")).toThrow(new InputError(`${W}: expected a JSON object; got 3`));
    expect(() => recalibratorFromJSON(undefined)).toThrow(
      new InputError(`${W}: expected a JSON object; got undefined`),
    );
    const long = "x".repeat(50);
    expect(() => recalibratorFromJSON(JSON.stringify(long))).toThrow(
      new InputError(`${W}: expected a JSON object; got ${JSON.stringify(long).slice(0, 40)}`),
    );
    const fmt = (f: string, v: string): InputError =>
      new InputError(`${W}: expected format "softcal-recalibrator" version 1; got format ${f} version ${v}`);
    expect(() => recalibratorFromJSON({ method: "platt" })).toThrow(fmt("undefined", "undefined"));
    expect(() => recalibratorFromJSON({ format: "softcal-recalibrator", version: 2 })).toThrow(
      fmt('"softcal-recalibrator"', "2"),
    );
    expect(() => recalibratorFromJSON({ format: "softcal-model", version: 1 })).toThrow(
      fmt('"softcal-model"', "1"),
    );
    expect(() => recalibratorFromJSON({ format: "softcal-recalibrator", version: "1" })).toThrow(
      fmt('"softcal-recalibrator"', '"1"'),
    );
    expect(() => recalibratorFromJSON({ ...header, method: "gamma", classes: 2 })).toThrow(
      new InputError(`${W}: method: expected one of ${methods}; got "gamma"`),
    );
    expect(() => recalibratorFromJSON({ ...header, classes: 2 }, "c.json")).toThrow(
      new InputError(`c.json: method: expected one of ${methods}; got "undefined"`),
    );
    for (const classes of [1, 2.5, "3", null, undefined, 0, -2]) {
      expect(() => recalibratorFromJSON({ ...header, method: "isotonic", classes })).toThrow(
        new InputError(`${W}: expected "classes" to be an integer ≥ 2; got ${JSON.stringify(classes)}`),
      );
    }
    expect(() =>
      recalibratorFromJSON(
        { ...header, method: "platt", classes: 3, a: 1, b: 0, targetSmoothing: true },
        "c.json",
      ),
    ).toThrow(new InputError('c.json: expected "classes" 2 for platt; got 3'));
    // The `where` reaches each method's own reader.
    expect(() => recalibratorFromJSON({ ...header, method: "temperature", classes: 2 }, "c.json")).toThrow(
      new InputError('c.json: expected "temperature" to be a finite number; got undefined'),
    );
    expect(() =>
      recalibratorFromJSON({ ...header, method: "vector", classes: 3, scale: [1, 1], bias: [0, 0] }),
    ).toThrow(new InputError(`${W}: expected "scale" to have 3 entries; got 2`));
    expect(() =>
      recalibratorFromJSON({ ...header, method: "vector", classes: 2, scale: [1, 1], bias: [0] }, "c.json"),
    ).toThrow(new InputError('c.json: expected "bias" to have 2 entries; got 1'));
    expect(() =>
      recalibratorFromJSON({ ...header, method: "histogram", classes: 2, bins: 2 }, "c.json"),
    ).toThrow(
      new InputError('c.json: expected "values" to be 1 arrays of 2 probabilities or nulls; got undefined'),
    );
    expect(() =>
      recalibratorFromJSON({ ...header, method: "isotonic", classes: 3, maps: [] }, "c.json"),
    ).toThrow(/^c\.json: expected "maps" to be 3 objects/);
    expect(() =>
      recalibratorFromJSON({ ...header, method: "platt", classes: 2, a: 1, b: 0 }, "c.json"),
    ).toThrow(new InputError('c.json: expected "targetSmoothing" to be true or false; got undefined'));
  });
});
