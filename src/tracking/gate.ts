/**
 * The calibration gate behind `softcal check`: rules on a run's metrics — absolute bounds on a
 * metric's mean over seeds at each grid point, and allowed changes against a baseline run judged
 * by the comparison's 95% interval — evaluated at every selected grid point, each (rule, point) a
 * pass, a fail or a skip with its reason.
 */
import { InputError } from "../errors.js";
import { pointKey } from "../experiment/seeds.js";
import type { GridPoint, ParamValue } from "../experiment/types.js";
import {
  compareValues,
  nameList,
  type Pairing,
  pairing,
  pointText,
  type RunLabel,
  runLabel,
} from "./compare.js";
import type { RunFolder } from "./runFolder.js";

/** The kinds of rule: bounds on the mean, and allowed changes against a baseline run. */
export type GateRuleKind = "max" | "min" | "max-increase" | "max-decrease";

/** One rule, as `--max ece=0.05`, `--min accuracy=0.9`, `--max-increase ece=0.01` or `--max-decrease accuracy=0.02` give it. */
export interface GateRule {
  kind: GateRuleKind;
  metric: string;
  /** The bound (max/min) or the allowed change Δ (max-increase/max-decrease). */
  bound: number;
}

/** Most rules and `--where` values one check takes (each rule is evaluated at every selected point). */
export const MAX_GATE_RULES = 1000;

/** The command-line flag of each rule kind. */
export const RULE_FLAGS: Readonly<Record<GateRuleKind, string>> = {
  max: "--max",
  min: "--min",
  "max-increase": "--max-increase",
  "max-decrease": "--max-decrease",
};

/** True for the rules judged against a baseline run. */
export function isBaselineRule(rule: GateRule): boolean {
  return rule.kind === "max-increase" || rule.kind === "max-decrease";
}

/** A rule in words: `ece <= 0.05`, `accuracy >= 0.9`, `ece - baseline <= 0.01`, `accuracy - baseline >= -0.02`. */
export function ruleText(rule: GateRule): string {
  switch (rule.kind) {
    case "max":
      return `${rule.metric} <= ${rule.bound}`;
    case "min":
      return `${rule.metric} >= ${rule.bound}`;
    case "max-increase":
      return `${rule.metric} - baseline <= ${rule.bound}`;
    case "max-decrease":
      return `${rule.metric} - baseline >= ${-rule.bound}`;
  }
}

/**
 * Parses one rule flag's value `METRIC=VALUE` (VALUE a finite number). Errors: InputError naming
 * the flag: `--max: expected METRIC=VALUE with VALUE a finite number; got "ece"`.
 */
export function parseRule(kind: GateRuleKind, text: string): GateRule {
  const flag = RULE_FLAGS[kind];
  const m = /^([^=]+)=\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*$/.exec(text);
  const bound = m ? Number(m[2]) : Number.NaN;
  if (!m || !Number.isFinite(bound)) {
    throw new InputError(
      `${flag}: expected METRIC=VALUE with VALUE a finite number; got ${JSON.stringify(text)}`,
    );
  }
  return { kind, metric: m[1].trim(), bound };
}

/**
 * Parses `--where AXIS=VALUE` flags into a filter: axis → the accepted values (a point passes when,
 * for every axis named, its value is one of them). Errors: InputError for a value without `=`.
 */
export function parseWhere(texts: readonly string[]): Map<string, string[]> {
  const where = new Map<string, string[]>();
  for (const t of texts) {
    const i = t.indexOf("=");
    if (i <= 0) throw new InputError(`--where: expected AXIS=VALUE; got ${JSON.stringify(t)}`);
    const axis = t.slice(0, i).trim();
    where.set(axis, [...(where.get(axis) ?? []), t.slice(i + 1).trim()]);
  }
  return where;
}

/** Whether a typed `--where` value names a parameter value: the same text, or the same number (`1e-2` = 0.01). */
export function matchesValue(value: ParamValue, typed: string): boolean {
  if (String(value) === typed) return true;
  return (
    typeof value === "number" &&
    /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(typed) &&
    Number(typed) === value
  );
}

/** The outcome of one rule at one grid point. */
export interface GateResult {
  rule: GateRule;
  /** The rule in words ({@link ruleText}). */
  ruleText: string;
  point: GridPoint;
  /** The point in words: `data=clusters, l2=0`. */
  pointText: string;
  status: "pass" | "fail" | "skip";
  /**
   * The value judged: the mean over seeds (max/min), or the mean difference run − baseline
   * (max-increase/max-decrease); null when there is none.
   */
  value: number | null;
  /** The rule's bound (max/min) or allowed change (baseline rules, as the signed limit: Δ or −Δ). */
  bound: number;
  /** Baseline rules: the 95% interval of run − baseline, and the test that gave it. */
  ci95Lo?: number | null;
  ci95Hi?: number | null;
  test?: string;
  /** Why it passed, failed or was skipped, in words. */
  message: string;
}

