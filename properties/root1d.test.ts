/**
 * Properties of `increasingRoot` (src/optim/root1d.ts), the safeguarded 1-D root finder behind
 * temperature scaling (called `solveBeta` below, in the β = 1/T of its one caller), driven by constructed derivative callbacks instead of
 * calibration sets. Real NLL′ curves never leave Halley's step (docs/mutation.md: a search over
 * 20 000 random sets found no other step than Halley's and ÷4), so the fallbacks — Newton when
 * Halley leaves the bracket, ×4 / ÷4 / geometric bisection, the bracket-collapse stop, the
 * "step = β" stop, the 200-step cap and the subsample estimate's exits — are reached here with
 * callbacks whose g is increasing but whose h and t mislead the steps (wrong scale, zero, a
 * Halley denominator of exactly 0), each path pinned by hand-computed points, and the whole
 * sequence of evaluated β compared bit for bit with the documented algorithm restated.
 */
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import type { NllDerivatives } from "../src/kernels/temperature.js";
import { increasingRoot } from "../src/optim/root1d.js";

/** increasingRoot in temperature scaling's terms: the root is β. */
function solveBeta(at: Pass, rough: Pass | null, beta0: number, d0: NllDerivatives) {
  const { x: beta, last, iterations, converged } = increasingRoot(at, rough, beta0, d0);
  return { beta, last, iterations, converged };
}

type Pass = (beta: number) => NllDerivatives;

/** A pass that records where it was evaluated. */
function recorded(pass: Pass): { pass: Pass; visits: number[] } {
  const visits: number[] = [];
  return {
    visits,
    pass: (beta) => {
      visits.push(beta);
      return pass(beta);
    },
  };
}

/** solveBeta from β₀ (d₀ = at(β₀), not counted as a visit) with every evaluation recorded. */
function run(at: Pass, sub: Pass | null, beta0 = 1) {
  const a = recorded(at);
  const s = sub === null ? null : recorded(sub);
  const r = solveBeta(a.pass, s === null ? null : s.pass, beta0, at(beta0));
  return { ...r, visits: a.visits, subVisits: s === null ? [] : s.visits };
}

/**
 * The documented algorithm (solveBeta's doc comment) restated step by step, recording every
 * evaluation of the full pass and of the subsample pass.
 */
function restated(at: Pass, sub: Pass | null, beta0 = 1) {
  const visits: number[] = [];
  const subVisits: number[] = [];
  let beta = beta0;
  let d = at(beta0);
  let lo = 0;
  let hi = Infinity;
  const inside = (x: number) => lo < x && x < hi;
  for (let step = 0; step < 200; step++) {
    if (d.g < 0) lo = beta;
    else hi = beta;
    const collapsed = hi !== Infinity && hi - lo <= 4 * 2 ** -52 * hi;
    if (Math.abs(beta * d.g) <= 1e-11 || collapsed)
      return { beta, iterations: step, converged: true, visits, subVisits };
    const newton = beta - d.g / d.h;
    const den = 2 * d.h ** 2 - d.g * d.t;
    let next: number;
    if (den > 0 && inside(beta - (2 * d.g * d.h) / den)) next = beta - (2 * d.g * d.h) / den;
    else if (inside(newton)) next = newton;
    else if (hi === Infinity) next = 4 * lo;
    else if (lo === 0) next = hi / 4;
    else next = Math.sqrt(lo * hi);
    if (step === 0 && sub !== null) {
      // Subsample estimate: Halley (else Newton) steps from `next` until |b·g| ≤ 1e-4, ≤ 8 passes;
      // no estimate when a step leaves (0, ∞) or is NaN.
      let b = next;
      let estimate = Number.NaN;
      for (let pass = 1; pass <= 8; pass++) {
        subVisits.push(b);
        const e = sub(b);
        if (Math.abs(b * e.g) <= 1e-4) {
          estimate = b;
          break;
        }
        const dd = 2 * e.h ** 2 - e.g * e.t;
        b = dd > 0 ? b - (2 * e.g * e.h) / dd : b - e.g / e.h;
        if (Number.isNaN(b) || b <= 0 || b === Infinity) break;
      }
      if (inside(estimate)) next = estimate;
    }
    if (next === beta) return { beta, iterations: step, converged: true, visits, subVisits };
    beta = next;
    visits.push(beta);
    d = at(beta);
  }
  return { beta, iterations: 200, converged: false, visits, subVisits };
}

