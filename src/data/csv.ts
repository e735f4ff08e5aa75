/**
 * Reading CSV tables (csv-parse) with exact physical line numbers for error messages.
 *
 * Accepted: a UTF-8 byte-order mark, LF, CRLF or CR line ends (mixed in one file too), RFC 4180 quoting (quoted fields may
 * hold the delimiter, doubled quotes and line breaks), blank lines (skipped; they still count as
 * lines; in a one-column file a line holding only `""` is indistinguishable and also skipped). The first record is the header. Fields are not trimmed.
 *
 * Line numbers are physical 1-based lines of the file (the header is line 1; a line break inside a
 * quoted field starts a new line; CRLF, LF and a lone CR each end one line). Columns are 1-based
 * field positions. Reference: Y. Shafranovich (2005), RFC 4180 "Common Format and MIME Type for
 * Comma-Separated Values (CSV) Files".
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type * as CsvParseSync from "csv-parse/sync";
import { InputError, type SourceLocation } from "../errors.js";
import { csvPositionAt } from "./_internals/csvTokenizer.js";
import { firstInvalidUtf8, invalidUtf8Error } from "./utf8.js";

// csv-parse loads on the first table parsed, not when softcal is imported.
const require = createRequire(import.meta.url);
let csvParseModule: typeof CsvParseSync | undefined;
function csvParse(): typeof CsvParseSync {
  csvParseModule ??= require("csv-parse/sync") as typeof CsvParseSync;
  return csvParseModule;
}

/** A parsed CSV file: its header, its data rows (all as strings) and where each row starts. */
export interface CsvTable {
  /** The file name used in messages. */
  file: string;
  /** Column names from line 1 (unique and non-empty). */
  header: string[];
  /** Data rows, each with exactly `header.length` fields. */
  rows: string[][];
  /** `lines[r]` is the physical line (1-based) where data row r starts. */
  lines: number[];
}

const LF = 0x0a;
const CR = 0x0d;

/**
 * A user's string as shown in a one-line message: JSON-quoted (so line breaks and quotes are
 * escaped) and cut to 60 characters.
 */
export function showValue(s: string): string {
  return JSON.stringify(s.length > 60 ? `${s.slice(0, 57)}…` : s);
}

/** User strings as a message list: `"a", "b", … (12 in all)` (at most `max` shown). */
export function quoteList(names: readonly string[], max = 10): string {
  const shown = names.slice(0, max).map(showValue);
  if (names.length > max) shown.push(`… (${names.length} in all)`);
  return shown.join(", ");
}

/** Number of line breaks (CRLF, LF or lone CR each count once) in `s`. */
function countBreaks(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === LF) n++;
    else if (c === CR && s.charCodeAt(i + 1) !== LF) n++;
  }
  return n;
}

/**
 * Where cell (row r, column c) of a table sits: its physical line and its 1-based column.
 * The line is the row's start line plus the line breaks inside the quoted fields before it.
 * Cost: O(length of the row's fields before column c).
 */
export function cellLocation(table: CsvTable, r: number, c: number): SourceLocation {
  let line = table.lines[r];
  const fields = table.rows[r];
  for (let j = 0; j < c; j++) line += countBreaks(fields[j]);
  return { file: table.file, line, column: c + 1 };
}

/** Short descriptions of csv-parse's quoting errors (others keep csv-parse's message). */
const CSV_PROBLEMS: Record<string, string> = {
  CSV_QUOTE_NOT_CLOSED: "a quoted field that is never closed",
  INVALID_OPENING_QUOTE: "a quote inside an unquoted field",
  CSV_INVALID_CLOSING_QUOTE: "characters after a closing quote",
  CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE: "characters after a closing quote",
};

/**
 * Physical start line of each non-blank record, and the line after the last one. A record spans
 * 1 + (line breaks inside its fields) lines — only quoted fields can hold line breaks, so the count
 * is exact; a blank line is the record [""] and takes one line.
 */
function recordLines(records: string[][]): { starts: number[]; kept: string[][]; next: number } {
  const starts: number[] = [];
  const kept: string[][] = [];
  let line = 1;
  for (const rec of records) {
    if (rec.length === 1 && rec[0] === "") {
      line++;
      continue;
    }
    starts.push(line);
    kept.push(rec);
    line++;
    for (let j = 0; j < rec.length; j++) {
      const f = rec[j];
      if (f.length > 0 && (f.includes("\n") || f.includes("\r"))) line += countBreaks(f);
    }
  }
  return { starts, kept, next: line };
}

/**
 * Parses CSV text into a header and string rows, validating the shape.
 *
 * Rules: at least a header and one data row; every header name non-empty and unique; every data
 * row has as many fields as the header. Blank lines are skipped.
 *
 * @param text the file's contents (a leading BOM is dropped).
 * @param file the file name used in error messages.
 * @throws InputError (one line, `file:line[:column]: expected …; got …`) for an empty file, a
 *   header with no data rows, an empty or duplicate header name, a row with the wrong number of
 *   fields, or malformed quoting (`file:L: expected well-formed CSV; got a quoted field that is never
 *   closed in the record starting here`, L the record's first line).
 * Cost: O(size of the text).
 * @example
 * parseCsvTable("x1,label\r\n1.5,0\r\n", "a.csv");
 * // { file: "a.csv", header: ["x1", "label"], rows: [["1.5", "0"]], lines: [2] }
 */
