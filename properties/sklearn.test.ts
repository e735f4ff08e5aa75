/**
 * Acceptance against scikit-learn: softcal's L-BFGS (default tolerance) on iris, wine and digits
 * reaches the true optimum of DESIGN.md's objective — no higher than scikit-learn's own solution and
 * than the optimum scipy refines it to — with probabilities within 1e-6 of the optimal ones.
 *
 * Reference values: `properties/fixtures/model/sklearn.json`, written by
 * `/usr/bin/python3 properties/fixtures/model/make_fixtures.py` (scikit-learn 1.2.1, scipy 1.10.1,
 * numpy 1.24.2; the versions are in the file). No python is needed to run this test.
 */
import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { readCsvFile } from "../src/data/csv.js";
import { type Dataset, datasetFromTable } from "../src/data/dataset.js";
import { applyStandardizer, fitStandardizer } from "../src/data/standardize.js";
import type { Matrix } from "../src/linalg/matrix.js";
import { takeRows } from "../src/linalg/matrix.js";
import { fit } from "../src/model/fit.js";
import { ovrObjective, softmaxObjective } from "../src/model/objective.js";
import { predictProba } from "../src/model/predict.js";
import { expectClose } from "./_shared/expectClose.js";

const DIR = "properties/fixtures/model";

interface Case {
  data: string;
  model: "softmax" | "ovr";
  l2: number;
  C: number;
  m: number;
  d: number;
  K: number;
  sklearn: { objective: number; probaMaxAbsDiffFromOptimum: number };
  optimum: { objective: number; gradMaxAbs: number; proba: number[][]; theta?: number[][] };
}

interface Fixtures {
  versions: Record<string, string>;
  probaRows: number;
  cases: Case[];
  ovr: Case & { optimum: { classObjectives: number[]; theta: number[][] } };
  binary: {
    l2: number;
    C: number;
    sklearnBinaryC: number;
    m: number;
    optimum: { theta: number[]; objective: number; softmaxObjective: number; proba1: number[] };
  };
}

const fixtures = JSON.parse(readFileSync(`${DIR}/sklearn.json`, "utf8")) as Fixtures;

function load(name: string): Dataset {
  const file = `${DIR}/${name}.csv`;
  return datasetFromTable(readCsvFile(file), { file });
}

/** Standardized as the fixture script does (population std; constant columns scale 1). */
function standardized(X: Matrix): Matrix {
  return applyStandardizer(X, fitStandardizer(X));
}

const datasets = new Map<string, { X: Matrix; y: Int32Array; K: number }>();
function data(name: string) {
  let v = datasets.get(name);
  if (!v) {
    const ds = load(name);
    v = { X: standardized(ds.X), y: ds.y, K: ds.nClasses };
    datasets.set(name, v);
  }
  return v;
}

function flat(rows: number[][]): number[] {
  return rows.flat();
}

/*
 * Tolerances.
 * - Objectives: softcal evaluates J in TypeScript on data standardized in TypeScript, the fixture
 *   in numpy (pairwise sums, different order); each is a mean of m ≤ 1797 terms of size O(1), so
 *   the two evaluations of the same point differ by a few 1e-16 relative. 1e-12 relative leaves
 *   room for that and nothing else: softcal's distance to the optimum, J − J* ≈ ½ gᵀH⁻¹g ≤
 *   ‖g‖²·n/(2λ) ≈ (1e-9)²·650/2e-3 ≈ 3e-13 absolute at worst, is also inside it. scikit-learn's
 *   own objective lies 5.8e-12 … 3.1e-9 above J* (recorded by the script), far outside the slack,
 *   so "≤ scikit-learn" is a real comparison.
 * - Probabilities: the design's promise (DESIGN.md: within ~1e-6 of the true optimum at the default
 *   tolerance). scikit-learn's lbfgs is 3.8e-6 … 7.4e-5 away on these cases, so the bound separates.
 */
const OBJ_RTOL = 1e-12;
const PROBA_ATOL = 1e-6;

