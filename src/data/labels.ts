/**
 * Class labels: the one rule that turns a label column's strings into classes 0..K−1, shared by
 * every reader (in-memory tables, streamed files, predictions files).
 *
 * Without given class names:
 * 1. An empty label is an error.
 * 2. If every label is a plain non-negative integer — ASCII digits, no sign, no leading zero, no
 *    spaces, no decimal point or exponent: `0`, `7`, `12` — the column is numeric: K = max + 1 and
 *    class k is named `String(k)` (a class may have no rows). At most {@link MAX_CLASSES} classes.
 * 3. If every label is a number (a decimal literal) but some is not a plain non-negative integer,
 *    the first such label is an error: `1.5` or `-1` is not an integer in 0..K−1; `01`, `+1`,
 *    `1.0`, `1e0` or ` 1` is an integer written another way, refused rather than guessed at (read as
 *    the class `1`, two spellings would silently become one class; read as names, a numeric column
 *    would silently become text).
 * 4. Otherwise every label is a class name, compared exactly (nothing trimmed, case-folded or
 *    normalized): each distinct string is its own class, classes in JavaScript's default sort order
 *    (UTF-16 code units, so `"B" < "a"` and `"10" < "9"`). At most {@link MAX_CLASSES} of them.
 *
 * With given class names (a saved model's), each label must be exactly one of them.
 *
 * Either way, when the labels are accepted, `classNames[y[i]]` is row i's label string exactly:
 * two different strings never share a class, and the names round-trip through a model file.
 */
import { InputError, type SourceLocation } from "../errors.js";
import { quoteList, showValue } from "./csv.js";
import { parseFiniteNumber } from "./numbers.js";

/** The most classes a label column may have (numeric labels 0..65535, or 65536 names). */
export const MAX_CLASSES = 65536;

/**
 * A label column as read: each row's label as an index into the distinct label strings, in order
 * of first appearance (so the first bad value in `values` order is also the first bad row).
 */
export interface LabelColumn {
  /** Row i's label is `values[ids[i]]`; length m. */
  ids: Int32Array;
  /** The distinct labels, in order of first appearance (at most {@link MAX_CLASSES} + 1 kept). */
  values: string[];
  /** Where `values[k]` first appears (its file, line and column). */
  first: SourceLocation[];
  /** The column's name (for messages). */
  name: string;
  /**
   * True when more distinct labels appeared than `values` keeps: the rows after the first label
   * that was not kept have no ids.
   */
  truncated: boolean;
}

/** Collects distinct labels into a {@link LabelColumn} row by row. */
export class LabelCollector {
  readonly values: string[] = [];
  readonly first: SourceLocation[] = [];
  /** More distinct labels came than are kept (MAX_CLASSES + 1: the one an error names). */
  truncated = false;
  private readonly index = new Map<string, number>();

  /** The id of a label seen before, or undefined. */
  lookup(label: string): number | undefined {
    return this.index.get(label);
  }

  /** Adds a new label first seen at `where`; returns its id (−1 once too many were seen). */
  add(label: string, where: SourceLocation): number {
    if (this.truncated) return -1;
    const k = this.values.length;
    this.values.push(label);
    this.first.push(where);
    this.index.set(label, k);
    if (k === MAX_CLASSES) this.truncated = true;
    return k;
  }
}

/** A plain non-negative integer: `0` or digits without a leading zero. */
const PLAIN_INTEGER_RE = /^(?:0|[1-9][0-9]*)$/;

/** The classes of a label column: y (0..K−1 per row) and the class names. */
export interface ResolvedLabels {
  y: Int32Array;
  classNames: string[];
}

/**
 * Applies the label rule (module doc) to a label column.
 *
 * @param col the column as read.
 * @param given a saved model's class names: labels must be exactly one of them (default: the rule
 *   decides the classes).
 * @throws InputError at the first bad label's file:line:column, one line each:
 *   - `expected a label; got an empty field`
 *   - `expected an integer label in 0..K-1; got "1.5"` (or "-1")
 *   - `expected at most 65536 classes (labels 0..65535); got "70000"` (or "1e5")
 *   - `expected an integer label in 0..K-1 written as plain digits (like "1"); got "01"`
 *   - `expected at most 65536 classes; got more distinct labels (the 65537th is "…")`
 *   - `expected a label among the model's classes "a", "b"; got "c"`
 * Cost: O(m) plus O(K log K) to sort names.
 * @example
 * // A column read as ["b", "a", "b"]:
 * resolveLabels({ ids: Int32Array.of(0, 1, 0), values: ["b", "a"], first: [...], name: "label", truncated: false });
 * // { y: Int32Array [1, 0, 1], classNames: ["a", "b"] }
 */
