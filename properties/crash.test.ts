/**
 * Crash safety of sweeps, with real processes and real file systems:
 * - the kill loop: a sweep (the toy experiments, in a separate process) is SIGKILLed at an event
 *   fast-check draws — at once (before it took its lock), when a unit finished, just before a
 *   file is renamed into place (its temp file written), after a batch of units is on disk —
 *   possibly again while resuming, then resumed; it must always end byte-identical to an
 *   uninterrupted run. The first kill always lands inside the run: it is drawn among the events
 *   every run has, and the driver kills itself exactly there (no timer). Always on: 2 schedules;
 *   `npm run test:thorough` (SOFTCAL_THOROUGH=1 or FC_NUM_RUNS_FACTOR > 1): 24.
 * - a full disk (a tiny tmpfs) or a folder made read-only mid-run: the error is reported, the
 *   units finished before it are intact, no temp file is left, and `--resume` on a healthy disk
 *   completes the same bytes. Mounting needs root; elsewhere the read-only case uses chmod and
 *   the disk-full case is skipped (the injected-failure tests in experiment.test.ts cover it).
 * - two processes started on the same `--out`: one runs, the other refuses with a clear message
 *   (or, started after the first finished, finds nothing left to do); the files are never mixed.
 *
 * Kill schedules come from fast-check (FC_SEED): a failure prints the schedule and the replay
 * command. Process timing still decides which batch a unit lands in, so the events after a kill
 * point vary; the kill point itself does not.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RunError } from "../src/errors.js";
import { runExperiments } from "../src/experiment/runner.js";
import { TEMP_FILE_PATTERN } from "../src/io/atomic.js";
import { cli } from "./_shared/cli.js";
import { THOROUGH } from "./_shared/replay.js";
import { snapshot, toyRun } from "./_shared/runs.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const driver = path.join(repoRoot, "properties", "_shared", "toyDriver.ts");
const toyRegistry = new URL("./_shared/toyExperiments.ts", import.meta.url);
const SLEEP_MS = 30; // per toy unit, so its units spread over several batches
const roots: string[] = [];
const children: ChildProcess[] = [];
const mounts: string[] = [];
function tmp(prefix = "softcal-crash-"): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  roots.push(d);
  return d;
}
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  for (const m of mounts) spawnSync("umount", [m]);
  for (const d of roots) fs.rmSync(d, { recursive: true, force: true });
});

const base = toyRun;

function tempFiles(out: string): string[] {
  const found: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(d, e.name));
      else if (TEMP_FILE_PATTERN.test(e.name)) found.push(path.join(d, e.name));
    }
  };
  if (fs.existsSync(out)) walk(out);
  return found;
}

interface Driver {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr: () => string;
}

function startDriver(out: string, args: string[] = []): Driver {
  const child = spawn(process.execPath, ["--import", "tsx", driver, "--out", out, "--seeds", "3", ...args], {
    cwd: repoRoot,
    env: { ...process.env, TOY_SLEEP_MS: String(SLEEP_MS) },
    stdio: ["ignore", "ignore", "pipe"],
  });
  children.push(child);
  let err = "";
  child.stderr?.on("data", (d) => {
    err += String(d);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  return { child, exited, stderr: () => err };
}

/**
 * Runs the driver and kills it at its `k`-th event (`--die-at k`: it SIGKILLs itself there; 0:
 * SIGKILL at once, before it has even loaded). "finished" if it ended before its k-th event.
 */
async function killAt(out: string, k: number, args: string[]): Promise<"killed" | "finished"> {
  const d = startDriver(out, k === 0 ? args : [...args, "--die-at", String(k)]);
  if (k === 0) d.child.kill("SIGKILL");
  const end = await d.exited;
  if (end.signal === "SIGKILL") return "killed";
  expect(end.code, d.stderr()).toBe(0);
  return "finished";
}

