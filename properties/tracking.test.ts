/**
 * Run storage: atomic writes (an injected failure at any step leaves the old file and no temp
 * file), the lock file, and real process deaths — `kill -9` mid-sweep and SIGINT — followed by
 * `--resume`, which must give the uninterrupted run's bytes.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import * as nodeFs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as readline from "node:readline";
import { fileURLToPath } from "node:url";
import { fc, test } from "@fast-check/vitest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InputError } from "../src/errors.js";
import { runExperiments } from "../src/experiment/runner.js";
import {
  type AtomicFs,
  ensureDir,
  readJsonFile,
  removeStaleTempFiles,
  TEMP_FILE_PATTERN,
  writeFileAtomic,
} from "../src/io/atomic.js";
import { acquireLock } from "../src/io/lock.js";
import { cli } from "./_shared/cli.js";
import { snapshot, toyRun, unitRecordCount } from "./_shared/runs.js";
import { toy2 } from "./_shared/toyExperiments.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const driver = path.join(repoRoot, "properties", "_shared", "toyDriver.ts");
const roots: string[] = [];
const children: ChildProcess[] = [];
function tmp(): string {
  const d = nodeFs.mkdtempSync(path.join(os.tmpdir(), "softcal-track-"));
  roots.push(d);
  return d;
}
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  for (const d of roots) nodeFs.rmSync(d, { recursive: true, force: true });
});

describe("writeFileAtomic", () => {
  it("writes through a temp file in the target's own folder, then renames it", () => {
    const dir = tmp();
    const opened: string[] = [];
    const spy: AtomicFs = {
      ...nodeFs,
      openSync: (p, f, m) => {
        opened.push(p);
        return nodeFs.openSync(p, f, m);
      },
    };
    const target = path.join(dir, "a.csv");
    writeFileAtomic(target, "x,y\n1,2\n", { fs: spy });
    writeFileAtomic(target, new Uint8Array([104, 105]), { fs: spy });
    expect(nodeFs.readFileSync(target, "utf8")).toBe("hi");
    expect(opened).toHaveLength(2);
    for (const p of opened) {
      expect(path.dirname(p)).toBe(dir);
      expect(path.basename(p)).toMatch(TEMP_FILE_PATTERN);
      expect(path.basename(p)).toMatch(new RegExp(`^\\.a\\.csv\\.${process.pid}\\.\\d+\\.\\d+\\.tmp$`));
    }
    expect(opened[0]).not.toBe(opened[1]);
    expect(nodeFs.readdirSync(dir)).toEqual(["a.csv"]);
  });

  const steps = ["openSync", "writeSync", "fsyncSync", "closeSync", "renameSync"] as const;
  test.prop([
    fc.constantFrom(...steps),
    fc.option(fc.string(), { nil: undefined }),
    fc.string({ minLength: 1 }),
  ])("a failure at any step leaves the old file (or none) and no temp file", (step, old, data) => {
    const dir = tmp();
    const target = path.join(dir, "f.json");
    if (old !== undefined) nodeFs.writeFileSync(target, old);
    const failing: AtomicFs = {
      ...nodeFs,
      [step]: () => {
        throw Object.assign(new Error(`injected ${step} failure`), { code: "EIO" });
      },
    };
    expect(() => writeFileAtomic(target, data, { fs: failing })).toThrow(`injected ${step} failure`);
    expect(nodeFs.readdirSync(dir)).toEqual(old === undefined ? [] : ["f.json"]);
    if (old !== undefined) expect(nodeFs.readFileSync(target, "utf8")).toBe(old);
    nodeFs.rmSync(dir, { recursive: true });
  });

  it("a temp-name collision (a dead writer's leftover) is skipped; removeStaleTempFiles cleans leftovers", () => {
    const dir = tmp();
    const leftover = path.join(dir, ".g.txt.999999.0.0.tmp");
    nodeFs.writeFileSync(leftover, "partial");
    nodeFs.writeFileSync(path.join(dir, "keep.tmp"), "not ours");
    writeFileAtomic(path.join(dir, "g.txt"), "full");
    expect(removeStaleTempFiles(dir)).toBe(1);
    expect(nodeFs.readdirSync(dir).sort()).toEqual(["g.txt", "keep.tmp"]);
    expect(removeStaleTempFiles(path.join(dir, "missing"))).toBe(0);
  });

  it("readJsonFile and ensureDir report bad paths as InputErrors naming the file", () => {
    const dir = tmp();
    const bad = path.join(dir, "bad.json");
    nodeFs.writeFileSync(bad, "{ nope");
    expect(() => readJsonFile(bad)).toThrow(InputError);
    expect(() => readJsonFile(bad)).toThrow(new RegExp(`^${bad}: expected valid JSON; got `));
    expect(() => readJsonFile(path.join(dir, "none.json"))).toThrow(
      `${path.join(dir, "none.json")}: expected a readable JSON file; got no such file`,
    );
    nodeFs.writeFileSync(path.join(dir, "ok.json"), '{"a":[1,2]}');
    expect(readJsonFile(path.join(dir, "ok.json"))).toEqual({ a: [1, 2] });
    const file = path.join(dir, "file.txt");
    nodeFs.writeFileSync(file, "");
    expect(() => ensureDir(path.join(file, "sub"))).toThrow(
      `${path.join(file, "sub")}: expected a folder (or a path where one can be created); got a path component is a file`,
    );
    expect(() => ensureDir(file)).toThrow(InputError);
    ensureDir(path.join(dir, "a", "b"));
    ensureDir(path.join(dir, "a", "b"));
    expect(nodeFs.statSync(path.join(dir, "a", "b")).isDirectory()).toBe(true);
  });
});

describe("lock", () => {
  it("one holder at a time; a dead holder's lock is taken over; another host's is not", () => {
    const dir = tmp();
    const file = path.join(dir, ".lock");
    const lock = acquireLock(file, "the run");
    expect(() => acquireLock(file, "the run")).toThrow(
      new RegExp(
        `^${file}: expected no other softcal process writing the run; got one \\(pid ${process.pid} on host `,
      ),
    );
    lock.release();
    lock.release();
    expect(nodeFs.existsSync(file)).toBe(false);
    // A process that has exited: its pid is not alive.
    const dead = spawnSync(process.execPath, ["-e", ""]).pid!;
    nodeFs.writeFileSync(file, JSON.stringify({ pid: dead, host: os.hostname(), startedAt: "then" }));
    const taken = acquireLock(file, "the run");
    expect(JSON.parse(nodeFs.readFileSync(file, "utf8")).pid).toBe(process.pid);
    taken.release();
    nodeFs.writeFileSync(file, JSON.stringify({ pid: dead, host: "another-host", startedAt: "then" }));
    expect(() => acquireLock(file, "the run")).toThrow(/pid \d+ on host another-host/);
  });
});

describe("real process deaths", () => {
  const base = toyRun;
  let reference: Record<string, string>;
  beforeAll(async () => {
    const out = tmp();
    await runExperiments({ ...base, out });
    reference = snapshot(out);
  });

  /**
   * Starts the toy driver with `--events`; `waitFor(cond)` resolves once `cond` holds, checked at
   * every stderr line (each event, progress line or message) — the test waits on the run's events.
   * `batched(experiment)` counts the units the run's `batch` events reported on disk (reading the
   * folder instead would race the live writer's temp files and renames).
   */
  function startDriver(
    out: string,
    args: string[],
    env: Record<string, string> = {},
  ): {
    child: ChildProcess;
    exited: Promise<number | null>;
    stderr: () => string;
    waitFor: (cond: (line: string) => boolean, what: string) => Promise<void>;
    batched: (experiment: string) => number;
  } {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", driver, "--out", out, "--seeds", "3", "--events", ...args],
      { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "pipe"] },
    );
    children.push(child);
    let err = "";
    const waiting: { cond: (line: string) => boolean; resolve: () => void }[] = [];
    const lines: string[] = [];
    const onDisk = new Map<string, number>();
    readline.createInterface({ input: child.stderr! }).on("line", (line) => {
      err += `${line}\n`;
      lines.push(line);
      const batch = /^event \d+ batch (\S+) \S+ (\d+)$/.exec(line);
      if (batch) onDisk.set(batch[1], (onDisk.get(batch[1]) ?? 0) + Number(batch[2]));
      for (const w of [...waiting]) {
        if (w.cond(line)) {
          waiting.splice(waiting.indexOf(w), 1);
          w.resolve();
        }
      }
    });
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    const waitFor = (cond: (line: string) => boolean, what: string) =>
      new Promise<void>((resolve, reject) => {
        if (lines.some(cond)) return resolve();
        waiting.push({ cond, resolve });
        void exited.then((code) => reject(new Error(`the driver exited (${code}) before ${what}:\n${err}`)));
      });
    return { child, exited, stderr: () => err, waitFor, batched: (e) => onDisk.get(e) ?? 0 };
  }

  const unitCount = (out: string) => unitRecordCount(path.join(out, "toy"));

  it("kill -9 mid-sweep (--jobs 2): a second process is refused while it lives; resume gives the uninterrupted bytes", async () => {
    const out = tmp();
    // Each thread finishes two toy units, then waits at a gate that never opens: the run is held
    // mid-sweep, with some batches on disk, for as long as the test needs.
    const gate = path.join(tmp(), "never");
    const d = startDriver(out, ["--jobs", "2", "--flush-ms", "50"], { TOY_GATE: `2:${gate}` });
    await d.waitFor(() => d.batched("toy") >= 2, "2 units on disk");
    // Two processes on one folder: the second refuses (and writes nothing).
    await expect(runExperiments({ ...base, out, resume: true })).rejects.toThrow(
      new RegExp(
        `${path.join(out, "toy", ".lock")}: expected no other softcal process writing .*pid ${d.child.pid} on host`,
      ),
    );
    d.child.kill("SIGKILL");
    expect(await d.exited).toBe(null);
    const done = unitCount(out);
    expect(done).toBeGreaterThanOrEqual(2);
    expect(done).toBeLessThanOrEqual(4); // two per thread, at most
    expect(JSON.parse(nodeFs.readFileSync(path.join(out, "toy", "manifest.json"), "utf8")).status).toBe(
      "RUNNING",
    );
    // The dead process's lock is stale: resume takes it over and skips the finished units.
    const r = await runExperiments({ ...base, out, resume: true });
    expect(r.exitCode).toBe(0);
    expect(r.experiments[0].unitsSkipped).toBe(done);
    expect(snapshot(out)).toEqual(reference);
    expect(nodeFs.existsSync(path.join(out, "toy", ".lock"))).toBe(false);
  });

  it("SIGINT mid-sweep: the process finishes its unit, marks INTERRUPTED, exits 130; resume completes it", async () => {
    const out = tmp();
    // Two units finish; the third waits at the gate until SIGINT has been handled, then finishes.
    const gate = path.join(tmp(), "open");
    const d = startDriver(out, ["--jobs", "1"], { TOY_GATE: `2:${gate}` });
    await d.waitFor(() => d.batched("toy") === 2, "2 units on disk");
    d.child.kill("SIGINT");
    await d.waitFor((line) => line.includes("interrupted: finishing the units in progress"), "the interrupt");
    nodeFs.writeFileSync(gate, "");
    expect(await d.exited).toBe(130);
    const manifest = JSON.parse(nodeFs.readFileSync(path.join(out, "toy", "manifest.json"), "utf8"));
    expect(manifest.status).toBe("INTERRUPTED");
    expect(manifest.unitsRun).toBe(3);
    expect(unitCount(out)).toBe(3);
    expect(nodeFs.existsSync(path.join(out, "toy", ".lock"))).toBe(false);
    expect(nodeFs.existsSync(path.join(out, "toy2"))).toBe(false);
    await runExperiments({ ...base, out, resume: true });
    expect(snapshot(out)).toEqual(reference);
  });
});

