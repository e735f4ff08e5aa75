/**
 * Plain-text tables for the terminal (`runs`, `compare`, `check`): columns padded to their widest
 * cell, two spaces apart. Cells are shown on one line: line breaks and other control characters
 * become `\n`-style escapes, so a value read from a run folder cannot forge output lines.
 */

/** `s` on one line: C0/C1 controls, U+2028 and U+2029 as `\n`, `\t` or `\uXXXX`. */
export function oneLine(s: string): string {
  return s.replace(/[\p{Cc}\u2028\u2029]/gu, (c) =>
    c === "\n"
      ? "\\n"
      : c === "\t"
        ? "\\t"
        : c === "\r"
          ? "\\r"
          : `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** Rows under a header, each column padded to its widest cell (by UTF-16 length), trailing spaces trimmed. */
export function textTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [header, ...rows].map((r) => r.map(oneLine));
  const widths = header.map((_, c) => Math.max(...all.map((r) => (r[c] ?? "").length)));
  return `${all
    .map((r) =>
      r
        .map((cell, c) => cell.padEnd(widths[c]))
        .join("  ")
        .trimEnd(),
    )
    .join("\n")}\n`;
}
