/**
 * The training objectives and their gradients on WebAssembly SIMD: J and ∇J of
 * src/kernels/objective.ts (the TypeScript reference), two rows per f64x2 vector, in fixed chunks
 * of rows reduced in chunk order. The problem comes as a descriptor (descriptor.ts).
 */
import {
  CHUNK_PAIRS,
  chunkCount,
  D,
  INV_M,
  K_CLASSES,
  L2,
  MODEL,
  N_PAIRS,
  ODD_LAST,
  OVR,
  PARTIALS,
  SCRATCH,
  XP,
  YP,
} from "./descriptor";
import { expNeg, FLUSH } from "./exp";

// ---------------------------------------------------------------------------------------------
// Softmax regression: J(Θ) = (1/m) Σ_i [log Σ_k exp(z_ik − max_k z_ik) − (z_{i,y_i} − max_k z_ik)]
// + (λ/2) Σ_k Σ_{j≥1} Θ_kj², ∇J = (P − Y)ᵀ X̃ / m + λ[0 | W]; one-vs-rest: Σ_k of binary logistic
// objectives, residuals σ(z_ik) − 1[y_i = k] in place of P − Y (see pairOvr). Per row, the arithmetic is the
// reference kernel's (src/kernels/objective.ts) operation for operation: z_k = θ_k0 + Σ_j θ_kj x_j
// in j order, e_k = exp(z_k − max), sum in k order, r_k = e_k·(1/sum) − 1[k = y]. Only the order in
// which rows are added differs (two lanes, then chunks). Σ_i log(sum_i) is taken as the log of a
// product (sum_i ∈ [1, K], so the product only grows; it is flushed into a log before 2^600).
// ---------------------------------------------------------------------------------------------

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
export function objectiveChunks(desc: usize, theta: usize, c0: usize, c1: usize, scratch: usize): void {
  const xp = <usize>load<u32>(desc + XP);
  const yp = <usize>load<u32>(desc + YP);
  const nPairs = <usize>load<u32>(desc + N_PAIRS);
  const oddLast = load<i32>(desc + ODD_LAST);
  const d = <usize>load<u32>(desc + D);
  const K = <usize>load<u32>(desc + K_CLASSES);
  const partials = <usize>load<u32>(desc + PARTIALS);
  const model = load<i32>(desc + MODEL);
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
export function objectiveReduce(desc: usize, theta: usize, grad: usize): f64 {
  const nChunks = chunkCount(<usize>load<u32>(desc + N_PAIRS));
  const d = <usize>load<u32>(desc + D);
  const K = <usize>load<u32>(desc + K_CLASSES);
  const l2 = load<f64>(desc + L2);
  const invM = load<f64>(desc + INV_M);
  const partials = <usize>load<u32>(desc + PARTIALS);
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
export function objectiveEvaluate(desc: usize, theta: usize, grad: usize): f64 {
  const nChunks = chunkCount(<usize>load<u32>(desc + N_PAIRS));
  objectiveChunks(desc, theta, 0, nChunks, <usize>load<u32>(desc + SCRATCH));
  return objectiveReduce(desc, theta, grad);
}

/** Whether every one of n doubles at v is finite. */
export function allFinite(v: usize, n: usize): bool {
  for (let q: usize = 0; q < n; q++) {
    const a = load<f64>(v + q * 8);
    if (!(a - a === 0)) return false;
  }
  return true;
}
