/**
 * Dirichlet calibration and matrix scaling (src/calibration/recalibrators/dirichlet.ts): reference
 * fits from scikit-learn 1.2.1 / scipy 1.10 (properties/fixtures/recalibrators/make_dirichlet.py),
 * and properties that follow from the math:
 * - nesting: the families contain vector scaling (W diagonal), which contains temperature scaling
 *   (W = I/T, b = 0), so at zero penalty the fitted NLLs are ordered — up to how far each fit is
 *   from its own optimum, bounded by convexity: f(a) − f(b) ≤ ∇f(a)ᵀ(a − b) ≤ ‖∇f(a)‖∞·‖a − b‖₁;
 * - on data the scores already calibrate, the identity is the true map, so twice n times the NLL
 *   the fit gains is asymptotically χ² with K² − 1 degrees of freedom (Wilks 1938);
 * - the optimum is stationary (the naive gradient of the documented J is ≈ 0), and the fit returns
 *   the documented representative;
 * - each penalty's term falls as its weight grows, and is bounded by the identity's NLL over it;
 * - separable sets are refused exactly when an unpenalized direction separates them;
 * - JSON round trips bit for bit; rows on the simplex; transform = softmax(transformLogits).
 */
import { readFileSync } from "node:fs";
import { fc, test } from "@fast-check/vitest";
import seedrandom from "seedrandom";
import { describe, expect, it } from "vitest";
import {
  DirichletCalibration,
  type DirichletOptions,
  linearCalibratedLogits,
  linearSeparation,
  MatrixScaling,
  NEWTON_MAX_PARAMETERS,
} from "../src/calibration/recalibrators/dirichlet.js";
import { createRecalibrator, recalibratorFromJSON } from "../src/calibration/recalibrators/registry.js";
import { vectorScalingSeparation } from "../src/calibration/recalibrators/separation.js";
import { TemperatureScaling } from "../src/calibration/recalibrators/temperature.js";
import { VectorScaling } from "../src/calibration/recalibrators/vector.js";
import { InputError, RunError } from "../src/errors.js";
import { logSoftmax, softmax } from "../src/kernels/softmax.js";
import { fromRows, type Matrix, toRows } from "../src/linalg/matrix.js";
import { softcalMatchers } from "../src/testing/index.js";
import { gridRows, gridValue } from "./_shared/arbitraries.js";
import { expectClose } from "./_shared/expectClose.js";

expect.extend(softcalMatchers);

const EPS = Number.EPSILON;
type Linear = DirichletCalibration | MatrixScaling;
type Method = "dirichlet" | "matrix";

function make(method: Method, opts: DirichletOptions = {}): Linear {
  return method === "dirichlet" ? new DirichletCalibration(opts) : new MatrixScaling(opts);
}

// ---- Data ------------------------------------------------------------------------------------

interface CalibrationSet {
  /** Logits, n×K. */
  Z: Matrix;
  /** softmax(Z). */
  P: Matrix;
  y: Int32Array;
}

/**
 * A seeded calibration set of n rows. Labels are drawn from softmax(l) for Gaussian logits l; the
 * scores are l itself (`calibrated`) or a miscalibrated A·l + c (A: diagonal in [1.5, 2.5] plus
 * ±0.3 mixing, c in ±0.5). With `anchors`, the first K(K+1) rows are K + 1 generic points each
 * given every label: along any direction their margins must all be 0, so (the points spanning the
 * features) every margin is 0 — no direction separates the set, whatever the penalties.
 */
function calibrationSet(
  seed: number,
  n: number,
  K: number,
  { calibrated = false, anchors = true }: { calibrated?: boolean; anchors?: boolean } = {},
): CalibrationSet {
  const rng = seedrandom.alea(String(seed));
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
  const A = Array.from({ length: K }, (_, k) =>
    Array.from({ length: K }, (_, j) => (k === j ? 1.5 + rng() : 0.6 * (rng() - 0.5))),
  );
  const c = Array.from({ length: K }, () => rng() - 0.5);
  const Z: number[][] = [];
  const y: number[] = [];
  const score = (l: number[]) =>
    calibrated ? l : A.map((row, k) => row.reduce((s, a, j) => s + a * l[j], c[k]));
  if (anchors) {
    for (let a = 0; a <= K; a++) {
      const l = Array.from({ length: K }, gauss);
      for (let k = 0; k < K; k++) {
        Z.push(score(l));
        y.push(k);
      }
    }
  }
  while (Z.length < n) {
    const l = Array.from({ length: K }, () => 1.2 * gauss());
    const q = toRows(softmax(fromRows([l])))[0];
    let u = rng();
    let label = K - 1;
    for (let k = 0; k < K; k++) {
      u -= q[k];
      if (u < 0) {
        label = k;
        break;
      }
    }
    Z.push(score(l));
    y.push(label);
  }
  const Zm = fromRows(Z);
  return { Z: Zm, P: softmax(Zm), y: Int32Array.from(y) };
}

