import { expNeg, FLUSH } from "./exp";

/**
 * The moments pass's descriptor, written by the host (src/kernels/temperatureWasm.ts) once per
 * calibration set, β before each pass: i32 [0] sp, [1] nPairs, [2] oddLast, [3] K, [4] nChunks,
 * [5] partials, then f64 β at +32. Worker threads read it too (src/kernels/threadPool.ts).
 */
const T_SP: usize = 0;
const T_N_PAIRS: usize = 4;
const T_ODD_LAST: usize = 8;
const T_K: usize = 12;
const T_N_CHUNKS: usize = 16;
const T_PARTIALS: usize = 20;
const T_BETA: usize = 32;

// ---------------------------------------------------------------------------------------------
// Temperature scaling: the moments pass of src/kernels/temperature.ts
// (`nllDerivatives`), two rows per f64x2. Input: shifted logits s_ik = z_ik − max_k z_ik ≤ 0 in
// row pairs, pair p, class k at sp + (p·K + k)·16 (lane 0 = row 2p, lane 1 = row 2p+1). A −∞
// logit is stored as −Number.MAX_VALUE: for β > 0, β·s is −∞ or below −745, so w = exp(β·s) = 0
// exactly and w·s = 0 — the reference's "skip −∞" with no test. An odd n pads the last pair's
// lane 1 with zeros (see temperatureMoments for why they add nothing).
// Per row, the reference's operations in its order: w = exp(β s_k), z = Σ w, m1 = Σ w s,
// m2 = Σ w s², m3 = Σ w s³ (k order), e1 = m1/z, e2 = m2/z, var = e2 − e1², third central moment
// m3/z − 3 e1 e2 + 2 e1³. Only the summation over rows differs (two lanes, then lane 0 + lane 1),
// and Σ log z is taken as the log of a running product (z ∈ [1, K]; flushed before 2^600).
// ---------------------------------------------------------------------------------------------

/**
 * Prepares n rows of K logits at src (row-major f64; finite or −∞, each row with a finite
 * maximum) and their labels at lab (i32): writes the shifted logits s_ik = z_ik − max_k z_ik in
 * the row-pair layout at sp, and at out + 32 the sums Σ_i (mean of row i's finite s_ik − s_{i,y_i})
 * and −Σ_i s_{i,y_i} — NLL′ at β → 0⁺ and β → ∞ times n, computed row by row in the reference's
 * order (bit-identical to it). Returns the first row whose label's logit is −∞, or −1. O(n·K).
 */
export function temperaturePrepare(src: usize, lab: usize, n: usize, K: usize, sp: usize, out: usize): i32 {
  const NEG_INF = f64x2.splat(-Infinity);
  const NEG_MAX = f64x2.splat(-f64.MAX_VALUE);
  const ONE = f64x2.splat(1.0);
  let g0: f64 = 0;
  let gInf: f64 = 0;
  const nPairs = (n + 1) >> 1;
  for (let p: usize = 0; p < nPairs; p++) {
    // Rows a = 2p and b = 2p + 1 in the two lanes (an odd n's missing row b reads row a again;
    // its lane is overwritten with zeros below and its terms are not added).
    const a = src + p * 2 * K * 8;
    const hasB = p * 2 + 1 < n;
    const b = hasB ? a + K * 8 : a;
    let mx = v128.load64_lane(b, v128.load64_splat(a), 1);
    for (let k: usize = 1; k < K; k++) {
      // pmax(mx, v) = mx < v ? v : mx — the reference's `if (v > mx) mx = v`.
      mx = f64x2.pmax(mx, v128.load64_lane(b + k * 8, v128.load64_splat(a + k * 8), 1));
    }
    const dst = sp + p * K * 16;
    let m = f64x2.splat(0);
    let c = m;
    for (let k: usize = 0; k < K; k++) {
      const v = f64x2.sub(v128.load64_lane(b + k * 8, v128.load64_splat(a + k * 8), 1), mx);
      const inf = f64x2.eq(v, NEG_INF);
      v128.store(dst + k * 16, v128.bitselect(NEG_MAX, v, inf));
      m = f64x2.add(m, v128.andnot(v, inf));
      c = f64x2.add(c, v128.andnot(ONE, inf));
    }
    const t = f64x2.div(m, c);
    const ia = p * 2;
    const sya = load<f64>(a + <usize>load<i32>(lab + ia * 4) * 8) - f64x2.extract_lane(mx, 0);
    if (sya === -Infinity) return <i32>ia;
    g0 += f64x2.extract_lane(t, 0) - sya;
    gInf -= sya;
    if (hasB) {
      const syb = load<f64>(b + <usize>load<i32>(lab + (ia + 1) * 4) * 8) - f64x2.extract_lane(mx, 1);
      if (syb === -Infinity) return <i32>(ia + 1);
      g0 += f64x2.extract_lane(t, 1) - syb;
      gInf -= syb;
    } else {
      for (let k: usize = 0; k < K; k++) store<f64>(dst + k * 16, 0, 8);
    }
  }
  store<f64>(out, g0, 32);
  store<f64>(out, gInf, 40);
  return -1;
}

/** Row pairs per chunk of the moments pass (512 rows): its unit of work and of ordered reduction. */
const TEMP_CHUNK_PAIRS: usize = 256;

export function temperatureChunkPairs(): i32 {
  return <i32>TEMP_CHUNK_PAIRS;
}

