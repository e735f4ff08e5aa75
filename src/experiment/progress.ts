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
              format: `${e.experiment} [{bar}] {value}/{total} units | {failed} failed | eta {eta_formatted}`,
              stream: process.stderr,
            },
            cliProgress.Presets.shades_classic,
          );
          bar.start(e.total, e.done, { failed: e.failed });
        }
      }
      if (bar) {
        bar.update(e.done, { failed: e.failed });
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
