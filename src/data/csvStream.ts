/**
 * Reading large CSV files in bounded memory: numbers go straight from the file's bytes into one
 * Float64Array, labels into an Int32Array of ids; no row, field or line is ever held as a string
 * beyond the cell being read (the header's names and the distinct labels excepted).
 *
 * A regular file is read twice, 1 MiB at a time: once to count its rows (so the arrays are
 * allocated once, at their exact size), once to parse them. Anything else (a pipe, `/dev/stdin`)
 * is read once into arrays that grow by doubling. Memory: 8 bytes per number read, 4 per label,
 * the distinct labels and header names, and ~2 MiB of buffers — for a file of S bytes whose
 * numbers average w characters (with their comma), about 8·S/w bytes (S/2 for w ≥ 16).
 *
 * The accepted syntax, the line numbers and every message are those of {@link parseCsvTable} and
 * `datasetFromTable` (the tokenizer reproduces csv-parse; `properties/csvStream.test.ts` compares
 * the two readers on generated files), plus: bytes that are not UTF-8 are an InputError at their
 * line and column, and a field longer than {@link MAX_FIELD_BYTES} is an InputError (so a stray
 * quote early in a huge file cannot make one field of the whole file). When a file has several
 * problems, the one reported is the one `parseCsvTable` + `datasetFromTable` would report: quoting
 * (and now UTF-8) first, then an empty file, the header, no data rows, a ragged row, the columns
 * asked for, then the first bad number (row by row, in the order the columns were asked for), then
 * labels.
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { InputError } from "../errors.js";
import { type Matrix, matrix } from "../linalg/matrix.js";
import { type CsvSink, CsvTokenizer } from "./_internals/csvTokenizer.js";
import { fileReadError, showValue } from "./csv.js";
import { LabelCollector, type LabelColumn } from "./labels.js";
import { parseFiniteNumberBytes } from "./numbers.js";
import { firstInvalidUtf8, invalidUtf8Error, utf8BoundaryBefore } from "./utf8.js";

/** Bytes read from the file at a time. */
export const CHUNK_BYTES = 2 ** 20;
/** The longest field read (16 MiB): far beyond any number, label or column name. */
export const MAX_FIELD_BYTES = 2 ** 24;
/**
 * The most columns a header may have (2^20 = 1,048,576, 64 times a spreadsheet's 16,384): the
 * header's names are held as strings, ~50 bytes each with their bookkeeping, so at most ~50 MiB.
 */
export const MAX_COLUMNS = 2 ** 20;

/** Which columns to read, chosen from the header. */
export interface CsvColumnChoice {
  /** 0-based columns parsed as finite numbers, in the order of the result's matrix columns. */
  numeric: readonly number[];
  /** 0-based label column (read as strings), or −1 for none. */
  label: number;
}

/** Options of {@link readCsvColumns}. */
export interface ReadCsvColumnsOptions {
  /** The file name used in messages (default: the path). */
  file?: string;
  /** The most columns accepted in the header (default and at most {@link MAX_COLUMNS}). */
  maxColumns?: number;
  /**
   * Bytes read at a time (default {@link CHUNK_BYTES}; at least 1). Results never depend on it;
   * tests pass tiny values to put chunk boundaries everywhere.
   */
  chunkBytes?: number;
  /**
   * Chooses the columns from the header (unique, non-empty names). May throw an InputError (a
   * missing column): it is reported after the file's shape errors, as `datasetFromTable`'s are.
   */
  choose(header: readonly string[]): CsvColumnChoice;
}

/** What {@link readCsvColumns} read. */
export interface CsvColumns {
  /** The file name used in messages. */
  file: string;
  /** Column names from the header (unique and non-empty). */
  header: string[];
  /** The columns read, as chosen. */
  choice: CsvColumnChoice;
  /** Physical line (1-based) of the first data row. */
  firstLine: number;
  /**
   * Physical line (1-based) of data row `row` (0-based): `firstLine + row` unless blank lines or
   * line breaks inside quoted fields come before it (kept as a sorted list of the rows where the
   * offset changes: a few numbers per such row, nothing per ordinary row). O(log of those rows).
   */
  lineOf(row: number): number;
  /** m × (number of numeric columns), row-major. Incomplete when `numberError` is set. */
  X: Matrix;
  /** The label column, or null when none was chosen. */
  labels: LabelColumn | null;
  /**
   * The first cell of a numeric column that is not a finite number (row by row, in the order the
   * columns were chosen), not thrown: the caller decides what is reported first.
   */
  numberError: InputError | null;
}

