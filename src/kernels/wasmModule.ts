/**
 * Loading softcal's WebAssembly SIMD module (built from `assembly/softcal.ts` by
 * `npm run build:wasm` into `dist/wasm/softcal.wasm`), compiled once per process, synchronously.
 *
 * The module imports one shared `WebAssembly.Memory` (so worker threads can run on the same
 * memory); each objective builds its own memory and instance over the cached module.
 */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The parts of the WebAssembly JS API used here (the project's `lib` has no DOM types). */
export interface WasmMemory {
  readonly buffer: SharedArrayBuffer;
  grow(deltaPages: number): number;
}
/** A compiled module (opaque). */
export type WasmModule = object;
interface WasmApi {
  Memory: new (d: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (m: WasmModule, imports: object) => { exports: unknown };
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** A shared memory of `initial` pages that can grow to MAX_PAGES. */
export function sharedMemory(initial: number): WasmMemory {
  return new WA.Memory({ initial, maximum: MAX_PAGES, shared: true });
}

/** The exported functions of softcal.wasm (pointers are byte offsets into the shared memory). */
export interface SoftcalWasmExports {
  chunkPairs(): number;
  heapBase(): number;
  expNegArray(src: number, dst: number, n: number): void;
  /** The objective's calls take its descriptor `desc` (layout: assembly/descriptor.ts). */
  objectiveChunks(desc: number, theta: number, c0: number, c1: number, scratch: number): void;
  objectiveReduce(desc: number, theta: number, grad: number): number;
  objectiveEvaluate(desc: number, theta: number, grad: number): number;
  objectiveDescend(
    desc: number,
    theta: number,
    grad: number,
    alpha: number,
    iters: number,
    hist: number,
  ): number;
  objectiveLbfgs(
    desc: number,
    n: number,
    x: number,
    g: number,
    tol: number,
    maxIter: number,
    M: number,
    work: number,
    hist: number,
    status: number,
  ): number;
  allFinite(v: number, n: number): number;
  temperaturePrepare(src: number, lab: number, n: number, K: number, sp: number, out: number): number;
  temperatureChunkPairs(): number;
  /** The moments pass's calls take its descriptor `tdesc`, β included (layout: assembly/temperature.ts). */
  temperatureChunks(tdesc: number, c0: number, c1: number): void;
  temperatureReduce(tdesc: number, out: number): void;
  temperatureMoments(tdesc: number, out: number, stride: number): void;
}

/** Host functions the module imports: J and ∇J at x (∇J written at g) over several threads. */
export interface SoftcalHost {
  hostEvaluate(x: number, g: number): number;
}

/** The memory's maximum in 64 KiB pages (2 GiB): must not exceed the module's declared maximum. */
export const MAX_PAGES = 32768;
/** The most bytes a kernel's memory can hold (MAX_PAGES pages of 64 KiB: 2 GiB). */
export const MAX_WASM_BYTES = MAX_PAGES * 65536;
/** Room kept for the module's static data below a kernel's layout (it needs a few KiB). */
export const STATIC_DATA_BYTES = 1 << 20;

/** n rounded up to a multiple of 64 bytes (a cache line): where the kernels' memory layouts start each area. */
export const align = (n: number): number => Math.ceil(n / 64) * 64;

// From src/kernels/ (tsx, vitest) and from dist/src/kernels/ (the built package).
const CANDIDATES = ["../../dist/wasm/softcal.wasm", "../../wasm/softcal.wasm"];

let cached: { module: WasmModule | null; reason: string | null } | undefined;

function load(): { module: WasmModule | null; reason: string | null } {
  if (cached) return cached;
  const path = CANDIDATES.map((c) => fileURLToPath(new URL(c, import.meta.url))).find((p) => existsSync(p));
  if (path === undefined) {
    cached = { module: null, reason: "dist/wasm/softcal.wasm is missing (run `npm run build:wasm`)" };
    return cached;
  }
  try {
    // Shared memory (worker threads) and SIMD must both be supported.
    new WA.Memory({ initial: 1, maximum: 1, shared: true });
    cached = { module: new WA.Module(readFileSync(path)), reason: null };
  } catch (e) {
    cached = {
      module: null,
      reason: `WebAssembly SIMD or shared memory is unavailable here (${(e as Error).message})`,
    };
  }
  return cached;
}

/**
 * Why the WebAssembly kernels cannot be used in this process, or null when they can (the module
 * was built and this runtime has WebAssembly SIMD and shared memory; Node ≥ 16.4 has both).
 * Cost: reads and compiles the module on the first call (~1 ms), then O(1).
 * @example wasmUnavailableReason() // null
 */
export function wasmUnavailableReason(): string | null {
  return load().reason;
}

/** The compiled module (throws Error with the reason when unavailable). */
export function softcalModule(): WasmModule {
  const { module, reason } = load();
  if (module === null) throw new Error(`softcal: WebAssembly kernels unavailable: ${reason}`);
  return module;
}

/** A fresh instance of the module on `memory`. */
const NO_HOST: SoftcalHost = {
  hostEvaluate: () => {
    throw new Error("hostEvaluate called on an instance without threads");
  },
};

let heapBaseCache = -1;

/** The first byte above the module's static data (the same for every instance). */
export function heapBase(): number {
  if (heapBaseCache < 0)
    heapBaseCache = instantiate(new WA.Memory({ initial: 1, maximum: 1, shared: true })).heapBase();
  return heapBaseCache;
}

export function instantiate(memory: WasmMemory, host: SoftcalHost = NO_HOST): SoftcalWasmExports {
  const instance = new WA.Instance(softcalModule(), { env: { memory }, host });
  return instance.exports as unknown as SoftcalWasmExports;
}
