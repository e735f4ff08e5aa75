/**
 * Starting a worker thread on an ES module of softcal's: the compiled `.js` directly, or — when
 * softcal runs from its TypeScript sources (tests, `tsx`) — through a bootstrap that registers
 * tsx in the worker first (`execArgv: ["--import", "tsx"]` does not apply tsx to a worker's own
 * module on Node 20).
 */
import { Worker, type WorkerOptions } from "node:worker_threads";

let tsxApiUrl: string | undefined;

/**
 * A worker running module `url`; `typescript` (default: `url` ends in `.ts`) says the module
 * graph needs tsx.
 */
export function moduleWorker(url: URL, options: WorkerOptions & { typescript?: boolean } = {}): Worker {
  const { typescript = url.pathname.endsWith(".ts"), ...workerOptions } = options;
  if (!typescript) return new Worker(url, workerOptions);
  if (tsxApiUrl === undefined) {
    try {
      tsxApiUrl = import.meta.resolve("tsx/esm/api");
    } catch {
      tsxApiUrl = "tsx/esm/api";
    }
  }
  const code = `import(${JSON.stringify(tsxApiUrl)}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); });`;
  return new Worker(code, { ...workerOptions, eval: true });
}

/** The URL of the sibling module `name` (without extension) of module `from`, in `from`'s language. */
export function siblingModule(from: string, name: string): URL {
  const own = new URL(from);
  return new URL(`./${name}${own.pathname.endsWith(".ts") ? ".ts" : ".js"}`, own);
}
