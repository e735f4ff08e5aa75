/**
 * Progress of a sweep: a cli-progress bar on a terminal, plain log lines otherwise (CI logs).
 */
import cliProgress from "cli-progress";
import type { Logger } from "./aggregate.js";

/** One progress update: `done` of `total` units of this run's share finished (incl. skipped). */
export interface ProgressEvent {
  experiment: string;
  done: number;
  total: number;
  skipped: number;
  failed: number;
  /** The unit that just finished (absent for the initial event). */
  unit?: string;
}

/** Receives progress events. */
export type ProgressCallback = (event: ProgressEvent) => void;

/** A default reporter: `start`/`update`/`stop` per experiment. */
export interface ProgressReporter {
  update(event: ProgressEvent): void;
  stop(): void;
}

/**
 * A bar on a TTY (`tty` true), else log lines at 0%, every further 10%, and 100% (at most 12
 * lines per experiment, so CI logs stay readable).
 */
export function defaultProgress(logger: Logger, tty: boolean): ProgressReporter {
  let bar: cliProgress.SingleBar | undefined;
  let current = "";
  let lastDecile = -1;
  let started = 0;
  let startDone = 0;
  // cli-progress's own ETA prints "NFs" until the first unit arrives; this one says "…" instead.
  const eta = (done: number, total: number): string => {
    const n = done - startDone;
    if (n <= 0) return "…";
    const s = Math.round((((performance.now() - started) / n) * (total - done)) / 1000);
    return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s` : `${s}s`;
  };
  return {
    update(e) {
      if (e.experiment !== current) {
        bar?.stop();
        bar = undefined;
        current = e.experiment;
        lastDecile = -1;
        if (tty) {
          bar = new cliProgress.SingleBar(
            {
              format: `${e.experiment} [{bar}] {value}/{total} units | {failed} failed | eta {etaText}`,
              stream: process.stderr,
            },
            cliProgress.Presets.shades_classic,
          );
          started = performance.now();
          startDone = e.done;
          bar.start(e.total, e.done, { failed: e.failed, etaText: "…" });
        }
      }
      if (bar) {
        bar.update(e.done, { failed: e.failed, etaText: eta(e.done, e.total) });
        return;
      }
      const decile = e.total === 0 ? 10 : Math.floor((10 * e.done) / e.total);
      if (decile > lastDecile) {
        lastDecile = decile;
        const extra = [e.skipped ? `${e.skipped} already done` : "", e.failed ? `${e.failed} failed` : ""]
          .filter(Boolean)
          .join(", ");
        logger.info(`${e.experiment}: ${e.done}/${e.total} units${extra ? ` (${extra})` : ""}`);
      }
    },
    stop() {
      bar?.stop();
      bar = undefined;
      current = "";
    },
  };
}