/** g = a·(β − r) with constant, possibly misleading, h and t. */
const linear =
  (a: number, r: number, h: number, t: number): Pass =>
  (b) => ({ f: 0, g: a * (b - r), h, t });

/** g = log(β/r) with h = 1/β, t = −1/β² (consistent), both scaled by hs and ts. */
const logarithmic =
  (r: number, hs: number, ts: number): Pass =>
  (b) => ({ f: 0, g: Math.log(b / r), h: hs / b, t: (-ts / b) * (1 / b) });

/** Constant g, h and t (g < 0: the root is at +∞). */
const constant =
  (g: number, h: number, t: number): Pass =>
  () => ({ f: 0, g, h, t });

/** g = −1 below r, +1 from r on (a step), with constant h and t. */
const step =
  (r: number, h: number, t: number): Pass =>
  (b) => ({ f: 0, g: b < r ? -1 : 1, h, t });

function expectSame(got: ReturnType<typeof run>, want: ReturnType<typeof restated>, what: string): void {
  expect(got.visits, `${what}: β evaluated`).toEqual(want.visits);
  expect(got.subVisits, `${what}: subsample β evaluated`).toEqual(want.subVisits);
  expect(Object.is(got.beta, want.beta), `${what}: β ${got.beta} vs ${want.beta}`).toBe(true);
  expect(got.iterations, `${what}: iterations`).toBe(want.iterations);
  expect(got.converged, `${what}: converged`).toBe(want.converged);
  expect(got.visits.length, `${what}: one evaluation per step`).toBe(got.iterations);
}

