/**
 * Contract tests of src/calibration/recalibrators/temperature.ts and src/kernels/temperature.ts: each case kills a mutant that
 * survived `npm run mutate` (docs/mutation.md maps them): the TypeScript derivative kernel and both kernels' passes
 * against naive formulas (−∞ logits included), the subsample pass on the rows it names, the solver's
 * β* against a bisection on the naive NLL′ from near and far starting points, every field of the fit,
 * exact error messages, and the recalibrator's transform/JSON surface.
 */
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import {
  applyTemperature,
  TemperatureScaling,
  temperatureScale,
} from "../src/calibration/recalibrators/temperature.js";
import { InputError, RunError } from "../src/errors.js";
import { nllDerivatives, temperaturePasses } from "../src/kernels/temperature.js";
import { wasmUnavailableReason } from "../src/kernels/wasmModule.js";
import { fromRows, type Matrix } from "../src/linalg/matrix.js";
import { gridRows, gridValue } from "./_shared/arbitraries.js";
import { expectClose } from "./_shared/expectClose.js";

const wasmReason = wasmUnavailableReason();
const wasm = wasmReason === null;
if (!wasm) {
  console.warn(`temperature.test.ts: the wasm-only cases are SKIPPED — ${wasmReason}`);
}

/** Naive NLL(β) and its derivatives over rows of logits z (−∞ allowed off the label): central moments. */
function naive(rows: number[][], y: number[], beta: number): { f: number; g: number; h: number; t: number } {
  let f = 0;
  let g = 0;
  let h = 0;
  let t = 0;
  for (let i = 0; i < rows.length; i++) {
    const mx = Math.max(...rows[i]);
    const s = rows[i].map((z) => z - mx);
    const w = s.map((v) => (v === -Infinity ? 0 : Math.exp(beta * v)));
    const Z = w.reduce((a, b) => a + b, 0);
    const p = w.map((x) => x / Z);
    const fin = (v: number) => (v === -Infinity ? 0 : v);
    const e1 = p.reduce((a, pk, k) => a + pk * fin(s[k]), 0);
    const c2 = p.reduce((a, pk, k) => a + pk * (fin(s[k]) - e1) ** 2, 0);
    const c3 = p.reduce((a, pk, k) => a + pk * (fin(s[k]) - e1) ** 3, 0);
    const sy = s[y[i]];
    f += Math.log(Z) - beta * sy;
    g += e1 - sy;
    h += c2;
    t += c3;
  }
  const n = rows.length;
  return { f: f / n, g: g / n, h: h / n, t: t / n };
}

/** β* by 300 bisection steps on the naive NLL′ (increasing in β): exact to the rounding of NLL′. */
function referenceBeta(rows: number[][], y: number[]): number {
  let lo = 1e-12;
  let hi = 1;
  while (naive(rows, y, hi).g < 0) hi *= 2;
  for (let i = 0; i < 300; i++) {
    const mid = lo + (hi - lo) / 2;
    if (mid === lo || mid === hi) break;
    if (naive(rows, y, mid).g < 0) lo = mid;
    else hi = mid;
  }
  return lo + (hi - lo) / 2;
}

type Pass = (beta: number) => { f: number; g: number; h: number; t: number };

/**
 * The documented solver restated (module doc of temperature.ts): Halley's step on β from β = 1,
 * else Newton's, else bisection (×4 / ÷4 while a side is open, geometric otherwise), stopping at
 * |β·NLL′| ≤ 1e-11 or a bracket a few ulps wide; on large sets the first step is refined by
 * Halley steps on the subsample (|β·NLL′| ≤ 1e-4, ≤ 8 passes). Returns β* and the step count.
 */
