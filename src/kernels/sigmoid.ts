/**
 * The logistic function and its companions, evaluated without overflow for any finite argument:
 * σ(z) = 1/(1 + e^{−z}) and softplus(z) = log(1 + e^z) = max(z, 0) + log1p(e^{−|z|}) (so that
 * softplus(z) − t·z is the binary cross-entropy of a logit z against a target t).
 */

/** σ(z) = 1/(1 + e^{−z}), evaluated without overflow for either sign. */
export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

/** softplus(z) = log(1 + e^z), stable: max(z, 0) + log1p(e^{−|z|}). */
export function softplus(z: number): number {
  return Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));
}
