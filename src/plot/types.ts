/**
 * Plain-data shapes the plot layer draws (bins come from the calibration layer below it).
 */
import type { ReliabilityBin } from "../calibration/bins.js";

/** One panel of a side-by-side reliability figure. */
export interface ReliabilityPanel {
  /** Panel title, e.g. "before temperature scaling". */
  title: string;
  bins: ReliabilityBin[];
  /** Expected calibration error of these bins (shown in the panel title). */
  ece: number;
}

/** One data point of a 2-D scatter: features `x1`, `x2` and its class label. */
export interface ScatterPoint {
  x1: number;
  x2: number;
  label: string;
}

/** One cell centre of a decision-region grid: the predicted class and its top-label probability. */
export interface GridCell {
  x1: number;
  x2: number;
  predicted: string;
  confidence: number;
}

/** One point of a training-loss curve; `series` separates several curves (e.g. one per λ). */
export interface LossRow {
  iteration: number;
  loss: number;
  series?: string;
}

/** One grid point of a sweep: the mean of a metric over seeds and its 95% interval `[lo, hi]`. */
export interface SweepRow {
  param: number;
  mean: number;
  lo: number;
  hi: number;
  series: string;
}

/** One bar: a value with an optional interval `[lo, hi]`; `series` groups bars side by side. */
export interface BarRow {
  category: string;
  value: number;
  lo?: number;
  hi?: number;
  series?: string;
}
