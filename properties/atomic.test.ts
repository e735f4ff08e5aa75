/**
 * Atomic writes replace only regular files (src/io/atomic.ts): a rename onto a FIFO, a device, a
 * socket or a symbolic link would replace that node with a regular file (as root, `--out /dev/null
 * --force` once turned /dev/null into one). Every such target is refused with one line (exit 2),
 * and the node is left as it was; so is `-` (stdout), which only commands that support it handle.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { InputError } from "../src/errors.js";
import { checkReplaceable, writeFileAtomic } from "../src/io/atomic.js";
import { cli } from "./_shared/cli.js";

const roots: string[] = [];
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "softcal-atomic-"));
  roots.push(d);
  return d;
}
afterAll(() => {
  for (const d of roots) fs.rmSync(d, { recursive: true, force: true });
});

const isRoot = process.getuid?.() === 0;
const posix = process.platform !== "win32";

/** A node's type and identity (what must not change). */
function identity(p: string): string {
  const st = fs.lstatSync(p);
  const type = st.isFIFO()
    ? "fifo"
    : st.isCharacterDevice()
      ? "char"
      : st.isSocket()
        ? "socket"
        : st.isSymbolicLink()
          ? "symlink"
          : st.isDirectory()
            ? "dir"
            : "file";
  return `${type} ${st.ino} ${st.rdev}`;
}

describe("writeFileAtomic replaces only regular files", () => {
  (posix ? it : it.skip)("a FIFO is refused in one line, stays a FIFO, and no temp file is left", () => {
    const dir = tmp();
    const fifo = path.join(dir, "out.csv");
    expect(spawnSync("mkfifo", [fifo]).status).toBe(0);
    const before = identity(fifo);
    expect(() => writeFileAtomic(fifo, "a,b\n")).toThrow(
      new InputError("expected a regular file to write (or none); got a named pipe (FIFO)", { file: fifo }),
    );
    expect(identity(fifo)).toBe(before);
    expect(fs.readdirSync(dir)).toEqual(["out.csv"]);
  });

  (posix && isRoot ? it : it.skip)(
    "a character device (a private copy of /dev/null, made with mknod) is refused and stays a device",
    () => {
      const dir = tmp();
      const dev = path.join(dir, "null");
      expect(spawnSync("mknod", [dev, "c", "1", "3"]).status).toBe(0);
      const before = identity(dev);
      expect(() => writeFileAtomic(dev, "x")).toThrow(
        `${dev}: expected a regular file to write (or none); got a character device`,
      );
      expect(identity(dev)).toBe(before);
      expect(fs.readdirSync(dir)).toEqual(["null"]);
    },
  );

  it("/dev/null is refused before anything is written (as root too)", () => {
    expect(() => checkReplaceable("/dev/null")).toThrow(
      "/dev/null: expected a regular file to write (or none); got a character device",
    );
  });

  (posix ? it : it.skip)("a socket is refused", async () => {
    const dir = tmp();
    const sock = path.join(dir, "s.csv");
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(sock, resolve));
    try {
      expect(() => writeFileAtomic(sock, "x")).toThrow(
        `${sock}: expected a regular file to write (or none); got a socket`,
      );
      expect(identity(sock)).toMatch(/^socket /);
    } finally {
      server.close();
    }
  });

  it("a symbolic link is refused: neither the link nor its target changes", () => {
    const dir = tmp();
    const target = path.join(dir, "real.csv");
    fs.writeFileSync(target, "old");
    const link = path.join(dir, "link.csv");
    fs.symlinkSync(target, link);
    expect(() => writeFileAtomic(link, "new")).toThrow(
      `${link}: expected a regular file to write (or none); got a symbolic link`,
    );
    expect(fs.readlinkSync(link)).toBe(target);
    expect(fs.readFileSync(target, "utf8")).toBe("old");
  });

  it("a folder is refused; `-` is refused (stdout is the command's business)", () => {
    const dir = tmp();
    expect(() => writeFileAtomic(dir, "x")).toThrow(
      `${dir}: expected a regular file to write (or none); got a folder`,
    );
    expect(() => writeFileAtomic("-", "x")).toThrow(
      '-: expected a file path (this output cannot go to stdout); got "-"',
    );
    expect(fs.existsSync("-")).toBe(false);
  });

  it("a regular file is replaced; a missing one is created", () => {
    const dir = tmp();
    const f = path.join(dir, "a.csv");
    writeFileAtomic(f, "1");
    writeFileAtomic(f, "2");
    expect(fs.readFileSync(f, "utf8")).toBe("2");
    expect(() => checkReplaceable(f)).not.toThrow();
    expect(() => checkReplaceable(path.join(dir, "none.csv"))).not.toThrow();
  });
});

describe("commands writing onto a FIFO with --force", () => {
  (posix ? it : it.skip)(
    "fit --save and predict --out: exit 2, one line naming the file, the FIFO intact",
    async () => {
      const dir = tmp();
      const data = path.join(dir, "d.csv");
      fs.writeFileSync(data, "x,label\n0,0\n1,1\n0.2,0\n0.9,1\n");
      const fifo = path.join(dir, "out.json");
      expect(spawnSync("mkfifo", [fifo]).status).toBe(0);
      const before = identity(fifo);
      const fit = await cli("fit", "--data", data, "--save", fifo, "--force", "--l2", "0.1");
      expect(fit.code).toBe(2);
      expect(fit.stderr.trimEnd().split("\n")).toHaveLength(1);
      expect(fit.stderr).toContain(
        `${fifo}: expected a regular file to write (or none); got a named pipe (FIFO)`,
      );
      expect(identity(fifo)).toBe(before);
      const model = path.join(dir, "m.json");
      expect((await cli("fit", "--data", data, "--save", model, "--l2", "0.1")).code).toBe(0);
      const pred = await cli("predict", "--model", model, "--data", data, "--out", fifo, "--force");
      expect(pred.code).toBe(2);
      expect(pred.stderr).toContain(
        `${fifo}: expected a regular file to write (or none); got a named pipe (FIFO)`,
      );
      expect(identity(fifo)).toBe(before);
    },
  );
});
