/**
 * Worker threads for the WebAssembly kernels: each worker instantiates softcal.wasm on the
 * objective's shared `WebAssembly.Memory` and computes a fixed range of row chunks whenever the
 * main thread moves the control block's state to a new "run" (Atomics.wait/notify on a control
 * block in that memory).
 *
 * The state is one int32, `serial << 2 | command` (0 idle, 1 run, 2 release), changed only by the
 * main thread, each change with a new serial: a worker acts once per state it observes, so it
 * computes each run exactly once. (A separate generation counter and command word let a worker
 * that was descheduled between waking and reading the command — a released binding the main
 * thread had already bound again and started a run on — compute that run twice, counting as two
 * threads: the caller then read a chunk range another worker had not written yet. Seen as
 * 1 in 60 three-thread evaluations alternating with a two-thread objective.)
 *
 * The pool is process-wide and lazy (no worker starts until a multi-threaded objective is used);
 * workers are `unref`ed so they never keep the process alive. One objective owns the workers at a
 * time; using another one re-binds them (the previous owner re-binds again when next used).
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { WasmMemory, WasmModule } from "./wasmModule.js";

/** The most threads a kernel uses by default: the machine's cores, at most 8. */
export function defaultCores(): number {
  return Math.min(availableParallelism(), 8);
}

/**
 * The kernels' thread-count rule: 1 for a problem too small for threads to pay (their wake-up
 * and synchronisation cost more than they save), else one per core but never more threads than
 * chunks of work. O(1).
 */
export function threadsFor(small: boolean, chunks: number, cores: number): number {
  return small ? 1 : Math.max(1, Math.min(cores, chunks));
}

/** What a worker needs to compute its chunks (byte offsets into the shared memory). */
export interface ChunkJob {
  memory: WasmMemory;
  module: WasmModule;
  /** Control block: 4 int32 (state = serial << 2 | command, done count, unused, chunk claim counter of temperature jobs). */
  ctl: number;
  /** The objective's descriptor (assembly/descriptor.ts) and Θ: `objectiveChunks`'s arguments besides the chunk range and scratch. */
  desc: number;
  theta: number;
  nChunks: number;
  /** Scratch of thread t at scratch + t·scratchStride. */
  scratch: number;
  scratchStride: number;
  nThreads: number;
  /**
   * Set for temperature scaling's moments pass instead of the objective: the byte offset of its
   * descriptor — i32 [sp, nPairs, oddLast, K, nChunks, partials] then f64 β at +32 — read again at
   * every run (by the wasm calls, β included), so one job serves every fit (`nChunks` here must be
   * kept equal to the descriptor's).
   */
  temperatureDesc?: number;
}

// Plain JavaScript, run with { eval: true } so it needs no file next to the compiled sources.
const WORKER_SOURCE = `
const { parentPort } = require("node:worker_threads");
parentPort.on("message", (m) => {
  const host = { hostEvaluate: () => { throw new Error("hostEvaluate in a worker"); } };
  const ex = new WebAssembly.Instance(m.job.module, { env: { memory: m.job.memory }, host }).exports;
  const j = m.job;
  const ctl = new Int32Array(j.memory.buffer, j.ctl, 4);
  const c0 = Math.floor((j.nChunks * m.id) / j.nThreads);
  const c1 = Math.floor((j.nChunks * (m.id + 1)) / j.nThreads);
  const scratch = j.scratch + m.id * j.scratchStride;
  const td = j.temperatureDesc === undefined ? null : new Int32Array(j.memory.buffer, j.temperatureDesc, 6);
  let seen = m.state;
  for (;;) {
    Atomics.wait(ctl, 0, seen);
    seen = Atomics.load(ctl, 0);
    const command = seen & 3;
    if (command === 2) break;
    if (command !== 1) continue;
    if (td !== null) {
      // Claim chunks one at a time (ctl[3]); ctl[1] counts finished chunks. The descriptor and β
      // are read after each claim: they are written before the claim counter is reset.
      for (let c = Atomics.add(ctl, 3, 1); c < td[4]; c = Atomics.add(ctl, 3, 1)) {
        ex.temperatureChunks(j.temperatureDesc, c, c + 1);
        Atomics.add(ctl, 1, 1);
        Atomics.notify(ctl, 1);
      }
      continue;
    }
    ex.objectiveChunks(j.desc, j.theta, c0, c1, scratch);
    Atomics.add(ctl, 1, 1);
    Atomics.notify(ctl, 1);
  }
});
`;

const workers: Worker[] = [];
let owner: ChunkJob | null = null;

/** Commands in the low two bits of the state word ctl[0]. */
const IDLE = 0;
const RUN = 1;
const RELEASE = 2;

/** Moves the state to a new serial with `command` (only this thread writes it); returns the new state. */
function setState(ctl: Int32Array, command: number): number {
  const state = (((Atomics.load(ctl, 0) >> 2) + 1) << 2) | command | 0;
  Atomics.store(ctl, 0, state);
  return state;
}

function release(job: ChunkJob): void {
  const ctl = new Int32Array(job.memory.buffer, job.ctl, 4);
  setState(ctl, RELEASE);
  Atomics.notify(ctl, 0);
}

function bind(job: ChunkJob): void {
  if (owner === job) return;
  if (owner !== null) release(owner);
  while (workers.length < job.nThreads - 1) {
    const w = new Worker(WORKER_SOURCE, { eval: true });
    w.unref();
    workers.push(w);
  }
  const ctl = new Int32Array(job.memory.buffer, job.ctl, 4);
  const state = setState(ctl, IDLE);
  for (let t = 1; t < job.nThreads; t++) workers[t - 1].postMessage({ job, id: t, state });
  owner = job;
}

/**
 * Computes all chunks of `job`: threads 1..T−1 in the workers, thread 0's range by `runOwn`
 * (on the calling thread), and returns when every chunk's partial sums are written.
 */
export function runChunks(job: ChunkJob, runOwn: (c0: number, c1: number) => void): void {
  bind(job);
  const ctl = new Int32Array(job.memory.buffer, job.ctl, 4);
  Atomics.store(ctl, 1, 0);
  setState(ctl, RUN);
  Atomics.notify(ctl, 0);
  runOwn(0, Math.floor(job.nChunks / job.nThreads));
  const others = job.nThreads - 1;
  for (let done = Atomics.load(ctl, 1); done < others; done = Atomics.load(ctl, 1)) {
    Atomics.wait(ctl, 1, done);
  }
}

/**
 * Computes all chunks of a temperature job (`temperatureDesc` set): every thread, the calling one
 * included, claims chunks one at a time until none is left, so the caller never waits for a
 * worker that is still starting or was descheduled (it computes those chunks itself); returns
 * when every chunk's partial sums are written. The descriptor and β must be written before.
 */
export function runClaimedChunks(job: ChunkJob, runOne: (c: number) => void): void {
  bind(job);
  const ctl = new Int32Array(job.memory.buffer, job.ctl, 4);
  Atomics.store(ctl, 1, 0);
  Atomics.store(ctl, 3, 0);
  setState(ctl, RUN);
  Atomics.notify(ctl, 0);
  for (let c = Atomics.add(ctl, 3, 1); c < job.nChunks; c = Atomics.add(ctl, 3, 1)) {
    runOne(c);
    Atomics.add(ctl, 1, 1);
  }
  for (let done = Atomics.load(ctl, 1); done < job.nChunks; done = Atomics.load(ctl, 1)) {
    Atomics.wait(ctl, 1, done);
  }
}
