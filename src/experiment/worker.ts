/**
 * Worker-thread entry of the runner: imports the experiment registry (a module exporting
 * `experiments: Experiment[]`), then runs the units the main thread sends, one at a time, and
 * posts each result back. It writes no files: the main thread is the only writer.
 */
import { parentPort, workerData } from "node:worker_threads";
import type { Experiment, GridPoint, RunContext } from "./types.js";

/** Message main → worker. */
export interface WorkerTask {
  id: number;
  point: GridPoint;
  ctx: RunContext;
}

/** Message worker → main. */
export type WorkerReply =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; message: string };

const { registryUrl, experiment } = workerData as { registryUrl: string; experiment: string };

const loaded: Promise<Experiment> = import(registryUrl).then((mod: { experiments?: Experiment[] }) => {
  if (!Array.isArray(mod.experiments))
    throw new TypeError(`${registryUrl} does not export experiments: Experiment[]`);
  const exp = mod.experiments.find((e) => e.name === experiment);
  if (!exp) throw new TypeError(`${registryUrl} exports no experiment named "${experiment}"`);
  return exp;
});
loaded.catch(() => {}); // reported per task below

parentPort?.on("message", async (task: WorkerTask) => {
  let reply: WorkerReply;
  try {
    const exp = await loaded;
    const result = await exp.run(task.point, task.ctx);
    reply = { id: task.id, ok: true, result };
  } catch (err) {
    const e = err as Error;
    reply = { id: task.id, ok: false, message: e?.message ?? String(err) };
  }
  try {
    parentPort?.postMessage(reply);
  } catch (err) {
    parentPort?.postMessage({
      id: task.id,
      ok: false,
      message: `result is not transferable: ${(err as Error).message}`,
    });
  }
});