describe("the kill loop: SIGKILL at drawn events, then --resume ⇒ the uninterrupted bytes", () => {
  let reference: Record<string, string>;
  /** Events every uninterrupted run of the driver has (so a first kill drawn up to here always lands). */
  let minEvents = 0;
  const kills = THOROUGH ? 24 : 2;

  beforeAll(async () => {
    const out = tmp();
    await runExperiments({ ...base, out });
    reference = snapshot(out);
    // One uninterrupted driver run, to count its events. Batches depend on timing (each is two
    // events: its rename and `batch`); every experiment writes at least one.
    const d = startDriver(tmp(), ["--events"]);
    const end = await d.exited;
    expect(end.code, d.stderr()).toBe(0);
    const events = d
      .stderr()
      .split("\n")
      .filter((l) => l.startsWith("event "));
    const batches = events.filter((l) => / batch /.test(l)).length;
    minEvents = events.length - 2 * batches + 2 * 2;
    expect(minEvents).toBeGreaterThan(30); // 24 units, configs, manifests, aggregates
  }, 120_000);

  it(`${kills} kill schedules; each ends byte-identical with no temp file or lock left`, async () => {
    const schedule = fc.record({
      jobs: fc.integer({ min: 1, max: 2 }),
      flushMs: fc.constantFrom(0, 50, 200),
      first: fc.integer({ min: 0, max: minEvents }),
      // One kill, or (1 time in 3) a second one while resuming (which may finish before it).
      second: fc.option(fc.integer({ min: 0, max: minEvents }), { freq: 2, nil: undefined }),
    });
    await fc.assert(
      fc.asyncProperty(schedule, async ({ jobs, flushMs, first, second }) => {
        const out = tmp();
        const args = ["--jobs", String(jobs), "--flush-ms", String(flushMs)];
        // The first kill is inside the run, always.
        expect(await killAt(out, first, args)).toBe("killed");
        if (second !== undefined) await killAt(out, second, [...args, "--resume"]);
        const r = await runExperiments({ ...base, out, resume: true });
        expect(r.exitCode).toBe(0);
        expect(snapshot(out)).toEqual(reference);
        expect(tempFiles(out)).toEqual([]);
        for (const e of ["toy", "toy2"])
          expect(fs.readdirSync(path.join(out, e)).filter((f) => f.startsWith(".lock"))).toEqual([]);
        fs.rmSync(out, { recursive: true, force: true });
      }),
      { numRuns: kills },
    );
  }, 600_000);
});

// ---------------------------------------------------------------------------------------------
// Full disk and read-only folders
// ---------------------------------------------------------------------------------------------

/** Mounts a tmpfs of `kib` KiB on a new temp folder; undefined where mounting is not allowed. */
function tinyDisk(kib: number): string | undefined {
  if (process.platform !== "linux" || process.getuid?.() !== 0) return undefined;
  const dir = tmp("softcal-tmpfs-");
  const r = spawnSync("mount", ["-t", "tmpfs", "-o", `size=${kib}k,mode=0755`, "tmpfs", dir], {
    encoding: "utf8",
  });
  if (r.status !== 0) return undefined;
  mounts.unshift(dir);
  return dir;
}
const canMount = (() => {
  const d = tinyDisk(16);
  if (d === undefined) return false;
  spawnSync("umount", [d]);
  mounts.splice(mounts.indexOf(d), 1);
  return true;
})();

