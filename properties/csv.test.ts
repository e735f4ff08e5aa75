import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fc, test } from "@fast-check/vitest";
import { stringify } from "csv-stringify/sync";
import { afterAll, describe, expect, it } from "vitest";
import { parseCsvTable, readCsvFile } from "../src/data/csv.js";
import { csvRecords } from "../src/data/csvWrite.js";
import { datasetFromTable, featuresFromTable, requireTwoClasses } from "../src/data/dataset.js";
import { parseFiniteNumber, parseFiniteNumberBytes } from "../src/data/numbers.js";
import { InputError } from "../src/errors.js";
import { csvCase } from "./_shared/arbitraries.js";

/** Runs `f` and returns the InputError it throws (fails if it throws nothing or something else). */
function inputError(f: () => unknown): InputError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    const err = e as InputError;
    expect(err.exitCode).toBe(2);
    expect(err.message).not.toContain("\n");
    return err;
  }
  return expect.fail("expected an InputError; nothing was thrown");
}

const load = (text: string, file = "d.csv") => datasetFromTable(parseCsvTable(text, file));
const trainOn = (text: string, file = "d.csv") => {
  const ds = load(text, file);
  requireTwoClasses(ds, file);
  return ds;
};

const dir = mkdtempSync(join(tmpdir(), "softcal-csv-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("bad input gives one-line InputErrors with file:line:column", () => {
  it("missing file, directory", () => {
    const missing = join(dir, "nope.csv");
    expect(inputError(() => readCsvFile(missing)).message).toBe(
      `${missing}: expected an existing file; got no such file or directory`,
    );
    const sub = join(dir, "sub.csv");
    mkdirSync(sub);
    expect(inputError(() => readCsvFile(sub)).message).toBe(`${sub}: expected a file; got a directory`);
  });

  it("empty file (also a BOM only, or blank lines only)", () => {
    const f = join(dir, "empty.csv");
    writeFileSync(f, "");
    expect(inputError(() => readCsvFile(f)).message).toBe(
      `${f}: expected a header line and at least one data row; got an empty file`,
    );
    for (const text of ["\ufeff", "\n\n", "\r\n"]) {
      expect(inputError(() => parseCsvTable(text, "e.csv")).message).toBe(
        "e.csv: expected a header line and at least one data row; got an empty file",
      );
    }
  });

  it("header only", () => {
    for (const text of ["x1,x2,label", "x1,x2,label\n", "x1,x2,label\r\n\r\n"]) {
      expect(inputError(() => parseCsvTable(text, "h.csv")).message).toBe(
        "h.csv: expected at least one data row after the header; got none",
      );
    }
  });

  it("bad header names", () => {
    expect(inputError(() => parseCsvTable("x1,,label\n1,2,0\n", "d.csv")).message).toBe(
      "d.csv:1:2: expected a column name; got an empty header field",
    );
    expect(inputError(() => parseCsvTable("x1,x2,x1\n1,2,0\n", "d.csv")).message).toBe(
      'd.csv:1:3: expected unique column names; got "x1" again (first at column 1)',
    );
  });

  it("missing label column names the columns present", () => {
    expect(inputError(() => load("x1,x2,y\n1,2,0\n")).message).toBe(
      'd.csv:1: expected a label column "label"; got columns "x1", "x2", "y"',
    );
    expect(inputError(() => load("label\n0\n")).message).toBe(
      'd.csv:1: expected at least one feature column besides "label"; got none',
    );
  });

  it("ragged row (short and long), with the physical line", () => {
    expect(inputError(() => parseCsvTable("x1,x2,label\n1,2,0\n3,1\n", "d.csv")).message).toBe(
      "d.csv:3: expected 3 columns (as in the header); got 2",
    );
    // A blank line and a quoted line break before it still count as lines.
    expect(
      inputError(() => parseCsvTable('x1,x2,label\r\n"1\r\n",2,0\r\n\r\n3,1,0,9\r\n', "d.csv")).message,
    ).toBe("d.csv:5: expected 3 columns (as in the header); got 4");
  });

  it("malformed quoting names the record's first line", () => {
    expect(inputError(() => parseCsvTable('x1,label\n1,0\n"2\n,0\n', "d.csv")).message).toBe(
      "d.csv:3: expected well-formed CSV; got a quoted field that is never closed in the record starting here",
    );
    expect(inputError(() => parseCsvTable('x1,label\n1,0\n\n2"x",0\n', "d.csv")).message).toBe(
      "d.csv:4: expected well-formed CSV; got a quote inside an unquoted field in the record starting here",
    );
    // After a quoted CRLF (where csv-parse's own count drifts by one).
    expect(inputError(() => parseCsvTable('x1,label\r\n"1\r\n",0\r\n"2,0\r\n', "d.csv")).message).toBe(
      "d.csv:4: expected well-formed CSV; got a quoted field that is never closed in the record starting here",
    );
  });

  it.each([
    ["abc", "abc"],
    ["NaN", "NaN"],
    ["Inf", "Inf"],
    ["Infinity", "Infinity"],
    ["-Infinity", "-Infinity"],
    ["", ""],
    ["1e999", "1e999"],
    ["0x10", "0x10"],
    ['"1 2"', "1 2"],
  ])("non-numeric feature %s", (cell, shown) => {
    expect(inputError(() => load(`x1,x2,label\n1,2,0\n3,${cell},1\n`)).message).toBe(
      `d.csv:3:2: expected a finite number in column "x2"; got "${shown}"`,
    );
  });

  it("a cell after a quoted line break is on the next physical line", () => {
    expect(inputError(() => load('x1,x2,label\n1,2,0\n"a\nb",abc,1\n')).message).toBe(
      'd.csv:3:1: expected a finite number in column "x1"; got "a\\nb"',
    );
    expect(inputError(() => load('x1,label,x2\n1,"two\r\nlines",x\n', "d.csv")).message).toBe(
      'd.csv:3:3: expected a finite number in column "x2"; got "x"',
    );
  });

  it.each([
    ["1.5", "1.5"],
    ["-1", "-1"],
    ["1e-1", "1e-1"],
  ])("label %s is not an integer in 0..K-1", (label, shown) => {
    expect(inputError(() => load(`x1,label\n1,0\n2,1\n3,${label}\n`)).message).toBe(
      `d.csv:4:2: expected an integer label in 0..K-1; got "${shown}"`,
    );
  });

  it("bytes that are not UTF-8: file:line:column, never U+FFFD", () => {
    const f = join(dir, "latin1.csv");
    writeFileSync(f, Buffer.from("x1,label\n1,caf\xe9\n", "latin1"));
    expect(inputError(() => readCsvFile(f)).message).toBe(
      `${f}:2:2: expected UTF-8 text; got byte 0xE9, which is not valid UTF-8 here (save the file as UTF-8)`,
    );
  });

  it("empty label, too many classes", () => {
    expect(inputError(() => load("x1,label\n1,0\n2,\n")).message).toBe(
      "d.csv:3:2: expected a label; got an empty field",
    );
    expect(inputError(() => load("x1,label\n1,0\n2,70000\n")).message).toBe(
      'd.csv:3:2: expected at most 65536 classes (labels 0..65535); got "70000"',
    );
  });

  it("a single class is an error for training only", () => {
    const text = "x1,label\n1,0\n2,0\n";
    expect(load(text).nClasses).toBe(1);
    expect(inputError(() => trainOn(text)).message).toBe(
      'd.csv: training data must have at least 2 classes; got 1 (label "0")',
    );
    expect(inputError(() => trainOn("x1,label\n1,cat\n2,cat\n")).message).toBe(
      'd.csv: training data must have at least 2 classes; got 1 (label "cat")',
    );
    // K = max + 1 = 3 but only one class is present: still one class.
    expect(inputError(() => trainOn("x1,label\n1,2\n2,2\n")).message).toBe(
      'd.csv: training data must have at least 2 classes; got 1 (label "2")',
    );
  });

  it("labels not among a saved model's classes", () => {
    const t = parseCsvTable("x1,label\n1,a\n2,c\n", "p.csv");
    expect(inputError(() => datasetFromTable(t, { classNames: ["a", "b"] })).message).toBe(
      'p.csv:3:2: expected a label among the model\'s classes "a", "b"; got "c"',
    );
  });

  it("a model's feature column missing for predict", () => {
    const t = parseCsvTable("x1,label\n1,0\n", "p.csv");
    expect(inputError(() => featuresFromTable(t, { featureNames: ["x1", "x2"] })).message).toBe(
      'p.csv:1: expected a column "x2" (a feature of the model); got columns "x1", "label"',
    );
  });
});

