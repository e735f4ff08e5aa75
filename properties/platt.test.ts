/**
 * Contract tests of src/calibration/recalibrators/platt.ts: each case kills a mutant that
 * survived `npm run mutate` (docs/mutation.md maps them): the fit against the documented solver restated (Newton on
 * the mean cross-entropy with Platt's targets, from a = 0, b = log((N₊+1)/(N₋+1)), Armijo
 * backtracking by halving, stop at max-norm mean gradient ≤ 1e-12 or 100 iterations) — a, b bit
 * for bit, iteration count and converged flag; the fitted point's optimality against a naive
 * gradient; the score f of each input form; transform against the naive sigmoid at both tails and
 * for f = ±∞; JSON and exact messages.
 */
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { PlattScaling } from "../src/calibration/recalibrators/platt.js";
import { createRecalibrator, recalibratorFromJSON } from "../src/calibration/recalibrators/registry.js";
import { InputError } from "../src/errors.js";
import { fromRows, type Matrix } from "../src/linalg/matrix.js";
import { expectClose } from "./_shared/expectClose.js";

const m = (rows: number[][]): Matrix => fromRows(rows);

const softplus = (u: number): number => Math.max(u, 0) + Math.log1p(Math.exp(-Math.abs(u)));
const sigmoid = (u: number): number => (u >= 0 ? 1 / (1 + Math.exp(-u)) : Math.exp(u) / (1 + Math.exp(u)));

/**
 * The documented solver restated: mean objective F/n, mean gradient, mean Hessian (with the 1e-12
 * ridge on the diagonal that keeps a flat start invertible), Newton direction, Armijo sufficient
 * decrease c = 1e-4 with step halving down to 1e-10.
 */
function restatedPlatt(f: number[], y: number[], smoothing: boolean) {
  const n = f.length;
  const nPos = y.filter((v) => v === 1).length;
  const nNeg = n - nPos;
  const tP = smoothing ? (nPos + 1) / (nPos + 2) : 1;
  const tN = smoothing ? 1 / (nNeg + 2) : 0;
  const t = y.map((v) => (v === 1 ? tP : tN));
  const F = (a: number, b: number): number => {
    let s = 0;
    for (let i = 0; i < n; i++) {
      const u = a * f[i] + b;
      s += softplus(u) - t[i] * u;
    }
    return s / n;
  };
  let a = 0;
  let b = Math.log((nPos + 1) / (nNeg + 1));
  let fv = F(a, b);
  let it = 0;
  let converged = false;
  while (it < 100) {
    let ga = 0;
    let gb = 0;
    let haa = 1e-12;
    let hab = 0;
    let hbb = 1e-12;
    for (let i = 0; i < n; i++) {
      const p = sigmoid(a * f[i] + b);
      const r = p - t[i];
      const w = p * (1 - p);
      ga += r * f[i];
      gb += r;
      haa += w * f[i] * f[i];
      hab += w * f[i];
      hbb += w;
    }
    ga /= n;
    gb /= n;
    if (Math.max(Math.abs(ga), Math.abs(gb)) <= 1e-12) {
      converged = true;
      break;
    }
    haa /= n;
    hab /= n;
    hbb /= n;
    const det = haa * hbb - hab * hab;
    const da = -(hbb * ga - hab * gb) / det;
    const db = -(-hab * ga + haa * gb) / det;
    const slope = ga * da + gb * db;
    let step = 1;
    let ok = false;
    for (; step >= 1e-10; step /= 2) {
      const nf = F(a + step * da, b + step * db);
      if (nf <= fv + 1e-4 * step * slope) {
        a += step * da;
        b += step * db;
        fv = nf;
        ok = true;
        break;
      }
    }
    if (!ok) break;
    it++;
  }
  return { a, b, iterations: it, converged, t };
}

/**
 * Fits PlattScaling to scores f (default options when `smoothing` is undefined: target smoothing
 * on) and asserts its path equals the restatement's: the same a and b (bit for bit), iterations
 * and convergence. Returns both.
 */
function expectRestatedPath(f: number[], y: number[], smoothing?: boolean) {
  const platt =
    smoothing === undefined ? new PlattScaling() : new PlattScaling({ targetSmoothing: smoothing });
  const fit = platt.fit(m(f.map((v) => [v])), y, { logits: true });
  const restated = restatedPlatt(f, y, smoothing ?? true);
  expect([fit.a, fit.b, fit.lastFit?.iterations, fit.lastFit?.converged]).toEqual([
    restated.a,
    restated.b,
    restated.iterations,
    restated.converged,
  ]);
  return { fit, restated };
}