describe("solveBeta: each fallback, by hand", () => {
  it("documented example: Halley on g = β − 2 from 1 lands on 2", () => {
    const r = run(linear(1, 2, 1, 0), null);
    expect(r).toEqual({
      beta: 2,
      last: { f: 0, g: 0, h: 1, t: 0 },
      iterations: 1,
      converged: true,
      visits: [2],
      subVisits: [],
    });
  });

  it("Halley leaves the bracket (den small), so Newton's step is taken", () => {
    // g = β − 1/2, h = 1, t = 3.875 at β = 1: den = 2 − 0.5·3.875 = 0.0625, Halley's step
    // 1 − 2·0.5/0.0625 = −15 ∉ (0, 1); Newton's 1 − 0.5 = 0.5 is the root.
    const r = run(linear(1, 0.5, 1, 3.875), null);
    expect(r.visits).toEqual([0.5]);
    expect(r).toMatchObject({ beta: 0.5, iterations: 1, converged: true });
    // From the left (β = 0.25, g = −0.25 ⇒ lo = 0.25): t = −7.75 gives den = 2 − 1.9375 = 0.0625 and
    // Halley's step 0.25 + 8 = 8.25, inside (0.25, ∞), so it is taken although it overshoots.
    const l = run(linear(1, 0.5, 1, -7.75), null, 0.25);
    expect(l.visits[0]).toBe(8.25);
    // Then β = 8.25 ⇒ hi = 8.25, g = 7.75: den = 2 + 7.75·7.75 > 0, Halley 8.25 − 15.5/62.0625 stays inside.
    expect(l.visits[1]).toBe(8.25 - (2 * 7.75) / (2 - 7.75 * -7.75));
  });

  it("a Halley denominator ≤ 0 (or exactly 0) takes Newton's step", () => {
    // g = β − 3, h = 1, t = 2 at β = 1: den = 2 − (−2)(2) = 6 > 0: Halley 1 + 4/6.
    expect(run(linear(1, 3, 1, 2), null).visits[0]).toBe(1 + 4 / 6);
    // t = −1: den = 2 − 2 = 0 ⇒ Newton: 1 + 2 = 3 (the root).
    expect(run(linear(1, 3, 1, -1), null).visits).toEqual([3]);
    // t = −4: den = −6 ⇒ Newton: 3.
    expect(run(linear(1, 3, 1, -4), null).visits).toEqual([3]);
  });

  it("×4 while the bracket is open above (NLL″ = 0 below the root), then geometric bisection", () => {
    // g = β − 100, h = 0: Newton's step is β + ∞, outside (lo, ∞), so β = 4, 16, 64, 256; g(256) > 0
    // closes the bracket at [64, 256]; Newton's β − ∞ leaves it, so √(64·256) = 128, then √(64·128).
    const r = run(linear(1, 100, 0, 0), null);
    expect(r.visits.slice(0, 6)).toEqual([4, 16, 64, 256, 128, Math.sqrt(64 * 128)]);
    expect(r.converged).toBe(true);
    // It stops on |β·g| ≤ 1e-11 or on a bracket 4 ulps wide, both within 4ε·100 + 1e-13 of 100.
    expect(Math.abs(r.beta - 100)).toBeLessThanOrEqual(4 * 2 ** -52 * 100 * 2);
    expect(r.iterations).toBeLessThan(200);
  });

  it("÷4 while the bracket is open below (lo = 0), then geometric bisection", () => {
    const r = run(linear(1, 0.01, 0, 0), null);
    expect(r.visits.slice(0, 5)).toEqual([
      0.25,
      0.0625,
      0.015625,
      0.00390625,
      Math.sqrt(0.00390625 * 0.015625),
    ]);
    expect(r.converged).toBe(true);
    // |β·g| = β·|β − 0.01| ≤ 1e-11 with β ≈ 0.01 ⇒ |β − 0.01| ≤ 1e-9 (a 4-ulp bracket is tighter).
    expect(Math.abs(r.beta - 0.01)).toBeLessThanOrEqual(1.01e-9);
  });

  it("stops when the bracket collapses to 4 ulps (g never small: a step of ±1)", () => {
    const r = run(step(3, 0, 0), null);
    expect(r.visits.slice(0, 3)).toEqual([4, 2, Math.sqrt(8)]);
    expect(r.converged).toBe(true);
    // The root 3 is inside [lo, hi] with hi − lo ≤ 4ε·hi; β is one end; |β·g| = β ≫ 1e-11.
    expect(Math.abs(r.beta - 3)).toBeLessThanOrEqual(4 * 2 ** -52 * 3.0000001);
    // The bracket was wider than 4ε·hi at the step before (else it would have stopped there): a
    // geometric bisection halves log(hi/lo), from log 2 (after [2, 4]) to ≈ 4ε: ≈ 50 steps.
    expect(r.iterations).toBeGreaterThan(45);
    expect(r.iterations).toBeLessThan(60);
    // Each bisection point is √(lo·hi) of the current bracket: restated below for the whole path.
    expectSame(r, restated(step(3, 0, 0), null), "step at 3");
  });

  it("stops when the step equals β: g < 0 everywhere runs β up to +∞ by ×4", () => {
    // From 1e300: 4e300, …, 4⁴·1e300 = 2.56e302, …; 4·β overflows to ∞, where 4·∞ = ∞ = β.
    const r = run(constant(-1, 0, 0), null, 1e300);
    const want: number[] = [];
    for (let b = 4 * 1e300; b < Infinity; b *= 4) want.push(b);
    want.push(Infinity);
    expect(r.visits).toEqual(want);
    expect(r).toMatchObject({ beta: Infinity, converged: true, iterations: want.length });
  });

  it("gives up after 200 steps (converged false) when the steps crawl", () => {
    // g = β − 2 with h = 10⁶ (a million times too large) and t = 0: each Halley step moves β by
    // g/h ≈ 1e-6, so after 200 steps β ≈ 1.0002 and |β·g| ≈ 1 ≫ 1e-11.
    const r = run(linear(1, 2, 1e6, 0), null);
    expect(r.iterations).toBe(200);
    expect(r.converged).toBe(false);
    expect(r.visits.length).toBe(200);
    expect(r.beta).toBe(r.visits[199]);
    expect(r.last.g).toBe(r.beta - 2);
    expect(r.beta).toBeGreaterThan(1.0001);
    expect(r.beta).toBeLessThan(1.0003);
  });
});

