/**
 * softcal's public API: the one export list. Everything not exported here is internal.
 */
export { InputError, RunError, SoftcalError } from "./errors.js";
export type { Matrix } from "./linalg/matrix.js";
export { fromRows, matrix, toRows } from "./linalg/matrix.js";
export { logSoftmax, softmax } from "./linalg/softmax.js";