describe("softmax regression vs scikit-learn (multinomial, lbfgs), refined to the exact optimum", () => {
  test("the fixture was made by the pinned scikit-learn stack", () => {
    expect(fixtures.versions).toMatchObject({ sklearn: "1.2.1", scipy: "1.10.1", numpy: "1.24.2" });
    expect(fixtures.cases.map((c) => `${c.data}@${c.l2}`)).toEqual([
      "iris@0.001",
      "iris@0.01",
      "iris@0.1",
      "wine@0.001",
      "wine@0.01",
      "wine@0.1",
      "digits@0.001",
      "digits@0.01",
      "digits@0.1",
    ]);
  });

  // Both softmax kernels: the default (WebAssembly SIMD where available) and the TS reference.
  const kernels = ["default", "js"] as const;
  test.each(
    fixtures.cases.flatMap((c) => kernels.map((k) => [`${c.data}, λ = ${c.l2}, kernel ${k}`, c, k] as const)),
  )("%s", (_, c, kernel) => {
    const { X, y, K } = data(c.data);
    expect([X.rows, X.cols, K]).toEqual([c.m, c.d, c.K]);
    // scikit-learn's C and softcal's λ describe the same problem: C = 1/(λ·m).
    expectClose(c.C, 1 / (c.l2 * c.m), { rtol: 1e-15 }, "C");
    // lbfgs, default tolerance
    const r = fit(X, y, K, kernel === "js" ? { l2: c.l2, kernel: "js" } : { l2: c.l2 });
    expect(r.converged, r.stopReason).toBe(true);
    expect(r.gradMaxAbs).toBeLessThanOrEqual(1e-8);

    // The reported objective is J at the returned Θ, re-evaluated by the TS reference kernel. The
    // wasm kernel sums the m rows in another order (pairs of rows, fixed chunks), which moves a sum
    // of m ≤ 1797 positive O(1) terms by ≲ m·ε relative in the worst case, a few ε in practice: 1e-14.
    const J = softmaxObjective(
      { X: X.data, nSamples: X.rows, nFeatures: X.cols, y, nClasses: K },
      c.l2,
    ).evaluate(r.theta, null);
    if (kernel === "js") expect(r.objective).toBe(J);
    else expectClose(r.objective, J, { rtol: 1e-14 }, "objective vs TS kernel");
    expect(r.objective).toBeLessThanOrEqual(c.optimum.objective * (1 + OBJ_RTOL));
    expect(r.objective).toBeLessThanOrEqual(c.sklearn.objective * (1 + OBJ_RTOL));
    // …and not meaningfully below the optimum either (that would mean a different objective).
    expect(r.objective).toBeGreaterThanOrEqual(c.optimum.objective * (1 - OBJ_RTOL));

    const n = c.optimum.proba.length;
    const P = predictProba(
      r,
      takeRows(
        X,
        Array.from({ length: n }, (_, i) => i),
      ),
    );
    expectClose(P.data, flat(c.optimum.proba), { atol: PROBA_ATOL }, "probabilities");
  });
});

describe("one-vs-rest vs scikit-learn (multi_class='ovr'), refined per class", () => {
  test(`iris, λ = ${fixtures.ovr.l2}`, () => {
    const c = fixtures.ovr;
    const { X, y, K } = data(c.data);
    const r = fit(X, y, K, { model: "ovr", l2: c.l2 });
    expect(r.converged, r.stopReason).toBe(true);
    expect(r.gradMaxAbs).toBeLessThanOrEqual(1e-8);
    const J = ovrObjective({ X: X.data, nSamples: X.rows, nFeatures: X.cols, y, nClasses: K }, c.l2).evaluate(
      r.theta,
      null,
    );
    expect(r.objective).toBe(J);
    // The sum of the K binary objectives (each its own sklearn binary fit): same slack as above.
    const sum = c.optimum.classObjectives.reduce((a, b) => a + b, 0);
    expectClose(sum, c.optimum.objective, { rtol: 1e-15 }, "Σ_k J_k");
    expect(r.objective).toBeLessThanOrEqual(c.optimum.objective * (1 + OBJ_RTOL));
    expect(r.objective).toBeLessThanOrEqual(c.sklearn.objective * (1 + OBJ_RTOL));
    expect(r.objective).toBeGreaterThanOrEqual(c.optimum.objective * (1 - OBJ_RTOL));
    // Each binary problem is strictly convex (logistic loss in the bias, λ > 0 on the weights), so
    // Θ itself is unique. ‖θ − θ*‖ ≤ ‖g‖/μ with μ ≥ the smallest Hessian eigenvalue; iris's
    // standardized binary Hessians have μ ≳ 1e-2 at λ = 1e-2, so ‖g‖∞ ≤ 1e-9 gives ≲ 1e-7·√5.
    expectClose(r.theta, flat(c.optimum.theta), { atol: 1e-6 }, "Θ (OvR)");
    const n = c.optimum.proba.length;
    const P = predictProba(
      r,
      takeRows(
        X,
        Array.from({ length: n }, (_, i) => i),
      ),
    );
    expectClose(P.data, flat(c.optimum.proba), { atol: PROBA_ATOL }, "OvR probabilities");
  });
});

