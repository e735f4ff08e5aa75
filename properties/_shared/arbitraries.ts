/**
 * The suite's fast-check arbitraries, in one module (the public ones users get are in
 * src/testing/arbitraries.ts):
 * - model problems: small training problems and parameters, bounded (|x| ≤ 5, |θ| ≤ 3) so that
 *   tolerances derived from the math stay meaningful; grid values for exactly representable data;
 * - data: finite double matrices (−0, subnormals, ±MAX_VALUE included), CSV text written with
 *   random number formats, quoting, line ends and BOM, labels, SPD matrices, small labelled sets;
 * - calibration: probability matrices with labels, built so that exact values (0, 1, bin edges
 *   such as 0.5 or 0.25) and ties occur often, and permutations.
 */
import fc from "fast-check";
import type { Dataset } from "../../src/data/dataset.js";
import { type Matrix, matrix } from "../../src/linalg/matrix.js";

// ---------------------------------------------------------------------------------------------
// Model problems

export interface Problem {
  X: Float64Array;
  m: number;
  d: number;
  y: Int32Array;
  K: number;
}

const feature = fc.double({ min: -5, max: 5, noNaN: true, noDefaultInfinity: true });

/** A training set with m rows, d features, labels in 0..K−1 (every class present). */
export function problemArb({
  minK = 2,
  maxK = 6,
  minM = 4,
  maxM = 24,
  maxD = 4,
}: {
  minK?: number;
  maxK?: number;
  minM?: number;
  maxM?: number;
  maxD?: number;
} = {}): fc.Arbitrary<Problem> {
  return fc
    .record({
      K: fc.integer({ min: minK, max: maxK }),
      d: fc.integer({ min: 1, max: maxD }),
      m: fc.integer({ min: Math.max(minM, maxK), max: maxM }),
    })
    .chain(({ K, d, m }) =>
      fc.record({
        X: fc.array(feature, { minLength: m * d, maxLength: m * d }),
        y: fc.array(fc.integer({ min: 0, max: K - 1 }), { minLength: m - K, maxLength: m - K }),
        K: fc.constant(K),
        d: fc.constant(d),
        m: fc.constant(m),
      }),
    )
    .map(({ X, y, K, d, m }) => {
      // The first K labels are 0..K−1 so every class is present; the rest are arbitrary.
      const labels = Int32Array.from([...Array.from({ length: K }, (_, k) => k), ...y]);
      return { X: Float64Array.from(X), m, d, y: labels, K };
    });
}

/** A parameter vector of the given size with entries in [−3, 3]. */
export function thetaArb(size: number): fc.Arbitrary<Float64Array> {
  return fc
    .array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: size, maxLength: size })
    .map((a) => Float64Array.from(a));
}

/** An L2 strength λ ≥ 0: exactly 0 sometimes, otherwise log-uniform-ish in [1e-4, 1]. */
export const l2Arb: fc.Arbitrary<number> = fc.oneof(
  fc.constant(0),
  fc.double({ min: -4, max: 0, noNaN: true }).map((e) => 10 ** e),
);

/** A problem together with Θ of matching size and λ. */
export function problemThetaArb(opts?: Parameters<typeof problemArb>[0]) {
  return problemArb(opts).chain((p) =>
    fc.record({ p: fc.constant(p), theta: thetaArb(p.K * (p.d + 1)), l2: l2Arb }),
  );
}

/**
 * Multiples of 1/denom from min/denom to max/denom (min default −max): a coarse grid, so ties,
 * exact zeros and exactly representable values are common.
 */
export function gridValue(max: number, denom: number, min = -max): fc.Arbitrary<number> {
  return fc.integer({ min, max }).map((v) => v / denom);
}

/** Exactly n rows of exactly K values each. */
export function gridRows(n: number, K: number, value: fc.Arbitrary<number>): fc.Arbitrary<number[][]> {
  return fc.array(fc.array(value, { minLength: K, maxLength: K }), { minLength: n, maxLength: n });
}

