/**
 * A lock file that keeps two processes from writing one run folder at once.
 *
 * The lock is a file holding `{"pid", "host", "startedAt", "token"}`, created whole and
 * exclusively: the contents are written to a temp file, which is then hard-linked to the lock's
 * name — `link` fails if the name exists, so exactly one process wins, and a lock is never seen
 * empty or half-written. A lock whose pid is dead on this host (no such process, or a zombie
 * nobody has reaped yet) is stale: its owner crashed or was killed, and it is taken over. A lock
 * held by another host cannot be checked from here and is never taken over.
 *
 * Taking over is atomic too. Checking that the holder is dead and then removing the file is not
 * (two processes can both see the same dead holder; the slower one then removes the lock the
 * faster one just took, and both hold it), so a takeover of the lock whose contents are C first
 * claims the right to replace exactly C by creating the claim file `<lock>.take-<hash of C>.<n>`
 * exclusively, for n = 1, 2, …: a claim whose owner is alive makes everyone else refuse; one whose
 * owner died (mid-takeover) is passed over to claim n + 1. The claim's winner re-reads the lock,
 * and if it still holds C, renames its own lock file over it (atomic), then removes the claims.
 * No process can change a lock that holds C in between: its holder is dead, every other taker
 * needs a claim, and a fresh create needs the name free. Every lock's contents are unique (pid,
 * host, time and a per-process counter), so C names one lock, never a later one.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { threadId } from "node:worker_threads";
import { InputError } from "../errors.js";

/** Contents of a lock file. */
export interface LockInfo {
  pid: number;
  host: string;
  startedAt: string;
  /** Makes every lock's contents unique (pid, thread and a counter), so a takeover names exactly one lock. */
  token?: string;
  /** What the holder is, in words for others' messages (e.g. "shard 2/4"). */
  label?: string;
}

/** A held lock; call `release()` when done (idempotent). */
export interface Lock {
  file: string;
  release(): void;
}

/**
 * True if a process with this pid exists on this host and is not a zombie. `kill(pid, 0)` probes
 * without signalling; on Linux `/proc/<pid>/stat` then tells a zombie (state `Z`: it has exited
 * and only waits for its parent to reap it, e.g. right after `kill -9`) or a dead task (`X`)
 * from a live process — such a process can never write again, so it counts as dead.
 */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  const state = processState(pid);
  return state !== "Z" && state !== "X" && state !== "gone";
}

/**
 * The state letter of a Linux process (`R`, `S`, `D`, `Z`, `X`, …) from `/proc/<pid>/stat`;
 * "gone" if it has no entry there; undefined where there is no /proc (other systems) or it
 * cannot be read.
 */
export function processState(pid: number): string | undefined {
  if (process.platform !== "linux") return undefined;
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, "latin1");
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ENOENT" ? "gone" : undefined;
  }
  // "pid (comm) S …": comm may hold spaces and parentheses, so the state follows the last ')'.
  const close = stat.lastIndexOf(")");
  const state = close < 0 ? undefined : stat.slice(close + 1).trim()[0];
  return state;
}

/** Reads a lock file; `undefined` if it is missing or unparseable. */
export function readLock(file: string): LockInfo | undefined {
  const text = readText(file);
  return text === undefined ? undefined : parseLock(text);
}

function parseLock(text: string): LockInfo | undefined {
  try {
    const info = JSON.parse(text) as LockInfo;
    if (info === null || typeof info !== "object") return undefined;
    if (typeof info.pid !== "number" || typeof info.host !== "string") return undefined;
    if (info.label !== undefined && (typeof info.label !== "string" || info.label.length > 200))
      return undefined;
    return info;
  } catch {
    return undefined;
  }
}

/** A lock or claim file is a few hundred bytes; a larger one is not softcal's (read as unreadable). */
const MAX_LOCK_BYTES = 4096;

/**
 * A lock file's text, or undefined if it is missing, not a regular file (a FIFO or device is never
 * read: it is opened non-blocking and without following a symlink), or larger than a lock can be.
 */
function readText(file: string): string | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOFOLLOW);
  } catch {
    return undefined;
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile() || st.size > MAX_LOCK_BYTES) return undefined;
    const buf = Buffer.alloc(MAX_LOCK_BYTES + 1);
    let n = 0;
    for (;;) {
      const r = fs.readSync(fd, buf, n, buf.length - n, null);
      if (r === 0) break;
      n += r;
      if (n > MAX_LOCK_BYTES) return undefined;
    }
    return buf.toString("utf8", 0, n);
  } catch {
    return undefined;
  } finally {
    fs.closeSync(fd);
  }
}

