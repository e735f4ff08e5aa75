/**
 * The separability linear program shared by the calibration maps' existence tests (vector scaling:
 * src/calibration/recalibrators/separation.ts; matrix and Dirichlet calibration: dirichlet.ts):
 *   maximize Σ_r (Φd)_r  subject to  (Φd)_r ≥ −ε_r for every margin row r,  Σ_r (Φd)_r ≤ P,  d free,
 * with Φ's rows the label margins' coefficients. Its optimum is P when some direction raises every
 * margin (separable) and 0 otherwise, so the answer is read at P/2. Solved by yalps (a dense
 * two-phase simplex), loaded on the first call, not when softcal is imported.
 */
import { createRequire } from "node:module";
import type * as Yalps from "yalps";

const require = createRequire(import.meta.url);
let yalps: typeof Yalps | undefined;
function lp(): typeof Yalps {
  yalps ??= require("yalps") as typeof Yalps;
  return yalps;
}

/** Φ by columns: coefs[t] lists (margin row, coefficient of unknown t), objective[t] = Σ_r Φ_rt. */
export interface MarginRows {
  coefs: [number | "sum", number][][];
  objective: Float64Array;
  /** Number of margin rows P. */
  rows: number;
}

/**
 * Builds {@link MarginRows} for `unknowns` unknowns by calling `eachRow(add)` once, which calls
 * `add(t, v)` for every coefficient v of unknown t in the current margin row and `next()` after
 * each row. O(number of coefficients).
 */
export function marginRows(
  unknowns: number,
  eachRow: (add: (t: number, v: number) => void, next: () => void) => void,
): MarginRows {
  const coefs: [number | "sum", number][][] = Array.from({ length: unknowns }, () => []);
  const objective = new Float64Array(unknowns);
  let p = 0;
  eachRow(
    (t, v) => {
      coefs[t].push([p, v]);
      objective[t] += v;
    },
    () => {
      p++;
    },
  );
  return { coefs, objective, rows: p };
}

/**
 * Solves the LP above with the perturbation ε_r = ε·(1 + ((r·7919) mod 997)/997) ∈ [ε, 2ε)
 * (distinct, deterministic; ε = 0: none). Returns a maximizing d when the optimum exceeds P/2,
 * null when it does not (not separable), or "cycled" when the simplex cycled or ran out of
 * `maxPivots` (when given). @throws Error naming `who` for any other solver status (a bug).
 */
export function separatingLp(
  m: MarginRows,
  eps: number,
  who: string,
  maxPivots?: number,
): Float64Array | null | "cycled" {
  const { coefs, objective, rows: p } = m;
  const constraints: [number | "sum", { min?: number; max?: number }][] = [];
  for (let r = 0; r < p; r++)
    constraints.push([r, { min: eps === 0 ? 0 : -eps * (1 + ((r * 7919) % 997) / 997) }]);
  constraints.push(["sum", { max: p }]);
  // d_t = plus_t − minus_t with plus, minus ≥ 0 (the solver's variables are non-negative).
  const variables: [string, [number | "sum", number][]][] = [];
  for (let t = 0; t < coefs.length; t++) {
    const plus: [number | "sum", number][] = [...coefs[t], ["sum", objective[t]]];
    variables.push([`+${t}`, plus]);
    variables.push([`-${t}`, plus.map(([r, v]) => [r, -v] as [number | "sum", number])]);
  }
  const sol = lp().solve<string, number | "sum">(
    { direction: "maximize", objective: "sum", constraints, variables },
    maxPivots === undefined ? { includeZeroVariables: true } : { includeZeroVariables: true, maxPivots },
  );
  if (sol.status === "cycled") return "cycled";
  if (sol.status !== "optimal") {
    throw new Error(`${who}: the separability LP ended "${sol.status}" (a bug: please report it)`);
  }
  if (!(sol.result > p / 2)) return null;
  const d = new Float64Array(coefs.length);
  for (const [key, value] of sol.variables) d[Number(key.slice(1))] += key[0] === "+" ? value : -value;
  return d;
}