// ---------------------------------------------------------------------------------------------
// Data

/** Any finite double, including −0, subnormals and ±MAX_VALUE. */
export const finiteDouble = (): fc.Arbitrary<number> => fc.double({ noNaN: true, noDefaultInfinity: true });

/** An m×d matrix (as rows) of any finite doubles. */
export function finiteRows(
  { minRows = 1, maxRows = 8, minCols = 1, maxCols = 5 } = {},
  value: fc.Arbitrary<number> = finiteDouble(),
): fc.Arbitrary<number[][]> {
  return fc
    .tuple(fc.integer({ min: minRows, max: maxRows }), fc.integer({ min: minCols, max: maxCols }))
    .chain(([m, d]) =>
      fc.array(fc.array(value, { minLength: d, maxLength: d }), { minLength: m, maxLength: m }),
    );
}

/** A double written so that `Number(text)` gives it back bit-exactly (−0 as "-0"). */
export function formatExact(x: number, style: "shortest" | "precision17" | "exponential"): string {
  if (Object.is(x, -0)) return "-0";
  if (style === "precision17") return x.toPrecision(17);
  if (style === "exponential") return x.toExponential(16);
  return String(x);
}

/** How a CSV file is laid out. */
export interface CsvStyle {
  eol: "\n" | "\r\n";
  bom: boolean;
  trailingNewline: boolean;
}

export const csvStyle = (): fc.Arbitrary<CsvStyle> =>
  fc.record({
    eol: fc.constantFrom<"\n" | "\r\n">("\n", "\r\n"),
    bom: fc.boolean(),
    trailingNewline: fc.boolean(),
  });

/** Quotes a field RFC 4180-style (doubling inner quotes). */
export function quoteField(s: string): string {
  return `"${s.replaceAll('"', '""')}"`;
}

/** Writes a CSV file; `quote[r][c]` says whether cell (r, c) is quoted (row 0 is the header). */
export function writeCsv(
  cells: readonly (readonly string[])[],
  style: CsvStyle,
  quote?: readonly boolean[][],
): string {
  const lines = cells.map((r, i) => r.map((c, j) => (quote?.[i]?.[j] ? quoteField(c) : c)).join(","));
  return (style.bom ? "\ufeff" : "") + lines.join(style.eol) + (style.trailingNewline ? style.eol : "");
}

/** A matrix of random finite doubles written as CSV (with an integer label column) and what it holds. */
export interface CsvCase {
  text: string;
  rows: number[][];
  labels: number[];
}

/** Any finite double matrix with labels 0/1, written with random number formats, quoting, EOL and BOM. */
export function csvCase(): fc.Arbitrary<CsvCase> {
  return finiteRows().chain((rows) => {
    const m = rows.length;
    const d = rows[0].length;
    return fc
      .record({
        style: csvStyle(),
        formats: fc.array(fc.constantFrom("shortest", "precision17", "exponential" as const), {
          minLength: m * d,
          maxLength: m * d,
        }),
        quote: fc.array(fc.array(fc.boolean(), { minLength: d + 1, maxLength: d + 1 }), {
          minLength: m + 1,
          maxLength: m + 1,
        }),
        labels: fc.array(fc.integer({ min: 0, max: 1 }), { minLength: m, maxLength: m }),
      })
      .map(({ style, formats, quote, labels }) => {
        const header = [...Array.from({ length: d }, (_, j) => `x${j + 1}`), "label"];
        const body = rows.map((r, i) => [
          ...r.map((x, j) =>
            formatExact(x, formats[i * d + j] as "shortest" | "precision17" | "exponential"),
          ),
          String(labels[i]),
        ]);
        return { text: writeCsv([header, ...body], style, quote), rows, labels };
      });
  });
}

