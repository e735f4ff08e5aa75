/**
 * softcal's WebAssembly SIMD kernels (AssemblyScript, built by `npm run build:wasm` into
 * dist/wasm/softcal.wasm; never committed as a binary).
 *
 * Everything works on raw pointers into one (shared) linear memory that the JavaScript side lays
 * out (src/kernels/wasmSoftmax.ts); nothing here allocates, so several instances (one per worker
 * thread) can run on the same memory.
 *
 * Data layout — rows interleaved in pairs so one f64x2 vector holds the same quantity for two
 * rows, and exp / max / divide are lane-parallel with no horizontal reductions:
 *   Xp: pair p, feature j at Xp + (p·d + j)·16  (lane 0 = row 2p, lane 1 = row 2p+1)
 *   Yp: pair p's labels as f64 lanes at Yp + p·16 (an odd m pads the last pair with label −1, x 0,
 *       and that lane is masked out of loss and gradient)
 *
 * Determinism: rows are processed in fixed chunks of CHUNK_PAIRS pairs; each chunk writes its own
 * partial sums, and `softmaxReduce` adds the chunks in chunk order. The result is therefore
 * bit-identical whichever thread computed which chunk, and for any number of threads.
 */

/** Pairs of rows per chunk (2048 rows): the unit of work and of deterministic reduction. */
const CHUNK_PAIRS: usize = 1024;

export function chunkPairs(): i32 {
  return <i32>CHUNK_PAIRS;
}

/** First free byte after the module's static data; the JS side lays out memory above it. */
export function heapBase(): usize {
  return __heap_base;
}

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
const TWOM1000: f64 = 9.332636185032189e-302; // 2^−1000

/** exp(x) lane-wise for x ≤ 0 (also −∞ → 0, NaN → NaN). Matches fdlibm/V8 Math.exp. */
function expNeg(x: v128): v128 {
  // Below the underflow threshold fdlibm returns 0; −746 reproduces that through the scaling.
  x = v128.bitselect(f64x2.splat(-746.0), x, f64x2.lt(x, f64x2.splat(U_THRESHOLD)));
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
  const ki = i64x2.extend_low_i32x4_s(i32x4.trunc_sat_f64x2_s_zero(kf));
  if (v128.any_true(f64x2.lt(kf, f64x2.splat(-1021.0)))) {
    // Subnormal results: add k + 1000 to the exponent, then multiply by 2^−1000 (one rounding).
    const small = f64x2.lt(kf, f64x2.splat(-1021.0));
    const adj = v128.and(i64x2.splat(1000), small);
    const scaled = i64x2.add(y, i64x2.shl(i64x2.add(ki, adj), 52));
    const factor = v128.bitselect(f64x2.splat(TWOM1000), f64x2.splat(1.0), small);
    return f64x2.mul(scaled, factor);
  }
  return i64x2.add(y, i64x2.shl(ki, 52));
}

/** Test hook: exp(x) for x ≤ 0 on n doubles at src (n even), written to dst. */
export function expNegArray(src: usize, dst: usize, n: usize): void {
  for (let i: usize = 0; i < n; i += 2) {
    v128.store(dst + i * 8, expNeg(v128.load(src + i * 8)));
  }
}

// ---------------------------------------------------------------------------------------------
// Softmax regression: J(Θ) = (1/m) Σ_i [log Σ_k exp(z_ik − max_k z_ik) − (z_{i,y_i} − max_k z_ik)]
// + (λ/2) Σ_k Σ_{j≥1} Θ_kj², ∇J = (P − Y)ᵀ X̃ / m + λ[0 | W]. Per row, the arithmetic is the
// reference kernel's (src/model/objective.ts) operation for operation: z_k = θ_k0 + Σ_j θ_kj x_j
// in j order, e_k = exp(z_k − max), sum in k order, r_k = e_k·(1/sum) − 1[k = y]. Only the order in
// which rows are added differs (two lanes, then chunks). Σ_i log(sum_i) is taken as the log of a
// product (sum_i ∈ [1, K], so the product only grows; it is flushed into a log before 2^600).
// ---------------------------------------------------------------------------------------------
const FLUSH: f64 = 4.149515568880993e180; // 2^600