describe("accepted input", () => {
  it("BOM, CRLF, quoted numbers and labels, blank lines, surrounding spaces", () => {
    const ds = load('\ufeffx1,x2,label\r\n"1.5", 2 ,"1"\r\n\r\n-3e2,".5",0\r\n');
    expect(ds.featureNames).toEqual(["x1", "x2"]);
    expect(Array.from(ds.X.data)).toEqual([1.5, 2, -300, 0.5]);
    expect(Array.from(ds.y)).toEqual([1, 0]);
    expect(ds.classNames).toEqual(["0", "1"]);
  });

  it("line numbers of rows are physical lines", () => {
    const t = parseCsvTable('a,b\r\n1,"x\r\ny"\r\n\r\n"3\n4",5\r\n6,7', "d.csv");
    expect(t.lines).toEqual([2, 5, 7]);
    const cr = parseCsvTable("a,b\r1,2\r\r3,4", "d.csv");
    expect(cr.lines).toEqual([2, 4]);
    const bom = parseCsvTable('\ufeff\na,b\n\n1,"2\n"\n\n\n3,4\n\n', "d.csv");
    expect(bom.lines).toEqual([4, 8]);
    expect(bom.rows).toEqual([
      ["1", "2\n"],
      ["3", "4"],
    ]);
  });

  it("string labels map in JavaScript's default sort order", () => {
    const ds = load("x1,label\n1,b\n2,B\n3,a\n4,10\n5,9\n");
    expect(ds.classNames).toEqual(["10", "9", "B", "a", "b"]);
    expect(Array.from(ds.y)).toEqual([4, 2, 3, 0, 1]);
  });

  it("numeric labels give K = max + 1; label column may be anywhere; --label", () => {
    const ds = load("label,x1\n2,1\n0,2\n");
    expect(ds.nClasses).toBe(3);
    expect(ds.classNames).toEqual(["0", "1", "2"]);
    expect(Array.from(ds.y)).toEqual([2, 0]);
    const ds2 = datasetFromTable(parseCsvTable("y,x1\n1,1\n0,2\n", "d.csv"), { label: "y" });
    expect(Array.from(ds2.y)).toEqual([1, 0]);
  });

  it.each([
    ["1.0", "1"],
    ["01", "1"],
    ["+1", "1"],
    ["1e0", "1"],
    [" 1", "1"],
    ["-0", "0"],
    ["00", "0"],
  ])(
    "an integer label written %j (not plain digits) is refused, never merged with class %j",
    (label, plain) => {
      expect(inputError(() => load(`x1,label\n1,0\n2,1\n3,${label}\n`)).message).toBe(
        `d.csv:4:2: expected an integer label in 0..K-1 written as plain digits (like "${plain}"); got "${label}"`,
      );
    },
  );

  it("among names, every spelling is its own class: 1, 01 and 1.0 are three classes", () => {
    const ds = load("x1,label\n1,1\n2,01\n3,1.0\n4,cat\n5,1\n");
    expect(ds.classNames).toEqual(["01", "1", "1.0", "cat"]);
    expect(Array.from(ds.y)).toEqual([1, 0, 2, 3, 1]);
  });

  it("a saved model's class names match exactly: 1.0 is not class 1", () => {
    const ds = datasetFromTable(parseCsvTable("x1,label\n1,1\n2,0\n", "d.csv"), {
      classNames: ["0", "1", "2"],
    });
    expect(Array.from(ds.y)).toEqual([1, 0]);
    expect(ds.nClasses).toBe(3);
    const t = parseCsvTable("x1,label\n1,1.0\n2,0\n", "d.csv");
    expect(inputError(() => datasetFromTable(t, { classNames: ["0", "1", "2"] })).message).toBe(
      'd.csv:2:2: expected a label among the model\'s classes "0", "1", "2"; got "1.0" (labels must be written exactly as the class names: "1", not "1.0")',
    );
  });

  it("featuresFromTable takes the model's columns in the model's order", () => {
    const t = parseCsvTable("x2,extra,x1,label\n2,z,1,b\n4,z,3,a\n", "p.csv");
    const f = featuresFromTable(t, { featureNames: ["x1", "x2"], classNames: ["a", "b"] });
    expect(Array.from(f.X.data)).toEqual([1, 2, 3, 4]);
    expect(f.labels).toEqual(["b", "a"]);
    expect(Array.from(f.y ?? [])).toEqual([1, 0]);
    const noLabel = featuresFromTable(parseCsvTable("x1,x2\n1,2\n", "p.csv"), { featureNames: ["x1", "x2"] });
    expect(noLabel.labels).toBeNull();
    expect(noLabel.y).toBeNull();
  });

  it("readCsvFile reads the lesson fixture", () => {
    const ds = datasetFromTable(readCsvFile("properties/fixtures/lesson_data.csv"));
    expect(ds.X.rows).toBe(180);
    expect(ds.featureNames).toEqual(["x1", "x2"]);
  });

  test.prop([csvCase()])(
    "any finite double matrix written as CSV (random quoting, number format, LF/CRLF, BOM) parses back bit-exactly",
    ({ text, rows, labels }) => {
      const ds = load(text);
      const d = rows[0].length;
      expect(ds.X.rows).toBe(rows.length);
      expect(ds.X.cols).toBe(d);
      for (let i = 0; i < rows.length; i++) {
        for (let j = 0; j < d; j++) {
          // Object.is distinguishes −0 from 0: the round trip must keep every bit.
          if (!Object.is(ds.X.data[i * d + j], rows[i][j])) {
            expect.fail(`row ${i} col ${j}: ${ds.X.data[i * d + j]} vs ${rows[i][j]}`);
          }
        }
      }
      expect(Array.from(ds.y)).toEqual(labels);
    },
  );

  // At least 2 columns: in a one-column file a line holding only `""` reads as a blank line (documented).
  test.prop([fc.array(fc.string({ unit: "grapheme", maxLength: 8 }), { minLength: 2, maxLength: 6 })])(
    "any text in a quoted field survives, and the next row's line counts its line breaks",
    (names) => {
      const fields = names.map((n) => `"${n.replaceAll('"', '""')}"`);
      const text = `${names.map((_, j) => `c${j}`).join(",")}\n${fields.join(",")}\n${names.map(() => "1").join(",")}\n`;
      const t = parseCsvTable(text, "q.csv");
      expect(t.rows[0]).toEqual(names);
      const breaks = names.reduce((n, s) => n + (s.match(/\r\n|\n|\r/g)?.length ?? 0), 0);
      expect(t.lines).toEqual([2, 3 + breaks]);
    },
  );
});