let lockCounter = 0;

/** Fresh, unique lock contents for this process. */
function newLockText(label: string | undefined): string {
  const info: LockInfo = {
    pid: process.pid,
    host: os.hostname(),
    startedAt: new Date().toISOString(),
    token: `${process.pid}.${threadId}.${lockCounter++}.${process.hrtime.bigint()}`,
    ...(label === undefined ? {} : { label }),
  };
  return JSON.stringify(info);
}

/**
 * A temp file (in `file`'s folder) holding `text`; its path. Not fsynced: a lock only excludes
 * processes running at the same time, which share the page cache; after a power loss every holder
 * is dead, and a lock the loss left empty is unreadable, hence stale after 10 s.
 */
function writeTemp(file: string, text: string): string {
  const dir = path.dirname(file);
  for (let attempt = 0; ; attempt++) {
    const temp = path.join(dir, `.${path.basename(file)}.${process.pid}.${threadId}.${lockCounter++}.tmp`);
    let fd: number;
    try {
      fd = fs.openSync(temp, "wx", 0o644);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EEXIST" && attempt < 1000) continue;
      throw err;
    }
    try {
      fs.writeSync(fd, text);
    } catch (err) {
      fs.closeSync(fd);
      fs.rmSync(temp, { force: true });
      throw err;
    }
    fs.closeSync(fd);
    return temp;
  }
}

/**
 * Creates `file` holding `text`, whole and only if it does not exist; false if it exists. The
 * contents go to a temp file first, which is hard-linked to `file` (atomic, and fails on an
 * existing name). Where hard links are not supported, falls back to an O_EXCL create and a write
 * (a crash in between leaves an empty file, which {@link acquireLock} treats as stale after 10 s).
 */
function createExclusive(file: string, text: string): boolean {
  for (let attempt = 0; ; attempt++) {
    const temp = writeTemp(file, text);
    try {
      fs.linkSync(temp, file);
      return true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "EEXIST") return false;
      // The temp file vanished (another run's clean-up of stale temp files): write it again.
      if (code === "ENOENT" && attempt < 100 && fs.existsSync(path.dirname(file))) continue;
      if (code !== "EPERM" && code !== "ENOTSUP" && code !== "ENOSYS" && code !== "EOPNOTSUPP") throw err;
      break;
    } finally {
      fs.rmSync(temp, { force: true });
    }
  }
  let fd: number;
  try {
    fd = fs.openSync(file, "wx", 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw err;
  }
  try {
    fs.writeSync(fd, text);
  } finally {
    fs.closeSync(fd);
  }
  return true;
}

/** Attempts a lock makes before giving up (each lost race re-reads the lock). */
const MAX_ATTEMPTS = 8;
/** An unparseable lock (a crash between create and write, or another program's file) this old is stale (ms). */
const UNREADABLE_STALE_MS = 10_000;

/**
 * Takes the lock file `file` (its folder must exist), or throws.
 *
 * Steps: create the lock whole and exclusively (see the module doc) with this process's
 * `{pid, host, startedAt, token}`; if it exists, read it: a lock of this host whose pid is dead
 * or a zombie — or an unparseable lock older than 10 s — is stale and taken over atomically
 * (a claim file, then a rename over the lock: see the module doc), so when several processes find
 * one stale lock at once, exactly one gets it and the others refuse. `what` names the thing being
 * locked in messages.
 *
 * Errors: {@link InputError} `<file>: expected no other softcal process writing <what>; got one
 * (pid P on host H, since T) — wait for it, or remove the lock file if that process is gone`.
 * Cost: a few small file operations.
 *
 * @example
 * const lock = acquireLock("results/baseline/.lock", "results/baseline");
 * try { … } finally { lock.release(); }
 */
export function acquireLock(file: string, what: string): Lock {
  const got = tryLock(file);
  if ("release" in got) return got;
  throw refusal(file, what, got.holder);
}

/**
 * Takes the lock file `file` as {@link acquireLock} does, or returns who holds it (undefined for
 * an unreadable lock file) instead of throwing. `label` is stored in the lock for the others'
 * messages (e.g. "shard 2/4"). Use it for a claim that the loser answers by doing something
 * else, such as leaving the aggregates to the shard that holds the claim.
 */