describe("solveBeta: the subsample's first estimate, by hand", () => {
  // Full pass: g = β − 1/2, h = 1, t = 0 ⇒ from β = 1 (hi = 1) Halley's step is exactly 0.5.
  // (Dyadic roots keep every step exact.)
  const full = linear(1, 0.5, 1, 0);

  it("is used when it lies inside the bracket", () => {
    // Subsample root 0.625: Halley from 0.5 lands on it (|0.625·0| ≤ 1e-4), inside (0, 1).
    const r = run(full, linear(1, 0.625, 1, 0));
    expect(r.subVisits).toEqual([0.5, 0.625]);
    // Then the full pass (g = 0.125 > 0 ⇒ hi = 0.625) takes Halley back to its own root 0.5.
    expect(r.visits).toEqual([0.625, 0.5]);
    expect(r.iterations).toBe(2);
  });

  it("is ignored when it lies outside the bracket (full root 0.5 < 1 < subsample root 3)", () => {
    const r = run(full, linear(1, 3, 1, 0));
    expect(r.subVisits).toEqual([0.5, 3]);
    expect(r.visits).toEqual([0.5]);
  });

  it("stops at |b·g| ≤ 1e-4 (not at the root)", () => {
    // Subsample g = 1e-4·(b − 0.7) at b = 0.5: |0.5·g| = 1e-5 ≤ 1e-4, so the estimate is 0.5 itself.
    const r = run(full, linear(1e-4, 0.7, 1, 0));
    expect(r.subVisits).toEqual([0.5]);
    expect(r.visits).toEqual([0.5]);
  });

  it("takes Newton's step when the Halley denominator is ≤ 0 (= 0 here)", () => {
    // Subsample g = b − 0.75, h = 1, t = −8 at b = 0.5: den = 2 − (−0.25)(−8) = 0 ⇒ Newton: 0.75.
    const r = run(full, linear(1, 0.75, 1, -8));
    expect(r.subVisits).toEqual([0.5, 0.75]);
    expect(r.visits[0]).toBe(0.75);
    // den < 0 (t = −16): Newton again.
    expect(run(full, linear(1, 0.75, 1, -16)).subVisits).toEqual([0.5, 0.75]);
    // den > 0 (t = 4): Halley, 0.5 + 0.5/(2 + 1) ≠ Newton's 0.75.
    expect(run(full, linear(1, 0.75, 1, 4)).subVisits.slice(0, 2)).toEqual([0.5, 0.5 + (2 * 0.25) / 3]);
  });

  it("gives none after 8 passes, or when a step leaves (0, ∞) (a separable-looking subsample)", () => {
    // Crawling steps (h = 10⁶): 8 passes, no estimate; the solver's own step 0.5 stays.
    const crawl = run(full, linear(1, 2, 1e6, 0));
    expect(crawl.subVisits.length).toBe(8);
    expect(crawl.visits).toEqual([0.5]);
    // g < 0 everywhere with h = 0: Newton's step is +∞, outside (0, ∞): one pass, no estimate.
    const sep = run(full, constant(-1, 0, 0));
    expect(sep.subVisits).toEqual([0.5]);
    expect(sep.visits).toEqual([0.5]);
    // A step below 0: g = b − 0.01 with h = 0.01, t = 0: Newton/Halley 0.5 − 49 < 0.
    const neg = run(full, linear(1, 0.01, 0.01, 0));
    expect(neg.subVisits).toEqual([0.5]);
    expect(neg.visits).toEqual([0.5]);
  });

  it("is tried on the first step only", () => {
    const sub = recorded(linear(1, 0.6, 1, 0));
    solveBeta(linear(1, 0.5, 1e3, 0), sub.pass, 1, linear(1, 0.5, 1e3, 0)(1));
    // The full pass crawls (h = 1000), the subsample is asked only from the first step's point.
    expect(sub.visits[0]).toBe(1 - 0.5 / 1000);
    expect(sub.visits.length).toBe(2);
  });
});