/** The outcome of a check. */
export interface GateReport {
  /** True when no (rule, point) failed. */
  ok: boolean;
  run: RunLabel;
  baseline?: RunLabel;
  /** How the run is compared with the baseline (present with a baseline). */
  pairing?: Pairing;
  rules: GateRule[];
  /** One per rule × selected point, rules in the order given, points in the run's grid order (then the baseline's). */
  results: GateResult[];
  passed: number;
  failed: number;
  skipped: number;
}

/** A number for messages: up to 6 significant digits. */
function num(x: number | null): string {
  if (x === null) return "none";
  if (!Number.isFinite(x) || Number.isInteger(x)) return String(x);
  return String(Number(x.toPrecision(6)));
}

/**
 * The mean a bound is judged on: over the point's values that are numbers (±Infinity included, so
 * an infinite NLL on one seed fails `--max nll`), leaving out missing values (failed units,
 * undefined metrics) and NaN — both counted in the message.
 */
function gateMean(values: readonly (number | null)[]): { mean: number | null; note: string } {
  let s = 0;
  let n = 0;
  let missing = 0;
  let nan = 0;
  for (const v of values) {
    if (v === null) missing++;
    else if (Number.isNaN(v)) nan++;
    else {
      s += v;
      n++;
    }
  }
  const notes: string[] = [];
  if (missing > 0) notes.push(`${missing} of ${values.length} missing (failed or undefined)`);
  if (nan > 0) notes.push(`${nan} of ${values.length} NaN`);
  const infinite = values.filter((v) => v !== null && !Number.isFinite(v) && !Number.isNaN(v)).length;
  if (infinite > 0) notes.push(`${infinite} of ${values.length} infinite`);
  return { mean: n === 0 ? null : s / n, note: notes.length === 0 ? "" : ` (${notes.join(", ")})` };
}

/**
 * Evaluates `rules` on `run` at every grid point that passes `where` (see {@link parseWhere};
 * default every point):
 *
 * - `max`/`min`: the metric's mean over seeds at the point ({@link gateMean}: infinities count,
 *   missing values and NaN are left out and said) must be ≤ / ≥ the bound; a point with no value
 *   fails (nothing shows the bound holds).
 * - `max-increase` Δ / `max-decrease` Δ (need `baseline`): run − baseline at each point both have,
 *   compared as `compareRuns` does (paired by seed index where the runs share seeds and data, Welch
 *   otherwise). A regression counts only when the 95% interval excludes the allowed change: it
 *   fails when the interval's lower end is above Δ (max-increase) or its upper end below −Δ
 *   (max-decrease). A point with no interval (fewer than 2 pairs, or values on a side) fails: the
 *   data cannot show the change is allowed. Points only one run has are skipped, with the reason.
 *
 * Errors (InputError, before any evaluation): no rules or more than {@link MAX_GATE_RULES}; a
 * metric the run (or, for baseline rules, the baseline) lacks, listing the valid ones; a baseline
 * rule without a baseline, or a baseline without baseline rules; a `where` axis that is not a
 * parameter of the run, or a value no grid point has (each listing the valid ones).
 * Cost: O(rules × points × seeds) plus the comparisons' tests.
 */
