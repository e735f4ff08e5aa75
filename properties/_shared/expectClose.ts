/**
 * The one float-comparison helper of the suite: |a − b| ≤ atol + rtol·|b|, elementwise.
 * Every caller states why its tolerance is what it is.
 */
import { expect } from "vitest";

export interface Tolerance {
  /** Relative tolerance (default 0). */
  rtol?: number;
  /** Absolute tolerance (default 0). */
  atol?: number;
}

export function isClose(a: number, b: number, { rtol = 0, atol = 0 }: Tolerance): boolean {
  if (a === b) return true;
  return Math.abs(a - b) <= atol + rtol * Math.abs(b);
}

export function expectClose(
  actual: number | ArrayLike<number>,
  expected: number | ArrayLike<number>,
  tol: Tolerance,
  what = "value",
): void {
  const a = typeof actual === "number" ? [actual] : Array.from(actual);
  const b = typeof expected === "number" ? [expected] : Array.from(expected);
  expect(a.length, `${what}: length`).toBe(b.length);
  let worst = -1;
  let worstErr = 0;
  for (let i = 0; i < a.length; i++) {
    if (!isClose(a[i], b[i], tol)) {
      const err = Math.abs(a[i] - b[i]);
      if (worst < 0 || err > worstErr || Number.isNaN(err)) {
        worst = i;
        worstErr = err;
      }
    }
  }
  if (worst >= 0) {
    expect.fail(
      `${what}[${worst}]: ${a[worst]} vs expected ${b[worst]} (|diff| ${worstErr}, rtol ${tol.rtol ?? 0}, atol ${tol.atol ?? 0})`,
    );
  }
}