/** Binary scores with labels (both classes present), at several scales. */
const setArb = fc
  .record({
    scale: fc.constantFrom(0.01, 1, 5, 40),
    rows: fc.array(
      fc.record({ f: fc.double({ min: -1, max: 1, noNaN: true }), y: fc.integer({ min: 0, max: 1 }) }),
      {
        minLength: 2,
        maxLength: 30,
      },
    ),
  })
  .map(({ scale, rows }) => ({
    f: rows.map((r) => r.f * scale),
    y: rows.map((r, i) => (i === 0 ? 0 : i === 1 ? 1 : r.y)),
  }));

describe("PlattScaling.fit", () => {
  it("Platt target smoothing: t₊ = (N₊+1)/(N₊+2), t₋ = 1/(N₋+2) keeps separable data finite", () => {
    const Z = fromRows([[-2], [-1], [1], [2]]);
    const y = Int32Array.of(0, 0, 1, 1);
    const smooth = new PlattScaling().fit(Z, y, { logits: true });
    expect(smooth.lastFit?.converged).toBe(true);
    // With t₊ = 3/4 and t₋ = 1/4 the fit is finite and stays well inside (0, 1); plain maximum
    // likelihood (t = y) runs a up until the gradient vanishes numerically: outputs ≈ 0 and 1.
    const q = smooth.transform(Z, { logits: true });
    expect(q.data[7] > 0.5 && q.data[7] < 0.9).toBe(true);
    const hard = new PlattScaling({ targetSmoothing: false })
      .fit(Z, y, { logits: true })
      .transform(Z, { logits: true });
    expect(hard.data[7]).toBeGreaterThan(0.999999);
  });

  test.prop([setArb, fc.boolean()])(
    "a, b, iterations and converged equal the restated solver; the mean gradient vanishes there",
    ({ f, y }, smoothing) => {
      const p = new PlattScaling({ targetSmoothing: smoothing }).fit(m(f.map((v) => [v])), y, {
        logits: true,
      });
      const r = restatedPlatt(f, y, smoothing);
      expect([p.a, p.b]).toEqual([r.a, r.b]);
      expect(p.lastFit).toEqual({ iterations: r.iterations, converged: r.converged });
      if (r.converged) {
        // Optimality from the naive gradient: the solver stops at ≤ 1e-12; recomputing the sums
        // adds at most n·ε·(|f|+1) ≈ 1e-13 here.
        let ga = 0;
        let gb = 0;
        f.forEach((v, i) => {
          const q = 1 / (1 + Math.exp(-((p.a as number) * v + (p.b as number))));
          ga += (q - r.t[i]) * v;
          gb += q - r.t[i];
        });
        expect(Math.abs(ga / f.length)).toBeLessThanOrEqual(1e-11 * Math.max(1, ...f.map(Math.abs)));
        expect(Math.abs(gb / f.length)).toBeLessThanOrEqual(1e-11);
      }
    },
  );

  it("separable data and large scores (halved steps): the restated solver's path", () => {
    const f = [-3, -2, -1, 1, 2, 3];
    const y = [0, 0, 0, 1, 1, 1];
    const { fit: s, restated: r } = expectRestatedPath(f, y);
    expect(r.converged).toBe(true);
    expect(s.targetSmoothing).toBe(true);
    const ml = new PlattScaling({ targetSmoothing: false }).fit(m(f.map((v) => [v])), y, { logits: true });
    const rm = restatedPlatt(f, y, false);
    // Plain likelihood runs a up until the mean gradient vanishes numerically (a ≈ 27 here).
    expect(ml.lastFit).toEqual({ iterations: rm.iterations, converged: rm.converged });
    expect(ml.a).toBeGreaterThan(20);
    expect([ml.a, ml.b]).toEqual([rm.a, rm.b]);
    // Large scores: the first Newton steps overshoot and are halved.
    const g = [-40, -25, -3, 2, 30, 45, 1, -1];
    const yg = [0, 0, 1, 0, 1, 1, 1, 0];
    // Sets (found by a search) where the sufficient-decrease test against the *mean* objective
    // decides between a halved and a full step: the path depends on F being divided by n.
    const cases: [number[], number[], boolean][] = [
      [[1.25, -3.5, -0.5, 1, -3.5, 4.25, 3.75, 4, 3.75, 4, 2.5], [0, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1], false],
      [[-23.25, -27.75, -29, 6.5, -44.75, 27, 20], [0, 1, 0, 1, 1, 1, 0], true],
    ];
    for (const [cf, cy, sm] of cases) expectRestatedPath(cf, cy, sm);
    // A set (found by a search) where, near the optimum, no step down to 2⁻³³ passes the sufficient-decrease test: the
    // solver stops there, not converged, before the 100-iteration cap.
    const lf = [
      8.995080510617747, 7.011792392941096, 2.1323416857665034, -51.36002439603211, -79.91524384353087,
      96.40289651993797, 98.79071153644038, 40.143174091420676, 97.12440622836556, 33.33471405009494,
      51.64436369745265, 194.88449515536638, -4.748591456910867, 145.80982902357812, 60.08265761662399,
      70.83760628981403, 75.27918795835188, -36.94674835398176, 58.96866179954663, 25.02372503514576,
      -39.78967030522864,
    ];
    const ly = [0, 1, 1, 1, 0, 1, 0, 0, 1, 1, 1, 1, 1, 0, 1, 0, 0, 1, 1, 1, 0];
    const { restated: rs } = expectRestatedPath(lf, ly, false);
    expect(rs.converged).toBe(false);
    expect(rs.iterations).toBeLessThan(100);
    expectRestatedPath(g, yg);
  });

  it("the score: one logit z, z₁ − z₀, log p₁ − log p₀ (one or two columns)", () => {
    const z0 = [0.3, -1, 0.2, 2, -0.5];
    const z1 = [1.5, 0.4, -0.7, 2.5, 0.1];
    const y = [1, 0, 0, 1, 1];
    const two = new PlattScaling().fit(m(z0.map((v, i) => [v, z1[i]])), y, { logits: true });
    const r = restatedPlatt(
      z0.map((v, i) => z1[i] - v),
      y,
      true,
    );
    expect([two.a, two.b]).toEqual([r.a, r.b]);
    const p = [0.2, 0.7, 0.55, 0.9, 0.35];
    const one = new PlattScaling().fit(m(p.map((v) => [v])), y);
    const rp = restatedPlatt(
      p.map((v) => Math.log(v) - Math.log(1 - v)),
      y,
      true,
    );
    expect([one.a, one.b]).toEqual([rp.a, rp.b]);
    const both = new PlattScaling().fit(m(p.map((v) => [1 - v, v])), y);
    expect([both.a, both.b]).toEqual([rp.a, rp.b]);
  });
});

