/**
 * A lock file that keeps two processes from writing one run folder at once.
 *
 * The lock is a file created with O_EXCL (`open(..., "wx")`), which exactly one process can win,
 * holding `{"pid", "host", "startedAt"}`. A lock whose pid is no longer alive on this host is
 * stale (its owner crashed or was killed) and is taken over; a lock held by another host cannot
 * be checked from here and is never taken over.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import { InputError } from "../errors.js";

/** Contents of a lock file. */
export interface LockInfo {
  pid: number;
  host: string;
  startedAt: string;
}

/** A held lock; call `release()` when done (idempotent). */
export interface Lock {
  file: string;
  release(): void;
}

/** True if a process with this pid exists on this host (signal 0 probes without signalling). */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Reads a lock file; `undefined` if it is missing or unparseable. */
export function readLock(file: string): LockInfo | undefined {
  try {
    const info = JSON.parse(fs.readFileSync(file, "utf8")) as LockInfo;
    if (typeof info.pid !== "number" || typeof info.host !== "string") return undefined;
    return info;
  } catch {
    return undefined;
  }
}

/**
 * Takes the lock file `file` (its folder must exist), or throws.
 *
 * Steps: create with O_EXCL and write `{pid, host, startedAt}`; if the file exists, read it: a
 * lock of this host whose pid is dead — or an unparseable lock older than 10 s (a crash between
 * create and write) — is removed and the create retried once (if another process wins that
 * race, this one refuses). `what` names the thing being locked in messages.
 *
 * Errors: {@link InputError} `<file>: expected no other softcal process writing <what>; got one
 * (pid P on host H, since T) — wait for it, or remove the lock file if that process is gone`.
 * Cost: a few small file operations.
 */
export function acquireLock(file: string, what: string): Lock {
  const info: LockInfo = { pid: process.pid, host: os.hostname(), startedAt: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    let fd: number;
    try {
      fd = fs.openSync(file, "wx", 0o644);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const holder = readLock(file);
      if (attempt === 0 && isStale(file, holder)) {
        try {
          fs.unlinkSync(file);
        } catch {
          // another process removed it first; the retry decides
        }
        continue;
      }
      const who = holder
        ? `pid ${holder.pid} on host ${holder.host}, since ${holder.startedAt}`
        : "an unreadable lock file";
      throw new InputError(
        `expected no other softcal process writing ${what}; got one (${who}) — wait for it, or remove the lock file if that process is gone`,
        { file },
      );
    }
    try {
      fs.writeSync(fd, JSON.stringify(info));
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    let released = false;
    return {
      file,
      release() {
        if (released) return;
        released = true;
        const now = readLock(file);
        if (now && now.pid === info.pid && now.host === info.host && now.startedAt === info.startedAt) {
          try {
            fs.unlinkSync(file);
          } catch {
            // already gone
          }
        }
      },
    };
  }
  /* c8 ignore next */
  throw new Error("unreachable");
}

function isStale(file: string, holder: LockInfo | undefined): boolean {
  if (holder === undefined) {
    try {
      return Date.now() - fs.statSync(file).mtimeMs > 10_000;
    } catch {
      return true;
    }
  }
  return holder.host === os.hostname() && !isProcessAlive(holder.pid);
}
