/**
 * Worker-thread entry of the runner: imports the experiment registry (a module exporting
 * `experiments: Experiment[]`), then claims units itself from the run's shared queue — an atomic
 * counter over the pending units, shared with the main thread and the other workers — runs each
 * and posts its record text (the same bytes any thread makes) and its CSV rows to the main thread,
 * which writes the units in batches. No message round trip sits between two units, so a worker never waits for
 * the main thread.
 */
import { parentPort, workerData } from "node:worker_threads";
import { type RunConfig, type UnitPlan, unitRecordText } from "./config.js";
import { unitContext } from "./seeds.js";
import type { Experiment } from "./types.js";
import { type UnitCsv, unitCsv } from "./unitCsv.js";

/** Layout of the shared Int32Array: next unit index to claim, stop flag, one "running" slot per worker. */
export const QUEUE_NEXT = 0;
export const QUEUE_STOP = 1;
export const QUEUE_SLOTS = 2;
/** `workerData.role` of a unit worker: importing this module anywhere else runs nothing. */
export const WORKER_ROLE = "softcal-unit-worker";

/** What the main thread gives a worker when it starts it. */
export interface WorkerSetup {
  /** Marks the setup (this module runs only in a thread started with it). */
  role: typeof WORKER_ROLE;
  registryUrl: string;
  experiment: string;
  config: RunConfig;
  /** The units to run (indices into this list are claimed from the queue). */
  pending: UnitPlan[];
  quick: boolean;
  /** Int32Array over it: see QUEUE_NEXT, QUEUE_STOP, QUEUE_SLOTS. */
  queue: SharedArrayBuffer;
  /** This worker's slot: `queue[QUEUE_SLOTS + slot]` holds the unit it runs, −1 when none. */
  slot: number;
}

/** Message worker → main. */
export type WorkerReply =
  /** A finished unit: its record's text and its rows of runs.csv and reliability.csv. */
  | { kind: "text"; index: number; text: string; csv: UnitCsv }
  | { kind: "failed"; index: number; message: string }
  | { kind: "fatal"; message: string };

async function main(setup: WorkerSetup): Promise<void> {
  const port = parentPort!;
  const { config, pending, quick } = setup;
  const queue = new Int32Array(setup.queue);
  let exp: Experiment;
  try {
    // A registry (`experiments: Experiment[]`) or a user's module (its default export).
    const mod = (await import(setup.registryUrl)) as { experiments?: Experiment[]; default?: Experiment };
    const list = Array.isArray(mod.experiments) ? mod.experiments : mod.default ? [mod.default] : undefined;
    if (list === undefined)
      throw new TypeError(
        `${setup.registryUrl} exports neither experiments: Experiment[] nor a default experiment`,
      );
    const found = list.find((e) => e.name === setup.experiment);
    if (!found) throw new TypeError(`${setup.registryUrl} exports no experiment named "${setup.experiment}"`);
    exp = found;
  } catch (err) {
    port.postMessage({
      kind: "fatal",
      message: (err as Error)?.message ?? String(err),
    } satisfies WorkerReply);
    return;
  }
  while (Atomics.load(queue, QUEUE_STOP) === 0) {
    const index = Atomics.add(queue, QUEUE_NEXT, 1);
    if (index >= pending.length) break;
    Atomics.store(queue, QUEUE_SLOTS + setup.slot, index);
    const plan = pending[index];
    let reply: WorkerReply;
    try {
      const result = await exp.run({ ...config.grid[plan.point] }, unitContext(plan, quick, config.data));
      const unit = unitRecordText(config, plan, result);
      reply =
        "message" in unit
          ? { kind: "failed", index, message: unit.message }
          : { kind: "text", index, text: unit.text, csv: unitCsv(config, unit.record) };
    } catch (err) {
      reply = { kind: "failed", index, message: (err as Error)?.message ?? String(err) };
    }
    port.postMessage(reply);
    Atomics.store(queue, QUEUE_SLOTS + setup.slot, -1);
  }
}

if (parentPort && (workerData as Partial<WorkerSetup> | null)?.role === WORKER_ROLE) {
  void main(workerData as WorkerSetup);
}
