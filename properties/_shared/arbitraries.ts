/**
 * Shared fast-check arbitraries for the model properties: small training problems and parameters.
 * Values are bounded (|x| ≤ 5, |θ| ≤ 3) so that tolerances derived from the math stay meaningful.
 */
import fc from "fast-check";

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
