/**
 * Sharding: split a sweep's units over N processes or machines, deterministically.
 */
import { InputError } from "../errors.js";

/** One shard of N: `index` is 1-based (1 ≤ index ≤ count), as in `--shard I/N`. */
export interface Shard {
  index: number;
  count: number;
}

const EXPECTED = "expected I/N with integers 1 <= I <= N (e.g. 2/4), auto/N or auto";

/**
 * Parses a `--shard` value.
 *
 * Forms:
 * - `I/N` — shard I of N, 1-based (`1/2`, `2/2`).
 * - `auto/N`, `/N` — shard count N, index from the environment (below).
 * - `auto` — index and count from the environment.
 *
 * Environment, first match wins:
 * 1. `SOFTCAL_SHARD_INDEX` — 1-based index (the I of `I/N`); count from `SOFTCAL_SHARD_COUNT`
 *    when N is not given.
 * 2. `SLURM_ARRAY_TASK_ID` — Slurm job arrays: index = `SLURM_ARRAY_TASK_ID −
 *    SLURM_ARRAY_TASK_MIN` + 1 (`SLURM_ARRAY_TASK_MIN` defaults to 0, so `--array=0-3` and
 *    `--array=1-4` both give shards 1..4); count from `SLURM_ARRAY_TASK_COUNT` when N is not given.
 *    Use a contiguous array (no `:step`).
 * 3. `JOB_COMPLETION_INDEX` — Kubernetes Indexed Jobs, 0-based: index = value + 1. Kubernetes
 *    exports no count, so give N (`auto/N`, N = `.spec.completions`).
 *
 * Units are assigned by {@link inShard}: unit i (0-based, in the deterministic unit order) belongs
 * to shard I of N iff `i mod N = I − 1`. Errors: {@link InputError} naming the flag or variable,
 * e.g. `--shard: expected I/N with integers 1 <= I <= N (e.g. 2/4), auto/N or auto; got "3/2"`.
 * Cost: O(length of text).
 *
 * @example
 * parseShard("2/4") // { index: 2, count: 4 }
 * parseShard("auto/4", { SLURM_ARRAY_TASK_ID: "3", SLURM_ARRAY_TASK_MIN: "0" }) // { index: 4, count: 4 }
 */
export function parseShard(text: string, env: Record<string, string | undefined> = process.env): Shard {
  const t = text.trim();
  const m = /^(auto|\d*)(?:\/(\d+))?$/.exec(t);
  if (!m || (m[2] === undefined && m[1] !== "auto"))
    throw new InputError(`--shard: ${EXPECTED}; got "${text}"`);
  let count = m[2] === undefined ? undefined : Number(m[2]);
  if (count !== undefined && !(Number.isSafeInteger(count) && count >= 1)) {
    throw new InputError(`--shard: ${EXPECTED}; got "${text}"`);
  }
  let index: number;
  if (m[1] !== "auto" && m[1] !== "") {
    index = Number(m[1]);
  } else {
    const fromEnv = shardFromEnv(env, text);
    index = fromEnv.index;
    if (count === undefined) count = fromEnv.count;
    if (count === undefined) {
      throw new InputError(
        `--shard ${text}: expected a shard count (auto/N, or ${fromEnv.source} with its count variable); got none`,
      );
    }
    if (!(index >= 1 && index <= count)) {
      throw new InputError(
        `${fromEnv.source}: expected a shard index in 1..${count} after conversion (see parseShard); got ${index}`,
      );
    }
  }
  if (count === undefined || !(Number.isSafeInteger(index) && index >= 1 && index <= count)) {
    throw new InputError(`--shard: ${EXPECTED}; got "${text}"`);
  }
  return { index, count };
}

function envInt(env: Record<string, string | undefined>, name: string): number | undefined {
  const v = env[name];
  if (v === undefined || v.trim() === "") return undefined;
  if (!/^\s*\d+\s*$/.test(v)) throw new InputError(`${name}: expected a non-negative integer; got "${v}"`);
  return Number(v);
}

function shardFromEnv(
  env: Record<string, string | undefined>,
  text: string,
): { index: number; count: number | undefined; source: string } {
  const softcal = envInt(env, "SOFTCAL_SHARD_INDEX");
  if (softcal !== undefined) {
    return { index: softcal, count: envInt(env, "SOFTCAL_SHARD_COUNT"), source: "SOFTCAL_SHARD_INDEX" };
  }
  const slurm = envInt(env, "SLURM_ARRAY_TASK_ID");
  if (slurm !== undefined) {
    const min = envInt(env, "SLURM_ARRAY_TASK_MIN") ?? 0;
    return {
      index: slurm - min + 1,
      count: envInt(env, "SLURM_ARRAY_TASK_COUNT"),
      source: "SLURM_ARRAY_TASK_ID",
    };
  }
  const k8s = envInt(env, "JOB_COMPLETION_INDEX");
  if (k8s !== undefined) return { index: k8s + 1, count: undefined, source: "JOB_COMPLETION_INDEX" };
  throw new InputError(
    `--shard ${text}: expected SOFTCAL_SHARD_INDEX, SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX in the environment; got none`,
  );
}

/**
 * True iff unit `unitIndex` (0-based, in unit order) belongs to `shard`: `unitIndex mod N = I − 1`.
 * No shard means every unit. Round-robin keeps shards balanced when unit costs vary along the grid.
 */
export function inShard(unitIndex: number, shard: Shard | undefined): boolean {
  return shard === undefined || unitIndex % shard.count === shard.index - 1;
}

/** `1/2` → "shard-1-of-2" (used in file names). */
export function shardTag(shard: Shard): string {
  return `shard-${shard.index}-of-${shard.count}`;
}
