/**
 * Toy experiments for the engine's tests: each unit finishes in microseconds (unless TOY_SLEEP_MS
 * asks it to sleep), its result is a pure function of (point, seed), and it exercises every part
 * of the contract: numbers, nulls, non-finite metrics, strings that need CSV quoting, booleans,
 * reliability bins (with an empty bin) and extras for figures.
 *
 * Environment knobs (read at run time, so worker threads see them too):
 * - TOY_SLEEP_MS: sleep this long in every unit (kill/interrupt tests).
 * - TOY_FAIL: `<a>:<seedIndex>` makes the unit with that `a` and seed index throw.
 * - TOY_MAIN_WAITS: a folder; a unit run on the main thread first waits (≤ 20 s) until a `.jsonl`
 *   file is in it — with the run's `units/` folder, a worker thread must have finished a unit, so
 *   a `--jobs 2` test really exercises the workers (the main thread would otherwise finish these
 *   microsecond units before a worker has loaded). The results do not change.
 * - TOY_WORKER_EXIT: a file path; the first unit a worker thread runs while that file does not
 *   exist creates it and ends the thread (`process.exit` in a worker): exactly one worker dies,
 *   mid-unit.
 * - TOY_GATE: `<n>:<file>`; in each thread, every toy unit after the thread's first n waits until
 *   <file> exists — a test holds a run at a known point (n finished units per thread) for as long
 *   as it needs, then lets it go on by creating the file, instead of racing a timer.
 */
import * as fs from "node:fs";
import { isMainThread } from "node:worker_threads";
import seedrandom from "seedrandom";

async function waitForWorkerUnit(dir: string): Promise<void> {
  const until = Date.now() + 20_000;
  const done = () => {
    try {
      return fs.readdirSync(dir).some((f) => f.endsWith(".jsonl"));
    } catch {
      return false;
    }
  };
  while (!done()) {
    if (Date.now() > until) throw new Error(`TOY_MAIN_WAITS: no .jsonl file in ${dir} after 20 s`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

import type { Experiment, GridPoint } from "../../src/experiment/types.js";

/** Toy units this thread has started (TOY_GATE counts them). */
let started = 0;

/** TOY_GATE: after this thread's first n units, wait until the gate file exists. */
async function passGate(): Promise<void> {
  const gate = process.env.TOY_GATE;
  if (!gate) return;
  const colon = gate.indexOf(":");
  const n = Number(gate.slice(0, colon));
  const file = gate.slice(colon + 1);
  if (++started <= n) return;
  while (!fs.existsSync(file)) await new Promise((r) => setTimeout(r, 5));
}

const fullGrid: GridPoint[] = [
  { a: 1, b: "x" },
  { a: 1, b: "y" },
  { a: 2.5, b: "x" },
  { a: 2.5, b: 'y, "quoted"' },
  { a: 3, b: "x", flag: true },
];

export const toy: Experiment = {
  name: "toy",
  description: "a + uniform noise, with nulls, a non-finite metric and two-bin reliability",
  grid: ({ quick }) => (quick ? fullGrid.slice(0, 2) : fullGrid),
  metrics: ["value", "noise", "maybe", "ratio"],
  async run(point, ctx) {
    await passGate();
    const sleep = Number(process.env.TOY_SLEEP_MS ?? "0");
    if (sleep > 0) await new Promise((r) => setTimeout(r, sleep));
    const waitDir = process.env.TOY_MAIN_WAITS;
    if (waitDir && isMainThread) await waitForWorkerUnit(waitDir);
    const exitMarker = process.env.TOY_WORKER_EXIT;
    if (exitMarker && !isMainThread && !fs.existsSync(exitMarker)) {
      fs.writeFileSync(exitMarker, "");
      process.exit(3);
    }
    if (process.env.TOY_FAIL === `${point.a}:${ctx.seedIndex}`)
      throw new Error(`toy failure at a=${point.a}`);
    const rng = seedrandom.alea(String(ctx.seed));
    const u = rng();
    const v = rng();
    const a = point.a as number;
    const count = 1 + Math.floor(v * 9);
    return {
      metrics: {
        value: a + u,
        noise: u,
        maybe: ctx.seedIndex === 0 ? null : u * v,
        ratio: point.flag === true && ctx.seedIndex === 1 ? Number.POSITIVE_INFINITY : u / (v + 1),
      },
      reliability: [
        {
          view: "test",
          bins: [
            { lower: 0, upper: 0.5, count, meanPredicted: u / 2, observed: v / 2 },
            { lower: 0.5, upper: 1, count: 0, meanPredicted: null, observed: null },
          ],
        },
      ],
      extras: { curve: [u, u / 2, u / 4] },
    };
  },
  tables({ points, runs }) {
    return [
      {
        name: "toy-table",
        columns: ["a", "b", "runs", "value_sum", "none"],
        rows: points.map((p, i) => {
          const mine = runs.filter((r) => r.pointIndex === i);
          return [p.a, p.b, mine.length, mine.reduce((s, r) => s + (r.result.metrics.value ?? 0), 0), null];
        }),
      },
    ];
  },
  figures({ points, runs }) {
    return [
      {
        name: "toy-value",
        spec: {
          mark: "point",
          data: {
            values: runs.map((r) => ({ a: r.point.a, value: r.result.metrics.value, seed: r.seedIndex })),
          },
          encoding: { x: { field: "a", type: "quantitative" }, y: { field: "value", type: "quantitative" } },
          description: `${points.length} points`,
        },
      },
    ];
  },
};

export const toy2: Experiment = {
  name: "toy2",
  description: "product of two parameters and a draw; no reliability",
  grid: () => [
    { k: 1, m: "p" },
    { k: 2, m: "q" },
    { k: 3, m: "p" },
  ],
  metrics: ["score"],
  run(point, ctx) {
    const rng = seedrandom.alea(`${ctx.seed}`);
    return { metrics: { score: (point.k as number) * rng() } };
  },
};

/** The registry workers import. */
export const experiments: Experiment[] = [toy, toy2];
