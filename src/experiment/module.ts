/**
 * A user's own experiment as an ES module: `softcal run ./my-experiment.mjs` imports it, and its
 * default export — an {@link Experiment}, conveniently written with {@link defineExperiment} — runs
 * on the same engine as the built-in ones (worker threads import the same module; `--resume`,
 * `--shard`, `merge`, `list`, `report` and `show` work on it).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { InputError } from "../errors.js";
import type { Experiment } from "./types.js";

/**
 * Types an experiment (an identity function: `export default defineExperiment({ … })` gets every
 * field checked by TypeScript and documented in the editor).
 */
export function defineExperiment(experiment: Experiment): Experiment {
  return experiment;
}

/** Whether a `softcal run` argument names a module file rather than a built-in experiment. */
export function isModuleSpec(arg: string): boolean {
  return /[\\/]/.test(arg) || /\.(m?js|cjs|m?ts|cts)$/.test(arg);
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Imports a module file and returns its default export, checked to be an experiment (a name of
 * letters, digits, `.`, `_`, `-`; `run` and `grid` functions; a `metrics` array), and the module's
 * URL (for worker threads). A TypeScript file loads only through the user's own loader (run
 * softcal under `node --import tsx`, or compile it to `.mjs`): without one, the error says so.
 * @throws InputError naming the file.
 */
export async function loadExperimentModule(
  spec: string,
  cwd = process.cwd(),
): Promise<{ experiment: Experiment; url: string }> {
  // A blank argument names no file (and would resolve to the current folder).
  if (spec.trim() === "")
    throw new InputError(
      `expected an experiment module file (./my-experiment.mjs); got ${JSON.stringify(spec)}`,
    );
  const file = path.resolve(cwd, spec);
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    throw new InputError("expected an experiment module file (.mjs/.js); got no such file", { file: spec });
  }
  if (!st.isFile())
    throw new InputError("expected an experiment module file (.mjs/.js); got something else", { file: spec });
  const url = pathToFileURL(file).href;
  let mod: { default?: unknown };
  try {
    mod = (await import(url)) as { default?: unknown };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err?.code === "ERR_UNKNOWN_FILE_EXTENSION" && /\.(m|c)?ts$/.test(file)) {
      throw new InputError(
        "expected a JavaScript module; got TypeScript, which Node runs only through a loader — run `NODE_OPTIONS=--import=tsx npx softcal run …` (tsx installed in your project) or compile it to .mjs",
        { file: spec },
      );
    }
    throw new InputError(`expected a module that loads; got ${String(err?.message ?? err).split("\n")[0]}`, {
      file: spec,
    });
  }
  const exp = mod.default as Partial<Experiment> | undefined;
  const problem =
    exp === null || typeof exp !== "object"
      ? "no default export object"
      : typeof exp.name !== "string" || !NAME_RE.test(exp.name)
        ? `a name that is not letters, digits, ".", "_", "-" (${JSON.stringify(exp.name)})`
        : typeof exp.run !== "function" || typeof exp.grid !== "function"
          ? "no run() or grid() function"
          : !Array.isArray(exp.metrics)
            ? "no metrics array"
            : undefined;
  if (problem !== undefined) {
    throw new InputError(
      `expected a default export that is an experiment (export default defineExperiment({ name, description, grid, metrics, run })); got ${problem}`,
      { file: spec },
    );
  }
  return { experiment: exp as Experiment, url };
}
