/**
 * A byte-level CSV tokenizer fed chunk by chunk, so a file of any size is read in bounded memory.
 * Internal: not re-exported (the readers in `../csvStream.ts` and `../csv.ts` use it).
 *
 * It reproduces csv-parse 6 (`parseCsvTable`'s parser) exactly for the options softcal uses —
 * `{ bom: true, relax_column_count: true, skip_empty_lines: false, record_delimiter: ["\r\n",
 * "\n", "\r"] }`: delimiter `,`, quote and escape `"`, every line break outside a quoted field
 * (`\r\n`, `\n` or a lone `\r`, mixed freely: a file edited on two systems has both) ends a
 * record, a UTF-8 byte-order mark skipped at the very start, a quote opening a field only as its
 * first byte, a closing quote followed only by a delimiter, a record delimiter, a NUL byte or the
 * end of the file (a NUL keeps the field open, as in csv-parse), `""` inside quotes for one quote.
 * `properties/csvStream.test.ts` checks the records, the lines and every error message against
 * csv-parse on generated CSV-shaped text.
 *
 * Lines are counted as `parseCsvTable` counts them: a record starts one line after the previous
 * record's start plus the line breaks (CRLF, LF or lone CR) inside its fields' contents.
 *
 * Kernel-style: the sink gets byte ranges (no strings are made here) and reads the tokenizer's
 * public position fields for locations.
 */
import { InputError, type SourceLocation } from "../../errors.js";

const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const COMMA = 0x2c;

/** Receives a record's fields one at a time, then the end of the record. */
export interface CsvSink {
  /** A field's content is `bytes[start, end)` (quotes removed, `""` undone). */
  field(bytes: Buffer, start: number, end: number): void;
  /** The record whose fields were just given has ended. */
  endRecord(): void;
}

export class CsvTokenizer {
  /** Line (1-based) where the current record starts. */
  recordLine = 1;
  /** Line of the current position: the record's line plus the line breaks in its contents so far. */
  line = 1;
  /** Line where the current field starts. */
  fieldLine = 1;
  /** Fields completed in the current record (so the current field's 0-based index). */
  fieldIndex = 0;

  private quoting = false;
  private wasQuoting = false;
  private bomDone = false;
  /** Buffer position of the last CR that was field content (−2: none adjacent). */
  private lastCr = -2;
  /** Content of the current field gathered from earlier chunks or segments. */
  private acc: Buffer = Buffer.allocUnsafe(256);
  private accLength = 0;
  /** The current field has more than `maxFieldBytes` bytes (the rest is not kept). */
  private overflow = false;

  /**
   * @param sink receives the fields.
   * @param file the name used in messages.
   * @param maxFieldBytes the longest field kept; a longer one is an InputError when it ends (a
   *   quoted field that never closes is still reported as such).
   */
  constructor(
    private readonly sink: CsvSink,
    private readonly file: string,
    private readonly maxFieldBytes: number,
  ) {}

  /**
   * Tokenizes `buf` from 0 up to at least `limit` (a two-byte step may pass it), reading ahead at
   * most 2 bytes, never at or past `end`. With `last`, `limit` must equal `end` and the file ends
   * there. Returns how many bytes were consumed; the caller keeps `buf[consumed, end)` for the
   * next call (this tokenizer keeps no reference to `buf`).
   * @throws InputError for malformed quoting (at the record's first line) or an overlong field.
   */
  feed(buf: Buffer, limit: number, end: number, last: boolean): number {
    let pos = 0;
    if (!this.bomDone) {
      if (end < 3 && !last) return 0;
      this.bomDone = true;
      if (end >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) pos = 3;
    }
    let seg = pos; // start of the current field's content still in `buf`
    while (pos < limit) {
      if (this.quoting) {
        // Quoted content runs to the next quote; CR and LF in it are line breaks.
        let c = buf[pos];
        while (c !== QUOTE && c !== CR && c !== LF && ++pos < limit) c = buf[pos];
        if (pos >= limit) break;
        if (c === QUOTE) {
          const n = pos + 1 < end ? buf[pos + 1] : -1;
          if (n === QUOTE) {
            // `""`: one quote (this byte) is content, the next byte is skipped.
            this.append(buf, seg, pos + 1);
            pos += 2;
            seg = pos;
            continue;
          }
          if (n === -1 || n === 0 || n === COMMA || this.delimiterAt(buf, pos + 1, end) !== 0) {
            this.append(buf, seg, pos);
            this.quoting = false;
            this.wasQuoting = true;
            pos++;
            seg = pos;
            continue;
          }
          throw this.quoteError("characters after a closing quote");
        }
        this.lineBreak(c, pos);
        pos++;
        continue;
      }
      // Unquoted content runs to a comma, a quote, a CR or an LF (all bytes ≤ 0x22 but the comma
      // are checked one by one; most content is above).
      let c = buf[pos];
      while ((c > QUOTE && c !== COMMA) || (c !== QUOTE && c !== CR && c !== LF && c !== COMMA)) {
        if (++pos >= limit) break;
        c = buf[pos];
      }
      if (pos >= limit) break;
      if (c === COMMA) {
        this.endField(buf, seg, pos);
        pos++;
        seg = pos;
        continue;
      }
      if (c === QUOTE) {
        if (this.accLength + (pos - seg) !== 0 || this.overflow)
          throw this.quoteError("a quote inside an unquoted field");
        this.quoting = true;
        pos++;
        seg = pos;
        continue;
      }
      // CR or LF outside quotes: the end of the record.
      this.endField(buf, seg, pos);
      this.endRecord();
      pos += this.delimiterAt(buf, pos, end);
      seg = pos;
    }
    if (last) {
      if (this.quoting) throw this.quoteError("a quoted field that is never closed");
      if (this.wasQuoting || this.fieldIndex > 0 || this.accLength > 0 || pos > seg || this.overflow) {
        this.endField(buf, seg, pos);
        this.endRecord();
      }
      return pos;
    }
    this.append(buf, seg, pos);
    // Keep "the last content byte was a CR" across the chunk boundary: positions restart at 0.
    this.lastCr = this.lastCr === pos - 1 ? -1 : -2;
    return pos;
  }

