/**
 * Bounded reads of untrusted files — a run folder comes from another machine or a CI artifact, so
 * any file in it may be a FIFO (reading it waits forever), a device (`/dev/zero` never ends), a
 * symlink to anywhere, a huge file, or JSON nested a million levels deep (a recursive walk of it
 * overflows the stack). These readers refuse each of those with a one-line {@link InputError}
 * naming the file, before reading a byte:
 *
 * - only regular files are read: the type is checked with `stat` on the file's real path before it
 *   is opened (opening some devices has effects), and again with `fstat` on the open descriptor
 *   (opened with `O_NONBLOCK | O_NOFOLLOW`, so a FIFO swapped in meanwhile cannot block and a symlink
 *   swapped in is refused);
 * - the file's real path (every symlink resolved) must lie inside a given folder: a symlink within
 *   the folder is followed, one leading out of it is refused;
 * - the size is checked against a bound before reading, and never more than the bound is read;
 * - text must be valid UTF-8 (nothing is silently replaced by U+FFFD);
 * - JSON is checked for its nesting depth before it is parsed ({@link parseJsonBounded}).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { InputError } from "../errors.js";
import { fsErrorReason } from "./atomic.js";

/** Options of {@link readBoundedText}. */
export interface BoundedReadOptions {
  /** What the file should be, for messages (e.g. "a run config"). */
  what: string;
  /** Largest accepted size in bytes, checked before any byte is read. */
  maxBytes: number;
  /** The folder the file must lie in once every symlink is resolved (e.g. its run folder). */
  within: string;
}

/**
 * A size in words: bytes below 1 KiB, else whole KiB or MiB, or one decimal and the exact count.
 * @example formatBytes(64 * 2 ** 20) // "64 MiB"; formatBytes(64 * 2 ** 20 + 1) // "64.0 MiB (67108865 bytes)"
 */
export function formatBytes(n: number): string {
  const unit = (v: number, u: string) =>
    Number.isInteger(v) ? `${v} ${u}` : `${v.toFixed(1)} ${u} (${n} bytes)`;
  if (n >= 1024 * 1024) return unit(n / (1024 * 1024), "MiB");
  if (n >= 1024) return unit(n / 1024, "KiB");
  return `${n} byte${n === 1 ? "" : "s"}`;
}

/** The kind of a non-regular file, in words ("a FIFO (named pipe)", "a character device", …). */
export function fileKindText(st: fs.Stats): string {
  if (st.isFile()) return "a regular file";
  if (st.isDirectory()) return "a folder";
  if (st.isFIFO()) return "a FIFO (named pipe)";
  if (st.isCharacterDevice()) return "a character device";
  if (st.isBlockDevice()) return "a block device";
  if (st.isSocket()) return "a socket";
  if (st.isSymbolicLink()) return "a symlink";
  return "not a regular file";
}

/** True if `real` is `root` or lies below it (both absolute real paths). */
function isInside(real: string, root: string): boolean {
  return real === root || real.startsWith(root.endsWith(path.sep) ? root : root + path.sep);
}

/**
 * The real path of `file` (every symlink resolved), checked to lie inside `within`; undefined if
 * nothing is at `file`. Errors: InputError for a dangling symlink, a symlink loop, a path leading
 * out of `within`, or an unreadable path.
 */
export function realPathInside(file: string, within: string, what: string): string | undefined {
  let real: string;
  try {
    real = fs.realpathSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      let link: fs.Stats | undefined;
      try {
        link = fs.lstatSync(file);
      } catch {
        return undefined; // nothing there
      }
      if (link.isSymbolicLink())
        throw new InputError(`expected ${what}; got a symlink to a missing file`, { file });
      return undefined;
    }
    if (code === "ELOOP") throw new InputError(`expected ${what}; got a symlink loop`, { file });
    throw new InputError(`expected ${what}; got ${fsErrorReason(err) ?? String(err)}`, { file });
  }
  let root: string;
  try {
    root = fs.realpathSync(within);
  } catch (err) {
    throw new InputError(`expected a folder; got ${fsErrorReason(err) ?? String(err)}`, { file: within });
  }
  if (!isInside(real, root)) {
    throw new InputError(`expected ${what} inside ${within}; got a symlink leading out of it (to ${real})`, {
      file,
    });
  }
  return real;
}