/** The features the method works on (see the source's doc). */
function features(method: Method, S: Matrix, logits: boolean): number[][] {
  if (!logits) return toRows(S).map((r) => r.map(Math.log));
  return method === "dirichlet" ? toRows(logSoftmax(S)) : toRows(S);
}

// ---- A naive objective -----------------------------------------------------------------------

/** J (the documented objective), its NLL and gradient, computed naively from rows. */
function naive(
  X: number[][],
  y: ArrayLike<number>,
  W: number[][],
  b: number[],
  pen: Required<DirichletOptions>,
) {
  const n = X.length;
  const K = b.length;
  let nll = 0;
  const gW = W.map((r) => r.map(() => 0));
  const gb = b.map(() => 0);
  X.forEach((x, i) => {
    const u = W.map((row, k) => row.reduce((s, w, j) => s + w * x[j], 0) + b[k]);
    const mx = Math.max(...u);
    const lse = mx + Math.log(u.reduce((s, v) => s + Math.exp(v - mx), 0));
    nll += lse - u[y[i]];
    for (let k = 0; k < K; k++) {
      const r = Math.exp(u[k] - lse) - (k === y[i] ? 1 : 0);
      for (let j = 0; j < K; j++) gW[k][j] += (r * x[j]) / n;
      gb[k] += r / n;
    }
  });
  nll /= n;
  const cl = pen.odirLambda / (K * (K - 1));
  const cm = pen.odirMu / K;
  let J = nll;
  for (let k = 0; k < K; k++) {
    for (let j = 0; j < K; j++) {
      const e = W[k][j] - (k === j ? 1 : 0);
      J += (pen.l2 / 2) * e * e + (k === j ? 0 : cl * W[k][j] ** 2);
      gW[k][j] += pen.l2 * e + (k === j ? 0 : 2 * cl * W[k][j]);
    }
    J += (pen.l2 / 2) * b[k] ** 2 + cm * b[k] ** 2;
    gb[k] += pen.l2 * b[k] + 2 * cm * b[k];
  }
  return { J, nll, gradient: [...gW.flat(), ...gb] };
}

const theta = (r: Linear): number[] => [...(r.weights as number[][]).flat(), ...(r.bias as number[])];
const l1 = (a: number[], b: number[]): number => a.reduce((s, v, i) => s + Math.abs(v - b[i]), 0);

/** A penalty weight: 0 half the time, else log-uniform in [1e-3, 10]. */
const penaltyArb = fc.oneof(
  fc.constant(0),
  fc.double({ min: -3, max: 1, noNaN: true }).map((e) => 10 ** e),
);

// ---- Reference fits --------------------------------------------------------------------------

interface Fixture {
  versions: Record<string, string>;
  cases: {
    name: string;
    method: Method;
    logits: boolean;
    scores: number[][];
    y: number[];
    odirLambda: number;
    odirMu: number;
    l2: number;
    weights: number[][];
    bias: number[];
    nll: number;
    objective: number;
    gradient: number;
    sklearnGap?: number;
    test: { scores: number[][]; probabilities: number[][] };
  }[];
}

const fx = JSON.parse(
  readFileSync(new URL("./fixtures/recalibrators/dirichlet.json", import.meta.url), "utf8"),
) as Fixture;

describe(`reference fits (scikit-learn ${fx.versions["scikit-learn"]}, scipy ${fx.versions.scipy}, refined by Newton in numpy)`, () => {
  for (const c of fx.cases) {
    it(`${c.name}: (W, b) within 1e-9, held-out probabilities within 1e-12, NLL within 1e-12`, () => {
      // Both fits stop at ‖∇J‖∞ ≈ 1e-15 (the fixture records its own); the parameters then differ by
      // ≈ H⁻¹ times that (≲ 1e-12 for these well-conditioned sets), the probabilities by a few
      // 1e-14 — the tolerances leave a factor ≥ 20 (measured: ≤ 7e-13 and ≤ 5e-14).
      expect(c.gradient).toBeLessThan(1e-14);
      const r = make(c.method, c).fit(fromRows(c.scores), c.y, { logits: c.logits });
      expect(r.lastFit?.converged).toBe(true);
      // The fixture holds the documented representative (nearest the identity along flat shifts).
      expectClose((r.weights as number[][]).flat(), c.weights.flat(), { atol: 1e-9 }, "W");
      expectClose(r.bias as number[], c.bias, { atol: 1e-9 }, "b");
      expectClose(
        r.transform(fromRows(c.test.scores), { logits: c.logits }).data,
        c.test.probabilities.flat(),
        { atol: 1e-12 },
        "held-out q",
      );
      expectClose(r.lastFit?.nllAfter as number, c.nll, { rtol: 1e-12 }, "NLL");
      expectClose(r.lastFit?.objective as number, c.objective, { rtol: 1e-12 }, "J");
      // scikit-learn itself stops at its own tolerance (ftol 64ε on J): close, not exact.
      if (c.sklearnGap !== undefined) expect(c.sklearnGap).toBeLessThan(1e-4);
    });
  }
});

