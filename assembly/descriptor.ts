/**
 * The objective's problem descriptor: a block the host writes once per problem
 * (src/kernels/objectiveWasm.ts) and every objective entry point reads — the data layout, sizes,
 * work areas, model and penalty — so calls pass one pointer instead of a dozen positional values.
 *   i32 at desc: [0] xp, [1] yp, [2] nPairs, [3] oddLast, [4] d, [5] K, [6] partials, [7] scratch,
 *                [8] threaded (1 = evaluate through the host import, which spreads chunks over
 *                threads), [9] model (0 softmax, 1 one-vs-rest)
 *   f64 at desc + 64: [0] l2, [1] invM = 1/m
 */
export const XP: usize = 0;
export const YP: usize = 4;
export const N_PAIRS: usize = 8;
export const ODD_LAST: usize = 12;
export const D: usize = 16;
export const K_CLASSES: usize = 20;
export const PARTIALS: usize = 24;
export const SCRATCH: usize = 28;
export const THREADED: usize = 32;
export const MODEL: usize = 36;
export const L2: usize = 64;
export const INV_M: usize = 72;

/** `model` field: multinomial softmax (0) or one-vs-rest (1). */
export const OVR: i32 = 1;

/** Pairs of rows per chunk (2048 rows): the objective's unit of work and of deterministic reduction. */
export const CHUNK_PAIRS: usize = 1024;

/** The number of chunks of a problem with nPairs row pairs. */
export function chunkCount(nPairs: usize): usize {
  return (nPairs + CHUNK_PAIRS - 1) / CHUNK_PAIRS;
}
