/**
 * Shared pieces of the tracking tests (`runs`, `compare`, `check`): real `l2-sweep` run folders
 * made by the CLI, and in-memory run folders with chosen metric values for the properties.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { buildConfig, type RunConfig } from "../../src/experiment/config.js";
import type { Experiment, GridPoint } from "../../src/experiment/types.js";
import type { RunFolder } from "../../src/tracking/runFolder.js";
import { cli } from "./cli.js";

/** A fresh temporary folder; `cleanup()` removes every folder made. */
export function tempDirs(prefix: string): { make(): string; cleanup(): void } {
  const made: string[] = [];
  return {
    make() {
      const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
      made.push(d);
      return d;
    },
    cleanup() {
      for (const d of made) fs.rmSync(d, { recursive: true, force: true });
    },
  };
}

/**
 * `softcal run l2-sweep --seeds 3 --no-figures --jobs 1 --out OUT [args…]` in-process; returns the run
 * folder. Throws with the CLI's stderr if it does not exit 0.
 */
export async function l2Run(out: string, ...args: string[]): Promise<string> {
  const r = await cli(
    "run",
    "l2-sweep",
    "--seeds",
    "3",
    "--no-figures",
    "--jobs",
    "1",
    "--out",
    out,
    ...args,
  );
  if (r.code !== 0) throw new Error(`softcal run l2-sweep failed (${r.code}): ${r.stderr}`);
  return path.join(out, "l2-sweep");
}

/** What {@link memoryRun} builds a run folder from. */
export interface MemoryRunSpec {
  grid: GridPoint[];
  metrics: string[];
  seeds: number;
  rootSeed?: number;
  /** `values[point][metric][seedIndex]`. */
  values: (number | null)[][][];
  /** config.json's `streams` (default: one stream description; null: none recorded). */
  streams?: Record<string, string> | null;
  /** Fields merged into the config after it is built (e.g. `data` fingerprints). */
  extra?: Partial<RunConfig> & Record<string, unknown>;
  dir?: string;
}

/** A run folder held in memory (as `readRunFolder` returns one): the config `buildConfig` makes for the grid. */
export function memoryRun(spec: MemoryRunSpec): RunFolder {
  const streams = spec.streams === undefined ? { data: "the split: (data, seed index)" } : spec.streams;
  const exp: Experiment = {
    name: "toy",
    description: "in-memory run",
    grid: () => spec.grid,
    metrics: spec.metrics,
    run: () => ({ metrics: {} }),
    ...(streams === null ? {} : { streams }),
  };
  const config = buildConfig(exp, { seeds: spec.seeds, rootSeed: spec.rootSeed ?? 0, quick: false });
  if (streams === null) delete config.streams;
  Object.assign(config, spec.extra ?? {});
  return { dir: spec.dir ?? "mem", config, manifest: undefined, values: spec.values };
}
