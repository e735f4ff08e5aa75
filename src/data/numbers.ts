/**
 * What a numeric CSV cell is: a decimal floating-point literal (optionally signed, optional
 * exponent), spaces or tabs around it allowed — `1`, `-2.5`, `.5`, `1e-3`, `+4.` — and nothing
 * else: not hex, `NaN`, `Infinity`, an empty field, or a literal that overflows (`1e999`). The value
 * is the correctly rounded double (`Number(s)`), so the shortest round-trip form of any double
 * (`String(x)`, with −0 written `-0`) parses back bit-exactly.
 */

/** The accepted literals (ASCII digits only: `\d` is [0-9] in JavaScript). */
const NUMBER_RE = /^[ \t]*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?[ \t]*$/;

/**
 * A CSV cell as a finite double, or undefined (module doc). Cost O(length).
 * @example
 * parseFiniteNumber(" -2.5e1 "); // -25
 * parseFiniteNumber("NaN"); // undefined
 */
export function parseFiniteNumber(s: string): number | undefined {
  if (!NUMBER_RE.test(s)) return undefined;
  const v = Number(s);
  return Number.isFinite(v) ? v : undefined;
}

/** Powers of ten that are exact doubles (10^0..10^22). */
const POW10 = Float64Array.from({ length: 23 }, (_, k) => 10 ** k);

/**
 * {@link parseFiniteNumber} on the bytes `b[start, end)` (an ASCII literal; any other byte makes
 * the cell not a number), without making a string in the common case.
 *
 * A literal without exponent and with at most 15 digits is m / 10^f with m < 10^15 < 2^53 and
 * f ≤ 15, both exact doubles, so one IEEE division gives the correctly rounded value — the same
 * double as `Number(s)` (Clinger 1990, "How to read floating point numbers accurately", PLDI,
 * §"the fast path"). Other literals go through `Number`. Cost O(end − start).
 * @example
 * parseFiniteNumberBytes(Buffer.from("x,0.25"), 2, 6); // 0.25
 */
export function parseFiniteNumberBytes(b: Uint8Array, start: number, end: number): number | undefined {
  let i = start;
  let j = end;
  while (i < j && (b[i] === 0x20 || b[i] === 0x09)) i++;
  while (j > i && (b[j - 1] === 0x20 || b[j - 1] === 0x09)) j--;
  let p = i;
  let negative = false;
  if (p < j && (b[p] === 0x2b || b[p] === 0x2d)) {
    negative = b[p] === 0x2d;
    p++;
  }
  let m = 0;
  let digits = 0;
  let c = p < j ? b[p] : 0;
  while (c >= 0x30 && c <= 0x39) {
    m = m * 10 + (c - 0x30);
    digits++;
    c = ++p < j ? b[p] : 0;
  }
  let fraction = 0;
  if (c === 0x2e) {
    c = ++p < j ? b[p] : 0;
    while (c >= 0x30 && c <= 0x39) {
      m = m * 10 + (c - 0x30);
      fraction++;
      c = ++p < j ? b[p] : 0;
    }
  }
  if (digits + fraction === 0) return undefined;
  if (p === j) {
    if (digits + fraction <= 15) {
      const v = m / POW10[fraction];
      return negative ? -v : v;
    }
  } else {
    if (c !== 0x65 && c !== 0x45) return undefined;
    c = ++p < j ? b[p] : 0;
    if (c === 0x2b || c === 0x2d) c = ++p < j ? b[p] : 0;
    let exponentDigits = 0;
    while (c >= 0x30 && c <= 0x39) {
      exponentDigits++;
      c = ++p < j ? b[p] : 0;
    }
    if (exponentDigits === 0 || p !== j) return undefined;
  }
  const v = Number(latin1(b, i, j));
  return Number.isFinite(v) ? v : undefined;
}

/** `Buffer#latin1Slice`: Node's own bytes → one-byte string (what `toString("latin1")` calls). */
const latin1Slice = (Buffer.prototype as unknown as { latin1Slice?: (s: number, e: number) => string })
  .latin1Slice;

/** `b[start, end)` as a string of the same code units (the bytes are ASCII here). */
function latin1(b: Uint8Array, start: number, end: number): string {
  if (latin1Slice !== undefined && b instanceof Buffer) return latin1Slice.call(b, start, end);
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("latin1", start, end);
}