describe("merge and report over shards from elsewhere", () => {
  const silentRun = { ...toyRun, experiments: [toy2], seeds: 2 };

  /** Every path under `root` (not following symlinks) → its kind and bytes: what "no file changed" compares. */
  function tree(root: string): Map<string, string> {
    const out = new Map<string, string>();
    const walk = (d: string) => {
      for (const e of nodeFs.readdirSync(d, { withFileTypes: true })) {
        const full = path.join(d, e.name);
        if (e.isDirectory()) {
          out.set(full, "dir");
          walk(full);
        } else if (e.isSymbolicLink()) out.set(full, `link ${nodeFs.readlinkSync(full)}`);
        else if (e.isFile()) out.set(full, nodeFs.readFileSync(full, "latin1"));
        else out.set(full, "special");
      }
    };
    walk(root);
    return out;
  }

  /** Two shard folders of toy2 under `<root>/a/b/shards`, so an escape from `<root>/a/b/into` lands inside `root`. */
  async function shards(root: string): Promise<{ shardsDir: string; into: string }> {
    const shardsDir = path.join(root, "a", "b", "shards");
    for (const index of [1, 2]) {
      await runExperiments({
        ...silentRun,
        out: path.join(shardsDir, `s${index}`),
        shard: { index, count: 2 },
      });
    }
    return { shardsDir, into: path.join(root, "a", "b", "into") };
  }

  /** Rewrites a shard's config.json and every unit record in it. */
  function craft(
    runDir: string,
    config: (c: Record<string, unknown>) => void,
    unit: (u: Record<string, unknown>) => void,
  ): void {
    const file = path.join(runDir, "config.json");
    const c = JSON.parse(nodeFs.readFileSync(file, "utf8")) as Record<string, unknown>;
    config(c);
    nodeFs.writeFileSync(file, JSON.stringify(c));
    for (const name of nodeFs.readdirSync(path.join(runDir, "units"))) {
      const f = path.join(runDir, "units", name);
      const lines = nodeFs.readFileSync(f, "utf8").split("\n").filter(Boolean);
      nodeFs.writeFileSync(
        f,
        lines
          .map((l) => {
            const u = JSON.parse(l) as Record<string, unknown>;
            unit(u);
            return `${JSON.stringify(u)}\n`;
          })
          .join(""),
      );
    }
  }

  it('a crafted shard with "experiment": "../../escaped": exit 2 naming its config.json; nothing written anywhere', async () => {
    const root = tmp();
    const { shardsDir, into } = await shards(root);
    for (const s of ["s1", "s2"]) {
      craft(
        path.join(shardsDir, s, "toy2"),
        (c) => (c.experiment = "../../escaped"),
        (u) => (u.experiment = "../../escaped"),
      );
    }
    const before = tree(root);
    const r = await cli("merge", shardsDir, "--into", into, "--no-figures");
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toBe(
      `softcal: ${path.join(shardsDir, "s1", "toy2", "config.json")}: expected "experiment" to be a name (/^[A-Za-z0-9][A-Za-z0-9._-]*$/, at most 200 characters); got "../../escaped"\n`,
    );
    expect(tree(root)).toEqual(before);
    // Merging in place (no --into) refuses the same way.
    expect((await cli("merge", shardsDir, "--no-figures")).code).toBe(2);
    expect(tree(root)).toEqual(before);
  });

  it("a crafted shard whose unit key is ../../../pwned: exit 2 naming its config.json; nothing written anywhere", async () => {
    const root = tmp();
    const { shardsDir, into } = await shards(root);
    for (const s of ["s1", "s2"]) {
      craft(
        path.join(shardsDir, s, "toy2"),
        (c) => ((c.units as { key: string }[])[0].key = "../../../pwned"),
        (u) => {
          if (u.key === "p0-s0") u.key = "../../../pwned";
        },
      );
    }
    const before = tree(root);
    const r = await cli("merge", shardsDir, "--into", into, "--no-figures");
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(
      new RegExp(
        `^softcal: ${path.join(shardsDir, "s1", "toy2", "config.json").replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: expected "units\\[0\\]" to be unit p0-s0 .*\\n$`,
      ),
    );
    expect(tree(root)).toEqual(before);
  });

  it("a shard folder whose units/ is a symlink out of it, merged in place: refused, nothing written outside", async () => {
    const root = tmp();
    const { shardsDir } = await shards(root);
    // s2's run folder holds every unit's copy once s1's records are added: merge s1 into s2 in place.
    const elsewhere = path.join(root, "elsewhere");
    nodeFs.mkdirSync(elsewhere);
    const target = path.join(shardsDir, "s2", "toy2");
    nodeFs.cpSync(path.join(target, "units"), elsewhere, { recursive: true });
    nodeFs.rmSync(path.join(target, "units"), { recursive: true });
    nodeFs.symlinkSync(elsewhere, path.join(target, "units"));
    const before = tree(root);
    const r = await cli("merge", path.join(shardsDir, "s2"), "--no-figures");
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/^softcal: .*units: expected /);
    expect(tree(root)).toEqual(before);
  });

  it('report labels a Slurm-style run (every shard into one folder, the last one aggregated) "completed", not "shards only"', async () => {
    const out = tmp();
    await runExperiments({ ...silentRun, out, shard: { index: 1, count: 3 } });
    await runExperiments({ ...silentRun, out, shard: { index: 3, count: 3 } });
    let r = await cli("report", out);
    expect(r.code, r.stderr).toBe(0);
    expect(nodeFs.readFileSync(path.join(out, "report.html"), "utf8")).toContain(
      "<h2>toy2 (shards only: 2 of 3 completed, not aggregated yet)</h2>",
    );
    const last = await runExperiments({ ...silentRun, out, shard: { index: 2, count: 3 } });
    expect(last.experiments[0].aggregated).toBe(true);
    r = await cli("report", out);
    expect(r.code, r.stderr).toBe(0);
    const page = nodeFs.readFileSync(path.join(out, "report.html"), "utf8");
    expect(page).toContain("<h2>toy2 (completed, 2 seeds, 3 shards)</h2>");
    expect(page).not.toContain("shards only");
  });

  it("show refuses to overwrite an existing index.html without --force", async () => {
    const out = tmp();
    await runExperiments({ ...silentRun, out });
    const dir = path.join(out, "toy2");
    const index = path.join(dir, "index.html");
    nodeFs.writeFileSync(index, "my own notes");
    const r = await cli("show", dir, "--no-open");
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`softcal: ${index}: show: the file exists; pass --force to overwrite it\n`);
    expect(nodeFs.readFileSync(index, "utf8")).toBe("my own notes");
    const forced = await cli("show", dir, "--no-open", "--force");
    expect(forced.code, forced.stderr).toBe(0);
    expect(nodeFs.readFileSync(index, "utf8")).toContain('<meta name="generator" content="softcal">');
  });
});
