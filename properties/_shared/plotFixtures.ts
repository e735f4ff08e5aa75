/**
 * Small fixed data for the plot tests (plot.test.ts and report.browser.test.ts): one example of
 * every figure kind, deterministic (a fixed LCG, no Math.random), shaped like the lesson's data.
 */
import type { ReliabilityBin as Bin } from "../../src/calibration/bins.js";
import type { GridCell, LossRow, ScatterPoint, SweepRow } from "../../src/plot/types.js";

/** A Park–Miller LCG in [0, 1): fixed sequence for a given seed. */
export function lcg(seed: number): () => number {
  let s = seed % 2147483647;
  if (s <= 0) s += 2147483646;
  return () => {
    s = (s * 16807) % 2147483647;
    return (s - 1) / 2147483646;
  };
}

/** 15 equal-width bins with some empty ones (bins 0–4 and 8 are empty). */
export function equalWidthBins(): Bin[] {
  const B = 15;
  return Array.from({ length: B }, (_, b) => {
    const lower = b / B;
    const upper = (b + 1) / B;
    if (b < 5 || b === 8) return { lower, upper, count: 0, meanPredicted: null, observed: null };
    const mid = (lower + upper) / 2;
    return {
      lower,
      upper,
      count: 4 + 6 * b,
      meanPredicted: mid,
      observed: Math.min(1, mid - 0.1 + 0.03 * (b % 3)),
    };
  });
}

/** 6 equal-mass bins of uneven width, one of them zero-width (all confidences equal to 1). */
export function equalMassBins(): Bin[] {
  const edges: [number, number, number, number][] = [
    [0.36, 0.52, 0.45, 0.4],
    [0.53, 0.66, 0.6, 0.55],
    [0.67, 0.78, 0.73, 0.7],
    [0.79, 0.88, 0.84, 0.83],
    [0.88, 0.97, 0.93, 0.9],
    [1, 1, 1, 0.97],
  ];
  return edges.map(([lower, upper, meanPredicted, observed]) => ({
    lower,
    upper,
    count: 30,
    meanPredicted,
    observed,
  }));
}

/** The lesson's 3 Gaussian clusters (means (−2,0), (2,0), (0,2.5)), 20 points each. */
export function clusters(): ScatterPoint[] {
  const rnd = lcg(42);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
  const means = [
    [-2, 0],
    [2, 0],
    [0, 2.5],
  ];
  const pts: ScatterPoint[] = [];
  means.forEach(([m1, m2], k) => {
    for (let i = 0; i < 20; i++) {
      pts.push({ x1: m1 + 0.77 * gauss(), x2: m2 + 0.77 * gauss(), label: String(k) });
    }
  });
  return pts;
}

/** A decision-region grid for {@link clusters}: nearest mean, softmax of −squared distances. */
export function regionGrid(step: number): GridCell[] {
  const means = [
    [-2, 0],
    [2, 0],
    [0, 2.5],
  ];
  const cells: GridCell[] = [];
  for (let x1 = -4.5; x1 <= 4.5 + 1e-9; x1 += step) {
    for (let x2 = -2.5; x2 <= 5 + 1e-9; x2 += step) {
      const z = means.map(([a, b]) => -((x1 - a) ** 2 + (x2 - b) ** 2) / 2);
      const mx = Math.max(...z);
      const e = z.map((v) => Math.exp(v - mx));
      const s = e.reduce((p, q) => p + q, 0);
      let k = 0;
      for (let j = 1; j < 3; j++) if (e[j] > e[k]) k = j;
      cells.push({ x1, x2, predicted: String(k), confidence: e[k] / s });
    }
  }
  return cells;
}

/** Two loss curves of 300 iterations. */
export function lossRows(): LossRow[] {
  const rows: LossRow[] = [];
  for (const [series, rate, floor] of [
    ["λ = 0", 0.03, 0.12],
    ["λ = 0.1", 0.025, 0.35],
  ] as const) {
    for (let t = 0; t < 300; t++)
      rows.push({ iteration: t, loss: floor + (Math.log(3) - floor) * Math.exp(-rate * t), series });
  }
  return rows;
}

/** An L2 sweep with λ = 0 on a log axis, two series. */
export function sweepRows(): SweepRow[] {
  const lambdas = [0, 1e-4, 1e-3, 1e-2, 1e-1, 1];
  const rows: SweepRow[] = [];
  for (const [series, base] of [
    ["synthetic", 0.04],
    ["iris", 0.07],
  ] as const) {
    lambdas.forEach((param, i) => {
      const mean = base + 0.01 * i * i;
      rows.push({ param, mean, lo: mean - 0.01 - 0.002 * i, hi: mean + 0.01 + 0.002 * i, series });
    });
  }
  return rows;
}
