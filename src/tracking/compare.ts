/**
 * Comparing two runs (`softcal compare`, and `check --baseline`): for every grid point both runs
 * have, each metric's mean in A and in B and the difference B − A with a 95% interval and a
 * p-value — paired by seed index where the two runs' units at one seed index saw the same data
 * (common random numbers), Welch's unpaired test otherwise — and which points only one run has.
 */
import { InputError } from "../errors.js";
import type { RunConfig } from "../experiment/config.js";
import { pairedEffect } from "../experiment/paired.js";
import { pointKey } from "../experiment/seeds.js";
import type { GridPoint } from "../experiment/types.js";
import type { RunFolder } from "./runFolder.js";
import { runStatus } from "./runFolder.js";
import { welchTest } from "./welch.js";

/** How two runs' units are compared, and why. */
export interface Pairing {
  /** True: paired by seed index; false: Welch's unpaired test. */
  paired: boolean;
  /** Why, in words, e.g. `different root seed (0 vs 7): unpaired Welch`. */
  reason: string;
  /** Seed indices paired (0 … seedIndices − 1): the smaller seed count; 0 when unpaired. */
  seedIndices: number;
}

/** Object keys sorted, recursively: the canonical JSON of a config field (streams, data). */
function canonical(v: unknown): string {
  if (v === null || typeof v !== "object") return JSON.stringify(v) ?? "undefined";
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
    .join(",")}}`;
}

/** config.json's data fingerprints (validated by `checkConfig`) by data name: SHA-256 and label column. */
function dataPrints(config: RunConfig): Map<string, { sha256: string; label: string }> {
  return new Map((config.data ?? []).map((d) => [d.name, { sha256: d.sha256, label: d.label }]));
}

/**
 * The seed of each seed index of a run, or undefined if the units at one seed index have
 * different seeds (a run from before common random numbers: its units cannot be paired by index).
 */
function seedsByIndex(config: RunConfig): number[] | undefined {
  const seeds: number[] = [];
  for (const u of config.units) {
    const s = seeds[u.seedIndex];
    if (s === undefined) seeds[u.seedIndex] = u.seed;
    else if (s !== u.seed) return undefined;
  }
  return seeds;
}

/**
 * Whether two runs can be compared paired by seed index, and why (the first reason that forbids it).
 *
 * Paired only when both runs used common random numbers the same way: the same seed derivation
 * (config.json's `seedDerivation`), the same root seed, the same description of the random streams
 * (`streams`: what each stream depends on — a run that records none is not paired), the same data
 * (the SHA-256 fingerprints config.json records for data files, where either run records one for a
 * data name; built-in data sets are fixed by name), and, at every seed index both runs have, one and
 * the same seed on every unit of both runs. Then unit i of a point in A and unit i of the same point in
 * B drew the same data, split and resamples, and their difference carries no split-to-split noise.
 * Otherwise the comparison is Welch's unpaired test. Seed counts may differ: the pairs are the seed
 * indices both runs have. Cost: O(units).
 */
export function pairing(a: RunConfig, b: RunConfig): Pairing {
  const welch = (why: string): Pairing => ({
    paired: false,
    reason: `${why}: unpaired Welch`,
    seedIndices: 0,
  });
  if (a.seedDerivation !== b.seedDerivation) return welch("different seed derivation");
  if (a.rootSeed !== b.rootSeed) return welch(`different root seed (${a.rootSeed} vs ${b.rootSeed})`);
  if (a.streams === undefined || b.streams === undefined) {
    return welch(
      `run ${a.streams === undefined ? "A" : "B"} records no random streams (config.json "streams")`,
    );
  }
  if (canonical(a.streams) !== canonical(b.streams))
    return welch('different random streams (config.json "streams")');
  const pa = dataPrints(a);
  const pb = dataPrints(b);
  for (const name of new Set([...pa.keys(), ...pb.keys()])) {
    const x = pa.get(name);
    const y = pb.get(name);
    if (x === undefined || y === undefined) {
      return welch(`data "${name}" is a fingerprinted file in run ${x ? "A" : "B"} only`);
    }
    if (x.sha256 !== y.sha256) {
      return welch(
        `different data: "${name}" has sha256 ${x.sha256.slice(0, 12)}… in A, ${y.sha256.slice(0, 12)}… in B`,
      );
    }
    if (x.label !== y.label)
      return welch(`different label column of "${name}" ("${x.label}" vs "${y.label}")`);
  }
  const sa = seedsByIndex(a);
  const sb = seedsByIndex(b);
  if (sa === undefined || sb === undefined) {
    return welch(
      `run ${sa === undefined ? "A" : "B"} gives one seed index different seeds (no common random numbers)`,
    );
  }
  const k = Math.min(a.seeds, b.seeds);
  for (let i = 0; i < k; i++) {
    if (sa[i] !== sb[i]) return welch(`different seeds at seed index ${i} (${sa[i]} vs ${sb[i]})`);
  }
  const over =
    a.seeds === b.seeds ? "" : ` over the ${k} seed indices both have (A has ${a.seeds}, B ${b.seeds})`;
  return {
    paired: true,
    reason: `same root seed (${a.rootSeed}), seed derivation, streams and data: paired by seed index${over}`,
    seedIndices: k,
  };
}

/** One metric at one grid point of a comparison. */
export interface ComparisonRow {
  point: GridPoint;
  metric: string;
  /** Mean over run A's finite values at the point (as summary.csv), and how many there are. */
  meanA: number | null;
  nA: number;
  meanB: number | null;
  nB: number;
  /**
   * B − A: the mean paired difference over the seed indices whose two values are finite (paired),
   * or mean(B) − mean(A) over the finite values (Welch). Null without values.
   */
  diff: number | null;
  ci95Lo: number | null;
  ci95Hi: number | null;
  pValue: number | null;
  /** Pairs used (paired); null for Welch. */
  pairs: number | null;
  /** Values (Welch) or pairs (paired) left out because a value is missing: a failed unit or an undefined metric. */
  missing: number;
  /** Values (Welch) or pairs (paired) left out because a value is not finite (e.g. an infinite NLL). */
  nonFinite: number;
  /** The test, in words: `paired t interval, exact sign-flip (2^3 assignments)` or `Welch t (df 3.87)`. */
  test: string;
}

/** One run as a comparison names it. */
export interface RunLabel {
  dir: string;
  experiment: string;
  status: string;
  rootSeed: number;
  seeds: number;
  gridPoints: number;
}

/** The comparison of run B against run A. */
export interface RunComparison {
  a: RunLabel;
  b: RunLabel;
  pairing: Pairing;
  /** The parameters of the shared points (A's order, then B's others). */
  parameters: string[];
  /** The metrics compared (A's order). */
  metrics: string[];
  metricsOnlyInA: string[];
  metricsOnlyInB: string[];
  /** Grid points both runs have (A's order), and those only one has. */
  shared: GridPoint[];
  onlyInA: GridPoint[];
  onlyInB: GridPoint[];
  /** Settings that differ besides the grid (experiment, quick), in words. */
  notes: string[];
  /** One row per shared point × compared metric (points in A's order, then metrics). */
  rows: ComparisonRow[];
}

/** A run as a comparison names it. */
export function runLabel(run: RunFolder): RunLabel {
  return {
    dir: run.dir,
    experiment: run.config.experiment,
    status: runStatus(run),
    rootSeed: run.config.rootSeed,
    seeds: run.config.seeds,
    gridPoints: run.config.grid.length,
  };
}

/** Mean of the finite values and how many there are. */
function finiteMean(values: readonly (number | null)[]): { mean: number | null; n: number } {
  let s = 0;
  let n = 0;
  for (const v of values) {
    if (v !== null && Number.isFinite(v)) {
      s += v;
      n++;
    }
  }
  return { mean: n === 0 ? null : s / n, n };
}

/**
 * One metric at one point: A's values `va` and B's values `vb` (one per seed index, null =
 * missing) compared as {@link pairing} says — paired: `pairedEffect(vb[0..k), va[0..k))` (Student-t
 * interval of the mean difference, sign-flip p-value); unpaired: {@link welchTest} on the finite
 * values. Cost: that of the test.
 */
export function compareValues(
  pair: Pairing,
  point: GridPoint,
  metric: string,
  va: readonly (number | null)[],
  vb: readonly (number | null)[],
): ComparisonRow {
  const a = finiteMean(va);
  const b = finiteMean(vb);
  const base = { point, metric, meanA: a.mean, nA: a.n, meanB: b.mean, nB: b.n };
  if (pair.paired) {
    const k = pair.seedIndices;
    const e = pairedEffect(vb.slice(0, k), va.slice(0, k));
    return {
      ...base,
      diff: e.meanDiff,
      ci95Lo: e.ci95Lo,
      ci95Hi: e.ci95Hi,
      pValue: e.pValue,
      pairs: e.n,
      missing: e.failed,
      nonFinite: e.nonFinite,
      test: e.test === "" ? "paired t interval" : `paired t interval, ${e.test}`,
    };
  }
  const finite = (vs: readonly (number | null)[]) =>
    vs.filter((v): v is number => v !== null && Number.isFinite(v));
  const missing = [...va, ...vb].filter((v) => v === null).length;
  const nonFinite = [...va, ...vb].filter((v) => v !== null && !Number.isFinite(v)).length;
  const w = welchTest(finite(va), finite(vb));
  return {
    ...base,
    diff: w.diff,
    ci95Lo: w.ci95Lo,
    ci95Hi: w.ci95Hi,
    pValue: w.pValue,
    pairs: null,
    missing,
    nonFinite,
    test: w.df === null ? "Welch t" : `Welch t (df ${Number(w.df.toPrecision(3))})`,
  };
}

/** A grid point in words: `data=clusters, l2=0` (parameters in the given order). */
export function pointText(point: GridPoint, parameters: readonly string[]): string {
  const keys = [
    ...parameters.filter((p) => p in point),
    ...Object.keys(point).filter((k) => !parameters.includes(k)),
  ];
  return keys.map((k) => `${k}=${String(point[k])}`).join(", ");
}

/** A list of names for a one-line message: `a, b, c` (at most 20, then how many in all). */
export function nameList(names: readonly string[]): string {
  const shown = names.slice(0, 20).join(", ");
  return names.length > 20 ? `${shown}, … (${names.length} in all)` : shown;
}

/**
 * Compares run B against run A (see the module doc): the shared grid points (equal parameter
 * values, `pointKey`), the metrics both have (or `metrics`, each of which both must have), the
 * pairing ({@link pairing}) and one {@link ComparisonRow} per shared point and metric. Mismatched
 * grids are reported in `onlyInA`/`onlyInB`, not an error.
 * Errors: InputError for a requested metric one of the runs lacks (listing those both have).
 * Cost: O(units × metrics) plus the tests (exact sign-flip tests up to 30 pairs: O(2^(n/2)·n) each).
 */
export function compareRuns(
  a: RunFolder,
  b: RunFolder,
  opts: { metrics?: readonly string[] } = {},
): RunComparison {
  const ca = a.config;
  const cb = b.config;
  const both = ca.metrics.filter((m) => cb.metrics.includes(m));
  for (const m of opts.metrics ?? []) {
    if (!both.includes(m)) {
      throw new InputError(
        `--metric: expected a metric both runs have (${nameList(both)}); got ${JSON.stringify(m)}`,
      );
    }
  }
  const metrics = opts.metrics ? both.filter((m) => opts.metrics?.includes(m)) : both;
  const pair = pairing(ca, cb);
  const indexB = new Map(cb.grid.map((p, i) => [pointKey(p), i]));
  const keysA = new Set(ca.grid.map(pointKey));
  const shared: GridPoint[] = [];
  const onlyInA: GridPoint[] = [];
  const rows: ComparisonRow[] = [];
  ca.grid.forEach((p, ia) => {
    const ib = indexB.get(pointKey(p));
    if (ib === undefined) {
      onlyInA.push(p);
      return;
    }
    shared.push(p);
    for (const m of metrics) {
      rows.push(
        compareValues(pair, p, m, a.values[ia][ca.metrics.indexOf(m)], b.values[ib][cb.metrics.indexOf(m)]),
      );
    }
  });
  const notes: string[] = [];
  if (ca.experiment !== cb.experiment)
    notes.push(`different experiments: ${ca.experiment} vs ${cb.experiment}`);
  if (ca.quick !== cb.quick)
    notes.push(`--quick in run ${ca.quick ? "A" : "B"} only (its smaller grids and settings)`);
  if (ca.seeds !== cb.seeds) notes.push(`${ca.seeds} seeds in A, ${cb.seeds} in B`);
  return {
    a: runLabel(a),
    b: runLabel(b),
    pairing: pair,
    parameters: [...ca.parameters, ...cb.parameters.filter((p) => !ca.parameters.includes(p))],
    metrics,
    metricsOnlyInA: ca.metrics.filter((m) => !cb.metrics.includes(m)),
    metricsOnlyInB: cb.metrics.filter((m) => !ca.metrics.includes(m)),
    shared,
    onlyInA,
    onlyInB: cb.grid.filter((p) => !keysA.has(pointKey(p))),
    notes,
    rows,
  };
}
