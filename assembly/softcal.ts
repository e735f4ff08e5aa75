/**
 * softcal's WebAssembly SIMD kernels (AssemblyScript, built by `npm run build:wasm` into
 * dist/wasm/softcal.wasm; never committed as a binary).
 *
 * What is here: the softmax and one-vs-rest objectives with their gradients (J and ∇J of
 * src/model/objective.ts), the lesson's gradient descent, and L-BFGS (a line-for-line port of
 * src/model/lbfgs.ts) — so a whole fit runs inside wasm.
 *
 * Everything works on raw pointers into one (shared) linear memory that the JavaScript side lays
 * out (src/kernels/objectiveWasm.ts); nothing here allocates, so several instances (one per worker
 * thread) can run on the same memory.
 *
 * Data layout — rows interleaved in pairs so one f64x2 vector holds the same quantity for two
 * rows, and exp / max / divide are lane-parallel with no horizontal reductions:
 *   Xp: pair p, feature j at Xp + (p·d + j)·16  (lane 0 = row 2p, lane 1 = row 2p+1)
 *   Yp: pair p's labels as f64 lanes at Yp + p·16 (an odd m pads the last pair with label −1, x 0,
 *       and that lane is masked out of loss and gradient)
 *
 * Determinism: rows are processed in fixed chunks of CHUNK_PAIRS pairs; each chunk writes its own
 * partial sums, and `objectiveReduce` adds the chunks in chunk order. The result is therefore
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
const MAGIC: f64 = 6755399441055744.0; // 1.5·2^52
const TWOM1000: f64 = 9.332636185032189e-302; // 2^−1000

/** exp(x) lane-wise for x ≤ 0 (also −∞ → 0, NaN → NaN). Matches fdlibm/V8 Math.exp. */
function expNeg(x: v128): v128 {
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

// ---------------------------------------------------------------------------------------------
// Softmax regression: J(Θ) = (1/m) Σ_i [log Σ_k exp(z_ik − max_k z_ik) − (z_{i,y_i} − max_k z_ik)]
// + (λ/2) Σ_k Σ_{j≥1} Θ_kj², ∇J = (P − Y)ᵀ X̃ / m + λ[0 | W]; one-vs-rest: Σ_k of binary logistic
// objectives, residuals σ(z_ik) − 1[y_i = k] in place of P − Y (see pairOvr). Per row, the arithmetic is the
// reference kernel's (src/model/objective.ts) operation for operation: z_k = θ_k0 + Σ_j θ_kj x_j
// in j order, e_k = exp(z_k − max), sum in k order, r_k = e_k·(1/sum) − 1[k = y]. Only the order in
// which rows are added differs (two lanes, then chunks). Σ_i log(sum_i) is taken as the log of a
// product (sum_i ∈ [1, K], so the product only grows; it is flushed into a log before 2^600).
// ---------------------------------------------------------------------------------------------
const FLUSH: f64 = 4.149515568880993e180; // 2^600
/** `model` argument: multinomial softmax (0) or one-vs-rest (1). */
const OVR: i32 = 1;

/**
 * Logits of two pairs of rows (four rows) at once, into RA and RB (K vectors each). Up to four
 * classes × two pairs are accumulated together — eight independent chains sharing each θ load;
 * every class still sums θ_k0 + Σ_j θ_kj x_j in j order, as the reference does.
 */
function logitsTwo(xa: usize, xb: usize, theta: usize, d: usize, K: usize, RA: usize, RB: usize): void {
  const w = d + 1;
  let k: usize = 0;
  for (; k + 4 <= K; k += 4) {
    const t0 = theta + k * w * 8;
    const t1 = t0 + w * 8;
    const t2 = t1 + w * 8;
    const t3 = t2 + w * 8;
    const c0 = v128.load64_splat(t0);
    const c1 = v128.load64_splat(t1);
    const c2 = v128.load64_splat(t2);
    const c3 = v128.load64_splat(t3);
    let a0 = c0;
    let a1 = c1;
    let a2 = c2;
    let a3 = c3;
    let b0 = c0;
    let b1 = c1;
    let b2 = c2;
    let b3 = c3;
    for (let j: usize = 0; j < d; j++) {
      const u = v128.load(xa + j * 16);
      const v = v128.load(xb + j * 16);
      const o = (j + 1) * 8;
      const h0 = v128.load64_splat(t0 + o);
      const h1 = v128.load64_splat(t1 + o);
      const h2 = v128.load64_splat(t2 + o);
      const h3 = v128.load64_splat(t3 + o);
      a0 = f64x2.add(a0, f64x2.mul(h0, u));
      a1 = f64x2.add(a1, f64x2.mul(h1, u));
      a2 = f64x2.add(a2, f64x2.mul(h2, u));
      a3 = f64x2.add(a3, f64x2.mul(h3, u));
      b0 = f64x2.add(b0, f64x2.mul(h0, v));
      b1 = f64x2.add(b1, f64x2.mul(h1, v));
      b2 = f64x2.add(b2, f64x2.mul(h2, v));
      b3 = f64x2.add(b3, f64x2.mul(h3, v));
    }
    const ra = RA + k * 16;
    const rb = RB + k * 16;
    v128.store(ra, a0);
    v128.store(ra, a1, 16);
    v128.store(ra, a2, 32);
    v128.store(ra, a3, 48);
    v128.store(rb, b0);
    v128.store(rb, b1, 16);
    v128.store(rb, b2, 32);
    v128.store(rb, b3, 48);
  }
  for (; k + 2 <= K; k += 2) {
    const t0 = theta + k * w * 8;
    const t1 = t0 + w * 8;
    let a0 = v128.load64_splat(t0);
    let a1 = v128.load64_splat(t1);
    let b0 = a0;
    let b1 = a1;
    for (let j: usize = 0; j < d; j++) {
      const u = v128.load(xa + j * 16);
      const v = v128.load(xb + j * 16);
      const o = (j + 1) * 8;
      const h0 = v128.load64_splat(t0 + o);
      const h1 = v128.load64_splat(t1 + o);
      a0 = f64x2.add(a0, f64x2.mul(h0, u));
      a1 = f64x2.add(a1, f64x2.mul(h1, u));
      b0 = f64x2.add(b0, f64x2.mul(h0, v));
      b1 = f64x2.add(b1, f64x2.mul(h1, v));
    }
    v128.store(RA + k * 16, a0);
    v128.store(RA + k * 16, a1, 16);
    v128.store(RB + k * 16, b0);
    v128.store(RB + k * 16, b1, 16);
  }
  for (; k < K; k++) {
    const t = theta + k * w * 8;
    let a = v128.load64_splat(t);
    let b = a;
    for (let j: usize = 0; j < d; j++) {
      const h = v128.load64_splat(t + (j + 1) * 8);
      a = f64x2.add(a, f64x2.mul(h, v128.load(xa + j * 16)));
      b = f64x2.add(b, f64x2.mul(h, v128.load(xb + j * 16)));
    }
    v128.store(RA + k * 16, a);
    v128.store(RB + k * 16, b);
  }
}

/**
 * One pair of rows, from its logits at R: overwrites them with the residuals
 * r_k = softmax(z)_k − 1[k = y] (masked lanes 0), writes the masked loss term max − z_y at
 * R + K·16, and returns Σ_k exp(z_k − max) (1 in masked lanes), so that
 * −log p(y) = log(sum) + (max − z_y). The max is taken over k in order, as the reference does.
 */
function pairSoftmax(R: usize, lab: v128, mask: v128, K: usize): v128 {
  let mx = f64x2.splat(-Infinity);
  // pmax(mx, z) = mx < z ? z : mx — the reference's `if (z > mx) mx = z`, in one instruction.
  for (let c: usize = 0; c < K; c++) mx = f64x2.pmax(mx, v128.load(R + c * 16));
  let sum = f64x2.splat(0);
  let zy = f64x2.splat(0);
  for (let c: usize = 0; c < K; c++) {
    const z = v128.load(R + c * 16);
    const e = inline.always(expNeg(f64x2.sub(z, mx)));
    v128.store(R + c * 16, e);
    sum = f64x2.add(sum, e);
    zy = v128.bitselect(z, zy, f64x2.eq(lab, f64x2.splat(<f64>c)));
  }
  const ONE = f64x2.splat(1.0);
  v128.store(R + K * 16, v128.and(f64x2.sub(mx, zy), mask));
  const inv = f64x2.div(ONE, sum);
  for (let c: usize = 0; c < K; c++) {
    const yk = v128.and(f64x2.eq(lab, f64x2.splat(<f64>c)), ONE);
    v128.store(R + c * 16, v128.and(f64x2.sub(f64x2.mul(v128.load(R + c * 16), inv), yk), mask));
  }
  return v128.bitselect(sum, ONE, mask);
}

/**
 * One pair of rows for one-vs-rest, from its logits z_k at R: overwrites them with the residuals
 * r_k = σ(z_k) − t_k, t_k = 1[k = y] (masked lanes 0), computed as the reference does
 * (e = exp(−|z|); σ = 1/(1+e) for z ≥ 0, e/(1+e) below), writes Σ_k (max(z_k, 0) − t_k z_k)
 * (masked) at R + K·16, and multiplies the factors 1 + e into `lprod` (so that the
 * Σ log1p(e) part of the loss is the log of a product; flushed into the f64 at `lacc` before 2^600).
 */
function pairOvr(R: usize, lab: v128, mask: v128, K: usize, lprod: v128, lacc: usize): v128 {
  const ONE = f64x2.splat(1.0);
  const ZERO = f64x2.splat(0);
  let lin = ZERO;
  for (let c: usize = 0; c < K; c++) {
    const z = v128.load(R + c * 16);
    const t = v128.and(f64x2.eq(lab, f64x2.splat(<f64>c)), ONE);
    const e = inline.always(expNeg(f64x2.neg(f64x2.abs(z))));
    const den = f64x2.add(ONE, e);
    const sig = v128.bitselect(f64x2.div(ONE, den), f64x2.div(e, den), f64x2.ge(z, ZERO));
    v128.store(R + c * 16, v128.and(f64x2.sub(sig, t), mask));
    lin = f64x2.add(lin, v128.and(f64x2.sub(f64x2.max(z, ZERO), f64x2.mul(t, z)), mask));
    lprod = f64x2.mul(lprod, v128.bitselect(den, ONE, mask));
    if (v128.any_true(f64x2.gt(lprod, f64x2.splat(FLUSH)))) {
      store<f64>(
        lacc,
        load<f64>(lacc) + Math.log(f64x2.extract_lane(lprod, 0)) + Math.log(f64x2.extract_lane(lprod, 1)),
      );
      lprod = ONE;
    }
  }
  v128.store(R + K * 16, lin);
  return lprod;
}

/**
 * Partial sums of chunks c0..c1−1: for chunk c, Σ_rows r_ik x̃_ij (n = K(d+1) values, row-major
 * like Θ) then Σ_rows −log p(y_i | x_i), at partials + c·(n+1)·8. `scratch` holds n + 2K + 3
 * vectors and is private to the calling thread. Pairs are taken two at a time (four rows) so each
 * θ load serves four rows and each gradient accumulator is loaded and stored once per four rows;
 * the grouping is fixed by the data layout, never by the thread count.
 */
export function objectiveChunks(
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
  model: i32,
): void {
  const w = d + 1;
  const n = K * w;
  const G = scratch;
  const RA = scratch + n * 16;
  const RB = RA + (K + 1) * 16;
  const LACC = RB + (K + 1) * 16;
  const ONE = f64x2.splat(1.0);
  const ALL = i64x2.splat(-1);
  const LANE0 = i64x2(-1, 0);
  const NONE = i64x2.splat(0);
  for (let c = c0; c < c1; c++) {
    memory.fill(G, 0, n * 16);
    // Loss: Σ log(sum_i) as the log of a running product per lane (each sum_i ∈ [1, K], so it only
    // grows; flushed into lacc before 2^600), minus Σ (z_y − max) in zacc.
    let lprod = ONE;
    let zacc = f64x2.splat(0);
    let lacc: f64 = 0;
    store<f64>(LACC, 0);
    const p0 = c * CHUNK_PAIRS;
    const p1 = min(p0 + CHUNK_PAIRS, nPairs);
    // Two pairs (four rows) per step; an odd pair at the chunk's end is paired with itself with
    // all of its second copy's lanes masked out (residuals 0, loss factor 1: adds exactly 0).
    for (let p = p0; p < p1; p += 2) {
      const xa = xp + p * d * 16;
      const full = p + 1 < p1;
      const xb = full ? xa + d * 16 : xa;
      const labB = full ? v128.load(yp + p * 16, 16) : v128.load(yp + p * 16);
      const maskA = oddLast !== 0 && p === nPairs - 1 ? LANE0 : ALL;
      const maskB = !full ? NONE : oddLast !== 0 && p + 1 === nPairs - 1 ? LANE0 : ALL;
      inline.always(logitsTwo(xa, xb, theta, d, K, RA, RB));
      for (let q = 0; q < 2; q++) {
        const R = q === 0 ? RA : RB;
        const lab = q === 0 ? v128.load(yp + p * 16) : labB;
        const mask = q === 0 ? maskA : maskB;
        if (model === OVR) {
          lprod = inline.always(pairOvr(R, lab, mask, K, lprod, LACC));
        } else {
          lprod = f64x2.mul(lprod, inline.always(pairSoftmax(R, lab, mask, K)));
        }
        zacc = f64x2.add(zacc, v128.load(R + K * 16));
      }
      if (v128.any_true(f64x2.gt(lprod, f64x2.splat(FLUSH)))) {
        lacc += Math.log(f64x2.extract_lane(lprod, 0)) + Math.log(f64x2.extract_lane(lprod, 1));
        lprod = ONE;
      }
      let k: usize = 0;
      for (; k + 4 <= K; k += 4) {
        const a0 = v128.load(RA + k * 16);
        const a1 = v128.load(RA + k * 16, 16);
        const a2 = v128.load(RA + k * 16, 32);
        const a3 = v128.load(RA + k * 16, 48);
        const b0 = v128.load(RB + k * 16);
        const b1 = v128.load(RB + k * 16, 16);
        const b2 = v128.load(RB + k * 16, 32);
        const b3 = v128.load(RB + k * 16, 48);
        const g0 = G + k * w * 16;
        const g1 = g0 + w * 16;
        const g2 = g1 + w * 16;
        const g3 = g2 + w * 16;
        v128.store(g0, f64x2.add(v128.load(g0), f64x2.add(a0, b0)));
        v128.store(g1, f64x2.add(v128.load(g1), f64x2.add(a1, b1)));
        v128.store(g2, f64x2.add(v128.load(g2), f64x2.add(a2, b2)));
        v128.store(g3, f64x2.add(v128.load(g3), f64x2.add(a3, b3)));
        for (let j: usize = 0; j < d; j++) {
          const u = v128.load(xa + j * 16);
          const v = v128.load(xb + j * 16);
          const o = (j + 1) * 16;
          v128.store(g0 + o, f64x2.add(v128.load(g0 + o), f64x2.add(f64x2.mul(a0, u), f64x2.mul(b0, v))));
          v128.store(g1 + o, f64x2.add(v128.load(g1 + o), f64x2.add(f64x2.mul(a1, u), f64x2.mul(b1, v))));
          v128.store(g2 + o, f64x2.add(v128.load(g2 + o), f64x2.add(f64x2.mul(a2, u), f64x2.mul(b2, v))));
          v128.store(g3 + o, f64x2.add(v128.load(g3 + o), f64x2.add(f64x2.mul(a3, u), f64x2.mul(b3, v))));
        }
      }
      for (; k + 2 <= K; k += 2) {
        const a0 = v128.load(RA + k * 16);
        const a1 = v128.load(RA + k * 16, 16);
        const b0 = v128.load(RB + k * 16);
        const b1 = v128.load(RB + k * 16, 16);
        const g0 = G + k * w * 16;
        const g1 = g0 + w * 16;
        v128.store(g0, f64x2.add(v128.load(g0), f64x2.add(a0, b0)));
        v128.store(g1, f64x2.add(v128.load(g1), f64x2.add(a1, b1)));
        for (let j: usize = 0; j < d; j++) {
          const u = v128.load(xa + j * 16);
          const v = v128.load(xb + j * 16);
          const o = (j + 1) * 16;
          v128.store(g0 + o, f64x2.add(v128.load(g0 + o), f64x2.add(f64x2.mul(a0, u), f64x2.mul(b0, v))));
          v128.store(g1 + o, f64x2.add(v128.load(g1 + o), f64x2.add(f64x2.mul(a1, u), f64x2.mul(b1, v))));
        }
      }
      for (; k < K; k++) {
        const a0 = v128.load(RA + k * 16);
        const b0 = v128.load(RB + k * 16);
        const g0 = G + k * w * 16;
        v128.store(g0, f64x2.add(v128.load(g0), f64x2.add(a0, b0)));
        for (let j: usize = 0; j < d; j++) {
          const o = (j + 1) * 16;
          const t = f64x2.add(f64x2.mul(a0, v128.load(xa + j * 16)), f64x2.mul(b0, v128.load(xb + j * 16)));
          v128.store(g0 + o, f64x2.add(v128.load(g0 + o), t));
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
      load<f64>(LACC) +
      Math.log(f64x2.extract_lane(lprod, 0)) +
      Math.log(f64x2.extract_lane(lprod, 1)) +
      (f64x2.extract_lane(zacc, 0) + f64x2.extract_lane(zacc, 1));
    store<f64>(out + n * 8, loss);
  }
}

/**
 * Adds the chunk partials in chunk order, divides by m and adds the L2 penalty (bias column
 * excluded): returns J (+∞ instead of NaN) and writes ∇J at `grad` when grad ≠ 0.
 */
export function objectiveReduce(
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
export function objectiveEvaluate(
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
  model: i32,
): f64 {
  const nChunks = (nPairs + CHUNK_PAIRS - 1) / CHUNK_PAIRS;
  objectiveChunks(xp, yp, nPairs, oddLast, d, K, theta, 0, nChunks, partials, scratch, model);
  return objectiveReduce(nChunks, d, K, theta, l2, invM, partials, grad);
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
export function objectiveDescend(
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
  model: i32,
): i32 {
  const n = K * (d + 1);
  for (let t = 0; t < iters; t++) {
    const J = objectiveEvaluate(
      xp,
      yp,
      nPairs,
      oddLast,
      d,
      K,
      theta,
      l2,
      invM,
      partials,
      scratch,
      grad,
      model,
    );
    store<f64>(hist + <usize>t * 8, J);
    if (!(J - J === 0) || !allFinite(grad, n)) return t;
    for (let q: usize = 0; q < n; q++) {
      store<f64>(theta + q * 8, load<f64>(theta + q * 8) - alpha * load<f64>(grad + q * 8));
    }
  }
  store<f64>(
    hist + <usize>iters * 8,
    objectiveEvaluate(xp, yp, nPairs, oddLast, d, K, theta, l2, invM, partials, scratch, grad, model),
  );
  return iters;
}

// ---------------------------------------------------------------------------------------------
// L-BFGS, entirely in wasm: a line-for-line port of src/model/lbfgs.ts (same operations in the
// same order, so the iterates are bit-identical to the TypeScript optimizer on the same
// objective values). The memory is a ring buffer instead of shifting arrays; the order of the
// two-loop recursion over it is the same.
//
// The problem is described by a block of 16 little fields at `desc` (written by the JS side):
//   i32: [0] xp, [1] yp, [2] nPairs, [3] oddLast, [4] d, [5] K, [6] partials, [7] scratch,
//        [8] threaded (1 = evaluate through the host import, which spreads chunks over threads),
//        [9] model (0 softmax, 1 one-vs-rest)
//   f64 at desc + 64: [0] l2, [1] invM
// ---------------------------------------------------------------------------------------------

/** Host import: J and ∇J at x (∇J written at g) computed on several threads. */
declare function hostEvaluate(x: usize, g: usize): f64;

function evalAt(desc: usize, x: usize, g: usize): f64 {
  if (load<i32>(desc, 32) !== 0) return hostEvaluate(x, g);
  return objectiveEvaluate(
    load<u32>(desc, 0),
    load<u32>(desc, 4),
    load<u32>(desc, 8),
    load<i32>(desc, 12),
    load<u32>(desc, 16),
    load<u32>(desc, 20),
    x,
    load<f64>(desc, 64),
    load<f64>(desc, 72),
    load<u32>(desc, 24),
    load<u32>(desc, 28),
    g,
    load<i32>(desc, 36),
  );
}

function vdot(a: usize, b: usize, n: usize): f64 {
  let s: f64 = 0;
  for (let i: usize = 0; i < n; i++) s += load<f64>(a + i * 8) * load<f64>(b + i * 8);
  return s;
}

function vaxpy(a: f64, x: usize, y: usize, n: usize): void {
  for (let i: usize = 0; i < n; i++) store<f64>(y + i * 8, load<f64>(y + i * 8) + a * load<f64>(x + i * 8));
}

function vscale(x: usize, a: f64, n: usize): void {
  for (let i: usize = 0; i < n; i++) store<f64>(x + i * 8, load<f64>(x + i * 8) * a);
}

function vmaxAbs(g: usize, n: usize): f64 {
  let mx: f64 = 0;
  for (let j: usize = 0; j < n; j++) {
    const a = Math.abs(load<f64>(g + j * 8));
    if (a > mx || isNaN(a)) mx = a;
  }
  return mx;
}

function interpolate(lo: f64, fLo: f64, dLo: f64, hi: f64, fHi: f64, dHi: f64): f64 {
  const width = hi - lo;
  let t = lo + 0.5 * width;
  if (isFinite(fHi) && isFinite(dHi)) {
    const d1 = dLo + dHi - (3 * (fLo - fHi)) / (lo - hi);
    const disc = d1 * d1 - dLo * dHi;
    if (disc >= 0) {
      const d2 = Math.sqrt(disc);
      const c = hi - width * ((dHi + d2 - d1) / (dHi - dLo + 2 * d2));
      if (isFinite(c)) t = c;
    }
  }
  const minT = lo + 0.1 * width;
  const maxT = hi - 0.1 * width;
  return t < minT ? minT : t > maxT ? maxT : t;
}

const C1: f64 = 1e-4;
const C2: f64 = 0.9;
const MAX_LINE_SEARCH: i32 = 40;

/**
 * One L-BFGS iteration from (x, g, J) — the body of lbfgs.ts's loop. The ring buffer's start and
 * length and J live in `st` (i32 start, i32 h, f64 J at +8) so that this function is called once
 * per iteration: V8 then compiles it with its optimizing tier after a few calls (a wasm function
 * running one long loop would stay in the baseline tier — there is no on-stack replacement).
 * Returns 0 (step accepted; x, g, J updated), 1 (converged: max |g| ≤ tol), 2 (line search failed).
 */
function lbfgsIteration(
  desc: usize,
  n: usize,
  x: usize,
  g: usize,
  tol: f64,
  M: usize,
  work: usize,
  st: usize,
): i32 {
  const xNew = work;
  const gNew = xNew + n * 8;
  const p = gNew + n * 8;
  const S = p + n * 8;
  const Y = S + M * n * 8;
  const rho = Y + M * n * 8;
  const alphaBuf = rho + M * 8;
  let start = <usize>load<i32>(st); // ring buffer: logical i at physical (start + i) % M
  let h = <usize>load<i32>(st, 4);
  const J = load<f64>(st, 8);
  const gmax = vmaxAbs(g, n);
  if (gmax <= tol) return 1;

  // Two-loop recursion: p = −H g.
  for (let j: usize = 0; j < n; j++) store<f64>(p + j * 8, -load<f64>(g + j * 8));
  for (let i = <isize>h - 1; i >= 0; i--) {
    const phys = (start + <usize>i) % M;
    const a = load<f64>(rho + phys * 8) * vdot(S + phys * n * 8, p, n);
    store<f64>(alphaBuf + <usize>i * 8, a);
    vaxpy(-a, Y + phys * n * 8, p, n);
  }
  if (h > 0) {
    const last = (start + h - 1) % M;
    const yy = vdot(Y + last * n * 8, Y + last * n * 8, n);
    vscale(p, 1 / (load<f64>(rho + last * 8) * yy), n);
  } else {
    vscale(p, 1 / Math.max(1, Math.sqrt(vdot(g, g, n))), n);
  }
  for (let i: usize = 0; i < h; i++) {
    const phys = (start + i) % M;
    const b = load<f64>(rho + phys * 8) * vdot(Y + phys * n * 8, p, n);
    vaxpy(load<f64>(alphaBuf + i * 8) - b, S + phys * n * 8, p, n);
  }
  let dphi0 = vdot(g, p, n);
  if (!(dphi0 < 0)) {
    h = 0;
    start = 0;
    for (let j: usize = 0; j < n; j++) {
      store<f64>(p + j * 8, -load<f64>(g + j * 8) / Math.max(1, Math.sqrt(vdot(g, g, n))));
    }
    dphi0 = vdot(g, p, n);
  }

  // Weak-Wolfe bracketing line search on φ(α) = J(x + α p).
  let lo: f64 = 0;
  let hi: f64 = Infinity;
  let phiLo = J;
  let dphiLo = dphi0;
  let phiHi: f64 = NaN;
  let dphiHi: f64 = NaN;
  let alpha: f64 = 1;
  let accepted = false;
  let Jnew = J;
  const noise = 1e-10 * (1 + Math.abs(J));
  for (let ls = 0; ls < MAX_LINE_SEARCH; ls++) {
    for (let j: usize = 0; j < n; j++) {
      store<f64>(xNew + j * 8, load<f64>(x + j * 8) + alpha * load<f64>(p + j * 8));
    }
    Jnew = evalAt(desc, xNew, gNew);
    const dphi = vdot(gNew, p, n);
    const finite = isFinite(Jnew) && isFinite(dphi);
    const armijo = finite && Jnew <= J + C1 * alpha * dphi0;
    const approxArmijo = finite && Jnew <= J + noise && dphi <= (2 * C1 - 1) * dphi0;
    if (!(armijo || approxArmijo)) {
      hi = alpha;
      phiHi = Jnew;
      dphiHi = dphi;
    } else if (dphi < C2 * dphi0) {
      lo = alpha;
      phiLo = Jnew;
      dphiLo = dphi;
    } else {
      accepted = true;
      break;
    }
    if (hi === Infinity) {
      alpha *= 4;
    } else {
      if (hi - lo <= 1e-16 * hi) break;
      alpha = interpolate(lo, phiLo, dphiLo, hi, phiHi, dphiHi);
    }
  }
  if (!accepted) return 2;

  // Memory update: drop the oldest pair when full, keep the new one if sᵀy > 0.
  if (h === M) {
    start = (start + 1) % M;
    h--;
  }
  const slot = (start + h) % M;
  const s = S + slot * n * 8;
  const yv = Y + slot * n * 8;
  for (let j: usize = 0; j < n; j++) {
    store<f64>(s + j * 8, load<f64>(xNew + j * 8) - load<f64>(x + j * 8));
    store<f64>(yv + j * 8, load<f64>(gNew + j * 8) - load<f64>(g + j * 8));
  }
  const sy = vdot(s, yv, n);
  if (sy > 1e-300) {
    store<f64>(rho + slot * 8, 1 / sy);
    h++;
  }
  memory.copy(x, xNew, n * 8);
  memory.copy(g, gNew, n * 8);
  store<i32>(st, <i32>start);
  store<i32>(st, <i32>h, 4);
  store<f64>(st, Jnew, 8);
  return 0;
}

/**
 * Minimizes the described objective from x (n doubles, updated in place; ∇J left at g).
 * work: 2 + 3n + 2·M·n + 2·M doubles. hist: J of each iterate (maxIter + 1 doubles).
 * Writes at status: f64 [0] J, [1] gradient max-abs, [2] iterations, [3] outcome:
 *   0 converged at the top of an iteration, 1 line search failed, 2 maxIter reached,
 *   3 not finite at the start. Returns the number of history entries.
 */
export function objectiveLbfgs(
  desc: usize,
  n: usize,
  x: usize,
  g: usize,
  tol: f64,
  maxIter: i32,
  M: usize,
  work: usize,
  hist: usize,
  status: usize,
): i32 {
  const st = work;
  const w = work + 16;
  const J0 = evalAt(desc, x, g);
  store<f64>(hist, J0);
  if (!isFinite(J0) || !isFinite(vmaxAbs(g, n))) return finish(status, J0, vmaxAbs(g, n), 0, 3, 1);
  store<i32>(st, 0);
  store<i32>(st, 0, 4);
  store<f64>(st, J0, 8);
  let nHist = 1;
  let iter = 0;
  for (; iter < maxIter; iter++) {
    const r = lbfgsIteration(desc, n, x, g, tol, M, w, st);
    if (r === 1) return finish(status, load<f64>(st, 8), vmaxAbs(g, n), iter, 0, nHist);
    if (r === 2) return finish(status, load<f64>(st, 8), vmaxAbs(g, n), iter, 1, nHist);
    store<f64>(hist + <usize>nHist * 8, load<f64>(st, 8));
    nHist++;
  }
  return finish(status, load<f64>(st, 8), vmaxAbs(g, n), iter, 2, nHist);
}

function finish(status: usize, J: f64, gmax: f64, iter: i32, outcome: i32, nHist: i32): i32 {
  store<f64>(status, J);
  store<f64>(status, gmax, 8);
  store<f64>(status, <f64>iter, 16);
  store<f64>(status, <f64>outcome, 24);
  return nHist;
}

// ---------------------------------------------------------------------------------------------
// Temperature scaling: the moments pass of src/calibration/recalibrators/temperature.ts
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
export function temperatureMoments(
  sp: usize,
  nPairs: usize,
  oddLast: i32,
  K: usize,
  beta: f64,
  out: usize,
  stride: usize,
): void {
  momentsRange(sp, 0, nPairs, stride, nPairs, oddLast, K, beta, out);
}

/** The moments of chunks c0..c1−1 (TEMP_CHUNK_PAIRS pairs each) at β, chunk c's four sums at partials + c·32. */
export function temperatureChunks(
  sp: usize,
  nPairs: usize,
  oddLast: i32,
  K: usize,
  beta: f64,
  c0: usize,
  c1: usize,
  partials: usize,
): void {
  for (let c = c0; c < c1; c++) {
    const p0 = c * TEMP_CHUNK_PAIRS;
    momentsRange(sp, p0, min(p0 + TEMP_CHUNK_PAIRS, nPairs), 1, nPairs, oddLast, K, beta, partials + c * 32);
  }
}

/** Adds the chunks' four sums in chunk order into out (bit-identical for any split over threads). */
export function temperatureReduce(nChunks: usize, partials: usize, out: usize): void {
  for (let q: usize = 0; q < 4; q++) {
    let s: f64 = 0;
    for (let c: usize = 0; c < nChunks; c++) s += load<f64>(partials + c * 32 + q * 8);
    store<f64>(out + q * 8, s);
  }
}