export function tryLock(file: string, label?: string): Lock | { holder: LockInfo | undefined } {
  const mine = newLockText(label);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    if (createExclusive(file, mine)) return held(file, mine);
    const observed = readText(file);
    if (observed === undefined) continue; // released meanwhile: create again
    const holder = parseLock(observed);
    if (!isStale(file, holder)) return { holder };
    const taken = takeOver(file, observed, mine);
    if (taken === "taken") return held(file, mine);
    if (taken !== "changed") return { holder: taken };
    // The lock changed under us (released, or taken over by another process): look again.
  }
  return { holder: readLock(file) };
}

function refusal(file: string, what: string, holder: LockInfo | undefined): InputError {
  const who = holder
    ? `pid ${holder.pid} on host ${holder.host}, since ${holder.startedAt}`
    : "an unreadable lock file";
  return new InputError(
    `expected no other softcal process writing ${what}; got one (${who}) — wait for it, or remove the lock file if that process is gone`,
    { file },
  );
}

/**
 * Replaces the stale lock whose contents are `observed` by `mine`, if no other process does:
 * "taken"; "changed" if the lock no longer holds `observed`; otherwise the live process that is
 * taking it over (the caller refuses).
 */
function takeOver(file: string, observed: string, mine: string): "taken" | "changed" | LockInfo {
  const tag = claimTag(observed);
  const claimName = (n: number) => `${file}.take-${tag}.${n}`;
  let n = 1;
  let vanished = 0;
  for (;;) {
    if (createExclusive(claimName(n), mine)) break;
    const claimText = readText(claimName(n));
    if (claimText === undefined) {
      // Removed by the winner just now: try the same n again (a few times; then look at the lock).
      if (++vanished > 100) return "changed";
      continue;
    }
    const claimant = parseLock(claimText);
    if (!isStale(claimName(n), claimant)) {
      // A live process is taking this lock over: unless it already has, it is the one to wait for.
      return readText(file) === observed ? (claimant ?? { pid: 0, host: "?", startedAt: "?" }) : "changed";
    }
    n++;
  }
  const claims = () => {
    for (let i = 1; i <= n; i++) fs.rmSync(claimName(i), { force: true });
  };
  if (readText(file) !== observed) {
    claims();
    return "changed";
  }
  for (let attempt = 0; ; attempt++) {
    const temp = writeTemp(file, mine);
    try {
      fs.renameSync(temp, file);
      break;
    } catch (err) {
      fs.rmSync(temp, { force: true });
      // The temp file vanished (another run's clean-up of stale temp files): write it again.
      if ((err as NodeJS.ErrnoException).code === "ENOENT" && attempt < 100) continue;
      claims();
      throw err;
    }
  }
  claims();
  return "taken";
}

/**
 * Removes claim files of earlier locks of `file` (left by a process that died between taking a
 * lock over and removing its claims). Safe while holding the lock: a claim on any other contents
 * than the lock's own can only lead its owner to find the lock changed.
 */
function removeOldClaims(file: string, mine: string): void {
  const own = `${path.basename(file)}.take-${claimTag(mine)}.`;
  const prefix = `${path.basename(file)}.take-`;
  let names: string[];
  try {
    names = fs.readdirSync(path.dirname(file));
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix) || name.startsWith(own)) continue;
    if (!/^[0-9a-f]{16}\.\d+$/.test(name.slice(prefix.length))) continue;
    try {
      fs.rmSync(path.join(path.dirname(file), name), { force: true });
    } catch {
      // left for a later holder
    }
  }
}

function claimTag(lockText: string): string {
  return createHash("sha256").update(lockText).digest("hex").slice(0, 16);
}

function held(file: string, mine: string): Lock {
  removeOldClaims(file, mine);
  let released = false;
  return {
    file,
    release() {
      if (released) return;
      released = true;
      // Remove it only if it is still ours (nobody takes over a live holder's lock, so it is).
      // A folder that became read-only keeps it: the lock is stale once this process exits.
      try {
        if (readText(file) === mine) fs.rmSync(file, { force: true });
      } catch {
        // the original error, if any, is the one to report
      }
    },
  };
}

function isStale(file: string, holder: LockInfo | undefined): boolean {
  if (holder === undefined) {
    try {
      return Date.now() - fs.statSync(file).mtimeMs > UNREADABLE_STALE_MS;
    } catch {
      return true;
    }
  }
  return holder.host === os.hostname() && !isProcessAlive(holder.pid);
}
