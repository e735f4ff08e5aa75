/**
 * Atomic file writes and small file helpers for run storage.
 *
 * A replaced file is never seen half-written: {@link writeFileAtomic} writes a temp file in the
 * target's own folder (same file system, so `rename` is atomic on POSIX), fsyncs it, then renames
 * it over the target. A crash (even `kill -9`) leaves either the old file or the new one, plus at
 * most a stray `.<name>.<pid>.<thread>.<n>.tmp` that {@link removeStaleTempFiles} cleans up.
 * This follows the sacred/mlflow lesson: never stage in the system temp dir (a cross-device
 * `rename` is a copy, not an atomic move).
 */
import * as nodeFs from "node:fs";
import * as path from "node:path";
import { threadId } from "node:worker_threads";
import { InputError } from "../errors.js";
import { isProcessAlive } from "./lock.js";

/**
 * The file-system calls {@link writeFileAtomic} makes. Pass your own (e.g. one whose `writeSync`
 * throws on the third call) to simulate a failure mid-write in tests; defaults to `node:fs`.
 */
export interface AtomicFs {
  openSync(path: string, flags: string, mode?: number): number;
  writeSync(fd: number, data: Uint8Array, offset?: number, length?: number): number;
  fsyncSync(fd: number): void;
  closeSync(fd: number): void;
  renameSync(from: string, to: string): void;
  unlinkSync(path: string): void;
}

/** Options of {@link writeFileAtomic}. */
export interface WriteFileAtomicOptions {
  /** File-system implementation (default `node:fs`); inject failures here in tests. */
  fs?: AtomicFs;
  /** File mode of a newly created file (default 0o644, before the umask). */
  mode?: number;
  /**
   * fsync the data before the rename (default true), so the new contents survive a power loss,
   * not only a crash of the process. `false` keeps the write atomic for every reader and for
   * `kill -9` (the page cache outlives the process) but lets a power loss leave the file empty or
   * zero-filled — only for files that are checked when read and recomputed when damaged (the
   * runner's unit files).
   */
  durable?: boolean;
}

let tempCounter = 0;

/** What a file-system node is, in words, for messages ("a named pipe (FIFO)", "a folder", …; lstat it). */
export function nodeKind(st: nodeFs.Stats): string {
  if (st.isDirectory()) return "a folder";
  if (st.isSymbolicLink()) return "a symbolic link";
  if (st.isFIFO()) return "a named pipe (FIFO)";
  if (st.isCharacterDevice()) return "a character device";
  if (st.isBlockDevice()) return "a block device";
  if (st.isSocket()) return "a socket";
  if (st.isFile()) return "a regular file";
  return "not a regular file";
}

/**
 * Refuses to replace anything but a regular file: `file` must be absent or a regular file (not
 * followed if it is a symbolic link). {@link writeFileAtomic} calls it before every write — a
 * rename onto a FIFO, a device (`/dev/null` as root) or a symbolic link would replace that node
 * with a regular file — and commands call it while checking their output paths, before any work.
 * The name `-` is refused too: a command that can write to stdout handles `-` itself, and one
 * that cannot must not create a file named `-` (write `./-` for that).
 *
 * Errors: {@link InputError} `<file>: expected a regular file to write (or none); got a named pipe
 * (FIFO)` (or a folder, a symbolic link, a character device, a block device, a socket);
 * `-: expected a file path (this output cannot go to stdout); got "-"`. Other lstat failures
 * (ENOENT: nothing there yet; ENOTDIR, EACCES: reported by the write itself) are left to the write.
 * Cost: one lstat.
 *
 * @example
 * checkReplaceable("/dev/null"); // throws InputError "/dev/null: expected a regular file to write (or none); got a character device"
 */
export function checkReplaceable(file: string): void {
  if (file === "-") {
    throw new InputError('expected a file path (this output cannot go to stdout); got "-"', { file });
  }
  let st: nodeFs.Stats;
  try {
    st = nodeFs.lstatSync(file);
  } catch {
    return;
  }
  if (!st.isFile()) {
    throw new InputError(`expected a regular file to write (or none); got ${nodeKind(st)}`, { file });
  }
}

/** The temp-file name pattern {@link writeFileAtomic} uses (and {@link removeStaleTempFiles} removes). */
export const TEMP_FILE_PATTERN = /^\..+\.\d+\.\d+\.\d+\.tmp$/;

/**
 * Writes `data` to `file` atomically: temp file in the same folder, write + fsync (unless
 * `durable: false`), then rename.
 *
 * The temp file is `.<basename>.<pid>.<threadId>.<counter>.tmp`: unique without randomness
 * (pid and thread tell writers apart, the counter tells one writer's files apart; an existing
 * name — a leftover of a dead process with a recycled pid — is skipped because the temp file is
 * opened with O_EXCL). On any error the temp file is removed and the error rethrown; the target
 * is then untouched (the old contents, or still absent). The folder must exist. Only a regular
 * file is ever replaced ({@link checkReplaceable}): a FIFO, device, socket, folder or symbolic
 * link at `file` is refused before anything is written.
 *
 * `data` may be an iterable of byte chunks (e.g. a generator formatting a large CSV piece by
 * piece): they are written in turn, so only one chunk is in memory at a time; if the iterable
 * throws, the temp file is removed and the target is untouched, as for any other error.
 *
 * Cost: one lstat, one write per chunk, one fsync and one rename; O(size of data).
 * Errors: {@link InputError} from {@link checkReplaceable}; otherwise whatever the file system
 * throws (ENOENT, ENOTDIR, EACCES, ENOSPC, …), unchanged.
 *
 * @example
 * writeFileAtomic("results/baseline/summary.csv", "a,b\n1,2\n");
 */