function restatedSolver(at: Pass, sub: Pass | null): { beta: number; iterations: number } {
  let beta = 1;
  let c = at(1);
  let lo = 0;
  let hi = Infinity;
  for (let it = 0; it < 200; it++) {
    if (c.g < 0) lo = beta;
    else hi = beta;
    if (Math.abs(beta * c.g) <= 1e-11 || (hi < Infinity && hi - lo <= 4 * Number.EPSILON * hi)) {
      return { beta, iterations: it };
    }
    const den = 2 * c.h * c.h - c.g * c.t;
    const halley = beta - (2 * c.g * c.h) / den;
    const newton = beta - c.g / c.h;
    let next = den > 0 && halley > lo && halley < hi ? halley : newton;
    if (!(next > lo && next < hi)) next = hi === Infinity ? 4 * lo : lo === 0 ? hi / 4 : Math.sqrt(lo * hi);
    if (it === 0 && sub !== null) {
      let b = next;
      let est = Number.NaN;
      for (let i = 0; i < 8; i++) {
        const d = sub(b);
        if (Math.abs(b * d.g) <= 1e-4) {
          est = b;
          break;
        }
        const dd = 2 * d.h * d.h - d.g * d.t;
        const nb = dd > 0 ? b - (2 * d.g * d.h) / dd : b - d.g / d.h;
        if (!(nb > 0 && nb < Infinity)) break;
        b = nb;
      }
      if (est > lo && est < hi) next = est;
    }
    if (next === beta) return { beta, iterations: it };
    beta = next;
    c = at(beta);
  }
  return { beta, iterations: 200 };
}

/**
 * temperatureScale's documented rescaling, restated: when the largest in-row half-spread h of the
 * finite logits makes 2h fall outside [2⁻¹⁶, 2⁹], it solves on (z − max)/c with c = 2^⌊log₂ h⌋
 * (computed as (z/2 − max/2)/(c/2)) and reports β = β′/c, T = c/β′; else on z itself. Runs the
 * restated solver on the kernel temperatureScale uses (the default: wasm when available), so the
 * path is the same bit for bit.
 */
function documentedSolve(
  rows: number[][],
  y: number[],
): { beta: number; temperature: number; iterations: number } {
  let half = 0;
  for (const row of rows) {
    const fin = row.filter((v) => v > -Infinity);
    half = Math.max(half, Math.max(...fin) / 2 - Math.min(...fin) / 2);
  }
  const c = half === 0 || (2 * half >= 2 ** -16 && 2 * half <= 2 ** 9) ? 1 : 2 ** Math.floor(Math.log2(half));
  const solved =
    c === 1
      ? rows
      : rows.map((row) => {
          const hi = Math.max(...row);
          return row.map((v) => (v / 2 - hi / 2) / (c / 2));
        });
  const want = restatedSolver(temperaturePasses(m(solved), y, "t").at, null);
  return c === 1
    ? { beta: want.beta, temperature: 1 / want.beta, iterations: want.iterations }
    : { beta: want.beta / c, temperature: c / want.beta, iterations: want.iterations };
}

/** n×K logits in [−6, 6] (0.25 grid), some off-label entries −∞, labels not all at the maximum. */
const setArb = fc
  .record({ n: fc.integer({ min: 2, max: 12 }), K: fc.integer({ min: 2, max: 5 }) })
  .chain(({ n, K }) =>
    fc.record({
      rows: gridRows(n, K, gridValue(24, 4)),
      y: fc.array(fc.integer({ min: 0, max: K - 1 }), { minLength: n, maxLength: n }),
      holes: fc.array(fc.boolean(), { minLength: n * K, maxLength: n * K }),
    }),
  )
  .map(({ rows, y, holes }) => {
    const K = rows[0].length;
    const r = rows.map((row, i) =>
      row.map((z, k) =>
        k !== y[i] && holes[i * K + k] && row.some((v, j) => j !== k && v > -Infinity) ? -Infinity : z,
      ),
    );
    // The label entry is never −∞, so every row keeps a finite maximum.
    return { rows: r, y };
  });

const m = (rows: number[][]): Matrix => fromRows(rows);