describe("number cells", () => {
  /** Decimal literals of every shape: sign, digits (up to 25, leading zeros), point, exponent, spaces. */
  const literal = fc
    .tuple(
      fc.constantFrom("", "+", "-"),
      fc.string({ unit: fc.constantFrom("0", "1", "5", "9"), maxLength: 25 }),
      fc.option(fc.string({ unit: fc.constantFrom("0", "3", "7", "9"), maxLength: 25 }), { nil: undefined }),
      fc.option(
        fc.tuple(fc.constantFrom("e", "E"), fc.constantFrom("", "+", "-"), fc.integer({ min: 0, max: 400 })),
        {
          nil: undefined,
        },
      ),
      fc.constantFrom("", " ", "\t", " \t"),
      fc.constantFrom("", " ", "\t"),
    )
    .map(([sign, int, frac, exp, pre, post]) => {
      const e = exp === undefined ? "" : `${exp[0]}${exp[1]}${exp[2]}`;
      return `${pre}${sign}${int}${frac === undefined ? "" : `.${frac}`}${e}${post}`;
    });
  const anyText = fc.oneof(
    literal,
    fc.double().map(String),
    fc.double().map((x) => x.toPrecision(17)),
    fc.string({ unit: fc.constantFrom("1", ".", "e", "-", "+", " ", "x", "\u00e9", "I", "n") }),
  );

  test.prop([anyText])(
    "parseFiniteNumberBytes on the UTF-8 bytes is parseFiniteNumber on the text, bit for bit (or both refuse)",
    (text) => {
      const bytes = Buffer.from(`,${text},`);
      const got = parseFiniteNumberBytes(bytes, 1, bytes.length - 1);
      const want = parseFiniteNumber(text);
      if (want === undefined) expect(got).toBeUndefined();
      else if (!Object.is(got, want)) expect.fail(`${JSON.stringify(text)}: ${got} vs ${want}`);
    },
  );

  it("pinned: the fast path's edge (15 digits) and just past it, −0, and refusals", () => {
    const cases = [
      "999999999999999",
      "0.123456789012345",
      "9999999999999999",
      "-0",
      "-0.000",
      "1.",
      ".5",
      "+.5e-3",
    ];
    for (const t of cases) {
      const b = Buffer.from(t);
      expect(Object.is(parseFiniteNumberBytes(b, 0, b.length), Number(t))).toBe(true);
    }
    for (const t of ["", ".", "-", "1e", "1e+", "0x10", "NaN", "Infinity", "1e999", "1 2", "١"]) {
      const b = Buffer.from(t);
      expect(parseFiniteNumberBytes(b, 0, b.length)).toBeUndefined();
    }
  });
});