/**
 * Partial sums of chunks c0..c1−1: for chunk c, Σ_rows r_ik x̃_ij (n = K(d+1) values, row-major
 * like Θ) then Σ_rows −log p(y_i | x_i), at partials + c·(n+1)·8. `scratch` holds n + K vectors
 * and is private to the calling thread.
 */
export function softmaxChunks(
  xp: usize,
  yp: usize,
  nPairs: usize,
  oddLast: i32,
  d: usize,
  K: usize,
  theta: usize,
  c0: usize,
  c1: usize,
  partials: usize,
  scratch: usize,
): void {
  const w = d + 1;
  const n = K * w;
  const G = scratch;
  const Z = scratch + n * 16;
  const ONE = f64x2.splat(1.0);
  const ALL = i64x2.splat(-1);
  const LANE0 = i64x2(-1, 0);
  for (let c = c0; c < c1; c++) {
    memory.fill(G, 0, n * 16);
    const p0 = c * CHUNK_PAIRS;
    const p1 = min(p0 + CHUNK_PAIRS, nPairs);
    let lprod = ONE;
    let lacc: f64 = 0;
    let zacc = f64x2.splat(0);
    for (let p = p0; p < p1; p++) {
      const mask = oddLast !== 0 && p === nPairs - 1 ? LANE0 : ALL;
      const x = xp + p * d * 16;
      const lab = v128.load(yp + p * 16);
      let mx = f64x2.splat(-Infinity);
      for (let k: usize = 0; k < K; k++) {
        const t = theta + k * w * 8;
        let s = v128.load64_splat(t);
        for (let j: usize = 0; j < d; j++) {
          s = f64x2.add(s, f64x2.mul(v128.load64_splat(t + (j + 1) * 8), v128.load(x + j * 16)));
        }
        v128.store(Z + k * 16, s);
        mx = f64x2.max(mx, s);
      }
      let sum = f64x2.splat(0);
      let zy = f64x2.splat(0);
      for (let k: usize = 0; k < K; k++) {
        const z = v128.load(Z + k * 16);
        const e = inline.always(expNeg(f64x2.sub(z, mx)));
        v128.store(Z + k * 16, e);
        sum = f64x2.add(sum, e);
        zy = v128.bitselect(z, zy, f64x2.eq(lab, f64x2.splat(<f64>k)));
      }
      lprod = f64x2.mul(lprod, v128.bitselect(sum, ONE, mask));
      zacc = f64x2.add(zacc, v128.and(f64x2.sub(zy, mx), mask));
      if (v128.any_true(f64x2.gt(lprod, f64x2.splat(FLUSH)))) {
        lacc += Math.log(f64x2.extract_lane(lprod, 0)) + Math.log(f64x2.extract_lane(lprod, 1));
        lprod = ONE;
      }
      const inv = f64x2.div(ONE, sum);
      for (let k: usize = 0; k < K; k++) {
        const yk = v128.and(f64x2.eq(lab, f64x2.splat(<f64>k)), ONE);
        const r = v128.and(f64x2.sub(f64x2.mul(v128.load(Z + k * 16), inv), yk), mask);
        const g = G + k * w * 16;
        v128.store(g, f64x2.add(v128.load(g), r));
        for (let j: usize = 0; j < d; j++) {
          const gj = g + (j + 1) * 16;
          v128.store(gj, f64x2.add(v128.load(gj), f64x2.mul(r, v128.load(x + j * 16))));
        }
      }
    }
    const out = partials + c * (n + 1) * 8;
    for (let q: usize = 0; q < n; q++) {
      const v = v128.load(G + q * 16);
      store<f64>(out + q * 8, f64x2.extract_lane(v, 0) + f64x2.extract_lane(v, 1));
    }
    const loss =
      lacc +
      Math.log(f64x2.extract_lane(lprod, 0)) +
      Math.log(f64x2.extract_lane(lprod, 1)) -
      (f64x2.extract_lane(zacc, 0) + f64x2.extract_lane(zacc, 1));
    store<f64>(out + n * 8, loss);
  }
}