describe("nllDerivatives (the TypeScript kernel)", () => {
  // Tolerance: logits ≤ 12 apart, so |s|³ ≤ 1728; the kernel's raw-moment formula for NLL‴ cancels
  // terms of that size (ε·1728·few ≈ 1e-12); f, g, h sum terms ≤ 12² in magnitude.
  test.prop([setArb, fc.double({ min: 0.05, max: 4, noNaN: true })])(
    "equals the naive central-moment formulas",
    ({ rows, y }, beta) => {
      const n = rows.length;
      const K = rows[0].length;
      const s = new Float64Array(n * K);
      const sy = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const mx = Math.max(...rows[i]);
        for (let k = 0; k < K; k++) s[i * K + k] = rows[i][k] - mx;
        sy[i] = s[i * K + y[i]];
      }
      const got = nllDerivatives(s, sy, n, K, beta);
      const want = naive(rows, y, beta);
      expectClose(got.f, want.f, { rtol: 1e-12, atol: 1e-12 }, "f");
      expectClose(got.g, want.g, { rtol: 1e-12, atol: 1e-12 }, "g");
      expectClose(got.h, want.h, { rtol: 1e-11, atol: 1e-11 }, "h");
      expectClose(got.t, want.t, { rtol: 1e-9, atol: 1e-9 }, "t");
    },
  );

  it("reads only its n×K block, at the documented example", () => {
    const s = Float64Array.of(0, -2, 0, -2, 7, 7);
    const sy = Float64Array.of(0, -2, 9);
    expect(nllDerivatives(s, sy, 2, 2, 1)).toEqual({
      f: 1.1269280110429727,
      g: 0.7615941559557649,
      h: 0.419974341614026,
      t: -0.6397000084492245,
    });
  });
});

describe("temperaturePasses", () => {
  const kernels: ("js" | "wasm")[] = wasm ? ["js", "wasm"] : ["js"];
  for (const kernel of kernels) {
    // Tolerance: as above (sums of n terms, rows added in a different order on wasm).
    test.prop([setArb, fc.double({ min: 0.05, max: 4, noNaN: true })])(
      `(${kernel}) slopes at 0⁺ and ∞ and at(β) equal the naive formulas`,
      ({ rows, y }, beta) => {
        const p = temperaturePasses(m(rows), y, "t", kernel);
        let g0 = 0;
        let gInf = 0;
        for (let i = 0; i < rows.length; i++) {
          const mx = Math.max(...rows[i]);
          const fin = rows[i].filter((v) => v > -Infinity);
          g0 += fin.reduce((a, v) => a + (v - mx), 0) / fin.length - (rows[i][y[i]] - mx);
          gInf -= rows[i][y[i]] - mx;
        }
        expectClose(p.slopeAtZero, g0 / rows.length, { rtol: 1e-12, atol: 1e-12 }, "slope at 0");
        expectClose(p.slopeAtInfinity, gInf / rows.length, { rtol: 1e-12, atol: 1e-12 }, "slope at ∞");
        const got = p.at(beta);
        const want = naive(rows, y, beta);
        expectClose(got.f, want.f, { rtol: 1e-12, atol: 1e-12 }, "f");
        expectClose(got.g, want.g, { rtol: 1e-12, atol: 1e-12 }, "g");
        expectClose(got.h, want.h, { rtol: 1e-11, atol: 1e-11 }, "h");
        expectClose(got.t, want.t, { rtol: 1e-9, atol: 1e-9 }, "t");
        if (rows.length < 4096) expect(p.subsample).toBeNull();
      },
    );

    it(`(${kernel}) names the row whose label has probability 0, with a string or file Where`, () => {
      const F = m([
        [0, 1],
        [0, 1],
        [-Infinity, 2],
      ]);
      const msg = (w: string) =>
        `${w}: temperature scaling needs p(label) > 0 in every row; got p = 0 for the label at row 2 (NLL is +Infinity for every T)`;
      expect(() => temperaturePasses(F, [1, 0, 0], "cal", kernel)).toThrowError(new RunError(msg("cal")));
      expect(() => temperaturePasses(F, [1, 0, 0], { file: "c.csv" }, kernel)).toThrowError(msg("c.csv"));
      expect(() => temperaturePasses(F, [1, 0, 0], undefined, kernel)).toThrowError(msg("temperature"));
    });
  }

  /** 4096 rows of three logits: enough for the wasm passes to take a subsample. */
  const subsampleSet = (): { rows: number[][]; y: number[] } => {
    const rows: number[][] = [];
    const y: number[] = [];
    for (let i = 0; i < 4096; i++) {
      rows.push([0, ((i * 7) % 13) / 4 - 1.5, ((i * 5) % 11) / 5 - 1]);
      y.push(i % 3);
    }
    return { rows, y };
  };

  it("the js kernel's passes have no subsample", () => {
    const { rows, y } = subsampleSet();
    expect(temperaturePasses(m(rows), y, "t", "js").subsample).toBeNull();
  });

  it.skipIf(!wasm)("uses the wasm kernel by default (passes on ≥ 4096 rows have a subsample)", () => {
    const { rows, y } = subsampleSet();
    const n = rows.length;
    const p = temperaturePasses(m(rows), y);
    expect(p.subsample).not.toBeNull();
    // The subsample: row pairs 0, stride, 2·stride, … with stride = ⌊2048/512⌋ = 4.
    const sub: number[][] = [];
    const suby: number[] = [];
    for (let q = 0; q < n / 2; q += 4) {
      for (const i of [2 * q, 2 * q + 1]) {
        sub.push(rows[i]);
        suby.push(y[i]);
      }
    }
    for (const beta of [0.3, 1, 2.5]) {
      const got = p.subsample?.(beta);
      const want = naive(sub, suby, beta);
      expectClose(got?.f ?? Number.NaN, want.f, { rtol: 1e-12, atol: 1e-12 }, "sub f");
      expectClose(got?.g ?? Number.NaN, want.g, { rtol: 1e-12, atol: 1e-12 }, "sub g");
      expectClose(got?.h ?? Number.NaN, want.h, { rtol: 1e-11, atol: 1e-11 }, "sub h");
      expectClose(got?.t ?? Number.NaN, want.t, { rtol: 1e-9, atol: 1e-9 }, "sub t");
    }
  });
});