describe("PlattScaling.transform", () => {
  it("sigmoid(a·f + b) at both tails, f = ±∞ as the sigmoid's limit", () => {
    const id = new PlattScaling({}, 1, 0);
    const z = [-745, -700, -30, -1, 0, 1e-300, 2, 30, 710, 800];
    const Q = id.transform(m(z.map((v) => [v])), { logits: true });
    const want = z.map((u) => (u >= 0 ? 1 / (1 + Math.exp(-u)) : Math.exp(u) / (1 + Math.exp(u))));
    expect(Array.from(Q.data)).toEqual(want.flatMap((q) => [1 - q, q]));
    expect(want[0]).toBeGreaterThan(0);
    expect(want[9]).toBe(1);
    // Naive 1/(1 + e^{−u}) agrees to a few ulps away from the lower tail.
    expectClose(
      Array.from(Q.data)
        .filter((_, j) => j % 2 === 1)
        .slice(2),
      z.slice(2).map((u) => 1 / (1 + Math.exp(-u))),
      { rtol: 1e-15 },
      "sigmoid",
    );
    const pr = new PlattScaling({}, 2, -1);
    const P = [0, 1, 0.25];
    const got = Array.from(pr.transform(m(P.map((v) => [v]))).data);
    const f2 = Math.log(0.25) - Math.log(0.75);
    expect(got).toEqual([1, 0, 0, 1, 1 - sigmoid(2 * f2 - 1), sigmoid(2 * f2 - 1)]);
    const neg = new PlattScaling({}, -0.5, 3);
    expect(Array.from(neg.transform(m([[0], [1]])).data)).toEqual([0, 1, 1, 0]);
    const flat = new PlattScaling({}, 0, 0.75);
    const q = sigmoid(0.75);
    expect(Array.from(flat.transform(m([[0], [1], [0.5]])).data)).toEqual([1 - q, q, 1 - q, q, 1 - q, q]);
    expect(Array.from(pr.transform(m([[0.6, 0.4]])).data)).toEqual([
      1 - sigmoid(2 * (Math.log(0.4) - Math.log(0.6)) - 1),
      sigmoid(2 * (Math.log(0.4) - Math.log(0.6)) - 1),
    ]);
    expect(Array.from(pr.transform(m([[3, 1]]), { logits: true }).data)).toEqual([
      1 - sigmoid(2 * (1 - 3) - 1),
      sigmoid(2 * (1 - 3) - 1),
    ]);
  });
});

