/**
 * Writing CSV: RFC 4180 quoting of string cells, "\n" after every record — byte for byte what
 * csv-stringify writes with `record_delimiter: "unix", quote_record_delimiter: true` (checked by a
 * property test against csv-stringify itself). Unlike csv-stringify with `record_delimiter` alone,
 * a lone "\r" is quoted: readers take it for a line break. It is written here because it sits on two hot paths: every
 * sweep unit formats its rows with it, and `predict`/`calibrate` should not load a CSV library to
 * quote a header.
 */

/** A cell needs quotes when it holds a quote, a comma or a line break. */
const NEEDS_QUOTES = /[",\r\n]/;

/** One cell as CSV: as is, or in double quotes with each `"` doubled. */
export function csvField(cell: string): string {
  return NEEDS_QUOTES.test(cell) ? `"${cell.replaceAll('"', '""')}"` : cell;
}

/** Records as CSV text, each ending in "\n"; `csvRecords(a) + csvRecords(b) === csvRecords([...a, ...b])`. */
export function csvRecords(rows: readonly (readonly string[])[]): string {
  let out = "";
  for (const row of rows) {
    for (let j = 0; j < row.length; j++) {
      if (j > 0) out += ",";
      out += csvField(row[j]);
    }
    out += "\n";
  }
  return out;
}