/** A non-separable, better-than-chance set: labels at the max logit in most rows. */
const SET = [
  [2, 0, -1],
  [0, 1.5, 0.5],
  [1, 0.5, -2],
  [0, 2, 1],
  [-1, 0, 1],
  [0.5, 1, 0],
];
const SET_Y = [0, 1, 0, 1, 2, 0];

function scaled(rows: number[][], c: number): number[][] {
  return rows.map((r) => r.map((v) => v * c));
}

describe("temperatureScale", () => {
  const base = SET;
  const y = SET_Y;

  // Tolerance: β* from NLL′(β*) = 0; NLL′ is computed to ~1e-15·scale, dβ = dg/h: rtol 1e-8.
  for (const c of [1e-3, 0.05, 1, 20, 400]) {
    it(`finds β* and reports every field (logits × ${c}: start ${c < 1 ? "below" : "above"} β*)`, () => {
      const rows = scaled(base, c);
      const r = temperatureScale(m(rows), y, { logits: true });
      const beta = referenceBeta(rows, y);
      expectClose(r.beta, beta, { rtol: 1e-8 }, "β*");
      const want = documentedSolve(rows, y);
      expect(r.temperature).toBe(want.temperature);
      expect(r.converged).toBe(true);
      expect(r.iterations).toBeGreaterThan(0);
      expect(r.iterations).toBeLessThan(200);
      expectClose(r.nllBefore, naive(rows, y, 1).f, { rtol: 1e-12 }, "NLL at T = 1");
      expectClose(r.nllAfter, naive(rows, y, r.beta).f, { rtol: 1e-12 }, "NLL at T*");
      expect(r.nllAfter).toBeLessThanOrEqual(r.nllBefore);
      // The same path as the documented solver (× 400: spreads of 1600 are solved rescaled).
      expect(r.iterations).toBe(want.iterations);
      expect(r.beta).toBe(want.beta);
      const g = naive(rows, y, r.beta).g;
      // gradient = −β·NLL′ at T*: ≈ 0, same sign convention as −β·g.
      expect(Math.abs(r.gradient)).toBeLessThanOrEqual(1e-10);
      expectClose(r.gradient, -r.beta * g, { atol: 1e-13 }, "gradient");
    });
  }

  test.prop([setArb])("β* equals a bisection on the naive NLL′ (random sets)", ({ rows: r0, y: yy }) => {
    // Validated logits are finite: −∞ holes become −7 (below every other logit).
    const rows = r0.map((r) => r.map((v) => (v === -Infinity ? -7 : v)));
    const p = temperaturePasses(m(rows), yy, "t", "js");
    fc.pre(new Set(yy).size >= 2 && p.slopeAtZero < 0 && p.slopeAtInfinity > 0);
    const r = temperatureScale(m(rows), yy, { logits: true });
    const ref = referenceBeta(rows, yy);
    expect(r.converged).toBe(true);
    if (ref > 1e-6) {
      expectClose(r.beta, ref, { rtol: 1e-7 }, "β*");
      return;
    }
    // Nearly worse than chance (seed -22912590: β* ≈ 2.5e-12): NLL is flat in β to ~1e-24 there,
    // the sign of NLL′ is rounding, and the solver stops on |dNLL/dlog T| = |β·NLL′| ≤ 1e-11 —
    // so compare what it promises: the NLL at its β is the minimum's to rounding.
    expect(Math.abs(r.gradient)).toBeLessThanOrEqual(1e-11);
    expect(naive(rows, yy, r.beta).f).toBeLessThanOrEqual(naive(rows, yy, ref).f + 1e-13);
  });

  test.prop([setArb])("takes the documented solver's steps (random sets)", ({ rows: r0, y: yy }) => {
    const rows = r0.map((r) => r.map((v) => (v === -Infinity ? -7 : v)));
    const p = temperaturePasses(m(rows), yy, "t", "js");
    fc.pre(new Set(yy).size >= 2 && p.slopeAtZero < 0 && p.slopeAtInfinity > 0);
    const r = temperatureScale(m(rows), yy, { logits: true });
    // The same kernel as temperatureScale (the js one could stop a step apart when β* is tiny:
    // seed -22912590 had β* = 2.5e-12, where |β·NLL′| ≤ 1e-11 holds for either rounding).
    const want = documentedSolve(rows, yy);
    expect(r.iterations).toBe(want.iterations);
    expect(r.beta).toBe(want.beta);
  });

  it("gaps of 1000 (NLL″ underflows to 0 at T = 1): solved rescaled (spread > 2⁹), same path", () => {
    const rows = [
      [0, 1000],
      [0, 1000],
      [0, 1000],
    ];
    const yy = [1, 1, 0];
    const r = temperatureScale(m(rows), yy, { logits: true });
    // sigmoid(1000 β*) = 2/3. The stop |β·NLL′| ≤ 1e-11 leaves |NLL′| ≤ 1.5e-8 and NLL″ = 1e6·2/9,
    // so |β − β*| ≤ 7e-14 = 1e-10 relative.
    expectClose(r.beta, Math.log(2) / 1000, { rtol: 1e-10 }, "β*");
    expect(r.converged).toBe(true);
    const want = documentedSolve(rows, yy);
    expect(r.iterations).toBe(want.iterations);
    expect(r.beta).toBe(want.beta);
  });

  /** 5000 rows: large enough for the subsample start. */
  const largeSet = (): { rows: number[][]; yy: number[] } => {
    const rows: number[][] = [];
    const yy: number[] = [];
    for (let i = 0; i < 5000; i++) {
      const a = ((i * 7919) % 101) / 25 - 2;
      const b = ((i * 104729) % 97) / 24 - 2;
      rows.push([5 * a, 5 * b, 0]);
      yy.push((i * 31) % 7 < 4 ? (a > b ? (a > 0 ? 0 : 2) : b > 0 ? 1 : 2) : i % 3);
    }
    return { rows, yy };
  };

  it("on ≥ 4096 rows (subsample start) lands on the same β* as bisection", () => {
    const { rows, yy } = largeSet();
    const r = temperatureScale(m(rows), yy, { logits: true });
    expectClose(r.beta, referenceBeta(rows, yy), { rtol: 1e-8 }, "β*");
    expect(r.converged).toBe(true);
  });

  it.skipIf(!wasm)(
    "on ≥ 4096 rows the wasm kernel's subsample start takes the restated solver's steps",
    () => {
      const { rows, yy } = largeSet();
      const r = temperatureScale(m(rows), yy, { logits: true });
      // The subsample: row pairs 0, stride, … with stride = ⌊2500/512⌋ = 4.
      const sub: number[][] = [];
      const suby: number[] = [];
      for (let q = 0; q < 2500; q += 4) {
        for (const i of [2 * q, 2 * q + 1]) {
          sub.push(rows[i]);
          suby.push(yy[i]);
        }
      }
      const want = restatedSolver(
        temperaturePasses(m(rows), yy, "t", "js").at,
        temperaturePasses(m(sub), suby, "t", "js").at,
      );
      expect(r.iterations).toBe(want.iterations);
      const plain = restatedSolver(temperaturePasses(m(rows), yy, "t", "js").at, null);
      // The subsample start saves a full pass here (β* ≈ 0.19, far from the start β = 1): 3 vs 4.
      expect(want.iterations).toBeLessThan(plain.iterations);
    },
  );

  it("takes probabilities as log p (binary n×1 = logits (0, z))", () => {
    const probs = base.map((r) => {
      const e = r.map(Math.exp);
      const s = e.reduce((a, b) => a + b, 0);
      return e.map((v) => v / s);
    });
    const a = temperatureScale(m(probs), y);
    expectClose(a.beta, referenceBeta(base, y), { rtol: 1e-8 }, "β* from probabilities");
    const bin = [[1], [-0.5], [2], [0.3], [-1]];
    const yb = [1, 0, 1, 0, 0];
    const b = temperatureScale(m(bin), yb, { logits: true });
    expectClose(
      b.beta,
      referenceBeta(
        bin.map((r) => [0, r[0]]),
        yb,
      ),
      { rtol: 1e-8 },
      "binary β*",
    );
  });

  it("explains each set it cannot fit", () => {
    const equal = m([
      [1, 1],
      [2, 2],
    ]);
    expect(() => temperatureScale(equal, [0, 1], { logits: true }, { file: "e.csv" })).toThrowError(
      new RunError(
        "e.csv: temperature scaling needs informative logits; got logits equal within every row (NLL is the same for every T)",
      ),
    );
    const worse = m([
      [0, 1],
      [1, 0],
    ]);
    expect(() => temperatureScale(worse, [0, 1], { logits: true }, "w")).toThrowError(
      "w: temperature scaling needs better-than-chance logits; got dNLL/dβ = 0.5 ≥ 0 at β = 1/T = 0, so the optimum is at β ≤ 0 (T ≤ 0 or T = ∞) — check that the columns are in class order and match the labels",
    );
    const chance = m([
      [0, 1],
      [0, 1],
    ]);
    expect(() => temperatureScale(chance, [0, 1], { logits: true })).toThrowError(
      "temperature: temperature scaling needs better-than-chance logits; got dNLL/dβ = 0 ≥ 0",
    );
    const separable = m([
      [1, 0],
      [0, 1],
    ]);
    expect(() => temperatureScale(separable, [0, 1], { logits: true }, "s")).toThrowError(
      new RunError(
        "s: temperature scaling needs a non-separable calibration set; got every label at its row's largest logit, so NLL keeps decreasing as T → 0 — use more calibration data",
      ),
    );
  });
});