// ---- Properties ------------------------------------------------------------------------------

const sizeArb = fc.record({
  seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  K: fc.integer({ min: 2, max: 4 }),
  extra: fc.integer({ min: 4, max: 30 }),
});

describe("nesting at zero penalty: Dirichlet ≤ vector ≤ temperature (on ln p); matrix ≤ vector (on logits)", () => {
  test.prop([sizeArb], { numRuns: 15 })("fitted calibration-set NLLs", ({ seed, K, extra }) => {
    const { Z, P, y } = calibrationSet(seed, K * (K + 1) + extra, K);
    const dir = new DirichletCalibration().fit(P, y);
    const vecP = new VectorScaling().fit(P, y);
    const mat = new MatrixScaling().fit(Z, y, { logits: true });
    const vecZ = new VectorScaling().fit(Z, y, { logits: true });
    const embed = (v: VectorScaling): number[] => [
      ...(v.scale as number[]).flatMap((w, k) => (v.scale as number[]).map((_, j) => (j === k ? w : 0))),
      ...(v.bias as number[]),
    ];
    // f(a) ≤ f(b) + ‖∇f(a)‖∞·‖a − b‖₁ (convexity) when b lies in a's family, plus the rounding of
    // two NLLs of ≤ 60 terms (≤ 1e-14 relative).
    const rounding = (f: number) => 1e-14 * (1 + f);
    const dirNll = dir.lastFit?.nllAfter as number;
    const vecNll = vecP.lastFit?.nllAfter as number;
    expect(dirNll).toBeLessThanOrEqual(
      vecNll + (dir.lastFit?.gradient as number) * l1(theta(dir), embed(vecP)) + rounding(vecNll),
    );
    const matNll = mat.lastFit?.nllAfter as number;
    const vecZNll = vecZ.lastFit?.nllAfter as number;
    expect(matNll).toBeLessThanOrEqual(
      vecZNll + (mat.lastFit?.gradient as number) * l1(theta(mat), embed(vecZ)) + rounding(vecZNll),
    );
    // Temperature scaling refuses worse-than-chance scores (its optimum at β ≤ 0); then only the
    // links above are checked.
    let temp: TemperatureScaling;
    try {
      temp = new TemperatureScaling().fit(P, y);
    } catch (e) {
      expect(e).toBeInstanceOf(RunError);
      return;
    }
    const beta = 1 / (temp.temperature as number);
    const tempTheta = [
      ...Array.from({ length: K * K }, (_, t) => (t % (K + 1) === 0 ? beta : 0)),
      ...new Array(K).fill(0),
    ];
    const tempNll = temp.lastFit?.nllAfter as number;
    expect(vecNll).toBeLessThanOrEqual(
      tempNll + (vecP.lastFit?.gradient as number) * l1(embed(vecP), tempTheta) + rounding(tempNll),
    );
    expect(dirNll).toBeLessThanOrEqual(
      tempNll + (dir.lastFit?.gradient as number) * l1(theta(dir), tempTheta) + rounding(tempNll),
    );
  });
});