describe("a full disk or an unwritable folder mid-run", () => {
  let reference: Record<string, string>;
  beforeAll(async () => {
    const out = tmp();
    await runExperiments({ ...base, out });
    reference = snapshot(out);
  });

  /** After a failed run: every unit file present is the reference's, byte for byte; no temp file. */
  function expectEarlierResultsIntact(out: string): number {
    const now = snapshot(out);
    const units = Object.keys(now).filter((f) => f.includes(`${path.sep}units${path.sep}`));
    for (const f of units) expect(now[f], f).toBe(reference[f]);
    expect(tempFiles(out)).toEqual([]);
    return units.length;
  }

  /** Copies a damaged run to a healthy disk and resumes it there. */
  async function resumeElsewhere(out: string): Promise<void> {
    const healthy = tmp();
    fs.cpSync(out, healthy, { recursive: true });
    // The failed writer could not remove its lock from the read-only disk; it is this (live) test
    // process, whereas a real failed `softcal run` has exited and its lock is stale: drop it.
    for (const e of ["toy", "toy2"]) fs.rmSync(path.join(healthy, e, ".lock"), { force: true });
    expect(tempFiles(healthy)).toEqual([]);
    const r = await runExperiments({ ...base, out: healthy, resume: true });
    expect(r.exitCode).toBe(0);
    expect(snapshot(healthy)).toEqual(reference);
  }

  // jobs 2: the main thread's first unit waits for the worker's first unit file, so the worker writes.
  (canMount ? it.each([1, 2]) : it.skip.each([1, 2]))(
    "disk full (a 48 KiB tmpfs), --jobs %i: ENOSPC is reported in one line, finished units are intact, resume completes",
    async (jobs) => {
      const disk = tinyDisk(48)!;
      const out = path.join(disk, "out");
      if (jobs > 1) process.env.TOY_MAIN_WAITS = path.join(out, "toy", "units");
      let err: Error | undefined;
      try {
        err = await runExperiments({ ...base, out, jobs, registryUrl: toyRegistry }).then(
          () => undefined,
          (e: Error) => e,
        );
      } finally {
        delete process.env.TOY_MAIN_WAITS;
      }
      expect(err).toBeInstanceOf(RunError);
      expect(err?.message).toMatch(
        /: cannot write: no space left on the device; the units already finished are kept/,
      );
      expect((err?.cause as NodeJS.ErrnoException | undefined)?.code).toBe("ENOSPC");
      const kept = expectEarlierResultsIntact(out);
      expect(kept).toBeGreaterThan(0);
      expect(kept).toBeLessThan(15);
      await resumeElsewhere(out);
    },
  );

  (canMount ? it : it.skip)(
    "`softcal run` on a full disk says so in one line, not 'internal error … a bug'",
    async () => {
      // A full disk is the machine's failure, not a bug: one line naming the file, exit 1.
      const disk = tinyDisk(24)!;
      const r = await cli(
        "run",
        "baseline",
        "--quick",
        "--seeds",
        "2",
        "--jobs",
        "1",
        "--no-figures",
        "--out",
        path.join(disk, "out"),
      );
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/no space left/);
      expect(r.stderr).not.toContain("internal error");
      expect(tempFiles(path.join(disk, "out"))).toEqual([]);
    },
  );

  const canMakeReadOnly = canMount || (process.getuid?.() ?? 0) !== 0;
  (canMakeReadOnly ? it : it.skip)(
    "the units folder becomes read-only after 4 units: the error is reported, those 4 are intact, resume completes",
    async () => {
      // As root, permissions do not stop writes: remount a tmpfs read-only instead of chmod.
      const disk = canMount ? tinyDisk(1024)! : tmp();
      const out = path.join(disk, "out");
      let done = 0;
      const err = await runExperiments({
        ...base,
        out,
        progress: (e) => {
          if (e.unit === undefined || e.experiment !== "toy" || ++done !== 4) return;
          if (canMount) {
            const r = spawnSync("mount", ["-o", "remount,ro", disk], { encoding: "utf8" });
            expect(r.status, r.stderr).toBe(0);
          } else {
            fs.chmodSync(path.join(out, "toy", "units"), 0o555);
          }
        },
      }).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err).toBeInstanceOf(RunError);
      expect(err?.message).toMatch(/: cannot write: (the file system is read-only|permission denied);/);
      expect(["EROFS", "EACCES", "EPERM"]).toContain((err?.cause as NodeJS.ErrnoException | undefined)?.code);
      expect(expectEarlierResultsIntact(out)).toBe(4);
      if (canMount) spawnSync("mount", ["-o", "remount,rw", disk]);
      else fs.chmodSync(path.join(out, "toy", "units"), 0o755);
      await resumeElsewhere(out);
    },
  );
});

// ---------------------------------------------------------------------------------------------
// Two processes on one --out
// ---------------------------------------------------------------------------------------------

describe("two processes started on the same --out", () => {
  let reference: Record<string, string>;
  beforeAll(async () => {
    const out = tmp();
    await runExperiments({ ...base, out });
    reference = snapshot(out);
  });

  // Each case spawns two processes (~2–4 s): "both fresh" always, "both with --resume" when thorough.
  it.each(
    THOROUGH
      ? [
          ["both fresh", []],
          ["both with --resume", ["--resume"]],
        ]
      : [["both fresh", []]],
  )(
    "%s: one runs, the other refuses with a clear message (or finds the run done); files never mixed",
    async (_, args) => {
      const out = tmp();
      const a = startDriver(out, ["--jobs", "2", ...args]);
      const b = startDriver(out, ["--jobs", "1", ...args]);
      const [ea, eb] = await Promise.all([a.exited, b.exited]);
      const results = [
        { code: ea.code, stderr: a.stderr() },
        { code: eb.code, stderr: b.stderr() },
      ];
      const what = JSON.stringify(results);
      for (const r of results) expect([0, 2], what).toContain(r.code);
      expect(
        results.some((r) => r.code === 0),
        what,
      ).toBe(true);
      for (const r of results.filter((x) => x.code === 2)) {
        // One line, naming the folder and what to do.
        const line = r.stderr.trimEnd().split("\n").pop() ?? "";
        expect(line, what).toMatch(
          /^softcal: (.*\.lock: expected no other softcal process writing .* — wait for it, or remove the lock file if that process is gone|.* already holds a run; pass --resume to continue it or --force to replace it)$/,
        );
      }
      if (!results.every((r) => r.code === 0)) {
        // The refused process may have stopped before toy2: finish it, as a user would.
        await runExperiments({ ...base, out, resume: true });
      }
      expect(snapshot(out)).toEqual(reference);
      expect(tempFiles(out)).toEqual([]);
    },
  );
});