/** A pass given exactly at some points (by β), else by `rest`. */
function table(points: [number, NllDerivatives][], rest: Pass): Pass {
  const m = new Map(points);
  return (b) => m.get(b) ?? rest(b);
}
const d = (g: number, h: number, t: number): NllDerivatives => ({ f: 0, g, h, t });

describe("solveBeta: the documented inequalities at equality", () => {
  it("stops at |β·g| = 1e-11 and, on the subsample, at |b·g| = 1e-4 (≤, not <)", () => {
    const r = solveBeta(linear(1, 1 - 1e-11, 1, 0), null, 1, d(1e-11, 1, 0));
    expect(r).toMatchObject({ beta: 1, iterations: 0, converged: true });
    // Subsample g = 4e-4·b at b = 0.5: 0.5·(4e-4·0.5) is the double 1e-4 (scalings by 2 are exact).
    const s = run(linear(1, 0.5, 1, 0), linear(4e-4, 0, 1, 0));
    expect(s.subVisits).toEqual([0.5]);
    expect(s.visits).toEqual([0.5]);
  });

  it("stops on a bracket exactly 4ε·hi wide", () => {
    // From β₀ = 2 − 2⁻⁴⁹ (g < 0, so lo = β₀), Halley's step −g/h = 2⁻⁴⁹ lands on 2 exactly, where
    // g > 0: hi − lo = 2⁻⁴⁹ = 4·2⁻⁵²·2. |β·g| is far above 1e-11 at both points.
    const lo = 2 - 2 ** -49;
    const pass = table(
      [
        [lo, d(-(2 ** -30), 2 ** 19, 0)],
        [2, d(1, 1, 0)],
      ],
      linear(1, 2, 1, 0),
    );
    const r = run(pass, null, lo);
    expect(r.visits).toEqual([2]);
    expect(r).toMatchObject({ beta: 2, iterations: 1, converged: true });
  });

  it("a step exactly on an end of the bracket is outside it (Halley → Newton → bisection)", () => {
    // From 1 (g = 0.5 > 0: bracket (0, 1]): t = 2 makes den = 1 and Halley's step exactly 0 = lo;
    // Newton's 0.5 is taken.
    expect(run(linear(1, 0.5, 1, 2), null).visits[0]).toBe(0.5);
    // t = 1.5: Halley 1 − 2/0.5 = −3, Newton exactly 0 = lo ⇒ ÷4: 0.25.
    expect(run(linear(1, 0, 1, 1.5), null).visits[0]).toBe(0.25);
    // Bracket [0.5, 1] at β = 0.5 (g = −0.5): Halley exactly 1 = hi (den = 8 − 4 = 4), Newton
    // 0.5 + 0.5/2 = 0.75 inside ⇒ 0.75.
    const halleyOnHi = table(
      [
        [1, d(1, 2, 0)],
        [0.5, d(-0.5, 2, -8)],
      ],
      linear(1, 0.75, 1, 0),
    );
    expect(run(halleyOnHi, null).visits.slice(0, 2)).toEqual([0.5, 0.75]);
    // Same bracket, h = 1, t = −3: Halley 0.5 + 1/0.5 = 2.5 outside, Newton exactly 1 = hi ⇒ √0.5.
    const newtonOnHi = table(
      [
        [1, d(1, 2, 0)],
        [0.5, d(-0.5, 1, -3)],
      ],
      linear(1, 0.75, 1, 0),
    );
    expect(run(newtonOnHi, null).visits.slice(0, 2)).toEqual([0.5, Math.sqrt(0.5)]);
    // den ≤ 0 with h ≠ 1 (Newton β − g/h, not β − g·h): g = −2, h = 2, t = −4 ⇒ den = 0 ⇒ 1 + 1 = 2.
    expect(run(linear(1, 3, 2, -4), null).visits[0]).toBe(2);
  });

  it("a subsample step of exactly 0, or an estimate exactly on an end of the bracket, is not used", () => {
    // Subsample g = b, h = 1, t = 4 at b = 0.5: den = 2 − 2 = 0, Newton's step is exactly 0 ∉ (0, ∞).
    const zero = run(linear(1, 0.5, 1, 0), linear(1, 0, 1, 4));
    expect(zero.subVisits).toEqual([0.5]);
    expect(zero.visits).toEqual([0.5]);
    // Estimate exactly hi = 1 (subsample root 1, bracket (0, 1]).
    const onHi = run(linear(1, 0.5, 1, 0), linear(1, 1, 1, 0));
    expect(onHi.subVisits).toEqual([0.5, 1]);
    expect(onHi.visits).toEqual([0.5]);
    // Estimate exactly lo = 1: full root 2 (g(1) < 0: bracket [1, ∞)), first step 2, subsample
    // root 1 reached from 2 in one Halley step.
    const onLo = run(linear(1, 2, 1, 0), linear(1, 1, 1, 0));
    expect(onLo.subVisits).toEqual([2, 1]);
    expect(onLo.visits).toEqual([2]);
    expect(onLo).toMatchObject({ beta: 2, iterations: 1, converged: true });
  });
});

