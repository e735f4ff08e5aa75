/**
 * Strict UTF-8 for files read from disk: bytes that are not UTF-8 are refused, never replaced by
 * U+FFFD (a replaced byte silently merges different labels, e.g. Latin-1 "é" and "è" both become
 * "\uFFFD"). Validity follows the Unicode Standard (15.0, §3.9, Table 3-7 "Well-Formed UTF-8 Byte
 * Sequences"): no overlong forms, no surrogates (U+D800..U+DFFF), nothing above U+10FFFF.
 */
import { isUtf8 } from "node:buffer";
import { InputError, type SourceLocation } from "../errors.js";

/**
 * Index of the first byte of the first ill-formed UTF-8 sequence in `bytes[from, to)`, or -1 if
 * the range is well-formed. A sequence cut off by `to` counts as ill-formed (pass a `to` that
 * ends on a character boundary — see {@link utf8BoundaryBefore} — when more bytes follow).
 * Cost: O(to − from) (a native check first; the byte loop only runs to locate a problem).
 * @example
 * firstInvalidUtf8(Buffer.from([0x61, 0xe9, 0x62]), 0, 3); // 1 (Latin-1 "é" is not UTF-8)
 */
export function firstInvalidUtf8(bytes: Uint8Array, from: number, to: number): number {
  if (isUtf8(bytes.subarray(from, to))) return -1;
  let i = from;
  while (i < to) {
    const c = bytes[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    let n: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) n = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
      if (c === 0xe0) lo = 0xa0;
      else if (c === 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      if (c === 0xf0) lo = 0x90;
      else if (c === 0xf4) hi = 0x8f;
    } else return i;
    if (i + n >= to) return i;
    const c1 = bytes[i + 1];
    if (c1 < lo || c1 > hi) return i;
    for (let k = 2; k <= n; k++) if ((bytes[i + k] & 0xc0) !== 0x80) return i;
    i += n + 1;
  }
  return -1;
}

/**
 * The largest index ≤ `end` that does not cut a UTF-8 sequence starting at or after `from`: `end`
 * itself unless the last 1–3 bytes begin a sequence that needs bytes beyond `end`. O(1).
 */
export function utf8BoundaryBefore(bytes: Uint8Array, from: number, end: number): number {
  for (let i = end - 1; i >= from && i >= end - 3; i--) {
    const c = bytes[i];
    if (c < 0x80) return end;
    if (c >= 0xc0) {
      const length = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
      return i + length > end ? i : end;
    }
  }
  return end;
}

/**
 * What came instead of UTF-8 at `bytes[at]` (file offset `fileOffset`), for a message: `a UTF-16
 * byte-order mark` at the start of a UTF-16 file, otherwise `byte 0xE9, which is not valid UTF-8
 * here`.
 */
export function describeInvalidUtf8(bytes: Uint8Array, at: number, fileOffset: number): string {
  const b0 = bytes[at];
  if (
    fileOffset === 0 &&
    ((b0 === 0xff && bytes[at + 1] === 0xfe) || (b0 === 0xfe && bytes[at + 1] === 0xff))
  )
    return "a UTF-16 byte-order mark (save the file as UTF-8)";
  const hex = b0.toString(16).toUpperCase().padStart(2, "0");
  return `byte 0x${hex}, which is not valid UTF-8 here (save the file as UTF-8)`;
}

/**
 * The InputError for bytes that are not UTF-8 at `bytes[at]`, at `where`, e.g. `d.csv:3:2:
 * expected UTF-8 text; got byte 0xE9, which is not valid UTF-8 here (save the file as UTF-8)`.
 * @param fileOffset the file offset of `bytes[0]` (a UTF-16 byte-order mark is named at offset 0).
 */
export function invalidUtf8Error(
  bytes: Uint8Array,
  at: number,
  fileOffset: number,
  where: SourceLocation,
): InputError {
  return new InputError(`expected UTF-8 text; got ${describeInvalidUtf8(bytes, at, fileOffset + at)}`, where);
}