/**
 * Reads a regular file inside `within` as UTF-8 text, refusing anything else before reading (see
 * the module doc): undefined if there is no file at `file`.
 *
 * Errors: {@link InputError} `<file>: expected <what>; got a FIFO (named pipe), not a regular file`
 * (or a character device, a folder, …), `<file>: expected <what> inside <within>; got a symlink
 * leading out of it (to /dev/zero)`, `…; got a symlink to a missing file`, `…; got a symlink loop`,
 * `<file>: expected <what> of at most 64 MiB; got 70 MiB`, `<file>: expected <what>; got invalid
 * UTF-8`, or a file-system reason (permission denied, …).
 * Cost: O(size), at most `maxBytes` read.
 *
 * @example
 * readBoundedTextIfPresent("results/baseline/config.json",
 *   { what: "a run config", maxBytes: 2 ** 28, within: "results/baseline" });
 */
export function readBoundedTextIfPresent(file: string, opts: BoundedReadOptions): string | undefined {
  const real = realPathInside(file, opts.within, opts.what);
  if (real === undefined) return undefined;
  const fail = (got: string): never => {
    throw new InputError(`expected ${opts.what}; got ${got}`, { file });
  };
  let st: fs.Stats;
  try {
    st = fs.statSync(real);
  } catch (err) {
    return fail(fsErrorReason(err) ?? String(err));
  }
  if (!st.isFile()) fail(`${fileKindText(st)}, not a regular file`);
  const tooBig = (size: string): never => {
    throw new InputError(`expected ${opts.what} of at most ${formatBytes(opts.maxBytes)}; got ${size}`, {
      file,
    });
  };
  if (st.size > opts.maxBytes) tooBig(formatBytes(st.size));
  let fd: number;
  try {
    fd = fs.openSync(real, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOFOLLOW);
  } catch (err) {
    return fail(fsErrorReason(err) ?? String(err));
  }
  let bytes: Buffer;
  try {
    // What was opened is what counts: another process may have replaced the file atomically (a
    // shard rewriting config.json by rename) between the stat above and the open — then this is
    // the new, complete file, checked again here; anything but a regular file is still refused.
    const now = fs.fstatSync(fd);
    if (!now.isFile()) fail(`${fileKindText(now)}, not a regular file`);
    if (now.size > opts.maxBytes) tooBig(formatBytes(now.size));
    // Read at most maxBytes + 1 bytes: one more than allowed proves the file grew past the bound.
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const want = Math.min(Math.max(now.size - total, 64 * 1024), opts.maxBytes + 1 - total);
      if (want <= 0) break;
      const chunk = Buffer.allocUnsafe(want);
      const n = fs.readSync(fd, chunk, 0, want, null);
      if (n === 0) break;
      chunks.push(n === want ? chunk : chunk.subarray(0, n));
      total += n;
    }
    if (total > opts.maxBytes) tooBig("more (it grew while being read)");
    bytes = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, total);
  } catch (err) {
    if (err instanceof InputError) throw err;
    return fail(fsErrorReason(err) ?? String(err));
  } finally {
    fs.closeSync(fd);
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return fail("invalid UTF-8");
  }
}

/**
 * The first `maxBytes` bytes (or fewer) of a regular file inside `within`, or undefined if there is
 * no such regular file (absent, a FIFO, a device, a folder, a symlink leading out of `within`…) —
 * for recognizing a file by its head without trusting it. Never blocks, never reads more.
 */