  /** Counts a CR or LF of field content as a line break (an LF right after a CR is the same one). */
  private lineBreak(c: number, pos: number): void {
    if (c === CR) {
      this.line++;
      this.lastCr = pos;
    } else if (this.lastCr !== pos - 1) this.line++;
  }

  /** Length of the record delimiter at `buf[p]`: 2 for CRLF, 1 for LF or a lone CR, 0 for none. */
  private delimiterAt(buf: Buffer, p: number, end: number): number {
    const c = buf[p];
    if (c === LF) return 1;
    if (c === CR) return p + 1 < end && buf[p + 1] === LF ? 2 : 1;
    return 0;
  }

  /** Adds `buf[from, to)` to the current field's kept content. */
  private append(buf: Buffer, from: number, to: number): void {
    const n = to - from;
    if (n <= 0 || this.overflow) return;
    const need = this.accLength + n;
    if (need > this.maxFieldBytes) {
      this.overflow = true;
      return;
    }
    if (need > this.acc.length) {
      const grown = Buffer.allocUnsafe(Math.min(this.maxFieldBytes, Math.max(need, 2 * this.acc.length)));
      this.acc.copy(grown, 0, 0, this.accLength);
      this.acc = grown;
    }
    buf.copy(this.acc, this.accLength, from, to);
    this.accLength = need;
  }

  private endField(buf: Buffer, seg: number, pos: number): void {
    if (this.overflow || this.accLength + (pos - seg) > this.maxFieldBytes) {
      const mib = this.maxFieldBytes / 2 ** 20;
      throw new InputError(`expected a field of at most ${mib} MiB; got a longer one`, {
        file: this.file,
        line: this.fieldLine,
        column: this.fieldIndex + 1,
      });
    }
    if (this.accLength === 0) this.sink.field(buf, seg, pos);
    else {
      this.append(buf, seg, pos);
      this.sink.field(this.acc, 0, this.accLength);
      this.accLength = 0;
    }
    this.wasQuoting = false;
    this.fieldIndex++;
    this.fieldLine = this.line;
    this.lastCr = -2;
  }

  private endRecord(): void {
    this.sink.endRecord();
    this.line++;
    this.recordLine = this.line;
    this.fieldLine = this.line;
    this.fieldIndex = 0;
  }

  private quoteError(what: string): InputError {
    return new InputError(`expected well-formed CSV; got ${what} in the record starting here`, {
      file: this.file,
      line: this.recordLine,
    });
  }
}

/** A sink that ignores every field. */
const IGNORE: CsvSink = { field() {}, endRecord() {} };

/**
 * The line and field (1-based column) of byte `at` of a CSV file whose bytes from its start are
 * `bytes`: tokenizes `bytes[0, at)`. Cost O(at).
 * @throws InputError for malformed quoting before `at` (that error comes first in the file).
 */
export function csvPositionAt(bytes: Buffer, at: number, file: string): SourceLocation {
  const t = new CsvTokenizer(IGNORE, file, Number.POSITIVE_INFINITY);
  t.feed(bytes, at, bytes.length, false);
  return { file, line: t.line, column: t.fieldIndex + 1 };
}
