/**
 * exp on two lanes for arguments ≤ 0, bit-identical to V8's Math.exp — the one exp of every wasm
 * kernel (the objectives in objective.ts, temperature's moments in temperature.ts).
 */

/**
 * Sums of logs are taken as the log of a running product of terms ≥ 1 (one log per flush instead
 * of one per row); the product is flushed into the log sum before it passes this (2^600).
 */
export const FLUSH: f64 = 4.149515568880993e180; // 2^600

// ---------------------------------------------------------------------------------------------
// exp for arguments ≤ 0, two lanes at once: fdlibm's e_exp.c (Sun Microsystems 1993, the algorithm
// of V8's Math.exp) vectorized, so lane results match Math.exp. Reduction x = k·ln2 + r with
// ln2 split in a hi part (exact k·ln2hi) and a lo part; exp(r) from the Remez rational form
// R(r²); result scaled by 2^k through the exponent bits (two steps below 2^−1021).
// ---------------------------------------------------------------------------------------------
const LN2HI: f64 = 0.6931471803691238; // 0x3fe62e42_fee00000
const LN2LO: f64 = 1.9082149292705877e-10; // 0x3dea39ef_35793c76
const INVLN2: f64 = Math.LOG2E; // 1.4426950408889634, 0x3ff71547_652b82fe
const P1: f64 = 0.16666666666666602;
const P2: f64 = -0.0027777777777015593;
const P3: f64 = 6.613756321437934e-5;
const P4: f64 = -1.6533902205465252e-6;
const P5: f64 = 4.1381367970572385e-8;
const U_THRESHOLD: f64 = -745.1332191019411;
/** fdlibm takes k = 0 while |x|'s high word is ≤ 0x3fd62e42, i.e. |x| < this value. */
const HALF_LN2_HW: f64 = 0.3465735912322998; // 0x3fd62e43_00000000
const TINY: f64 = 3.725290298461914e-9; // 2^−28
const MAGIC: f64 = 6755399441055744.0; // 1.5·2^52
const TWOM1000: f64 = 9.332636185032189e-302; // 2^−1000

/**
 * exp(x) lane-wise for x ≤ 0 (also −∞ → 0, NaN → NaN). Matches fdlibm/V8 Math.exp. Exported to
 * the other kernel files, never from the module (`build:wasm` passes --disableWarning 112, asc's
 * note that a v128 signature cannot cross to the host, which this one never does).
 */
export function expNeg(x: v128): v128 {
  let kf = f64x2.trunc(f64x2.sub(f64x2.mul(x, f64x2.splat(INVLN2)), f64x2.splat(0.5)));
  kf = v128.and(kf, f64x2.le(x, f64x2.splat(-HALF_LN2_HW))); // k = 0 for |x| < ½ln2 (fdlibm's test)
  const hi = f64x2.sub(x, f64x2.mul(kf, f64x2.splat(LN2HI)));
  const lo = f64x2.mul(kf, f64x2.splat(LN2LO));
  const r = f64x2.sub(hi, lo);
  const t = f64x2.mul(r, r);
  let q = f64x2.add(f64x2.mul(t, f64x2.splat(P5)), f64x2.splat(P4));
  q = f64x2.add(f64x2.mul(t, q), f64x2.splat(P3));
  q = f64x2.add(f64x2.mul(t, q), f64x2.splat(P2));
  q = f64x2.add(f64x2.mul(t, q), f64x2.splat(P1));
  const c = f64x2.sub(r, f64x2.mul(t, q));
  const rc = f64x2.div(f64x2.mul(r, c), f64x2.sub(f64x2.splat(2.0), c));
  let y = f64x2.sub(f64x2.splat(1.0), f64x2.sub(f64x2.sub(lo, rc), hi));
  // |x| < 2^−28: fdlibm returns 1 + x.
  y = v128.bitselect(f64x2.add(f64x2.splat(1.0), x), y, f64x2.gt(x, f64x2.splat(-TINY)));
  // k·2^52 as integer bits: kf + 1.5·2^52 holds k (two's complement) in its low mantissa bits,
  // and shifting left by 52 keeps exactly k mod 2^12 in the exponent field — adding it to y's
  // bits adds k to y's exponent (fdlibm's SET_HIGH_WORD(y, hy + (k << 20))).
  const small = f64x2.lt(kf, f64x2.splat(-1021.0));
  if (v128.any_true(small)) {
    // Subnormal results: add k + 1000 to the exponent, then multiply by 2^−1000 (one rounding).
    const k1 = f64x2.add(kf, v128.and(f64x2.splat(1000.0), small));
    const scaled = i64x2.add(y, i64x2.shl(f64x2.add(k1, f64x2.splat(MAGIC)), 52));
    const factor = v128.bitselect(f64x2.splat(TWOM1000), f64x2.splat(1.0), small);
    // Below the underflow threshold (x < −745.13…, also −∞) fdlibm returns 0; those lanes' k
    // is out of range here, so they are set to 0 (NaN lanes compare false and stay NaN).
    return v128.andnot(f64x2.mul(scaled, factor), f64x2.lt(x, f64x2.splat(U_THRESHOLD)));
  }
  return i64x2.add(y, i64x2.shl(f64x2.add(kf, f64x2.splat(MAGIC)), 52));
}

/** Test hook: exp(x) for x ≤ 0 on n doubles at src (n even), written to dst. */
export function expNegArray(src: usize, dst: usize, n: usize): void {
  for (let i: usize = 0; i < n; i += 2) {
    v128.store(dst + i * 8, expNeg(v128.load(src + i * 8)));
  }
}
