/**
 * Rendering many figures on several threads: this thread and up to `threads − 1` worker threads
 * (each with its own vega and resvg), every figure still a pure function of its spec — the same
 * SVG and PNG bytes as {@link renderFigure} on this thread (`normalizeSvgIds` makes a rendering
 * independent of what its process drew before), whichever thread draws it.
 *
 * Workers start on the first figure that finds this thread busy and stay until {@link
 * RenderPool.close}; while idle they do not keep the process alive.
 */
import type { Worker } from "node:worker_threads";
import { moduleWorker, siblingModule } from "../io/moduleWorker.js";
import { renderFigure } from "./render.js";

/** A rendered figure. */
export interface RenderedFigure {
  svg: string;
  png: Uint8Array;
}

/** Renders figures on several threads; renders may be requested concurrently. */
export interface RenderPool {
  render(spec: object): Promise<RenderedFigure>;
  /** Worker threads started so far (0 until this thread is found busy). */
  readonly workersStarted: number;
  /** Stops the workers; renders not yet drawn are rejected ("render pool closed"). */
  close(): Promise<void>;
}

interface Task {
  spec: object;
  resolve(fig: RenderedFigure): void;
  reject(err: Error): void;
}

/** What a render worker posts back: a figure or the error rendering it raised. */
export type RenderReply = { svg: string; png: Uint8Array } | { error: string };

interface Slot {
  worker: Worker;
  task: Task | undefined;
}

/** A pool of `threads` renderers (this thread included); `threads` ≤ 1 renders on this thread only. */
export function renderPool(threads: number): RenderPool {
  const queue: Task[] = [];
  const slots: Slot[] = [];
  let mainBusy = false;
  let closed = false;
  // After a worker dies (it could not load vega, say), no new one starts: this thread renders.
  let broken = false;
  let started = 0;

  const startWorker = (): Slot => {
    const worker = moduleWorker(siblingModule(import.meta.url, "renderWorker"));
    started++;
    const slot: Slot = { worker, task: undefined };
    const settle = (reply: RenderReply) => {
      const t = slot.task;
      slot.task = undefined;
      worker.unref();
      if (t) {
        if ("error" in reply) t.reject(new Error(reply.error));
        else t.resolve({ svg: reply.svg, png: reply.png });
      }
      pump();
    };
    worker.on("message", settle);
    // A worker that dies hands its figure back to the queue and leaves the pool.
    const lost = () => {
      if (closed) return;
      broken = true;
      const i = slots.indexOf(slot);
      if (i >= 0) slots.splice(i, 1);
      if (slot.task) queue.unshift(slot.task);
      slot.task = undefined;
      pump();
    };
    worker.on("error", lost);
    worker.on("exit", lost);
    worker.unref();
    return slot;
  };

  const pump = (): void => {
    while (queue.length > 0) {
      const idle = slots.find((s) => s.task === undefined);
      if (idle) {
        const t = queue.shift() as Task;
        idle.task = t;
        idle.worker.ref();
        idle.worker.postMessage(t.spec);
        continue;
      }
      if (!mainBusy) {
        const t = queue.shift() as Task;
        mainBusy = true;
        renderFigure(t.spec as Parameters<typeof renderFigure>[0])
          .then(t.resolve, t.reject)
          .finally(() => {
            mainBusy = false;
            pump();
          });
        continue;
      }
      if (!closed && !broken && slots.length < threads - 1) {
        slots.push(startWorker());
        continue;
      }
      return;
    }
  };

  return {
    get workersStarted() {
      return started;
    },
    render(spec) {
      return new Promise<RenderedFigure>((resolve, reject) => {
        if (closed) return reject(new Error("render pool closed"));
        queue.push({ spec, resolve, reject });
        pump();
      });
    },
    async close() {
      closed = true;
      const stopping = slots.splice(0).map((s) => {
        s.task?.reject(new Error("render pool closed"));
        s.task = undefined;
        return s.worker.terminate();
      });
      for (const t of queue.splice(0)) t.reject(new Error("render pool closed"));
      await Promise.all(stopping);
    },
  };
}