const SKIP = -1;
const LABEL = -2;

/** Counts a file's data rows (non-blank records after the header). */
class RowCounter implements CsvSink {
  records = 0;
  private fields = 0;
  private firstEmpty = false;
  field(_b: Buffer, start: number, end: number): void {
    if (this.fields === 0) this.firstEmpty = start === end;
    this.fields++;
  }
  endRecord(): void {
    if (!(this.fields === 1 && this.firstEmpty)) this.records++;
    this.fields = 0;
  }
}

/** Parses the chosen columns of each record as it comes. */
class ColumnReader implements CsvSink {
  tokenizer!: CsvTokenizer;
  header: string[] | null = null;
  headerLine = 0;
  rows = 0;
  firstLine = 0;
  /** Rows whose line is not the previous row's + 1, and their lines (see `CsvColumns.lineOf`). */
  readonly shiftRows: number[] = [];
  readonly shiftLines: number[] = [];
  headerError: InputError | null = null;
  raggedError: InputError | null = null;
  chooseError: InputError | null = null;
  numberError: InputError | null = null;
  choice: CsvColumnChoice = { numeric: [], label: -1 };
  labels: LabelCollector | null = null;
  X: Float64Array = new Float64Array(0);
  ids: Int32Array = new Int32Array(0);

  private readonly names: string[] = [];
  private roles: Int32Array = new Int32Array(0);
  private d = 0;
  private capacity: number;
  /** Read values (off once a shape error is certain: only the file's shape is still checked). */
  private reading = true;
  /** Parse numbers (off after the first bad number; labels are still read, as callers report them first). */
  private readingNumbers = true;
  /** The record's first field was empty and is not handled yet (a blank line if it is alone). */
  private pendingEmpty = false;
  private badSlot = -1;
  private badColumn = 0;
  private badText = "";
  private badLine = 0;

  constructor(
    private readonly file: string,
    private readonly choose: ReadCsvColumnsOptions["choose"],
    /** Expected data rows (0: unknown); the arrays grow if there are more. */
    expectedRows: number,
    private readonly maxColumns: number,
  ) {
    this.capacity = expectedRows;
  }

  field(b: Buffer, start: number, end: number): void {
    const j = this.tokenizer.fieldIndex;
    if (j === 0 && start === end) {
      this.pendingEmpty = true;
      return;
    }
    if (j === 1 && this.pendingEmpty) {
      this.pendingEmpty = false;
      this.take(0, b, 0, 0, this.tokenizer.recordLine);
    }
    this.take(j, b, start, end, this.tokenizer.fieldLine);
  }

  private take(j: number, b: Buffer, start: number, end: number, line: number): void {
    if (this.header === null) {
      if (this.names.length === this.maxColumns) {
        throw new InputError(`expected at most ${this.maxColumns} columns; got more`, {
          file: this.file,
          line: this.tokenizer.recordLine,
        });
      }
      this.names.push(b.toString("utf8", start, end));
      return;
    }
    if (!this.reading || j >= this.roles.length) return;
    if (this.rows === this.capacity) this.grow();
    const role = this.roles[j];
    if (role >= 0) {
      if (!this.readingNumbers) return;
      const v = parseFiniteNumberBytes(b, start, end);
      if (v !== undefined) this.X[this.rows * this.d + role] = v;
      else if (this.badSlot < 0 || role < this.badSlot) {
        this.badSlot = role;
        this.badColumn = j;
        this.badText = b.toString("utf8", start, end);
        this.badLine = line;
      }
    } else if (role === LABEL) {
      const labels = this.labels as LabelCollector;
      const s = b.toString("utf8", start, end);
      this.ids[this.rows] = labels.lookup(s) ?? labels.add(s, { file: this.file, line, column: j + 1 });
    }
  }

