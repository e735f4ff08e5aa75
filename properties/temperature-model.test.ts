/**
 * Temperature scaling meets the model: an unpenalized softmax regression fitted to its optimum
 * is already calibrated in temperature on its own training data, T* = 1 (scikit-learn tests the
 * same fact for its CalibratedClassifierCV). Why: at λ = 0 the optimum has ∇J(Θ*) = 0, and
 * NLL(βZ) on the training set is J(βΘ*), whose derivative at β = 1 is ∇J(Θ*)·Θ* = 0 — so β = 1 is
 * the (convex) NLL's minimizer.
 */
import { fc, test } from "@fast-check/vitest";
import { expect } from "vitest";
import { temperatureScale } from "../src/calibration/recalibrators/temperature.js";
import { lessonClusters } from "../src/data/gaussian.js";
import { createRng } from "../src/data/rng.js";
import { fit } from "../src/model/fit.js";
import { decisionFunction } from "../src/model/predict.js";

test.prop([fc.integer({ min: 0, max: 2 ** 31 }), fc.integer({ min: 20, max: 60 })], { numRuns: 20 })(
  "a converged λ = 0 softmax fit gets T* = 1 (to 1e-6) on its own training data",
  (seed, perClass) => {
    const ds = lessonClusters(createRng(seed), { perClass });
    const model = fit(ds.X, ds.y, ds.nClasses, { l2: 0, tol: 1e-10 });
    fc.pre(model.converged); // overlapping clusters have a finite optimum; a separable draw has none
    const t = temperatureScale(decisionFunction(model, ds.X), ds.y, { logits: true });
    // |∂NLL/∂β| at β = 1 is |∇J·Θ| ≤ ‖∇J‖₁‖Θ‖∞ ≤ 9·1e-10·‖Θ‖∞; the NLL's curvature in β is the
    // mean logit variance (≥ ~0.1 here), so |β* − 1| ≲ 1e-8·‖Θ‖∞ — well inside 1e-6.
    expect(Math.abs(t.temperature - 1)).toBeLessThan(1e-6);
  },
);