describe("applyTemperature and TemperatureScaling", () => {
  test.prop([setArb, fc.double({ min: 0.1, max: 10, noNaN: true })])(
    "applyTemperature is softmax(z / T) row by row",
    ({ rows }, T) => {
      const out = applyTemperature(m(rows), T);
      expect([out.rows, out.cols]).toEqual([rows.length, rows[0].length]);
      const want: number[] = [];
      for (const r of rows) {
        const zs = r.map((z) => z / T);
        const mx = Math.max(...zs);
        const e = zs.map((z) => Math.exp(z - mx));
        const s = e.reduce((a, b) => a + b, 0);
        want.push(...e.map((v) => v / s));
      }
      // Tolerance: a few roundings of exp/divide per entry.
      expectClose(out.data, want, { rtol: 1e-13, atol: 1e-16 }, "softmax(z/T)");
    },
  );

  it("fits, transforms (logits and probabilities), serializes and reloads", () => {
    const rows = SET;
    const y = SET_Y;
    const ts = new TemperatureScaling();
    expect(() => ts.transform(m(rows), { logits: true })).toThrowError(
      "temperature: call fit() before transform() or toJSON()",
    );
    expect(() => ts.transformLogits(m(rows), { logits: true })).toThrowError(RangeError);
    expect(() => ts.toJSON()).toThrowError(RangeError);
    // Half-fitted (a temperature without classes, or classes without a temperature): not fitted.
    const nf = new RangeError("temperature: call fit() before transform() or toJSON()");
    for (const half of [new TemperatureScaling(2), new TemperatureScaling(undefined, 3)]) {
      expect(() => half.transform(m(rows), { logits: true })).toThrowError(nf);
      expect(() => half.transformLogits(m(rows), { logits: true })).toThrowError(nf);
      expect(() => half.toJSON()).toThrowError(nf);
    }
    // The default label in transform/transformLogits messages.
    const two = m([[1, 2]]);
    const cols = new InputError("temperature: expected 3 columns (one per class); got 2");
    expect(() => new TemperatureScaling(2, 3).transform(two, { logits: true })).toThrowError(cols);
    expect(() => new TemperatureScaling(2, 3).transformLogits(two, { logits: true })).toThrowError(cols);
    expect(() => new TemperatureScaling(2, 3).transformLogits(two, { logits: true }, "x.csv")).toThrowError(
      /^x\.csv: /,
    );
    expect(() => new TemperatureScaling().fit(m([[1, 2]]), [0], { logits: true })).toThrowError(
      /^temperature: /,
    );
    expect(ts.fit(m(rows), y, { logits: true })).toBe(ts);
    const T = ts.temperature ?? Number.NaN;
    expect(ts.classes).toBe(3);
    expect(ts.lastFit?.temperature).toBe(T);
    expect(ts.toJSON()).toEqual({
      format: "softcal-recalibrator",
      version: 1,
      method: "temperature",
      classes: 3,
      temperature: T,
    });
    const zl = ts.transformLogits(m(rows), { logits: true });
    expect(Array.from(zl.data)).toEqual(rows.flat().map((z) => z * (1 / T)));
    expect(ts.transform(m(rows), { logits: true }).data).toEqual(applyTemperature(m(rows), T).data);
    const probs = applyTemperature(m(rows), 1);
    const logp = { ...probs, data: probs.data.map(Math.log) };
    expect(ts.transform(probs).data).toEqual(applyTemperature(logp, T).data);
    expect(Array.from(ts.transformLogits(probs).data)).toEqual(Array.from(logp.data).map((z) => z * (1 / T)));
    const back = TemperatureScaling.fromJSON({ temperature: T }, 3, "r.json");
    expect([back.temperature, back.classes]).toEqual([T, 3]);
    expect(() => TemperatureScaling.fromJSON({ temperature: 0 }, 3, "r.json")).toThrowError(
      new InputError('r.json: expected "temperature" > 0; got 0'),
    );
    expect(() => TemperatureScaling.fromJSON({ temperature: -1 }, 3, "r.json")).toThrowError(InputError);
    const bin = new TemperatureScaling().fit(m([[1], [-0.5], [2], [0.3], [-1]]), [1, 0, 1, 0, 0], {
      logits: true,
    });
    expect(bin.classes).toBe(2);
  });
});