describe("the optimum", () => {
  test.prop(
    [
      sizeArb,
      fc.constantFrom<Method>("dirichlet", "matrix"),
      fc.boolean(),
      fc.record({ odirLambda: penaltyArb, odirMu: penaltyArb, l2: penaltyArb }),
    ],
    { numRuns: 20 },
  )(
    "is stationary for the naive J; lastFit agrees with it; the representative is nearest the identity",
    ({ seed, K, extra }, method, logits, pen) => {
      const { Z, P, y } = calibrationSet(seed, K * (K + 1) + extra, K);
      const S = logits ? Z : P;
      const r = make(method, pen).fit(S, y, { logits });
      const lf = r.lastFit as NonNullable<typeof r.lastFit>;
      expect(lf.converged).toBe(true);
      expect(lf.gradient).toBeLessThanOrEqual(lf.gradientTolerance);
      const X = features(method, S, logits);
      const W = r.weights as number[][];
      const b = r.bias as number[];
      const at = naive(X, y, W, b, pen);
      // The naive gradient's own rounding: means of ≤ 60 terms each ≤ s in size, ≤ 60ε·s ≪ 0.1·1e-12·s.
      for (const g of at.gradient) expect(Math.abs(g)).toBeLessThanOrEqual(1.1 * lf.gradientTolerance);
      expectClose(lf.nllAfter, at.nll, { rtol: 1e-13 }, "nllAfter");
      expectClose(lf.objective, at.J, { rtol: 1e-13 }, "objective");
      const start = naive(
        X,
        y,
        W.map((row, k) => row.map((_, j) => (j === k ? 1 : 0))),
        b.map(() => 0),
        pen,
      );
      expectClose(lf.nllBefore, start.nll, { rtol: 1e-13 }, "nllBefore");
      // Every step lowers J (or leaves it within 8ε|J|): never above the identity's.
      expect(lf.objective).toBeLessThanOrEqual(start.J * (1 + 1e-13));
      // Flat shifts: columns of W − I (λ = l2 = 0) and b (μ = l2 = 0) sum to 0 — to the rounding of
      // the projection (K additions of entries ≤ ‖θ‖∞ + 1).
      const size = 1 + Math.max(...theta(r).map(Math.abs));
      if (pen.odirLambda === 0 && pen.l2 === 0) {
        for (let j = 0; j < K; j++) {
          const s = W.reduce((acc, row, k) => acc + row[j] - (k === j ? 1 : 0), 0);
          expect(Math.abs(s)).toBeLessThanOrEqual(4 * K * EPS * size);
        }
      }
      if (pen.odirMu === 0 && pen.l2 === 0) {
        expect(Math.abs(b.reduce((s, v) => s + v, 0))).toBeLessThanOrEqual(4 * K * EPS * size);
      }
    },
  );

  it("beyond NEWTON_MAX_PARAMETERS (K = 17) Newton-CG reaches the same stopping rule", () => {
    const K = 17;
    expect(K * (K + 1)).toBeGreaterThan(NEWTON_MAX_PARAMETERS);
    const { Z, y } = calibrationSet(3, 80, K, { anchors: false });
    const pen = { odirLambda: 0.1, odirMu: 0.1, l2: 0.01 };
    const r = new MatrixScaling(pen).fit(Z, y, { logits: true });
    const lf = r.lastFit as NonNullable<typeof r.lastFit>;
    expect(lf.converged).toBe(true);
    expect(lf.newtonSteps).toBeGreaterThan(0);
    expect(lf.gradient).toBeLessThanOrEqual(lf.gradientTolerance);
    const at = naive(toRows(Z), y, r.weights as number[][], r.bias as number[], pen);
    for (const g of at.gradient) expect(Math.abs(g)).toBeLessThanOrEqual(1.1 * lf.gradientTolerance);
  });

  it("binary scores (one column) are the two-class problem; binary logits (0, z) leave W's first column at the identity", () => {
    const { Z, y } = calibrationSet(7, 40, 2);
    const z = toRows(Z).map((r) => [r[1] - r[0]]);
    const p = toRows(softmax(Z)).map((r) => [r[1]]);
    const a = new DirichletCalibration().fit(fromRows(p), y);
    const b = new DirichletCalibration().fit(fromRows(p.map(([v]) => [1 - v, v])), y);
    expect([a.weights, a.bias]).toEqual([b.weights, b.bias]);
    expect([a.transform(fromRows(p)).rows, a.transform(fromRows(p)).cols]).toEqual([40, 2]);
    const m = new MatrixScaling().fit(fromRows(z), y, { logits: true });
    // The features' first column is 0: no gradient ever moves W's first column off (1, 0).
    expect((m.weights as number[][]).map((r) => r[0])).toEqual([1, 0]);
    expect(m.lastFit?.converged).toBe(true);
    // 40 rows > the first LP's 24: a non-separable subset, whose margins reach what all rows' do
    // (neither reaches W's first column): decided.
    expect(m.lastFit?.separable).toBe(false);
  });

  it("matrix scaling on probabilities is Dirichlet calibration (both on ln p), bit for bit", () => {
    const { P, y } = calibrationSet(11, 30, 3);
    const a = new DirichletCalibration({ odirLambda: 0.1 }).fit(P, y);
    const b = new MatrixScaling({ odirLambda: 0.1 }).fit(P, y);
    expect([a.weights, a.bias, a.lastFit]).toEqual([b.weights, b.bias, b.lastFit]);
  });

  it("Dirichlet calibration from logits works on log_softmax(z): the same fit as from softmax(z), to rounding", () => {
    const { Z, P, y } = calibrationSet(12, 40, 3);
    const a = new DirichletCalibration().fit(Z, y, { logits: true });
    const b = new DirichletCalibration().fit(P, y);
    // ln softmax(z) vs log_softmax(z): a few ε per feature; the fit moves by H⁻¹ times that.
    expectClose(theta(a), theta(b), { atol: 1e-9 }, "θ");
    // Extreme logits still give finite features (log_softmax, never ln of an underflowed p).
    const big = fromRows([
      [0, 900, -900],
      [900, 0, -900],
      [-900, 0, 900],
      [0, 0, 0],
    ]);
    expect(Array.from(a.transformLogits(big, { logits: true }).data).every(Number.isFinite)).toBe(true);
  });
});

