/**
 * What the host provides (the import module "host", after this file's name): J and ∇J at x (∇J
 * written at g) computed on several threads (src/kernels/objectiveWasm.ts spreads the chunks over
 * its thread pool). Instances without threads get a stub that throws.
 */
export declare function hostEvaluate(x: usize, g: usize): f64;
