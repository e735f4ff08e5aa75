/**
 * Shards sharing one run folder (a Slurm job array's `--out`): each holds only its own shard lock,
 * so one shard's clean-up of leftover temp files must leave another live shard's temp file alone
 * (it removed them, and the other shard's rename failed: "cannot write: its folder does not
 * exist" in 2 of 10 pairs of concurrent shards); and shards that all find the grid complete at
 * once: exactly one writes the aggregates (the one holding `.lock.aggregates`), each other one says
 * which shard does or did. The engine on a real cluster: properties/slurm.test.ts.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { removeStaleTempFiles } from "../src/io/atomic.js";
import { CLI, csvDifferences, REPO } from "./_shared/scaleOut.js";

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

describe("shards that find the grid complete at the same moment", () => {
  const EXPERIMENTS = ["baseline", "l2-sweep"];
  const SHARDS = 4;
  const flags = ["--seeds", "2", "--root-seed", "3", "--no-figures"];
  const cli = (args: string[]) =>
    new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [CLI, "run", ...EXPERIMENTS, ...flags, ...args], {
        cwd: REPO,
        stdio: ["ignore", "ignore", "pipe"],
      });
      let stderr = "";
      child.stderr.on("data", (d) => {
        stderr += d;
      });
      child.on("close", (code) => resolve({ code, stderr }));
    });

  it("exactly one writes the aggregates; every other names it; the bytes equal one machine's (3 trials)", {
    timeout: 120_000,
  }, async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "softcal-at-once-"));
    roots.push(root);
    const reference = path.join(root, "one-machine");
    expect((await cli(["--out", reference])).code).toBe(0);
    for (let trial = 0; trial < 3; trial++) {
      // Every unit on disk, no aggregates and no manifest: each shard resumes with nothing to run.
      const out = path.join(root, `trial-${trial}`);
      for (const exp of EXPERIMENTS) {
        fs.mkdirSync(path.join(out, exp), { recursive: true });
        fs.copyFileSync(path.join(reference, exp, "config.json"), path.join(out, exp, "config.json"));
        fs.cpSync(path.join(reference, exp, "units"), path.join(out, exp, "units"), { recursive: true });
      }
      const ends = await Promise.all(
        Array.from({ length: SHARDS }, (_, i) =>
          cli(["--out", out, "--resume", "--shard", `${i + 1}/${SHARDS}`]),
        ),
      );
      for (const e of ends) expect(e.code, e.stderr).toBe(0);
      expect(csvDifferences(reference, out)).toEqual([]);
      for (const exp of EXPERIMENTS) {
        const manifest = (i: number) =>
          JSON.parse(
            fs.readFileSync(path.join(out, exp, `manifest.shard-${i + 1}-of-${SHARDS}.json`), "utf8"),
          ) as {
            status: string;
            aggregated: boolean;
          };
        const shards = Array.from({ length: SHARDS }, (_, i) => i);
        for (const i of shards) expect(manifest(i).status).toBe("COMPLETED");
        const writers = shards.filter((i) => manifest(i).aggregated);
        expect(writers, `${exp}, trial ${trial}`).toHaveLength(1);
        const writer = `shard ${writers[0] + 1}/${SHARDS}`;
        for (const i of shards.filter((i) => i !== writers[0])) {
          expect(ends[i].stderr).toMatch(
            new RegExp(
              `^${exp}: shard ${i + 1}/${SHARDS} done; ${writer.replace("/", "\\/")} (\\(pid \\d+ on host .+\\) writes|wrote) the aggregates$`,
              "m",
            ),
          );
        }
      }
      expect(fs.readdirSync(path.join(out, "baseline")).filter((n) => n.startsWith(".lock"))).toEqual([]);
    }
  });
});