describe("PlattScaling: JSON and messages", () => {
  it("toJSON / fromJSON / registry", () => {
    const p = new PlattScaling({ targetSmoothing: false }, 1.5, -0.25);
    expect(p.toJSON()).toEqual({
      format: "softcal-recalibrator",
      version: 1,
      method: "platt",
      classes: 2,
      a: 1.5,
      b: -0.25,
      targetSmoothing: false,
    });
    const back = recalibratorFromJSON(JSON.stringify(p.toJSON())) as PlattScaling;
    expect([back.a, back.b, back.targetSmoothing]).toEqual([1.5, -0.25, false]);
    expect((createRecalibrator("platt") as PlattScaling).targetSmoothing).toBe(true);
    expect((createRecalibrator("platt", { targetSmoothing: false }) as PlattScaling).targetSmoothing).toBe(
      false,
    );
    expect(new PlattScaling().targetSmoothing).toBe(true);
    for (const ts of [undefined, "true", 1, null]) {
      expect(() => PlattScaling.fromJSON({ a: 1, b: 0, targetSmoothing: ts }, "p.json")).toThrow(
        new InputError(`p.json: expected "targetSmoothing" to be true or false; got ${JSON.stringify(ts)}`),
      );
    }
    expect(() => PlattScaling.fromJSON({ b: 0, targetSmoothing: true }, "p.json")).toThrow(
      new InputError('p.json: expected "a" to be a finite number; got undefined'),
    );
    expect(() => PlattScaling.fromJSON({ a: 0, b: "1", targetSmoothing: true }, "p.json")).toThrow(
      new InputError('p.json: expected "b" to be a finite number; got "1"'),
    );
    const none = "platt: call fit() before transform() or toJSON()";
    expect(() => new PlattScaling().toJSON()).toThrow(new RangeError(none));
    expect(() => new PlattScaling({}, 1).toJSON()).toThrow(new RangeError(none));
    expect(() => new PlattScaling({}, undefined, 1).toJSON()).toThrow(new RangeError(none));
    expect(() => new PlattScaling().transform(m([[0.5]]))).toThrow(new RangeError(none));
    expect(() => new PlattScaling({}, 1).transform(m([[0.5]]))).toThrow(new RangeError(none));
    expect(() => new PlattScaling({}, undefined, 1).transform(m([[0.5]]))).toThrow(new RangeError(none));
  });

  it("binary only, probabilities strictly inside (0, 1) at fit, exact messages", () => {
    const three = m([[0.2, 0.3, 0.5]]);
    const bin =
      "Platt scaling is binary-only: expected 1 or 2 score columns; got 3 classes — use temperature or vector scaling";
    expect(() => new PlattScaling().fit(m([[2, 2, 2]]), [7])).toThrow(new InputError(`platt: ${bin}`));
    expect(() => new PlattScaling().fit(three, [0], {}, { file: "c.csv" })).toThrow(
      new InputError(`c.csv: ${bin}`),
    );
    expect(() => new PlattScaling({}, 1, 0).transform(m([[2, 2, 2]]))).toThrow(
      new InputError(`platt: ${bin}`),
    );
    expect(() => new PlattScaling({}, 1, 0).transform(three, {}, "t")).toThrow(new InputError(`t: ${bin}`));
    expect(() => new PlattScaling().fit(m([[0.2], [0.5], [1], [0]]), [0, 1, 1, 0])).toThrow(
      new InputError(
        "platt: row 2: Platt scaling needs probabilities strictly inside (0, 1); got 1 — pass logits instead",
      ),
    );
    expect(() =>
      new PlattScaling().fit(
        m([
          [0.8, 0.2],
          [1, 0],
        ]),
        [0, 1],
        {},
        { file: "v.csv" },
      ),
    ).toThrow(
      new InputError(
        "v.csv: row 1: Platt scaling needs probabilities strictly inside (0, 1); got 0 — pass logits instead",
      ),
    );
    expect(() => new PlattScaling().fit(m([[0.2], [0.5]]), [1, 1])).toThrow(
      new InputError(
        "platt: expected at least two classes among the calibration labels; got only class 1 — use a larger or stratified calibration split",
      ),
    );
    expect(() => new PlattScaling({}, 1, 0).transform(m([[1.5]]))).toThrow(
      new InputError("platt: row 0, column 0: expected a probability in [0, 1]; got 1.5"),
    );
  });
});