export function parseCsvTable(text: string, file: string): CsvTable {
  // Every line break ends a record, whichever kind (csv-parse would take the first one met as the
  // only one, and keep a later file's other kind in the last field: "a" and "a\r" two labels).
  const options = {
    bom: true,
    relax_column_count: true,
    skip_empty_lines: false,
    record_delimiter: ["\r\n", "\n", "\r"],
  };
  let records: string[][];
  try {
    // Blank lines are not skipped by csv-parse (its per-record context, needed for that, costs
    // 3.5x the parse time); a blank line arrives as the record [""] and is dropped below.
    records = csvParse().parse(text, options) as string[][];
  } catch (e) {
    if (!(e instanceof csvParse().CsvError)) throw e;
    // csv-parse's own line count is off by one per CRLF inside quotes: report the physical line
    // where the failing record starts, just after the `e.records` records parsed before it.
    const good = typeof e.records === "number" ? e.records : 0;
    const before = good > 0 ? (csvParse().parse(text, { ...options, to: good }) as string[][]) : [];
    const what = CSV_PROBLEMS[e.code] ?? e.message;
    throw new InputError(`expected well-formed CSV; got ${what} in the record starting here`, {
      file,
      line: recordLines(before).next,
    });
  }
  const { starts, kept } = recordLines(records);
  records = kept;
  if (records.length === 0) {
    throw new InputError("expected a header line and at least one data row; got an empty file", { file });
  }
  const header = records[0];
  const seen = new Map<string, number>();
  for (let j = 0; j < header.length; j++) {
    const name = header[j];
    if (name === "") {
      throw new InputError("expected a column name; got an empty header field", {
        file,
        line: starts[0],
        column: j + 1,
      });
    }
    const first = seen.get(name);
    if (first !== undefined) {
      throw new InputError(
        `expected unique column names; got ${showValue(name)} again (first at column ${first + 1})`,
        { file, line: starts[0], column: j + 1 },
      );
    }
    seen.set(name, j);
  }
  if (records.length === 1) {
    throw new InputError("expected at least one data row after the header; got none", { file });
  }
  const nCols = header.length;
  for (let r = 1; r < records.length; r++) {
    if (records[r].length !== nCols) {
      throw new InputError(
        `expected ${nCols} column${nCols === 1 ? "" : "s"} (as in the header); got ${records[r].length}`,
        { file, line: starts[r] },
      );
    }
  }
  return { file, header, rows: records.slice(1), lines: starts.slice(1) };
}

/**
 * The one-line InputError for a failure to open or read `path` (ENOENT, EISDIR, EACCES, EPERM, any
 * other system error code); other errors are returned unchanged.
 */
export function fileReadError(e: unknown, path: string): unknown {
  const code = (e as { code?: unknown }).code;
  if (code === "ENOENT")
    return new InputError("expected an existing file; got no such file or directory", { file: path });
  if (code === "EISDIR") return new InputError("expected a file; got a directory", { file: path });
  if (code === "EACCES" || code === "EPERM") {
    return new InputError("expected a readable file; got permission denied", { file: path });
  }
  if (typeof code === "string")
    return new InputError(`expected a readable file; got ${code}`, { file: path });
  return e;
}

/**
 * Reads and parses a CSV file (UTF-8) with {@link parseCsvTable}. The whole file is held as text:
 * for large files use the streaming readers (`datasetFromCsvFile`, `readCsvColumns`).
 *
 * @throws InputError `path: expected an existing file; got no such file or directory` (ENOENT),
 *   `path: expected a file; got a directory` (EISDIR), `path: expected a readable file; got
 *   permission denied` (EACCES, EPERM), `path: expected a readable file; got <code>` (other
 *   system errors), `path:L:C: expected UTF-8 text; got byte 0xE9, which is not valid UTF-8 here
 *   (save the file as UTF-8)` (bytes that are not UTF-8 are never replaced by U+FFFD), and every
 *   error of {@link parseCsvTable}.
 * Cost: O(file size).
 * @example
 * readCsvFile("properties/fixtures/lesson_data.csv").rows.length; // 180
 */
export function readCsvFile(path: string): CsvTable {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw fileReadError(e, path);
  }
  const bad = firstInvalidUtf8(bytes, 0, bytes.length);
  // The place: line and field of the byte (a malformed quote before it is thrown instead).
  if (bad >= 0) throw invalidUtf8Error(bytes, bad, 0, csvPositionAt(bytes, bad, path));
  let text: string;
  try {
    text = bytes.toString("utf8");
  } catch (e) {
    throw fileReadError(e, path);
  }
  return parseCsvTable(text, path);
}
