/**
 * softcal's WebAssembly SIMD kernels (AssemblyScript, built by `npm run build:wasm` into
 * dist/wasm/softcal.wasm; never committed as a binary). This file is the module's entry: it lists
 * what the host may call; each idea has its own file beside it:
 *   exp.ts         exp on two lanes, bit-identical to Math.exp
 *   descriptor.ts  the objective's problem descriptor (one pointer instead of a dozen arguments)
 *   objective.ts   J and ∇J of softmax and one-vs-rest regression (src/kernels/objective.ts's)
 *   descent.ts     the lesson's gradient descent, the loop inside wasm
 *   lbfgs.ts       L-BFGS, a line-for-line port of src/optim/lbfgs.ts, the loop inside wasm
 *   temperature.ts temperature scaling's moments pass (src/kernels/temperature.ts's)
 *
 * Everything works on raw pointers into one (shared) linear memory that the JavaScript side lays
 * out (src/kernels/objectiveWasm.ts, src/kernels/temperatureWasm.ts); nothing here allocates, so
 * several instances (one per worker thread) can run on the same memory.
 *
 * Data layout — rows interleaved in pairs so one f64x2 vector holds the same quantity for two
 * rows, and exp / max / divide are lane-parallel with no horizontal reductions:
 *   Xp: pair p, feature j at Xp + (p·d + j)·16  (lane 0 = row 2p, lane 1 = row 2p+1)
 *   Yp: pair p's labels as f64 lanes at Yp + p·16 (an odd m pads the last pair with label −1, x 0,
 *       and that lane is masked out of loss and gradient)
 *
 * Determinism: rows are processed in fixed chunks of CHUNK_PAIRS pairs; each chunk writes its own
 * partial sums, and `objectiveReduce` adds the chunks in chunk order. The result is therefore
 * bit-identical whichever thread computed which chunk, and for any number of threads.
 */
import { CHUNK_PAIRS } from "./descriptor";

export { objectiveDescend } from "./descent";
export { expNegArray } from "./exp";
export { objectiveLbfgs } from "./lbfgs";
export { allFinite, objectiveChunks, objectiveEvaluate, objectiveReduce } from "./objective";
export {
  temperatureChunkPairs,
  temperatureChunks,
  temperatureMoments,
  temperaturePrepare,
  temperatureReduce,
} from "./temperature";

/** Rows pairs per chunk of the objective (the host checks it against its own constant). */
export function chunkPairs(): i32 {
  return <i32>CHUNK_PAIRS;
}

/** First free byte after the module's static data; the JS side lays out memory above it. */
export function heapBase(): usize {
  return __heap_base;
}
