/**
 * The experiment registry: `softcal run` and its worker threads look experiments up here by name.
 */
import type { Experiment } from "../src/experiment/index.js";
import { baseline } from "./baseline.js";
import { l2Sweep } from "./l2-sweep.js";
import { ovrVsSoftmax } from "./ovr-vs-softmax.js";
import { recalibration } from "./recalibration.js";
import { temperature } from "./temperature.js";

export const experiments: Experiment[] = [baseline, l2Sweep, temperature, ovrVsSoftmax, recalibration];