describe("identity on data the scores already calibrate (likelihood-ratio statistic)", () => {
  // Under the null (W = I, b = 0 true), 2n(NLL(I) − NLL(fit)) → χ² with K(K+1) − (K+1) = K² − 1
  // degrees of freedom (the fit's free parameters modulo the shift); scipy.stats.chi2.isf(1e-9, df)
  // = 44.841 (K = 2) and 58.308 (K = 3): a seed fails with probability ≈ 1e-9 (n = 400, where the
  // χ² approximation is good).
  const bound: Record<number, number> = { 2: 44.841275330562404, 3: 58.307613127485624 };
  test.prop(
    [
      fc.integer({ min: 0, max: 2 ** 31 - 1 }),
      fc.constantFrom(2, 3),
      fc.constantFrom<Method>("dirichlet", "matrix"),
    ],
    { numRuns: 6 },
  )("2n·(NLL before − NLL after) ≤ χ²_{K²−1} upper 1e-9 quantile", (seed, K, method) => {
    const n = 400;
    const { Z, P, y } = calibrationSet(seed, n, K, { calibrated: true, anchors: false });
    const r =
      method === "dirichlet"
        ? new DirichletCalibration().fit(P, y)
        : new MatrixScaling().fit(Z, y, { logits: true });
    const lf = r.lastFit as NonNullable<typeof r.lastFit>;
    const stat = 2 * n * (lf.nllBefore - lf.nllAfter);
    expect(stat).toBeGreaterThanOrEqual(-1e-10);
    expect(stat).toBeLessThanOrEqual(bound[K]);
  });
});

describe("penalties shrink toward the identity and 0", () => {
  const offDiagonal = (W: number[][]) =>
    W.reduce((s, r, k) => s + r.reduce((t, v, j) => t + (j === k ? 0 : v * v), 0), 0);
  const biasSquares = (b: number[]) => b.reduce((s, v) => s + v * v, 0);
  const toIdentity = (W: number[][], b: number[]) =>
    W.reduce((s, r, k) => s + r.reduce((t, v, j) => t + (v - (j === k ? 1 : 0)) ** 2, 0), 0) + biasSquares(b);

  test.prop(
    [
      sizeArb,
      fc.constantFrom<"odirLambda" | "odirMu" | "l2">("odirLambda", "odirMu", "l2"),
      fc.double({ min: -2, max: 3, noNaN: true }),
      fc.double({ min: 0.5, max: 3, noNaN: true }),
      fc.record({ odirLambda: penaltyArb, odirMu: penaltyArb, l2: penaltyArb }),
    ],
    { numRuns: 15 },
  )(
    "the penalized term falls as its weight grows, and is ≤ the identity's NLL over the weight",
    ({ seed, K, extra }, key, e, gap, base) => {
      const { P, y } = calibrationSet(seed, K * (K + 1) + extra, K);
      const w1 = 10 ** e;
      const w2 = w1 * 10 ** gap;
      const a = new DirichletCalibration({ ...base, [key]: w1 }).fit(P, y);
      const c = new DirichletCalibration({ ...base, [key]: w2 }).fit(P, y);
      const [Wa, ba, Wc, bc] = [a.weights, a.bias, c.weights, c.bias] as [
        number[][],
        number[],
        number[][],
        number[],
      ];
      // J = F + c·G (c the term's coefficient: λ/(K(K−1)), μ/K or l2/2). Optimality of each fit up to
      // e = ‖∇J(fit)‖∞·‖θ_a − θ_c‖₁ (convexity) gives (c₂ − c₁)(G₂ − G₁) ≤ e_a + e_c.
      const G = (W: number[][], b: number[]) =>
        key === "odirLambda" ? offDiagonal(W) : key === "odirMu" ? biasSquares(b) : toIdentity(W, b);
      const coef = { odirLambda: 1 / (K * (K - 1)), odirMu: 1 / K, l2: 0.5 }[key];
      const dist = l1(theta(a), theta(c));
      // The gradients' rounding: ≤ 1e-13 × each fit's scale s (see the stationarity property).
      const e1 = ((a.lastFit?.gradient as number) + 0.1 * (a.lastFit?.gradientTolerance as number)) * dist;
      const e2 = ((c.lastFit?.gradient as number) + 0.1 * (c.lastFit?.gradientTolerance as number)) * dist;
      expect(G(Wc, bc)).toBeLessThanOrEqual(G(Wa, ba) + (e1 + e2) / ((w2 - w1) * coef) + 1e-15);
      // c·G ≤ J(fit) ≤ J(identity) = NLL(identity): the identity has no penalty at all.
      for (const [r, w, Wr, br] of [
        [a, w1, Wa, ba],
        [c, w2, Wc, bc],
      ] as const) {
        expect(G(Wr, br)).toBeLessThanOrEqual(((r.lastFit?.nllBefore as number) * (1 + 1e-13)) / (w * coef));
      }
    },
  );
});