/** Misleading scales for h: zero, underflowing, small, right, large, huge. */
const hScale = fc.constantFrom(0, 1e-300, 0.01, 1, 30, 1e6);
const tValue = fc.oneof(fc.constantFrom(0, -1, 1), fc.double({ min: -50, max: 50, noNaN: true }));
const root = fc.double({ min: -9, max: 9, noNaN: true }).map((e) => 2 ** e);

const passArb: fc.Arbitrary<{ name: string; pass: Pass }> = fc.oneof(
  fc.tuple(fc.double({ min: 1e-3, max: 1e3, noNaN: true }), root, hScale, tValue).map(([a, r, h, t]) => ({
    name: `linear a=${a} r=${r} h=${h} t=${t}`,
    pass: linear(a, r, a * h, t),
  })),
  fc.tuple(root, hScale, fc.double({ min: -4, max: 4, noNaN: true })).map(([r, hs, ts]) => ({
    name: `log r=${r} hs=${hs} ts=${ts}`,
    pass: logarithmic(r, hs, ts),
  })),
  fc
    .tuple(root, hScale, tValue)
    .map(([r, h, t]) => ({ name: `step r=${r} h=${h} t=${t}`, pass: step(r, h, t) })),
);

describe("solveBeta: the documented algorithm on constructed increasing g", () => {
  test.prop([passArb, fc.option(passArb, { nil: null }), root])(
    "evaluates the same β sequence as the restated algorithm, and stops on a bracketed root",
    ({ name, pass }, sub, beta0) => {
      const got = run(pass, sub === null ? null : sub.pass, beta0);
      expectSame(got, restated(pass, sub === null ? null : sub.pass, beta0), name);
      // Every evaluation is in (0, ∞): the roots lie in [2⁻⁹, 2⁹], far from under/overflow.
      for (const b of got.visits) expect(b > 0 && b < Infinity, `${name}: β = ${b}`).toBe(true);
      if (got.converged) {
        // Stopped on |β·g| ≤ 1e-11, or on a bracket [lo, hi] ∋ root with hi − lo ≤ 4ε·hi.
        const g = pass(got.beta).g;
        // (β·(1 ± 2⁻⁴⁸) lies outside a bracket 4ε·hi = 2⁻⁵⁰·hi wide that has β at one end.)
        const bracketed = pass(got.beta * (1 - 2 ** -48)).g * pass(got.beta * (1 + 2 ** -48)).g <= 0;
        expect(Math.abs(got.beta * g) <= 1e-11 || bracketed, `${name}: stopped at β = ${got.beta}`).toBe(
          true,
        );
      } else {
        expect(got.iterations).toBe(200);
      }
    },
  );
});