export function checkRun(
  run: RunFolder,
  rules: readonly GateRule[],
  opts: { where?: ReadonlyMap<string, readonly string[]>; baseline?: RunFolder } = {},
): GateReport {
  const { baseline } = opts;
  const where = opts.where ?? new Map<string, string[]>();
  const config = run.config;
  if (rules.length === 0) {
    throw new InputError(
      "check: expected at least one rule (--max, --min, --max-increase or --max-decrease); got none",
    );
  }
  const whereCount = [...where.values()].reduce((s, v) => s + v.length, 0);
  if (rules.length > MAX_GATE_RULES || whereCount > MAX_GATE_RULES) {
    throw new InputError(
      `check: expected at most ${MAX_GATE_RULES} rules and ${MAX_GATE_RULES} --where values; got ${rules.length} and ${whereCount}`,
    );
  }
  for (const r of rules) {
    const flag = RULE_FLAGS[r.kind];
    if (!config.metrics.includes(r.metric)) {
      throw new InputError(
        `${flag}: expected a metric of ${config.experiment} (${nameList(config.metrics)}); got ${JSON.stringify(r.metric)}`,
        { file: run.dir },
      );
    }
    if (isBaselineRule(r)) {
      if (baseline === undefined)
        throw new InputError(`${flag}: expected --baseline RUN0 to compare with; got none`);
      if (!baseline.config.metrics.includes(r.metric)) {
        throw new InputError(
          `${flag}: expected a metric the baseline has too (${nameList(baseline.config.metrics.filter((m) => config.metrics.includes(m)))}); got ${JSON.stringify(r.metric)}`,
          { file: baseline.dir },
        );
      }
    }
  }
  if (baseline !== undefined && !rules.some(isBaselineRule)) {
    throw new InputError(
      "--baseline: expected --max-increase or --max-decrease rules to check against it; got none",
    );
  }
  for (const [axis, typed] of where) {
    if (!config.parameters.includes(axis)) {
      throw new InputError(
        `--where: expected an axis of ${config.experiment} (${nameList(config.parameters)}); got ${JSON.stringify(axis)}`,
        { file: run.dir },
      );
    }
    const levels = [...new Set(config.grid.flatMap((p) => (axis in p ? [p[axis]] : [])))];
    for (const t of typed) {
      if (!levels.some((v) => matchesValue(v, t))) {
        throw new InputError(
          `--where: expected a value of "${axis}" in the grid (${nameList(levels.map(String))}); got ${JSON.stringify(t)}`,
          { file: run.dir },
        );
      }
    }
  }
  const selected = (p: GridPoint) =>
    [...where].every(([axis, typed]) => axis in p && typed.some((t) => matchesValue(p[axis], t)));
  if (!config.grid.some(selected)) {
    const asked = [...where].map(([axis, typed]) => `${axis}=${typed.join("|")}`).join(", ");
    throw new InputError(`--where: expected grid points matching every --where (${asked}); got none`, {
      file: run.dir,
    });
  }
  if (baseline !== undefined) {
    const keys = new Set(config.grid.map(pointKey));
    if (!baseline.config.grid.some((p) => keys.has(pointKey(p)) && selected(p))) {
      throw new InputError(
        "--baseline: expected grid points in common with the run (among those selected); got none",
        {
          file: baseline.dir,
        },
      );
    }
  }
  const pair = baseline ? pairing(baseline.config, config) : undefined;
  const parameters = config.parameters;
  const results: GateResult[] = [];
  for (const rule of rules) {
    const m = config.metrics.indexOf(rule.metric);
    const text = ruleText(rule);
    const result = (point: GridPoint, r: Omit<GateResult, "rule" | "ruleText" | "point" | "pointText">) =>
      results.push({ rule, ruleText: text, point, pointText: pointText(point, parameters), ...r });
    if (!isBaselineRule(rule)) {
      config.grid.forEach((point, i) => {
        if (!selected(point)) return;
        const { mean, note } = gateMean(run.values[i][m]);
        const holds = mean !== null && (rule.kind === "max" ? mean <= rule.bound : mean >= rule.bound);
        const op = rule.kind === "max" ? "<=" : ">=";
        const message =
          mean === null
            ? `no value to judge${note}`
            : Number.isNaN(mean)
              ? `mean undefined (+Infinity and -Infinity)${note}`
              : holds
                ? `mean ${num(mean)} ${op} ${num(rule.bound)}${note}`
                : `mean ${num(mean)} is not ${op} ${num(rule.bound)}${note}`;
        result(point, { status: holds ? "pass" : "fail", value: mean, bound: rule.bound, message });
      });
      continue;
    }
    const base = baseline as RunFolder;
    const bm = base.config.metrics.indexOf(rule.metric);
    const baseIndex = new Map(base.config.grid.map((p, i) => [pointKey(p), i]));
    const limit = rule.kind === "max-increase" ? rule.bound : -rule.bound;
    const runKeys = new Set<string>();
    config.grid.forEach((point, i) => {
      runKeys.add(pointKey(point));
      if (!selected(point)) return;
      const j = baseIndex.get(pointKey(point));
      if (j === undefined) {
        result(point, {
          status: "skip",
          value: null,
          bound: limit,
          message: "the baseline run has no such grid point",
        });
        return;
      }
      const row = compareValues(pair as Pairing, point, rule.metric, base.values[j][bm], run.values[i][m]);
      const lo = row.ci95Lo;
      const hi = row.ci95Hi;
      const interval = lo === null || hi === null ? "" : ` [${num(lo)}, ${num(hi)}]`;
      let status: "pass" | "fail";
      let message: string;
      if (lo === null || hi === null) {
        status = "fail";
        message = `no 95% interval of run - baseline (${row.pairs ?? Math.min(row.nA, row.nB)} ${row.pairs === null ? "values on the smaller side" : "pairs"} with finite values; 2 needed)`;
      } else if (rule.kind === "max-increase" ? lo > limit : hi < limit) {
        status = "fail";
        message = `run - baseline = ${num(row.diff)}, 95% interval${interval} lies ${rule.kind === "max-increase" ? "above" : "below"} the allowed ${num(limit)} (${row.test})`;
      } else {
        status = "pass";
        message = `run - baseline = ${num(row.diff)}, 95% interval${interval} does not exclude the allowed ${num(limit)} (${row.test})`;
      }
      result(point, {
        status,
        value: row.diff,
        bound: limit,
        ci95Lo: lo,
        ci95Hi: hi,
        test: row.test,
        message,
      });
    });
    for (const point of base.config.grid) {
      if (runKeys.has(pointKey(point)) || !selected(point)) continue;
      result(point, {
        status: "skip",
        value: null,
        bound: limit,
        message: "this run has no such grid point (the baseline has)",
      });
    }
  }
  const count = (s: GateResult["status"]) => results.filter((r) => r.status === s).length;
  return {
    ok: count("fail") === 0,
    run: runLabel(run),
    ...(baseline ? { baseline: runLabel(baseline), pairing: pair } : {}),
    rules: [...rules],
    results,
    passed: count("pass"),
    failed: count("fail"),
    skipped: count("skip"),
  };
}