/*
 * K = 2: softmax at λ is binary logistic regression at λ/2 — scikit-learn's binary
 * LogisticRegression with C' = 2/(λ·m) = 2C.
 * Why: with Θ = [θ₀; θ₁], p₁ = σ((θ₁ − θ₀)·x̃), so the loss depends on w = θ₁ − θ₀ only. The loss
 * gradients of the two rows are opposite (Σ_k (p_k − y_k) = 0), so at the optimum λ(W₀ + W₁) = 0:
 * W₀ = −W₁ = −w/2, and the penalty (λ/2)(‖w/2‖² + ‖w/2‖²) = (λ/4)‖w‖² = ((λ/2)/2)‖w‖². The biases
 * are unpenalized and only their difference matters (softcal's L-BFGS starts at 0 and its steps keep
 * b₀ + b₁ = 0, so b₀ = −b₁ too).
 */
describe("K = 2: softmax at λ ↔ scikit-learn's binary logistic regression at C' = 2C", () => {
  test("iris versicolor vs virginica, λ = 1e-2", () => {
    const b = fixtures.binary;
    const ds = load("iris");
    const keep: number[] = [];
    for (let i = 0; i < ds.y.length; i++) if (ds.y[i] >= 1) keep.push(i);
    const X = standardized(takeRows(ds.X, keep));
    const y = Int32Array.from(keep, (i) => ds.y[i] - 1);
    expect(X.rows).toBe(b.m);
    expectClose(b.sklearnBinaryC, 2 * b.C, { rtol: 1e-15 }, "C' = 2C");

    const r = fit(X, y, 2, { l2: b.l2 });
    expect(r.converged, r.stopReason).toBe(true);
    const w = X.cols + 1;
    const diff = Array.from({ length: w }, (_, j) => r.theta[w + j] - r.theta[j]);
    // ‖Δθ‖ ≤ ‖g‖/μ as above (μ ≳ 1e-2 here): 1e-6 is loose; a wrong C (C instead of 2C) moves the
    // binary weights by O(1e-1).
    expectClose(diff, b.optimum.theta, { atol: 1e-6 }, "θ₁ − θ₀ vs the binary optimum");
    // The symmetric optimum (rounding-level: both rows are updated with opposite gradients).
    expectClose(
      Array.from(r.theta.subarray(0, w)),
      Array.from(r.theta.subarray(w), (v) => -v),
      { atol: 1e-12 },
      "θ₀ = −θ₁",
    );
    // The two objectives coincide at the optimum (the script checked it in numpy too).
    expectClose(b.optimum.softmaxObjective, b.optimum.objective, { rtol: 1e-14 }, "numpy J");
    expect(r.objective).toBeLessThanOrEqual(b.optimum.objective * (1 + OBJ_RTOL));
    const P = predictProba(r, X);
    expectClose(
      Array.from({ length: X.rows }, (_, i) => P.data[2 * i + 1]),
      b.optimum.proba1,
      { atol: PROBA_ATOL },
      "p₁",
    );
  });
});
