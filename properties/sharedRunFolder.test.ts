/**
 * Shards sharing one run folder (a Slurm job array's `--out`): each holds only its own shard lock,
 * so one shard's clean-up of leftover temp files must leave another live shard's temp file alone
 * (it removed them, and the other shard's rename failed: "cannot write: its folder does not
 * exist" in 2 of 10 pairs of concurrent shards). The engine on a real cluster: properties/slurm.test.ts.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { removeStaleTempFiles } from "../src/io/atomic.js";

const roots: string[] = [];
afterAll(() => {
  for (const d of roots) fs.rmSync(d, { recursive: true, force: true });
});

describe("removeStaleTempFiles in a folder other processes write", () => {
  it("keeps a live process's temp file, removes it once that process is gone, and removes this process's own", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "softcal-shared-"));
    roots.push(dir);
    // A live writer: a child that waits until its stdin closes.
    const child = spawn(process.execPath, ["-e", "process.stdin.resume()"], {
      stdio: ["pipe", "ignore", "ignore"],
    });
    await new Promise((r) => child.once("spawn", r));
    const pid = child.pid!;
    const live = `.runs.csv.${pid}.0.3.tmp`;
    const own = `.summary.csv.${process.pid}.0.7.tmp`;
    for (const n of [live, own]) fs.writeFileSync(path.join(dir, n), "partial");
    expect(removeStaleTempFiles(dir)).toBe(1);
    expect(fs.readdirSync(dir)).toEqual([live]);
    // The event: the writer has exited (and was reaped); its temp file is a leftover now.
    const exited = new Promise((r) => child.once("exit", r));
    child.stdin!.end();
    await exited;
    expect(removeStaleTempFiles(dir)).toBe(1);
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});
