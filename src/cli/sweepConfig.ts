/**
 * `softcal run --config sweep.json`: a sweep's settings in a file — the same as the command line's
 * flags, so a sweep is a file you can commit, and running it twice gives byte-identical CSVs.
 *
 * ```json
 * { "experiments": ["l2-sweep"], "data": ["my.csv", "iris"], "label": "species",
 *   "set": { "l2": [0, 0.001, 0.01] }, "seeds": 30, "rootSeed": 0, "jobs": 2 }
 * ```
 * Flags given on the command line win over the file's values (per axis for `set`). The file is
 * untrusted input: at most {@link MAX_CONFIG_BYTES}, a JSON object of the keys below only, each of
 * its type; anything else is one line, exit 2.
 */
import * as fs from "node:fs";
import { InputError } from "../errors.js";

/** The largest sweep config file read: 1 MiB. */
export const MAX_CONFIG_BYTES = 1 << 20;

/** A sweep config file's settings (every key optional). */
export interface SweepConfig {
  experiments?: string[];
  data?: string[];
  label?: string;
  set?: Record<string, string[]>;
  seeds?: number;
  rootSeed?: number;
  jobs?: number;
  out?: string;
  quick?: boolean;
  figures?: boolean;
}

const KEYS = ["experiments", "data", "label", "set", "seeds", "rootSeed", "jobs", "out", "quick", "figures"];

/**
 * Reads and validates a sweep config file. Axis values in `set` may be JSON numbers, booleans or
 * strings (they are parsed by the axis's type like `--set`'s text: numbers are written in
 * JavaScript's shortest round-trip form first). `data` may be one string or an array.
 * @throws InputError naming the file and what was expected.
 */
export function readSweepConfig(file: string): SweepConfig {
  let text: string;
  try {
    const st = fs.statSync(file);
    if (!st.isFile())
      throw new InputError("expected a sweep config file (JSON); got something else", { file });
    if (st.size > MAX_CONFIG_BYTES) {
      throw new InputError(`expected a sweep config of at most ${MAX_CONFIG_BYTES} bytes; got ${st.size}`, {
        file,
      });
    }
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(
      `expected a readable sweep config file; got ${(e as NodeJS.ErrnoException).code ?? "an error"}`,
      {
        file,
      },
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new InputError(`expected JSON; got ${(e as Error).message}`, { file });
  }
  const bad = (what: string) => new InputError(`expected ${what}`, { file });
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) throw bad("a JSON object");
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!KEYS.includes(k)) throw bad(`only the keys ${KEYS.join(", ")}; got "${k}"`);
  }
  const out: SweepConfig = {};
  const strings = (k: string, v: unknown): string[] => {
    const list = typeof v === "string" ? [v] : v;
    if (!Array.isArray(list) || list.length === 0 || !list.every((x) => typeof x === "string" && x !== "")) {
      throw bad(`"${k}" to be a non-empty string or a non-empty array of non-empty strings`);
    }
    return list as string[];
  };
  const integer = (k: string, v: unknown): number => {
    if (typeof v !== "number" || !Number.isSafeInteger(v))
      throw bad(`"${k}" to be an integer; got ${JSON.stringify(v)}`);
    return v;
  };
  const boolean = (k: string, v: unknown): boolean => {
    if (typeof v !== "boolean") throw bad(`"${k}" to be true or false; got ${JSON.stringify(v)}`);
    return v;
  };
  if (o.experiments !== undefined) out.experiments = strings("experiments", o.experiments);
  if (o.data !== undefined) out.data = strings("data", o.data);
  if (o.label !== undefined) out.label = strings("label", o.label)[0];
  if (o.out !== undefined) out.out = strings("out", o.out)[0];
  if (o.seeds !== undefined) out.seeds = integer("seeds", o.seeds);
  if (o.rootSeed !== undefined) out.rootSeed = integer("rootSeed", o.rootSeed);
  if (o.jobs !== undefined) out.jobs = integer("jobs", o.jobs);
  if (o.quick !== undefined) out.quick = boolean("quick", o.quick);
  if (o.figures !== undefined) out.figures = boolean("figures", o.figures);
  if (o.set !== undefined) {
    if (o.set === null || typeof o.set !== "object" || Array.isArray(o.set))
      throw bad('"set" to be an object of axis → values');
    out.set = {};
    for (const [axis, v] of Object.entries(o.set as Record<string, unknown>)) {
      const list = Array.isArray(v) ? v : [v];
      if (
        list.length === 0 ||
        !list.every(
          (x) =>
            typeof x === "string" || typeof x === "boolean" || (typeof x === "number" && Number.isFinite(x)),
        )
      ) {
        throw bad(`"set.${axis}" to be a value or a non-empty array of strings, finite numbers or booleans`);
      }
      out.set[axis] = list.map((x) => String(x));
    }
  }
  return out;
}
