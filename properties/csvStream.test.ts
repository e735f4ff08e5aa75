/**
 * The streaming CSV reader (`readCsvColumns`, `datasetFromCsvFile`, `featuresFromCsvFile`) against
 * the in-memory reference (`readCsvFile` = csv-parse, then `datasetFromTable`/`featuresFromTable`):
 * on generated CSV-shaped files — quotes, doubled quotes, delimiters and CR/LF/CRLF inside and
 * outside quotes, BOMs, blank lines, NUL bytes, damage — both give the same fields, the same first
 * data line, the same numbers bit for bit and the same labels, or the same one-line error, for any
 * chunk size (chunk boundaries land everywhere: inside quotes, between CR and LF, inside UTF-8
 * sequences). Bytes that are not UTF-8 are an InputError at the line and field of the byte, never a
 * U+FFFD; the predictions reader keeps its contract; and a large file is read in memory bounded by
 * its numbers (a child process, bound derived below).
 */
import { spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fc, test } from "@fast-check/vitest";
import { afterAll, describe, expect, it } from "vitest";
import { readPredictions } from "../src/calibration/predictions.js";
import { validateProbabilities } from "../src/calibration/validate.js";
import { cellLocation, parseCsvTable, readCsvFile } from "../src/data/csv.js";
import { readCsvColumns } from "../src/data/csvStream.js";
import {
  type Dataset,
  datasetFromCsvFile,
  datasetFromTable,
  featuresFromCsvFile,
  featuresFromTable,
} from "../src/data/dataset.js";
import { InputError } from "../src/errors.js";
import { quoteField } from "./_shared/arbitraries.js";