describe("separable calibration sets", () => {
  // Matrix scaling on these logits (features = logits). Found by a search; each row of `separable`
  // is what linearSeparation says for [full, weights, diagonal-bias, diagonal].
  const sets: { Z: number[][]; y: number[]; separable: [boolean, boolean, boolean, boolean] }[] = [
    {
      Z: [
        [-2, -1],
        [-1, -2],
        [-2, -1],
      ],
      y: [0, 0, 1],
      separable: [true, true, true, true],
    },
    {
      Z: [
        [-1, 0],
        [1, 1],
        [-2, -2],
        [0, 2],
      ],
      y: [1, 0, 0, 0],
      separable: [true, false, true, false],
    },
    {
      Z: [
        [-1, 2, -2],
        [-2, -1, 1],
        [1, 1, -1],
        [1, -2, -2],
        [2, 0, 0],
        [-2, -1, 2],
      ],
      y: [0, 2, 1, 0, 1, 1],
      separable: [true, true, false, false],
    },
    {
      Z: [
        [2, 1, 2],
        [2, 2, -2],
        [-2, -2, 0],
        [1, -1, 1],
        [1, 0, 2],
      ],
      y: [2, 1, 2, 2, 0],
      separable: [true, true, true, false],
    },
    {
      Z: [
        [-1, -2, 2],
        [-2, 1, 2],
        [-1, 0, 2],
        [-2, 2, 0],
        [0, 0, 0],
        [2, 0, -1],
      ],
      y: [2, 0, 1, 2, 0, 2],
      separable: [true, false, false, false],
    },
  ];
  const configs: { pen: DirichletOptions; test: 0 | 1 | 2 | 3 }[] = [
    { pen: {}, test: 0 },
    { pen: { odirMu: 1 }, test: 1 },
    { pen: { odirLambda: 1 }, test: 2 },
    { pen: { odirLambda: 1, odirMu: 1 }, test: 3 },
  ];

  it("linearSeparation's answers for the four direction sets", () => {
    for (const s of sets) {
      const X = fromRows(s.Z);
      expect(
        (["full", "weights", "diagonal-bias", "diagonal"] as const).map(
          (d) => linearSeparation(X, s.y, d).separable,
        ),
      ).toEqual(s.separable);
    }
  });

  it("a fit is refused exactly when an unpenalized direction separates; l2 > 0 always fits", () => {
    for (const s of sets) {
      for (const { pen, test: t } of configs) {
        const fit = () => new MatrixScaling(pen).fit(fromRows(s.Z), s.y, { logits: true });
        if (s.separable[t]) expect(fit).toThrow(RunError);
        else {
          const r = fit();
          expect(r.lastFit?.separable).toBe(false);
          expect(r.lastFit?.converged).toBe(true);
        }
      }
      const r = new MatrixScaling({ l2: 1e-3 }).fit(fromRows(s.Z), s.y, { logits: true });
      expect(r.lastFit?.separable).toBe(null);
      expect(r.lastFit?.converged).toBe(true);
      expect(theta(r).every(Number.isFinite)).toBe(true);
    }
  });

  it("the RunError names the method, the free directions and the options that fix it", () => {
    const Z = fromRows(sets[0].Z);
    const y = sets[0].y;
    // Rows 0 and 2 are one point with both labels: no direction raises their margins, only row 1's.
    const tail =
      "lowers no label's margin over another class in any row (and raises 1 of 3), so NLL keeps decreasing along it";
    expect(() => new MatrixScaling().fit(Z, y, { logits: true }, { file: "val.csv" })).toThrow(
      new RunError(
        `val.csv: matrix scaling needs a calibration set no unpenalized direction separates; got a direction of (W, b) that ${tail} — pass --odir-lambda λ with --odir-mu μ, or --l2 λ (a penalty toward the identity), or use more calibration data`,
      ),
    );
    expect(() => new DirichletCalibration({ odirMu: 1 }).fit(softmax(Z), y)).toThrow(
      new RunError(
        `dirichlet: Dirichlet calibration needs a calibration set no unpenalized direction separates; got a direction of W (which --odir-mu does not penalize) that ${tail} — pass --odir-lambda λ or --l2 λ (a penalty toward the identity), or use more calibration data`,
      ),
    );
    expect(() => new MatrixScaling({ odirLambda: 1 }).fit(Z, y, { logits: true })).toThrow(
      new RunError(
        `matrix: matrix scaling needs a calibration set no unpenalized direction separates; got a direction of W's diagonal and b (which --odir-lambda does not penalize) that ${tail} — pass --odir-mu μ or --l2 λ (a penalty toward the identity), or use more calibration data`,
      ),
    );
    expect(() => new MatrixScaling({ odirLambda: 1, odirMu: 2 }).fit(Z, y, { logits: true })).toThrow(
      new RunError(
        `matrix: matrix scaling needs a calibration set no unpenalized direction separates; got a direction of W's diagonal (which ODIR does not penalize) that ${tail} — pass --l2 λ (a penalty toward the identity), or use more calibration data`,
      ),
    );
  });

  test.prop(
    [
      fc.record({ K: fc.integer({ min: 2, max: 3 }), n: fc.integer({ min: 3, max: 8 }) }).chain(({ K, n }) =>
        fc.record({
          Z: gridRows(n, K, gridValue(4, 2)),
          y: fc.array(fc.integer({ min: 0, max: K - 1 }), { minLength: n, maxLength: n }),
        }),
      ),
    ],
    { numRuns: 30 },
  )("over W's diagonal and b it is vector scaling's own test (./separation.ts)", ({ Z, y }) => {
    fc.pre(new Set(y).size >= 2);
    const X = fromRows(Z);
    expect(linearSeparation(X, y, "diagonal-bias").separable).toBe(vectorScalingSeparation(X, y).separable);
  });

  it("anchored sets (every label at K + 1 spanning points) are never separable, also beyond the first LP's rows", () => {
    for (const [K, n] of [
      [2, 6],
      [3, 12],
      [4, 20],
      [4, 600],
    ]) {
      const { Z, P, y } = calibrationSet(K, n, K);
      for (const d of ["full", "weights", "diagonal-bias", "diagonal"] as const) {
        expect(linearSeparation(Z, y, d).separable).toBe(false);
        expect(linearSeparation(logSoftmax(P), y, d).separable).toBe(false);
      }
    }
  });

  it("labels at every row's largest logit: separable along every direction set (constraint generation over 300 rows)", () => {
    const { Z } = calibrationSet(5, 300, 3, { anchors: false });
    const y = toRows(Z).map((r) => r.indexOf(Math.max(...r)));
    for (const d of ["full", "weights", "diagonal-bias", "diagonal"] as const) {
      const sep = linearSeparation(Z, y, d);
      expect(sep.separable).toBe(true);
      expect(sep.raised).toBeGreaterThan(0);
      expect(sep.pairs).toBe(600);
    }
    expect(() => new MatrixScaling({ odirLambda: 1, odirMu: 1 }).fit(Z, y, { logits: true })).toThrow(
      RunError,
    );
    expect(new MatrixScaling({ l2: 0.1 }).fit(Z, y, { logits: true }).lastFit?.converged).toBe(true);
  });

  it("the docs' examples", () => {
    expect(
      linearSeparation(
        fromRows([
          [2, 0],
          [0, 1],
        ]),
        [0, 1],
        "full",
      ).separable,
    ).toBe(true);
    expect(
      linearSeparation(
        fromRows([
          [1, 0],
          [1, 0],
        ]),
        [0, 1],
        "full",
      ).separable,
    ).toBe(false);
    expect(Array.from(linearCalibratedLogits(fromRows([[1, 2]]), [0, 1, 2, 0], [0.5, 0]).data)).toEqual([
      2.5, 2,
    ]);
  });
});