export function writeFileAtomic(
  file: string,
  data: string | Uint8Array | Iterable<Uint8Array>,
  options: WriteFileAtomicOptions = {},
): void {
  checkReplaceable(file);
  const fs = options.fs ?? nodeFs;
  const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  const dir = path.dirname(file);
  const base = path.basename(file);
  let temp = "";
  let fd = -1;
  for (let attempt = 0; ; attempt++) {
    temp = path.join(dir, `.${base}.${process.pid}.${threadId}.${tempCounter++}.tmp`);
    try {
      fd = fs.openSync(temp, "wx", options.mode ?? 0o644);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST" || attempt > 1000) throw err;
    }
  }
  try {
    for (const chunk of bytes instanceof Uint8Array ? [bytes] : bytes) {
      let offset = 0;
      while (offset < chunk.length) offset += fs.writeSync(fd, chunk, offset, chunk.length - offset);
    }
    if (options.durable ?? true) fs.fsyncSync(fd);
    const closing = fd;
    fd = -1;
    fs.closeSync(closing);
    fs.renameSync(temp, file);
  } catch (err) {
    if (fd >= 0) {
      try {
        fs.closeSync(fd);
      } catch {
        // already failing; the original error is the one to report
      }
    }
    try {
      fs.unlinkSync(temp);
    } catch {
      // the temp file may not exist (rename succeeded partially is impossible; open may have failed)
    }
    throw err;
  }
}

/**
 * Removes leftover temp files of {@link writeFileAtomic} (from a crashed writer) in `dir`.
 * Only names matching {@link TEMP_FILE_PATTERN} are touched, and not those whose pid (in the
 * name) is a live process other than this one: shards sharing one run folder each hold only their
 * own lock, so another shard may be writing there at this moment. A missing folder is fine.
 * Call it only while holding the folder's (or the shard's) lock.
 * Returns the number of files removed. Cost: one directory listing.
 */
export function removeStaleTempFiles(dir: string): number {
  let names: string[];
  try {
    names = nodeFs.readdirSync(dir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    if (!TEMP_FILE_PATTERN.test(name)) continue;
    const pid = Number(/\.(\d+)\.\d+\.\d+\.tmp$/.exec(name)?.[1]);
    if (pid !== process.pid && isProcessAlive(pid)) continue; // a live writer's (another shard's)
    try {
      nodeFs.unlinkSync(path.join(dir, name));
      removed++;
    } catch {
      // gone already
    }
  }
  return removed;
}

/**
 * Reads and parses a JSON file.
 *
 * Errors: {@link InputError} `<file>: expected a readable JSON file; got <reason>` when the file
 * is missing or unreadable, `<file>: expected valid JSON; got <parser message>` when it does not
 * parse. Cost: O(file size).
 *
 * @example
 * const config = readJsonFile("results/baseline/config.json") as RunConfig;
 */
export function readJsonFile(file: string): unknown {
  let text: string;
  try {
    text = nodeFs.readFileSync(file, "utf8");
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const reason = e.code === "ENOENT" ? "no such file" : (e.code ?? e.message);
    throw new InputError(`expected a readable JSON file; got ${reason}`, { file });
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new InputError(`expected valid JSON; got ${(err as Error).message}`, { file });
  }
}

/**
 * Creates folder `dir` and its missing parents (like `mkdir -p`); an existing folder is fine.
 *
 * Errors: {@link InputError} `<dir>: expected a folder (or a path where one can be created); got
 * <reason>` when a path component is a regular file (ENOTDIR/EEXIST) or the folder cannot be
 * created (EACCES, EROFS, …). Cost: one mkdir per missing component.
 *
 * @example
 * ensureDir("results/baseline/units");
 */
export function ensureDir(dir: string): void {
  try {
    nodeFs.mkdirSync(dir, { recursive: true });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const reason =
      e.code === "ENOTDIR" || e.code === "EEXIST"
        ? "a path component is a file"
        : e.code === "EACCES" || e.code === "EPERM"
          ? "permission denied"
          : (e.code ?? e.message);
    throw new InputError(`expected a folder (or a path where one can be created); got ${reason}`, {
      file: dir,
    });
  }
  let stat: nodeFs.Stats;
  try {
    stat = nodeFs.statSync(dir);
  } catch (err) {
    throw new InputError(`expected a folder; got ${(err as NodeJS.ErrnoException).code ?? "unreadable"}`, {
      file: dir,
    });
  }
  if (!stat.isDirectory()) throw new InputError("expected a folder; got a file", { file: dir });
}

/**
 * A file-system error in words, for one-line messages: "no space left on the device" for ENOSPC,
 * and so on; undefined when `e` is not an error with an errno `code`.
 * @example fsErrorReason(Object.assign(new Error(), { code: "ENOSPC" })) // "no space left on the device"
 */
export function fsErrorReason(e: unknown): string | undefined {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  if (typeof code !== "string") return undefined;
  switch (code) {
    case "ENOENT":
      return "its folder does not exist";
    case "ENOTDIR":
      return "a part of its folder path is a file";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "EROFS":
      return "the file system is read-only";
    case "ENOSPC":
      return "no space left on the device";
    case "EDQUOT":
      return "the disk quota is exhausted";
    case "EISDIR":
      return "it is a folder";
    default:
      return code;
  }
}