const dir = mkdtempSync(join(tmpdir(), "softcal-csvstream-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;
function fileWith(bytes: string | Uint8Array): string {
  const p = join(dir, `f${counter++}.csv`);
  writeFileSync(p, bytes);
  return p;
}

/** The value, or the InputError's message (anything else is a bug and propagates). */
function outcome<T>(f: () => T): { ok: T } | { error: string } {
  try {
    return { ok: f() };
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    expect(e.message).not.toContain("\n");
    return { error: e.message };
  }
}

function expectSameDataset(got: Dataset, want: Dataset): void {
  expect(got.featureNames).toEqual(want.featureNames);
  expect(got.classNames).toEqual(want.classNames);
  expect(got.nClasses).toBe(want.nClasses);
  expect(Array.from(got.y)).toEqual(Array.from(want.y));
  expect(got.X.rows).toBe(want.X.rows);
  expect(got.X.cols).toBe(want.X.cols);
  for (let i = 0; i < want.X.data.length; i++) {
    if (!Object.is(got.X.data[i], want.X.data[i]))
      expect.fail(`X[${i}]: ${got.X.data[i]} vs ${want.X.data[i]}`);
  }
}

// ----- generated files --------------------------------------------------------------------------

/** CSV-ish fields: numbers, specials, quoted text with the delimiter, quotes and line breaks. */
const field = fc.oneof(
  fc.double({ noNaN: false }).map(String),
  fc.integer({ min: -3, max: 5 }).map(String),
  fc.constantFrom(
    "",
    " ",
    "label",
    "x1",
    "x2",
    "NaN",
    "1e999",
    "0x10",
    "a",
    "B",
    "é",
    "日本",
    "\u0000",
    "01",
    "1.0",
  ),
  fc.string({ unit: fc.constantFrom("a", ",", '"', "\n", "\r", " ", "1", ".", "e", "-", "é") }),
  fc.string().map(quoteField),
  fc.string({ maxLength: 6 }).map((s) => `"${s}`), // an unclosed or stray quote
);
const lineEnd = fc.constantFrom("\n", "\r\n", "\r");
/** Any CSV-shaped text: rows of fields, one line end (or a mix), optional BOM and blank lines. */
const csvText = fc
  .tuple(
    fc.boolean(),
    fc.array(fc.array(field, { minLength: 1, maxLength: 5 }), { minLength: 0, maxLength: 8 }),
    fc.array(lineEnd, { minLength: 1, maxLength: 3 }),
    fc.boolean(),
  )
  .map(([bom, rows, eols, trailing]) => {
    const lines = rows.map((r) => r.join(","));
    let text = bom ? "\uFEFF" : "";
    lines.forEach((l, i) => {
      text += l + (i < lines.length - 1 || trailing ? eols[i % eols.length] : "");
    });
    return text;
  });
/** A mostly valid data file: header, numeric features, a label, then some damage. */
const nearlyValidCsv = fc
  .tuple(
    fc.integer({ min: 1, max: 3 }),
    fc.array(
      fc.tuple(
        fc.array(fc.double({ min: -9, max: 9, noNaN: true }), { minLength: 3, maxLength: 3 }),
        fc.oneof(fc.nat(3).map(String), fc.constantFrom("a", "b", "01", "1.0", " 1", "")),
      ),
      { minLength: 1, maxLength: 6 },
    ),
    fc.array(fc.tuple(fc.nat(), fc.nat(), field), { maxLength: 2 }),
    lineEnd,
    fc.boolean(),
  )
  .map(([d, rows, damage, eol, quoteAll]) => {
    const table = [
      [...Array.from({ length: d }, (_, j) => `x${j + 1}`), "label"],
      ...rows.map(([x, y]) => [...x.slice(0, d).map(String), y]),
    ];
    for (const [r, c, v] of damage) {
      const row = table[r % table.length];
      row[c % row.length] = v;
    }
    return table.map((r) => r.map((c) => (quoteAll ? quoteField(c) : c)).join(",")).join(eol) + eol;
  });
/**
 * A well-formed table whose fields hold anything (quotes, commas, CR, LF, NUL, non-ASCII), quoted
 * when they must be and at random otherwise; blank lines between records at random.
 */
const wellFormedCsv = fc.integer({ min: 1, max: 4 }).chain((width) =>
  fc
    .tuple(
      fc.uniqueArray(fc.string({ minLength: 1, maxLength: 4 }), { minLength: width, maxLength: width }),
      fc.array(
        fc.array(
          fc.tuple(
            fc.string({
              unit: fc.constantFrom("a", "1", ".", " ", ",", '"', "\r", "\n", "\u0000", "é"),
              maxLength: 6,
            }),
            fc.boolean(),
          ),
          { minLength: width, maxLength: width },
        ),
        { minLength: 1, maxLength: 6 },
      ),
      lineEnd,
      fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
      fc.boolean(),
    )
    .map(([header, rows, eol, blanks, bom]) => {
      const must = (f: string) => /[",\r\n]/.test(f) || f === "" || f.startsWith('"');
      const cell = ([f, q]: [string, boolean]) => (q || must(f) ? quoteField(f) : f);
      const lines = [
        header.map((h) => cell([h, false])).join(","),
        ...rows.map((r) => r.map(cell).join(",")),
      ];
      return (
        (bom ? "\uFEFF" : "") +
        lines.map((l, i) => (blanks[i % 8] ? `${l}${eol}${eol}` : `${l}${eol}`)).join("")
      );
    }),
);
const anyCsv = fc.oneof(csvText, nearlyValidCsv, wellFormedCsv);
/** Chunk sizes from one byte (a boundary between any two bytes) to the default. */
const chunk = fc.constantFrom(1, 2, 3, 4, 7, 16, 2 ** 20);

describe("streaming reader = csv-parse reference", () => {
  test.prop([anyCsv, chunk])(
    "every field of every column, the header and the first data line are csv-parse's (or the same error)",
    (text, chunkBytes) => {
      const path = fileWith(text);
      const ref = outcome(() => readCsvFile(path));
      if ("error" in ref) {
        const got = outcome(() =>
          readCsvColumns(path, { chunkBytes, choose: () => ({ numeric: [], label: -1 }) }),
        );
        expect(got).toEqual(ref);
        return;
      }
      const table = ref.ok;
      for (let j = 0; j < table.header.length; j++) {
        const c = readCsvColumns(path, { chunkBytes, choose: () => ({ numeric: [], label: j }) });
        expect(c.header).toEqual(table.header);
        expect(c.firstLine).toBe(table.lines[0]);
        const labels = c.labels;
        if (labels === null) expect.fail("no label column read");
        expect(labels.ids.length).toBe(table.rows.length);
        const fields = Array.from(labels.ids, (id) => labels.values[id]);
        expect(fields).toEqual(table.rows.map((r) => r[j]));
        // The first occurrence of each distinct value is where datasetFromTable would name it.
        labels.values.forEach((v, k) => {
          const i = table.rows.findIndex((r) => r[j] === v);
          expect(labels.first[k]).toEqual(cellLocation(table, i, j));
        });
      }
    },
  );

  test.prop([anyCsv, chunk, fc.constantFrom("label", "x1", "a")])(
    "datasetFromCsvFile = datasetFromTable(readCsvFile): same data set bit for bit, or the same message",
    (text, chunkBytes, label) => {
      const path = fileWith(text);
      const want = outcome(() => datasetFromTable(readCsvFile(path), { label }));
      const got = outcome(() => datasetFromCsvFile(path, { label, chunkBytes }));
      if ("ok" in want && "ok" in got) expectSameDataset(got.ok, want.ok);
      else expect(got).toEqual(want);
    },
  );

  test.prop([
    anyCsv,
    chunk,
    fc.shuffledSubarray(["x1", "x2", "x3", "label", "a"], { minLength: 1 }),
    fc.option(fc.constantFrom(["0", "1", "2", "3"], ["a", "b"]), { nil: undefined }),
  ])(
    "featuresFromCsvFile = featuresFromTable(readCsvFile): model columns in the model's order, labels as written",
    (text, chunkBytes, featureNames, classNames) => {
      const path = fileWith(text);
      const options = { featureNames, ...(classNames ? { classNames } : {}) };
      const want = outcome(() => featuresFromTable(readCsvFile(path), options));
      const got = outcome(() => featuresFromCsvFile(path, { ...options, chunkBytes }));
      if (!("ok" in want && "ok" in got)) {
        expect(got).toEqual(want);
        return;
      }
      expect(Array.from(got.ok.X.data, (v) => (Object.is(v, -0) ? "-0" : v))).toEqual(
        Array.from(want.ok.X.data, (v) => (Object.is(v, -0) ? "-0" : v)),
      );
      const labels = got.ok.labels;
      expect(labels === null ? null : Array.from(labels.ids, (id) => labels.values[id])).toEqual(
        want.ok.labels,
      );
      expect(got.ok.y === null ? null : Array.from(got.ok.y)).toEqual(
        want.ok.y === null ? null : Array.from(want.ok.y),
      );
    },
  );

  it("a file with LF and CRLF lines mixed (edited on two systems): the same rows and labels as all-LF, read by both readers", () => {
    const lf = "x,y,label\n1,2,a\n2,3,b\n3,4,a\n4,1,b\n";
    const mixed = "x,y,label\n1,2,a\n2,3,b\r\n3,4,a\r\n4,1,b\n";
    const crFirst = "x,y,label\r\n1,2,a\n2,3,b\r3,4,a\n4,1,b\r\n";
    const want = datasetFromTable(readCsvFile(fileWith(lf)));
    expect(want.classNames).toEqual(["a", "b"]);
    for (const text of [mixed, crFirst]) {
      for (const got of [datasetFromTable(readCsvFile(fileWith(text))), datasetFromCsvFile(fileWith(text))]) {
        expect(got.classNames).toEqual(want.classNames);
        expect(Array.from(got.y)).toEqual(Array.from(want.y));
        expect(Array.from(got.X.data)).toEqual(Array.from(want.X.data));
      }
    }
  });

  test.prop(
    [
      fc.array(
        fc.record({
          blanksBefore: fc.nat({ max: 3 }),
          breaksInLabel: fc.nat({ max: 2 }),
        }),
        { minLength: 1, maxLength: 30 },
      ),
      // One kind per file: a CR line end followed by a blank LF line would be one CRLF.
      fc.constantFrom("\n", "\r\n", "\r"),
      fc.constantFrom(1, 3, 2 ** 20),
    ],
    { numRuns: 60 },
  )(
    "lineOf(row) is the physical line of every data row, after blank lines and quoted line breaks",
    (rows, end, chunkBytes) => {
      let text = "x,label\n";
      let line = 2;
      const want: number[] = [];
      rows.forEach((r, i) => {
        text += end.repeat(r.blanksBefore);
        line += r.blanksBefore;
        want.push(line);
        text += `${i},"a${"\n".repeat(r.breaksInLabel)}b"${end}`;
        line += 1 + r.breaksInLabel;
      });
      const c = readCsvColumns(fileWith(text), { chunkBytes, choose: () => ({ numeric: [0], label: 1 }) });
      expect(c.X.rows).toBe(rows.length);
      expect(rows.map((_, i) => c.lineOf(i))).toEqual(want);
    },
  );

  it("a bad probability after blank lines is reported at its own line (validation locates rows through lineOf)", () => {
    const path = fileWith("p0,p1,label\n0.2,0.8,1\n\n0.5,0.5,0\n\n0.3,1.7,1\n");
    const pr = readPredictions(path, "label", false);
    expect(outcome(() => validateProbabilities(pr.S, pr.source))).toEqual({
      error: `${path}:6:2: expected a probability in [0, 1]; got 1.7 (column "p1")`,
    });
  });

  it("pinned cases: a mixed line end, CR inside quotes, a NUL after a closing quote, blank lines and a BOM", () => {
    const cases = [
      "x1,label\n1,0\r\n2,1\n", // every line end ends a record, whichever kind
      'x1,label\r"1\r\n2",a\r3,b', // CR records, CRLF inside quotes is content
      'x1,label\n"1"\u0000,a\n', // a NUL after a closing quote keeps the field open
      "\uFEFF\n\nx1,label\n\n1,a\n\n",
      'x1,label\n1,"a""b"\n',
      'x1,label\n1,"a"b\n',
      'x1,label\n1,a"b\n',
      'x1,label\n1,"a\n',
    ];
    for (const text of cases) {
      const path = fileWith(text);
      for (const chunkBytes of [1, 2, 3, 2 ** 20]) {
        expect(outcome(() => datasetFromCsvFile(path, { chunkBytes }))).toEqual(
          outcome(() => datasetFromTable(readCsvFile(path))),
        );
      }
    }
  });
});

// ----- UTF-8 ----------------------------------------------------------------------------------------

/** Byte sequences that are not UTF-8 (Unicode 15, Table 3-7), each starting where the error is. */
const badBytes = fc.constantFrom(
  [0x80], // a lone continuation byte
  [0xe9], // Latin-1 "é"
  [0xc3, 0x28], // a lead byte followed by ASCII
  [0xc0, 0x80], // an overlong NUL
  [0xed, 0xa0, 0x80], // a UTF-16 surrogate
  [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
  [0xff],
);

/** Counts line breaks as parseCsvTable does (CRLF, LF or lone CR once). */
const breaks = (s: string) => s.match(/\r\n|\n|\r/g)?.length ?? 0;

describe("bytes that are not UTF-8 are refused at their line and field", () => {
  test.prop([
    fc.array(
      fc.array(fc.string({ unit: fc.constantFrom("a", "1", " ", "\n", ",", '"') }), {
        minLength: 2,
        maxLength: 3,
      }),
      { minLength: 2, maxLength: 5 },
    ),
    fc.nat(),
    fc.nat(),
    fc.nat(),
    badBytes,
    lineEnd,
    chunk,
  ])(
    "expected UTF-8 text at file:line:field, the same from readCsvFile and the streaming reader",
    (cells, r0, c0, at0, bad, eol, chunkBytes) => {
      // Every cell quoted (so any text is one field); the bad bytes go into cell (r, c) of a data row.
      const width = cells[0].length;
      const rows = cells.map((r) => Array.from({ length: width }, (_, j) => r[j] ?? ""));
      rows[0] = rows[0].map((_, j) => `c${j}`);
      const r = 1 + (r0 % (rows.length - 1));
      const c = c0 % width;
      const at = at0 % (rows[r][c].length + 1);
      const marker = "\u0001";
      rows[r][c] = rows[r][c].slice(0, at) + marker + rows[r][c].slice(at);
      const text = rows.map((row) => row.map(quoteField).join(",")).join(eol) + eol;
      // The place, from csv-parse on the text with a harmless marker where the bad bytes go.
      const table = parseCsvTable(text, "t.csv");
      const cell = cellLocation(table, r - 1, c);
      const line = (cell.line ?? 0) + breaks(rows[r][c].slice(0, at));
      const [before, after] = text.split(marker);
      const bytes = Buffer.concat([Buffer.from(before), Buffer.from(bad), Buffer.from(after)]);
      const path = fileWith(bytes);
      const hex = bad[0].toString(16).toUpperCase();
      const message = `${path}:${line}:${c + 1}: expected UTF-8 text; got byte 0x${hex}, which is not valid UTF-8 here (save the file as UTF-8)`;
      expect(outcome(() => readCsvFile(path))).toEqual({ error: message });
      expect(outcome(() => datasetFromCsvFile(path, { chunkBytes }))).toEqual({ error: message });
    },
  );

  it("a UTF-16 file is named as such; valid multi-byte text split at any chunk boundary is read", () => {
    const utf16 = fileWith(Buffer.from("\uFEFFx1,label\n1,a\n", "utf16le"));
    const message = `${utf16}:1:1: expected UTF-8 text; got a UTF-16 byte-order mark (save the file as UTF-8)`;
    expect(outcome(() => readCsvFile(utf16))).toEqual({ error: message });
    expect(outcome(() => datasetFromCsvFile(utf16, { chunkBytes: 1 }))).toEqual({ error: message });
    const path = fileWith("x1,label\n1,é\n2,日本\n3,𝔘𝔫\n4,é\n");
    for (const chunkBytes of [1, 2, 3, 4, 5]) {
      const ds = datasetFromCsvFile(path, { chunkBytes });
      expect(ds.classNames).toEqual(["é", "日本", "𝔘𝔫"]);
      expect(Array.from(ds.y)).toEqual([0, 1, 2, 0]);
    }
  });

  it("Latin-1 labels that U+FFFD would merge are refused, not merged", () => {
    // "é" and "è" in Latin-1 are single bytes 0xE9 and 0xE8; decoded leniently both become U+FFFD.
    const path = fileWith(Buffer.from("x1,label\n1,caf\xe9\n2,caf\xe8\n", "latin1"));
    expect(outcome(() => datasetFromCsvFile(path))).toEqual({
      error: `${path}:2:2: expected UTF-8 text; got byte 0xE9, which is not valid UTF-8 here (save the file as UTF-8)`,
    });
  });
});

// ----- bounds ---------------------------------------------------------------------------------------

describe("bounds", () => {
  it("a field longer than 16 MiB is refused at its place; a quote never closed is still named as such", () => {
    const big = "1".repeat(2 ** 24 + 1);
    const long = fileWith(`x1,label\n1,a\n${big},b\n`);
    expect(outcome(() => datasetFromCsvFile(long))).toEqual({
      error: `${long}:3:1: expected a field of at most 16 MiB; got a longer one`,
    });
    const open = fileWith(`x1,label\n1,a\n"${big},b\n`);
    expect(outcome(() => datasetFromCsvFile(open))).toEqual({
      error: `${open}:3: expected well-formed CSV; got a quoted field that is never closed in the record starting here`,
    });
  });

  it("a header with more columns than maxColumns is refused at the header", () => {
    const path = fileWith(
      `${Array.from({ length: 11 }, (_, j) => `c${j}`).join(",")}\n${"1,".repeat(10)}1\n`,
    );
    expect(
      outcome(() => readCsvColumns(path, { maxColumns: 10, choose: () => ({ numeric: [], label: -1 }) })),
    ).toEqual({ error: `${path}:1: expected at most 10 columns; got more` });
    expect(readCsvColumns(path, { maxColumns: 11, choose: () => ({ numeric: [0], label: -1 }) }).X.rows).toBe(
      1,
    );
  });

  it("a pipe is read once into growing arrays: the same data set as the file", () => {
    const rows = Array.from({ length: 3000 }, (_, i) => `${i * 0.5},${i % 3}`);
    const path = fileWith(`x1,label\n${rows.join("\n")}\n`);
    const fifo = join(dir, `pipe${counter++}`);
    if (spawnSync("mkfifo", [fifo]).status !== 0) return; // no mkfifo here: nothing to check
    const child = spawnSync(
      "sh",
      ["-c", `cat "${path}" > "${fifo}" & node -e "${readFromArgv}" "${fifo}"; wait`],
      { encoding: "utf8", cwd: process.cwd() },
    );
    expect(child.status, child.stderr).toBe(0);
    const fromPipe = JSON.parse(child.stdout) as { rows: number; sum: number; y: number[] };
    const ds = datasetFromCsvFile(path);
    expect(fromPipe.rows).toBe(ds.X.rows);
    expect(fromPipe.sum).toBe(ds.X.data.reduce((a, b) => a + b, 0));
    expect(fromPipe.y).toEqual(Array.from(ds.y));
  });
});

/** A child script (plain node with tsx's loader) that reads argv[1] with datasetFromCsvFile. */
const readFromArgv = [
  "import('tsx/esm/api').then(({ tsImport }) => tsImport('./src/data/dataset.ts', 'file://' + process.cwd() + '/'))",
  ".then((m) => { const ds = m.datasetFromCsvFile(process.argv[1]);",
  "process.stdout.write(JSON.stringify({ rows: ds.X.rows, sum: ds.X.data.reduce((a, b) => a + b, 0), y: Array.from(ds.y) })); })",
].join("");

// ----- memory ---------------------------------------------------------------------------------------

describe("memory", () => {
  it("reading a 40 MB file costs about its numbers (8 bytes each), not its text: peak RSS bound in a child", () => {
    // 400 000 rows of 5 full-precision doubles and a label, ~100 bytes a row: 2 000 000 numbers.
    const path = join(dir, "big.csv");
    const fd = openSync(path, "w");
    writeSync(fd, "x1,x2,x3,x4,x5,label\n");
    let s = 12345;
    const next = () => {
      s = (s * 1103515245 + 12345) % 2147483648;
      return s / 2147483648 - 0.5;
    };
    for (let block = 0; block < 40; block++) {
      let text = "";
      for (let i = 0; i < 10_000; i++) text += `${next()},${next()},${next()},${next()},${next()},${i % 3}\n`;
      writeSync(fd, text);
    }
    closeSync(fd);
    const script = [
      "import('tsx/esm/api').then(({ tsImport }) => tsImport('./src/data/dataset.ts', 'file://' + process.cwd() + '/'))",
      ".then((m) => { globalThis.gc?.(); const before = process.memoryUsage().rss;",
      "const ds = m.datasetFromCsvFile(process.argv[1]);",
      "process.stdout.write(JSON.stringify({ before, peak: process.resourceUsage().maxRSS * 1024, bytes: ds.X.data.byteLength + ds.y.byteLength })); })",
    ].join("");
    const r = spawnSync(process.execPath, ["--expose-gc", "-e", script, path], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    const { before, peak, bytes } = JSON.parse(r.stdout) as { before: number; peak: number; bytes: number };
    expect(bytes).toBe(400_000 * (5 * 8 + 4));
    // Bound: the arrays (17.6 MB), the two 1 MiB read buffers, transient strings of one chunk and
    // the heap's slack — 3 × the arrays + 32 MiB is generous; reading the text whole (what
    // readCsvFile + datasetFromTable do) peaks at ~10 × the file (~400 MB), far above it.
    expect(peak - before).toBeLessThan(3 * bytes + 32 * 2 ** 20);
  });
});

// ----- predictions files ----------------------------------------------------------------------------

describe("the predictions reader (evaluate, calibrate)", () => {
  test.prop([
    fc.integer({ min: 2, max: 4 }),
    fc.array(fc.nat(3), { minLength: 1, maxLength: 6 }),
    fc.constantFrom("names", "indices", "mixed", "spelled"),
  ])("labels map by class name or by plain index; other spellings are refused", (K, raw, style) => {
    const names = ["setosa", "versicolor", "virginica", "x"].slice(0, K);
    const labels = raw.map((k, i) => {
      const c = k % K;
      if (style === "names") return names[c];
      if (style === "indices") return String(c);
      if (style === "mixed") return i % 2 === 0 ? names[c] : String(c);
      return i === 0 ? `0${c}` : String(c); // "00", "01": not plain indices
    });
    const p = 1 / K;
    const text = `${[...names.map((n) => `p_${n}`), "label"].join(",")}\n${labels.map((l) => `${Array(K).fill(p).join(",")},${l}`).join("\n")}\n`;
    const path = fileWith(text);
    const got = outcome(() => {
      const pr = readPredictions(path, "label", true);
      return { y: Array.from(pr.y ?? []), classNames: pr.classNames, rows: pr.S.rows };
    });
    if (style === "names" || style === "indices") {
      expect(got).toEqual({ ok: { y: raw.map((k) => k % K), classNames: names, rows: raw.length } });
    } else if (style === "mixed" && raw.length === 1) {
      expect(got).toEqual({ ok: { y: [raw[0] % K], classNames: names, rows: 1 } }); // one row: a name
    } else {
      // Mixed: names and indices together, refused at the first label that is not an index (row 0,
      // a name). Spelled: "00", "01", … are neither names nor indices.
      const bad = labels[0];
      expect(got).toHaveProperty("error");
      expect((got as { error: string }).error).toMatch(
        new RegExp(
          `^${path}:\\d+:${K + 1}: expected labels that are all class names \\(.*\\) or all integers in 0\\.\\.${K - 1}; got "${bad}"$`,
        ),
      );
    }
  });

  it("pinned: scores-only files, the first data line, a bad score after the label checks", () => {
    const path = fileWith("\n\np_a,p_b\n0.25,0.75\n");
    const pr = readPredictions(path, "label", false);
    expect(pr.y).toBeNull();
    expect(Array.from(pr.S.data)).toEqual([0.25, 0.75]);
    expect(pr.source).toEqual({
      file: path,
      firstLine: 4,
      lineOf: expect.any(Function),
      columns: [1, 2],
      names: ["p_a", "p_b"],
    });
    expect(pr.source.lineOf?.(0)).toBe(4);
    const noLabel = fileWith("p_a,p_b\n0.5,0.5\n");
    expect(outcome(() => readPredictions(noLabel, "label", true))).toEqual({
      error: `${noLabel}:1: expected a label column "label" (pass --label COL to name another); got columns "p_a", "p_b"`,
    });
    // A bad label is named before a bad score (the order evaluate has always reported them in).
    const both = fileWith("p_a,p_b,label\nx,0.5,a\n0.5,0.5,c\n");
    expect(outcome(() => readPredictions(both, "label", true))).toEqual({
      error: `${both}:3:3: expected labels that are all class names ("a", "b") or all integers in 0..1; got "c"`,
    });
    const score = fileWith("p_a,p_b,label\nx,0.5,a\n");
    expect(outcome(() => readPredictions(score, "label", true))).toEqual({
      error: `${score}:2:1: expected a finite number in column "p_a"; got "x"`,
    });
  });
});