  endRecord(): void {
    const nFields = this.tokenizer.fieldIndex;
    if (this.pendingEmpty) {
      // A record whose only field is empty: a blank line (a second field would have taken it).
      this.pendingEmpty = false;
      return;
    }
    const line = this.tokenizer.recordLine;
    if (this.header === null) {
      this.startData(line);
      return;
    }
    if (this.rows === 0) this.firstLine = line;
    else if (line !== this.lineOf(this.rows)) {
      this.shiftRows.push(this.rows);
      this.shiftLines.push(line);
    }
    if (nFields !== this.names.length) {
      if (this.raggedError === null) {
        const n = this.names.length;
        this.raggedError = new InputError(
          `expected ${n} column${n === 1 ? "" : "s"} (as in the header); got ${nFields}`,
          { file: this.file, line },
        );
      }
      this.reading = false;
    } else if (this.badSlot >= 0) {
      if (this.numberError === null) {
        this.numberError = new InputError(
          `expected a finite number in column ${showValue(this.names[this.badColumn])}; got ${showValue(this.badText)}`,
          { file: this.file, line: this.badLine, column: this.badColumn + 1 },
        );
      }
      this.readingNumbers = false;
    }
    this.badSlot = -1;
    this.rows++;
  }

  /** The physical line of data row `row` (0-based) read so far or next. */
  lineOf(row: number): number {
    // The last shift at or before `row` (binary search), else the first row's line.
    let lo = 0;
    let hi = this.shiftRows.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.shiftRows[mid] <= row) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? this.firstLine + row : this.shiftLines[lo - 1] + (row - this.shiftRows[lo - 1]);
  }

  /** The header has ended: check its names, choose the columns, allocate. */
  private startData(line: number): void {
    const names = this.names;
    this.header = names;
    this.headerLine = line;
    const seen = new Map<string, number>();
    for (let j = 0; j < names.length && this.headerError === null; j++) {
      const name = names[j];
      const first = seen.get(name);
      if (name === "") {
        this.headerError = new InputError("expected a column name; got an empty header field", {
          file: this.file,
          line,
          column: j + 1,
        });
      } else if (first !== undefined) {
        this.headerError = new InputError(
          `expected unique column names; got ${showValue(name)} again (first at column ${first + 1})`,
          { file: this.file, line, column: j + 1 },
        );
      }
      seen.set(name, j);
    }
    if (this.headerError !== null) {
      this.reading = false;
      return;
    }
    try {
      this.choice = this.choose(names);
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      this.chooseError = e;
      this.reading = false;
      return;
    }
    const roles = new Int32Array(names.length).fill(SKIP);
    this.choice.numeric.forEach((j, k) => {
      roles[j] = k;
    });
    if (this.choice.label >= 0) {
      roles[this.choice.label] = LABEL;
      this.labels = new LabelCollector();
    }
    this.roles = roles;
    this.d = this.choice.numeric.length;
    const rows = this.capacity > 0 ? this.capacity : 1024;
    this.capacity = 0;
    this.resize(rows);
  }

  /** More rows than expected: double the arrays (a pipe, or a file that grew since it was counted). */
  private grow(): void {
    this.resize(Math.max(1024, 2 * this.capacity));
  }

  private resize(rows: number): void {
    const X = new Float64Array(rows * this.d);
    X.set(this.X.subarray(0, Math.min(this.X.length, X.length)));
    this.X = X;
    if (this.labels !== null) {
      const ids = new Int32Array(rows);
      ids.set(this.ids.subarray(0, Math.min(this.ids.length, rows)));
      this.ids = ids;
    }
    this.capacity = rows;
  }

  /** The arrays cut to the rows read (a copy only when they were allocated larger). */
  finish(): { X: Float64Array; ids: Int32Array } {
    const n = this.rows * this.d;
    return {
      X: this.X.length === n ? this.X : this.X.slice(0, n),
      ids: this.labels === null || this.ids.length === this.rows ? this.ids : this.ids.slice(0, this.rows),
    };
  }
}

/** An open file: its descriptor and whether it is a regular file (one that can be read twice). */
function openFile(path: string): { fd: number; regular: boolean } {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (e) {
    throw fileReadError(e, path);
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new InputError("expected a file; got a directory", { file: path });
    return { fd, regular: st.isFile() };
  } catch (e) {
    closeSync(fd);
    throw e instanceof InputError ? e : fileReadError(e, path);
  }
}

/**
 * Feeds a file through a tokenizer in chunks of {@link CHUNK_BYTES}, checking that it is UTF-8.
 * @throws InputError for bytes that are not UTF-8 (at their line and column), a read error, and
 *   the tokenizer's errors.
 */