/**
 * The moments of the row pairs p0, p0 + stride, … below p1, written at dst:
 * [Σ log z_i, Σ e1_i, Σ var_i, Σ third_i] (four f64). O((p1 − p0)·K / stride) vector exps.
 */
function momentsRange(
  sp: usize,
  p0: usize,
  p1: usize,
  stride: usize,
  nPairs: usize,
  oddLast: i32,
  K: usize,
  beta: f64,
  dst: usize,
): void {
  const B = f64x2.splat(beta);
  const ONE = f64x2.splat(1.0);
  const THREE = f64x2.splat(3.0);
  const TWO = f64x2.splat(2.0);
  const ALL = i64x2.splat(-1);
  const LANE0 = i64x2(-1, 0);
  let lprod = ONE;
  let lacc: f64 = 0;
  let a1 = f64x2.splat(0);
  let a2 = f64x2.splat(0);
  let a3 = f64x2.splat(0);
  for (let p = p0; p < p1; p += stride) {
    const row = sp + p * K * 16;
    let z = f64x2.splat(0);
    let m1 = z;
    let m2 = z;
    let m3 = z;
    for (let k: usize = 0; k < K; k++) {
      const v = v128.load(row + k * 16);
      const w = inline.always(expNeg(f64x2.mul(B, v)));
      const wv = f64x2.mul(w, v);
      const wv2 = f64x2.mul(wv, v);
      z = f64x2.add(z, w);
      m1 = f64x2.add(m1, wv);
      m2 = f64x2.add(m2, wv2);
      m3 = f64x2.add(m3, f64x2.mul(wv2, v));
    }
    const mask = oddLast !== 0 && p === nPairs - 1 ? LANE0 : ALL;
    const e1 = f64x2.div(m1, z);
    const e2 = f64x2.div(m2, z);
    // A padding lane (s = 0 in every class) has m1 = m2 = m3 = 0: it adds exactly 0 to these
    // three sums; only its z = K must be kept out of the product.
    a1 = f64x2.add(a1, e1);
    a2 = f64x2.add(a2, f64x2.sub(e2, f64x2.mul(e1, e1)));
    const third = f64x2.add(
      f64x2.sub(f64x2.div(m3, z), f64x2.mul(f64x2.mul(THREE, e1), e2)),
      f64x2.mul(f64x2.mul(f64x2.mul(TWO, e1), e1), e1),
    );
    a3 = f64x2.add(a3, third);
    lprod = f64x2.mul(lprod, v128.bitselect(z, ONE, mask));
    if (v128.any_true(f64x2.gt(lprod, f64x2.splat(FLUSH)))) {
      lacc += Math.log(f64x2.extract_lane(lprod, 0)) + Math.log(f64x2.extract_lane(lprod, 1));
      lprod = ONE;
    }
  }
  lacc += Math.log(f64x2.extract_lane(lprod, 0)) + Math.log(f64x2.extract_lane(lprod, 1));
  store<f64>(dst, lacc);
  store<f64>(dst, f64x2.extract_lane(a1, 0) + f64x2.extract_lane(a1, 1), 8);
  store<f64>(dst, f64x2.extract_lane(a2, 0) + f64x2.extract_lane(a2, 1), 16);
  store<f64>(dst, f64x2.extract_lane(a3, 0) + f64x2.extract_lane(a3, 1), 24);
}

/**
 * Sums over the row pairs 0, stride, 2·stride, … at β > 0 (a subsample for stride > 1), written
 * at out: [Σ log z_i, Σ e1_i, Σ var_i, Σ third_i]. O(n·K / stride) vector-exp lanes.
 */
export function temperatureMoments(tdesc: usize, out: usize, stride: usize): void {
  const nPairs = <usize>load<u32>(tdesc + T_N_PAIRS);
  momentsRange(
    <usize>load<u32>(tdesc + T_SP),
    0,
    nPairs,
    stride,
    nPairs,
    load<i32>(tdesc + T_ODD_LAST),
    <usize>load<u32>(tdesc + T_K),
    load<f64>(tdesc + T_BETA),
    out,
  );
}

/** The moments of chunks c0..c1−1 (TEMP_CHUNK_PAIRS pairs each) at β, chunk c's four sums at partials + c·32. */
export function temperatureChunks(tdesc: usize, c0: usize, c1: usize): void {
  const sp = <usize>load<u32>(tdesc + T_SP);
  const nPairs = <usize>load<u32>(tdesc + T_N_PAIRS);
  const oddLast = load<i32>(tdesc + T_ODD_LAST);
  const K = <usize>load<u32>(tdesc + T_K);
  const partials = <usize>load<u32>(tdesc + T_PARTIALS);
  const beta = load<f64>(tdesc + T_BETA);
  for (let c = c0; c < c1; c++) {
    const p0 = c * TEMP_CHUNK_PAIRS;
    momentsRange(sp, p0, min(p0 + TEMP_CHUNK_PAIRS, nPairs), 1, nPairs, oddLast, K, beta, partials + c * 32);
  }
}

/** Adds the chunks' four sums in chunk order into out (bit-identical for any split over threads). */
export function temperatureReduce(tdesc: usize, out: usize): void {
  const nChunks = <usize>load<u32>(tdesc + T_N_CHUNKS);
  const partials = <usize>load<u32>(tdesc + T_PARTIALS);
  for (let q: usize = 0; q < 4; q++) {
    let s: f64 = 0;
    for (let c: usize = 0; c < nChunks; c++) s += load<f64>(partials + c * 32 + q * 8);
    store<f64>(out + q * 8, s);
  }
}