/**
 * Adds the chunk partials in chunk order, divides by m and adds the L2 penalty (bias column
 * excluded): returns J (+∞ instead of NaN) and writes ∇J at `grad` when grad ≠ 0.
 */
export function softmaxReduce(
  nChunks: usize,
  d: usize,
  K: usize,
  theta: usize,
  l2: f64,
  invM: f64,
  partials: usize,
  grad: usize,
): f64 {
  const w = d + 1;
  const n = K * w;
  let loss: f64 = 0;
  for (let c: usize = 0; c < nChunks; c++) loss += load<f64>(partials + (c * (n + 1) + n) * 8);
  let penalty: f64 = 0;
  for (let k: usize = 0; k < K; k++) {
    for (let j: usize = 1; j < w; j++) {
      const th = load<f64>(theta + (k * w + j) * 8);
      penalty += th * th;
    }
  }
  if (grad !== 0) {
    for (let q: usize = 0; q < n; q++) {
      let s: f64 = 0;
      for (let c: usize = 0; c < nChunks; c++) s += load<f64>(partials + (c * (n + 1) + q) * 8);
      const th = load<f64>(theta + q * 8);
      store<f64>(grad + q * 8, q % w === 0 ? s * invM : s * invM + l2 * th);
    }
  }
  const J = loss * invM + 0.5 * l2 * penalty;
  return isNaN(J) ? Infinity : J;
}

/** J(Θ) (and ∇J at grad when grad ≠ 0) on one thread: all chunks, then the ordered reduction. */
export function softmaxEvaluate(
  xp: usize,
  yp: usize,
  nPairs: usize,
  oddLast: i32,
  d: usize,
  K: usize,
  theta: usize,
  l2: f64,
  invM: f64,
  partials: usize,
  scratch: usize,
  grad: usize,
): f64 {
  const nChunks = (nPairs + CHUNK_PAIRS - 1) / CHUNK_PAIRS;
  softmaxChunks(xp, yp, nPairs, oddLast, d, K, theta, 0, nChunks, partials, scratch);
  return softmaxReduce(nChunks, d, K, theta, l2, invM, partials, grad);
}

/** Whether every one of n doubles at v is finite. */
export function allFinite(v: usize, n: usize): bool {
  for (let q: usize = 0; q < n; q++) {
    const a = load<f64>(v + q * 8);
    if (!(a - a === 0)) return false;
  }
  return true;
}

/**
 * The lesson's gradient descent, entirely in wasm: for t < iters, hist[t] = J(Θ_t), stop if J or
 * ∇J is not finite, Θ ← Θ − α∇J. Then hist[iters] = J(Θ_iters) with ∇J at grad. Returns the
 * number of updates made (iters, or the iteration where J or ∇J stopped being finite).
 */
export function softmaxDescend(
  xp: usize,
  yp: usize,
  nPairs: usize,
  oddLast: i32,
  d: usize,
  K: usize,
  theta: usize,
  l2: f64,
  invM: f64,
  partials: usize,
  scratch: usize,
  grad: usize,
  alpha: f64,
  iters: i32,
  hist: usize,
): i32 {
  const n = K * (d + 1);
  for (let t = 0; t < iters; t++) {
    const J = softmaxEvaluate(xp, yp, nPairs, oddLast, d, K, theta, l2, invM, partials, scratch, grad);
    store<f64>(hist + <usize>t * 8, J);
    if (!(J - J === 0) || !allFinite(grad, n)) return t;
    for (let q: usize = 0; q < n; q++) {
      store<f64>(theta + q * 8, load<f64>(theta + q * 8) - alpha * load<f64>(grad + q * 8));
    }
  }
  store<f64>(
    hist + <usize>iters * 8,
    softmaxEvaluate(xp, yp, nPairs, oddLast, d, K, theta, l2, invM, partials, scratch, grad),
  );
  return iters;
}