describe("writing CSV (csvWrite.ts)", () => {
  // Cells of every kind the writer must quote or leave alone: any UTF-16 text (lone surrogates
  // included), and the characters that decide quoting, alone and in company.
  const cell = fc.oneof(
    fc.string({ unit: "binary" }),
    fc.string({ unit: fc.constantFrom(",", '"', "\r", "\n", " ", "a", "=", "\t", "é") }),
    fc.constantFrom("", ",", '"', '""', "a,b", 'say "hi"', "line\nbreak", "cr\r", "\r\n", " lead", "trail "),
    fc.double().map(String),
  );
  const rows = fc.array(fc.array(cell, { maxLength: 6 }), { maxLength: 8 });

  // With `record_delimiter: "unix"` alone, csv-stringify 6.9.0 quotes "\n" but not a lone "\r",
  // which every CSV reader (softcal's included) takes for a line break: softcal quotes both.
  test.prop([rows])("is byte for byte csv-stringify's output (unix records, line breaks quoted)", (r) => {
    expect(csvRecords(r)).toBe(stringify(r, { record_delimiter: "unix", quote_record_delimiter: true }));
  });

  test.prop([fc.array(rows, { maxLength: 5 })])(
    "formats records independently: csv(a) + csv(b) = csv(a ++ b)",
    (parts) => {
      expect(parts.map(csvRecords).join("")).toBe(csvRecords(parts.flat()));
    },
  );

  // The reader gets back every cell the writer wrote (in a table of ≥ 2 columns: in a one-column
  // file an empty cell is a blank line, which the reader skips — documented).
  test.prop([
    fc.integer({ min: 2, max: 5 }).chain((w) =>
      fc.array(
        fc.array(fc.oneof(fc.string({ unit: "grapheme", maxLength: 8 }), cell), {
          minLength: w,
          maxLength: w,
        }),
        {
          minLength: 1,
          maxLength: 6,
        },
      ),
    ),
  ])("parses back to the same cells", (body) => {
    const header = body[0].map((_, j) => `c${j}`);
    const t = parseCsvTable(csvRecords([header, ...body]), "w.csv");
    expect(t.header).toEqual(header);
    expect(t.rows).toEqual(body);
  });
});