export function resolveLabels(col: LabelColumn, given?: readonly string[]): ResolvedLabels {
  const { values, first } = col;
  const empty = values.indexOf("");
  if (empty >= 0) throw new InputError("expected a label; got an empty field", first[empty]);
  if (given !== undefined) return byGivenNames(col, given);
  let plain = true;
  let numbers = true;
  for (const v of values) {
    if (!PLAIN_INTEGER_RE.test(v)) {
      plain = false;
      if (parseFiniteNumber(v) === undefined) {
        numbers = false;
        break;
      }
    }
  }
  if (plain || numbers) {
    // Numeric: the first label (in row order) that is not a plain integer below MAX_CLASSES.
    const classOf = new Int32Array(values.length);
    let max = 0;
    for (let k = 0; k < values.length; k++) {
      const s = values[k];
      const v = Number(s);
      if (!(Number.isInteger(v) && v >= 0)) {
        throw new InputError(`expected an integer label in 0..K-1; got ${showValue(s)}`, first[k]);
      }
      if (v >= MAX_CLASSES) {
        throw new InputError(
          `expected at most ${MAX_CLASSES} classes (labels 0..${MAX_CLASSES - 1}); got ${showValue(s)}`,
          first[k],
        );
      }
      if (!PLAIN_INTEGER_RE.test(s)) {
        throw new InputError(
          `expected an integer label in 0..K-1 written as plain digits (like ${showValue(String(v))}); got ${showValue(s)}`,
          first[k],
        );
      }
      classOf[k] = v;
      if (v > max) max = v;
    }
    // Only MAX_CLASSES plain integers are below MAX_CLASSES, so a truncated column has thrown.
    return { y: mapIds(col.ids, classOf), classNames: Array.from({ length: max + 1 }, (_, k) => String(k)) };
  }
  if (col.truncated) {
    throw new InputError(
      `expected at most ${MAX_CLASSES} classes; got more distinct labels (the ${MAX_CLASSES + 1}th is ${showValue(values[MAX_CLASSES])})`,
      first[MAX_CLASSES],
    );
  }
  const classNames = [...values].sort();
  const rank = new Map(classNames.map((n, k) => [n, k]));
  const classOf = Int32Array.from(values, (v) => rank.get(v) as number);
  return { y: mapIds(col.ids, classOf), classNames };
}

function byGivenNames(col: LabelColumn, given: readonly string[]): ResolvedLabels {
  const classNames = [...given];
  const index = new Map<string, number>();
  classNames.forEach((n, k) => {
    if (!index.has(n)) index.set(n, k);
  });
  const classOf = new Int32Array(col.values.length);
  for (let k = 0; k < col.values.length; k++) {
    const s = col.values[k];
    const c = index.get(s);
    if (c === undefined) {
      // Say so when the label is another spelling of a numeric class ("1.0" for "1").
      const v = parseFiniteNumber(s) ?? Number.NaN;
      const hint =
        Number.isInteger(v) && v >= 0 && index.has(String(v))
          ? ` (labels must be written exactly as the class names: ${showValue(String(v))}, not ${showValue(s)})`
          : "";
      throw new InputError(
        `expected a label among the model's classes ${quoteList(classNames)}; got ${showValue(s)}${hint}`,
        col.first[k],
      );
    }
    classOf[k] = c;
  }
  // A truncated column has more distinct labels than classes, so one of them has thrown above.
  return { y: mapIds(col.ids, classOf), classNames };
}

/** y[i] = classOf[ids[i]] (a new array; `ids` is left as it is). */
function mapIds(ids: Int32Array, classOf: Int32Array): Int32Array {
  const y = new Int32Array(ids.length);
  for (let i = 0; i < ids.length; i++) y[i] = classOf[ids[i]];
  return y;
}

/**
 * A {@link LabelColumn} from label strings in memory (row i's label is `labels[i]`).
 * @param where the location of row i's label, for messages.
 */
export function labelColumnOf(
  labels: readonly string[],
  name: string,
  where: (i: number) => SourceLocation,
): LabelColumn {
  const c = new LabelCollector();
  const ids = new Int32Array(labels.length);
  for (let i = 0; i < labels.length; i++) ids[i] = c.lookup(labels[i]) ?? c.add(labels[i], where(i));
  return { ids, values: c.values, first: c.first, name, truncated: c.truncated };
}