// ---- Transforms, JSON, messages --------------------------------------------------------------

describe("transforms and JSON", () => {
  test.prop([
    fc.integer({ min: 2, max: 4 }).chain((K) =>
      fc.record({
        K: fc.constant(K),
        W: gridRows(K, K, gridValue(30, 8)),
        b: fc.array(gridValue(30, 8), { minLength: K, maxLength: K }),
        Z: gridRows(5, K, gridValue(40, 4)),
      }),
    ),
    fc.constantFrom<Method>("dirichlet", "matrix"),
  ])(
    "rows on the simplex; transform is softmax(transformLogits) bit for bit; logits are W·x + b",
    ({ K, W, b, Z }, method) => {
      const r = (method === "dirichlet" ? DirichletCalibration : MatrixScaling).fromJSON(
        { weights: W, bias: b, odirLambda: 0, odirMu: 0, l2: 0 },
        K,
        "x",
      );
      for (const logits of [true, false]) {
        const S = logits ? fromRows(Z) : softmax(fromRows(Z));
        const L = r.transformLogits(S, { logits });
        const Q = r.transform(S, { logits });
        expect(Array.from(Q.data)).toEqual(Array.from(softmax(L).data));
        // softmax: each row sums to 1 within K roundings.
        expect(Q).toBeOnSimplex({ tol: 4 * K * EPS });
        const X = features(method, S, logits);
        expect(Array.from(L.data)).toEqual(
          X.flatMap((x) => W.map((row, k) => row.reduce((s, w, j) => s + w * x[j], 0) + b[k])),
        );
        expect(Array.from(linearCalibratedLogits(fromRows(X), W.flat(), b).data)).toEqual(Array.from(L.data));
      }
    },
  );

  test.prop(
    [
      sizeArb,
      fc.constantFrom<Method>("dirichlet", "matrix"),
      fc.record({ odirLambda: penaltyArb, odirMu: penaltyArb, l2: penaltyArb }),
    ],
    {
      numRuns: 10,
    },
  )(
    "a fitted recalibrator's JSON round trip is bit-exact (through the registry)",
    ({ seed, K, extra }, method, pen) => {
      const { Z, y } = calibrationSet(seed, K * (K + 1) + extra, K);
      const r = createRecalibrator(method, pen) as Linear;
      r.fit(Z, y, { logits: true });
      const json = r.toJSON();
      expect(json).toMatchObject({ format: "softcal-recalibrator", version: 1, method, classes: K, ...pen });
      const back = recalibratorFromJSON(JSON.stringify(json), "r.json") as Linear;
      expect(back.method).toBe(method);
      expect(back.toJSON()).toEqual(json);
      expect(Array.from(back.transform(Z, { logits: true }).data)).toEqual(
        Array.from(r.transform(Z, { logits: true }).data),
      );
    },
  );

  it("fromJSON refuses a wrong shape, a non-number or a bad penalty in one line naming where", () => {
    const ok = {
      weights: [
        [1, 0],
        [0, 1],
      ],
      bias: [0, 0],
      odirLambda: 0,
      odirMu: 0,
      l2: 0,
    };
    expect(() => MatrixScaling.fromJSON({ ...ok, weights: [[1, 0]] }, 2, "m.json")).toThrow(
      new InputError('m.json: expected "weights" to be 2 rows of 2 finite numbers; got [[1,0]]'),
    );
    expect(() =>
      DirichletCalibration.fromJSON(
        {
          ...ok,
          weights: [
            [1, null],
            [0, 1],
          ],
        },
        2,
        "d.json",
      ),
    ).toThrow(
      new InputError('d.json: expected "weights" to be 2 rows of 2 finite numbers; got [[1,null],[0,1]]'),
    );
    expect(() => DirichletCalibration.fromJSON({ ...ok, bias: [0] }, 2, "d.json")).toThrow(
      new InputError('d.json: expected "bias" to have 2 entries; got 1'),
    );
    expect(() => DirichletCalibration.fromJSON({ ...ok, odirMu: -1 }, 2, "d.json")).toThrow(
      new InputError('d.json: expected "odirMu" to be a finite number ≥ 0; got -1'),
    );
    expect(() => MatrixScaling.fromJSON({ ...ok, l2: undefined }, 2, "m.json")).toThrow(
      new InputError('m.json: expected "l2" to be a finite number ≥ 0; got undefined'),
    );
    expect(() =>
      recalibratorFromJSON(
        { format: "softcal-recalibrator", version: 1, method: "dirichlet", classes: 3, ...ok },
        "x.json",
      ),
    ).toThrow(InputError);
  });
});

