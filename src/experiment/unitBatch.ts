/**
 * Writes finished units to a run's `units/` folder in batches: one `*.jsonl` file (one unit
 * record per line) for all the units that finished within `flushMs` of each other, instead of one
 * file per unit. Creating a file costs 0.3–0.9 ms on an ext4 disk and two threads creating files
 * in one folder queue on its lock, against units of ~1 ms: one file per unit made `--jobs 2` no
 * faster than `--jobs 1` (measured; see the README's Performance section).
 *
 * What a crash can cost: each batch is written like every other file (temp file, then rename), so
 * `kill -9` loses at most the units finished in the last `flushMs` — not yet on disk, `--resume`
 * runs them again — and never damages a file. Batches are not fsynced: a power loss can at worst
 * leave lines empty, zero-filled or cut short, which `readUnits` skips, so `--resume` runs those
 * units again. Only the main thread writes, under the run's lock.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { WriteFile } from "./aggregate.js";
import { unitsDir } from "./config.js";

/** Default time finished units wait to be written together (ms). */
export const DEFAULT_FLUSH_MS = 200;

export class UnitBatch {
  private keys: string[] = [];
  private texts: string[] = [];
  private timer: NodeJS.Timeout | undefined;

  /**
   * @param dir the run folder (batches go to `dir/units/`)
   * @param write the run's file writer (errors are already one-line RunErrors)
   * @param flushMs how long a finished unit may wait for others before its batch is written; 0
   *   writes each unit at once, in a file of its own
   * @param fail called with a write error of a timed flush (the unit that triggered it is kept in
   *   no file; the caller stops the run)
   * @param onWritten called after each batch file is written, with its path and the keys it holds
   *   (what it throws is treated like a write error)
   */
  constructor(
    private readonly dir: string,
    private readonly write: WriteFile,
    private readonly flushMs: number,
    private readonly fail: (err: unknown) => void,
    private readonly onWritten?: (file: string, keys: string[]) => void,
  ) {}

  /** Adds a finished unit's record text (one line, as `unitRecordText` makes it). */
  add(key: string, text: string): void {
    this.keys.push(key);
    this.texts.push(text);
    if (this.flushMs === 0) this.flushOrFail();
    else this.timer ??= setTimeout(() => this.flushOrFail(), this.flushMs);
  }

  /**
   * Writes the waiting units as one batch file ({@link writeBatch}), then tells `onWritten`.
   * Throws the write's error (the batch is then dropped) or `onWritten`'s.
   */
  flush(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.keys.length === 0) return;
    const keys = this.keys;
    const texts = this.texts;
    this.keys = [];
    this.texts = [];
    const file = writeBatch(this.dir, this.write, keys[0], texts.join(""));
    this.onWritten?.(file, keys);
  }

  /** Drops the waiting units and the timer (after a write error: the run stops). */
  discard(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.keys = [];
    this.texts = [];
  }

  private flushOrFail(): void {
    try {
      this.flush();
    } catch (err) {
      this.fail(err);
    }
  }
}

/**
 * Writes unit record lines as the batch file `units/<first key>.jsonl` of run folder `dir`
 * (`<first key>~<n>.jsonl` if that name is taken — by a damaged earlier batch, which may still
 * hold other units' valid lines, so it is never replaced), not fsynced (see the module doc).
 * Returns the file written.
 */
export function writeBatch(dir: string, write: WriteFile, firstKey: string, lines: string): string {
  let file = path.join(unitsDir(dir), `${firstKey}.jsonl`);
  for (let n = 2; fs.existsSync(file); n++) file = path.join(unitsDir(dir), `${firstKey}~${n}.jsonl`);
  write(file, lines, { durable: false });
  return file;
}