function tokenizeFile(
  fd: number,
  path: string,
  file: string,
  tokenizer: CsvTokenizer,
  chunkBytes: number,
): void {
  // 8 spare bytes: at most 3 are kept from one round to the next (2 of look-ahead, or the start
  // of a UTF-8 sequence), so every round reads at least `chunkBytes` new bytes.
  const buf = Buffer.allocUnsafe(chunkBytes + 8);
  let have = 0; // bytes kept at buf[0, have) from the last round
  let checked = 0; // buf[0, checked) is well-formed UTF-8
  let offset = 0; // file offset of buf[0]
  for (;;) {
    let end = have;
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, buf, end, buf.length - end, null);
      } catch (e) {
        throw fileReadError(e, path);
      }
      if (n === 0) break;
      end += n;
      if (end === buf.length) break;
    }
    const last = end < buf.length;
    const wellFormedTo = last ? end : utf8BoundaryBefore(buf, checked, end);
    const bad = firstInvalidUtf8(buf, checked, wellFormedTo);
    if (bad >= 0) {
      tokenizer.feed(buf, bad, end, false);
      throw invalidUtf8Error(buf, bad, offset, {
        file,
        line: tokenizer.line,
        column: tokenizer.fieldIndex + 1,
      });
    }
    checked = wellFormedTo;
    const used = tokenizer.feed(buf, last ? end : Math.min(end - 2, wellFormedTo), end, last);
    if (last) return;
    buf.copyWithin(0, used, end);
    have = end - used;
    checked = Math.max(0, checked - used);
    offset += used;
  }
}

/**
 * Reads the chosen columns of a CSV file in bounded memory (module doc): numeric columns into an
 * m×d Float64Array, the label column into ids of distinct strings.
 *
 * @param path the file to read (a regular file is read twice; a pipe once).
 * @throws InputError, one line each, in the order `parseCsvTable` + `datasetFromTable` report
 *   them: a file that cannot be read (the messages of `readCsvFile`), `file:L:C: expected UTF-8
 *   text; got …`, malformed quoting, `file:L:C: expected a field of at most 16 MiB; got a longer
 *   one`, `file:L: expected at most 1048576 columns; got more`, an empty file, an empty or
 *   duplicate column name, no data rows, a ragged row, and what `choose` throws. A bad number is
 *   returned as `numberError`, not thrown.
 * Cost: O(file size) time (two reads of a regular file), memory as in the module doc.
 * @example
 * const c = readCsvColumns("properties/fixtures/lesson_data.csv", {
 *   choose: (h) => ({ numeric: [0, 1], label: h.indexOf("label") }),
 * });
 * c.X.rows; // 180
 */
export function readCsvColumns(path: string, options: ReadCsvColumnsOptions): CsvColumns {
  const file = options.file ?? path;
  const chunkBytes = Math.max(1, Math.floor(options.chunkBytes ?? CHUNK_BYTES));
  let rows = 0;
  const first = openFile(path);
  try {
    if (first.regular) {
      const counter = new RowCounter();
      tokenizeFile(first.fd, path, file, new CsvTokenizer(counter, file, MAX_FIELD_BYTES), chunkBytes);
      rows = Math.max(0, counter.records - 1);
    }
  } finally {
    if (first.regular) closeSync(first.fd);
  }
  const { fd } = first.regular ? openFile(path) : first;
  const maxColumns = Math.min(options.maxColumns ?? MAX_COLUMNS, MAX_COLUMNS);
  const reader = new ColumnReader(file, options.choose, rows, maxColumns);
  reader.tokenizer = new CsvTokenizer(reader, file, MAX_FIELD_BYTES);
  try {
    tokenizeFile(fd, path, file, reader.tokenizer, chunkBytes);
  } finally {
    closeSync(fd);
  }
  return finishColumns(reader, file);
}

function finishColumns(reader: ColumnReader, file: string): CsvColumns {
  if (reader.header === null) {
    throw new InputError("expected a header line and at least one data row; got an empty file", { file });
  }
  if (reader.headerError !== null) throw reader.headerError;
  if (reader.rows === 0) {
    throw new InputError("expected at least one data row after the header; got none", { file });
  }
  if (reader.raggedError !== null) throw reader.raggedError;
  if (reader.chooseError !== null) throw reader.chooseError;
  const { X, ids } = reader.finish();
  const labels: LabelColumn | null =
    reader.labels === null
      ? null
      : {
          ids,
          values: reader.labels.values,
          first: reader.labels.first,
          name: reader.header[reader.choice.label],
          truncated: reader.labels.truncated,
        };
  return {
    file,
    header: reader.header,
    choice: reader.choice,
    firstLine: reader.firstLine,
    lineOf: (row) => reader.lineOf(row),
    X: matrix(reader.rows, reader.choice.numeric.length, X),
    labels,
    numberError: reader.numberError,
  };
}