describe("messages", () => {
  it("bad penalties: one-line InputError naming the option", () => {
    for (const [key, v] of [
      ["odirLambda", -1],
      ["odirMu", Number.NaN],
      ["l2", Number.POSITIVE_INFINITY],
    ] as const) {
      expect(() => new DirichletCalibration({ [key]: v })).toThrow(
        new InputError(`${key}: expected a finite number ≥ 0; got ${v}`),
      );
      expect(() => new MatrixScaling({ [key]: v })).toThrow(
        new InputError(`${key}: expected a finite number ≥ 0; got ${v}`),
      );
    }
  });

  it("a probability 0 is an InputError suggesting logits (ln 0 = −∞)", () => {
    const P = fromRows([
      [0.5, 0.5, 0],
      [0.2, 0.3, 0.5],
      [0.3, 0.3, 0.4],
    ]);
    expect(() => new DirichletCalibration().fit(P, [0, 1, 2])).toThrow(
      new InputError(
        "dirichlet: row 0, column 2: Dirichlet calibration needs probabilities > 0 (it works on log p); got 0 — pass logits instead",
      ),
    );
    expect(() => new MatrixScaling().fit(P, [0, 1, 2], {}, { file: "p.csv" })).toThrow(
      new InputError(
        "p.csv: row 0, column 2: matrix scaling needs probabilities > 0 (it works on log p); got 0 — pass logits instead",
      ),
    );
  });

  it("unfitted: a RangeError; wrong class count on transform: an InputError", () => {
    expect(() => new DirichletCalibration().transform(fromRows([[0.5, 0.5]]))).toThrow(
      new RangeError("dirichlet: call fit() before transform() or toJSON()"),
    );
    expect(() => new MatrixScaling().toJSON()).toThrow(
      new RangeError("matrix: call fit() before transform() or toJSON()"),
    );
    const r = MatrixScaling.fromJSON(
      {
        weights: [
          [1, 0, 0],
          [0, 1, 0],
          [0, 0, 1],
        ],
        bias: [0, 0, 0],
        odirLambda: 0,
        odirMu: 0,
        l2: 0,
      },
      3,
      "m",
    );
    expect(() => r.transform(fromRows([[0.5, 0.5]]))).toThrow(InputError);
  });
});
