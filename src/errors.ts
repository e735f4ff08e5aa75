/**
 * softcal's error types. Every error a user can cause is a {@link SoftcalError}: the CLI prints
 * its one-line message on stderr (no stack trace) and exits with its `exitCode`.
 *
 * - {@link InputError} (exit 2): bad usage or bad input — a file, flag or value that is not what
 *   was expected. The message names the file, line and column where there is one.
 * - {@link RunError} (exit 1): the input was valid but the run or check failed (divergence,
 *   temperature scaling on separable or worse-than-chance logits).
 *
 * Message grammar: `<where>: <what was expected>; got <what came>`, e.g.
 * `data.csv:3:2: expected a finite number (column "x2"); got "abc"`.
 */
export class SoftcalError extends Error {
  readonly exitCode: 1 | 2;
  constructor(message: string, exitCode: 1 | 2, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.exitCode = exitCode;
  }
}

/** Where in a file a bad value sits (1-based line and column; line 1 is the header). */
export interface SourceLocation {
  file: string;
  line?: number;
  column?: number;
}

/**
 * Formats a location as `file:line:column` (the parts that are known). A file name that is empty,
 * starts or ends with white space, or holds a control character (a line break would split the
 * one-line message) is shown as a JSON string: `" data.csv":3`.
 */
export function formatLocation(loc: SourceLocation): string {
  const f = loc.file;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is looked for
  const plain = f !== "" && f === f.trim() && !/[\u0000-\u001f\u007f]/.test(f);
  let s = plain ? f : JSON.stringify(f);
  if (loc.line !== undefined) s += `:${loc.line}`;
  if (loc.line !== undefined && loc.column !== undefined) s += `:${loc.column}`;
  return s;
}

/** Bad usage or bad input: exit code 2. */
export class InputError extends SoftcalError {
  readonly location: SourceLocation | undefined;
  constructor(message: string, location?: SourceLocation) {
    super(location ? `${formatLocation(location)}: ${message}` : message, 2);
    this.location = location;
  }
}

/** A valid input whose run or check failed: exit code 1. */
export class RunError extends SoftcalError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 1, options);
  }
}
