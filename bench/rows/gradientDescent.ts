/**
 * Gradient-descent rows (gd-lesson, gd-100k, gd-1m): one iteration of softcal's WebAssembly
 * softmax objective (`descend`) beside the lesson's numpy gradient descent
 * (properties/reference/lesson_softmax.py, run by the reference process), on the same seeded
 * blobs, in ms per iteration; Θ must agree with numpy's.
 */
import { wasmSoftmaxObjective } from "../../src/kernels/objectiveWasm.js";
import { blobs, maxAbsDiff } from "../data.js";
import { atLeast, interleave, QUICK, REPS, recordPair, want } from "../harness.js";
import type { Reference } from "../reference.js";

/**
 * One row: `iters` iterations of step 0.1 per sample on blobs m×d with K classes, both sides
 * warmed first; the target is numpy's time ÷ softcal's ≥ `target`.
 */
async function gdRow(
  ref: Reference,
  id: string,
  m: number,
  d: number,
  K: number,
  iters: number,
  target: number,
) {
  const p = blobs(m, d, K, 42);
  const t0 = performance.now();
  const f = wasmSoftmaxObjective({ X: p.X, nSamples: m, nFeatures: d, y: p.y, nClasses: K }, 0);
  const setupMs = performance.now() - t0;
  const req = { cmd: "gd", x: p.xPath, y: p.yPath, m, d, K, alpha: 0.1, iters };
  // Warm both sides (JIT, caches, the reference's data load).
  f.descend(0.1, Math.min(iters, 3));
  await ref.call({ ...req, iters: 1 });
  let thetaRef: number[] = [];
  let thetaOurs: ArrayLike<number> = [];
  const [s, r] = await interleave(
    REPS,
    () => {
      const t = performance.now();
      thetaOurs = f.descend(0.1, iters).theta;
      return (performance.now() - t) / iters;
    },
    async () => {
      const out = (await ref.call(req)) as { msPerIter: number; theta: number[] };
      thetaRef = out.theta;
      return out.msPerIter;
    },
  );
  recordPair(
    {
      id,
      name: `GD iteration, m=${m} d=${d} K=${K}`,
      unit: "ms/iter",
      referenceName: "lesson's numpy",
      target: `≥ ${target}x`,
      note: `${iters} iterations per sample; ${f.threads} thread(s); repack ${setupMs.toFixed(1)} ms once; max|ΔΘ| vs numpy ${maxAbsDiff(thetaOurs, thetaRef).toExponential(1)}`,
    },
    s,
    r,
    atLeast(target),
  );
}

/** The gradient-descent rows wanted: the lesson's size, 100k×20 with 10 classes, 1M×2 (smaller with --quick). */
export async function gradientDescentRows(ref: Reference): Promise<void> {
  if (want("gd-lesson")) await gdRow(ref, "gd-lesson", 180, 2, 3, QUICK ? 300 : 2000, 8);
  if (want("gd-100k")) await gdRow(ref, "gd-100k", QUICK ? 20_000 : 100_000, 20, 10, QUICK ? 5 : 20, 3);
  if (want("gd-1m")) await gdRow(ref, "gd-1m", QUICK ? 200_000 : 1_000_000, 2, 3, QUICK ? 5 : 10, 10);
}