export function readBoundedPrefix(file: string, opts: BoundedReadOptions): Buffer | undefined {
  try {
    const real = realPathInside(file, opts.within, opts.what);
    if (real === undefined || !fs.statSync(real).isFile()) return undefined;
    const fd = fs.openSync(real, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOFOLLOW);
    try {
      if (!fs.fstatSync(fd).isFile()) return undefined;
      const buf = Buffer.alloc(opts.maxBytes);
      let total = 0;
      while (total < buf.length) {
        const n = fs.readSync(fd, buf, total, buf.length - total, null);
        if (n === 0) break;
        total += n;
      }
      return buf.subarray(0, total);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return undefined;
  }
}

/** {@link readBoundedTextIfPresent} for a file that must exist: InputError `got no such file` otherwise. */
export function readBoundedText(file: string, opts: BoundedReadOptions): string {
  const text = readBoundedTextIfPresent(file, opts);
  if (text === undefined) throw new InputError(`expected ${opts.what}; got no such file`, { file });
  return text;
}

/**
 * The entries of folder `dir` (a real folder inside `within`), at most `maxEntries` of them, read
 * one by one (a folder of millions of entries is refused without listing it whole); undefined if
 * `dir` does not exist. Errors: InputError for a path that is not a folder, leads out of `within`,
 * or holds more than `maxEntries` entries.
 */
export function readDirBounded(
  dir: string,
  opts: { what: string; maxEntries: number; within: string },
): fs.Dirent[] | undefined {
  const real = realPathInside(dir, opts.within, opts.what);
  if (real === undefined) return undefined;
  let handle: fs.Dir;
  try {
    handle = fs.opendirSync(real);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const got = code === "ENOTDIR" ? "a file" : (fsErrorReason(err) ?? String(err));
    throw new InputError(`expected ${opts.what} (a folder); got ${got}`, { file: dir });
  }
  const entries: fs.Dirent[] = [];
  try {
    for (let e = handle.readSync(); e !== null; e = handle.readSync()) {
      if (entries.length === opts.maxEntries) {
        throw new InputError(`expected ${opts.what} of at most ${opts.maxEntries} entries; got more`, {
          file: dir,
        });
      }
      entries.push(e);
    }
  } finally {
    handle.closeSync();
  }
  return entries;
}

/**
 * Where JSON text nests deeper than `maxDepth` arrays/objects: the 1-based line and column of the
 * bracket that goes one level too deep, or undefined. Brackets inside strings do not count.
 * Cost: O(length), no recursion.
 * @example jsonTooDeep("[[1]]", 1) // { line: 1, column: 2 }
 */
export function jsonTooDeep(text: string, maxDepth: number): { line: number; column: number } | undefined {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > maxDepth) {
        const before = text.slice(0, i);
        const lineStart = before.lastIndexOf("\n") + 1;
        return { line: before.split("\n").length, column: i - lineStart + 1 };
      }
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return undefined;
}

/** A JSON.parse message on one line, without V8's quoted copy of the input. */
function jsonProblem(message: string): string {
  const m = /^(Unexpected token .+?), ".*" is not valid JSON$/s.exec(message);
  return (m ? m[1] : message).replace(
    /[\p{Cc}\u2028\u2029]/gu,
    (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/**
 * Parses untrusted JSON text: refuses nesting deeper than `maxDepth` before parsing (so no later
 * walk of the value can overflow the stack), then `JSON.parse` (with `reviver`, if given).
 * Errors: InputError `<file>:<line>:<column>: expected <what> nested at most N levels deep; got
 * deeper nesting`, `<file>: expected <what> (valid JSON); got <parser message>` (one line).
 * Cost: O(length).
 */
export function parseJsonBounded(
  text: string,
  file: string,
  opts: { what: string; maxDepth: number; reviver?: (key: string, value: unknown) => unknown },
): unknown {
  const deep = jsonTooDeep(text, opts.maxDepth);
  if (deep !== undefined) {
    throw new InputError(
      `expected ${opts.what} nested at most ${opts.maxDepth} levels deep; got deeper nesting`,
      {
        file,
        ...deep,
      },
    );
  }
  try {
    return JSON.parse(text, opts.reviver);
  } catch (err) {
    throw new InputError(`expected ${opts.what} (valid JSON); got ${jsonProblem((err as Error).message)}`, {
      file,
    });
  }
}