/** A symmetric positive-definite n×n matrix `B·Bᵀ + c·I` (c > 0) with entries of moderate size. */
export function spdMatrix({ minN = 1, maxN = 6 } = {}): fc.Arbitrary<Matrix> {
  return fc.integer({ min: minN, max: maxN }).chain((n) =>
    fc
      .tuple(
        fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: n * n, maxLength: n * n }),
        fc.double({ min: 1e-3, max: 10, noNaN: true }),
      )
      .map(([b, c]) => {
        const a = new Float64Array(n * n);
        for (let i = 0; i < n; i++) {
          for (let j = 0; j <= i; j++) {
            let s = 0;
            for (let k = 0; k < n; k++) s += b[i * n + k] * b[j * n + k];
            a[i * n + j] = s;
            a[j * n + i] = s;
          }
          a[i * n + i] += c;
        }
        return matrix(n, n, a);
      }),
  );
}

/** Labels in 0..K-1 (every class not necessarily present), with K. */
export function labelsArb({
  maxClasses = 5,
  maxLength = 200,
} = {}): fc.Arbitrary<{ y: Int32Array; nClasses: number }> {
  return fc
    .integer({ min: 1, max: maxClasses })
    .chain((K) =>
      fc
        .array(fc.integer({ min: 0, max: K - 1 }), { minLength: 0, maxLength: maxLength })
        .map((ys) => ({ y: Int32Array.from(ys), nClasses: K })),
    );
}

/** A small labelled data set with features in [−10, 10] and K classes (each present when m ≥ K). */
export function datasetArb({ maxRows = 40, maxFeatures = 4, maxClasses = 4 } = {}): fc.Arbitrary<Dataset> {
  return fc
    .tuple(
      fc.integer({ min: 2, max: maxClasses }),
      fc.integer({ min: 1, max: maxFeatures }),
      fc.integer({ min: 2, max: maxRows }),
    )
    .chain(([K, d, m]) =>
      fc
        .tuple(
          fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: m * d, maxLength: m * d }),
          fc.array(fc.integer({ min: 0, max: K - 1 }), { minLength: m, maxLength: m }),
        )
        .map(([x, ys]) => {
          for (let i = 0; i < Math.min(m, K); i++) ys[i] = i;
          return {
            name: "arbitrary",
            X: matrix(m, d, Float64Array.from(x)),
            y: Int32Array.from(ys),
            nClasses: K,
            classNames: Array.from({ length: K }, (_, k) => String(k)),
            featureNames: Array.from({ length: d }, (_, j) => `x${j + 1}`),
          };
        }),
    );
}

// ---------------------------------------------------------------------------------------------
// Calibration

export interface Predictions {
  P: Matrix;
  y: Int32Array;
  K: number;
}

/** Rows of K non-negative small-integer weights normalized to sum 1 (many ties, many exact edges). */
export function predictionsArb(opts: { minK?: number; maxK?: number; minN?: number; maxN?: number } = {}) {
  const { minK = 2, maxK = 5, minN = 1, maxN = 60 } = opts;
  return fc.integer({ min: minK, max: maxK }).chain((K) =>
    fc
      .array(
        fc.tuple(
          fc.array(fc.oneof(fc.integer({ min: 0, max: 8 }), fc.double({ min: 0, max: 1, noNaN: true })), {
            minLength: K,
            maxLength: K,
          }),
          fc.integer({ min: 0, max: K - 1 }),
        ),
        { minLength: minN, maxLength: maxN },
      )
      .map((rows): Predictions => {
        const n = rows.length;
        const data = new Float64Array(n * K);
        const y = new Int32Array(n);
        rows.forEach(([w, label], i) => {
          let s = 0;
          for (const v of w) s += v;
          for (let k = 0; k < K; k++) data[i * K + k] = s > 0 ? w[k] / s : 1 / K;
          y[i] = label;
        });
        return { P: { rows: n, cols: K, data }, y, K };
      }),
  );
}

/** A permutation of 0..n−1 drawn by fast-check. */
export function permutationArb(n: number) {
  return fc
    .array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: n, maxLength: n })
    .map((keys) => Array.from({ length: n }, (_, i) => i).sort((a, b) => keys[a] - keys[b] || a - b));
}
