/**
 * The run folder's lock (src/io/lock.ts): one holder at a time; a dead holder's lock — including a
 * zombie's, which `kill(pid, 0)` still finds — is taken over; another host's never is; and when
 * several processes find one stale lock at once, exactly one of them gets it, every time.
 *
 * The races use real processes (properties/_shared/lockRacer.ts), started once and reused: each
 * trial waits until every racer has said `ready`/answered, so the test waits on events, never on
 * timers.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as readline from "node:readline";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runExperiments } from "../src/experiment/runner.js";
import { acquireLock, isProcessAlive, processState, readLock, tryLock } from "../src/io/lock.js";
import { runs } from "./_shared/replay.js";
import { snapshot, toyRun } from "./_shared/runs.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const racerScript = path.join(repoRoot, "properties", "_shared", "lockRacer.ts");
const roots: string[] = [];
const children: ChildProcess[] = [];
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "softcal-lock-"));
  roots.push(d);
  return d;
}
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  for (const d of roots) fs.rmSync(d, { recursive: true, force: true });
});

/** The pid of a process that has exited (and was reaped). */
function deadPid(): number {
  return (process.platform === "win32" ? spawnSync(process.execPath, ["-e", ""]) : spawnSync("true")).pid!;
}

/**
 * A zombie: a child of a `sleep` that never reaps it. The shell starts a background `read` on
 * fd 3 (a pipe from this process), prints its pid and execs `sleep` (closing fd 3 there); once
 * the shell is `sleep`, closing the pipe ends the `read`, and nobody reaps it. Resolves once
 * /proc says it is a zombie; `end()` kills the sleeper (init then reaps the zombie).
 */
async function zombie(): Promise<{ pid: number; end: () => void }> {
  const sleeper = spawn("sh", ["-c", "read x <&3 & echo $!; exec sleep 600 3<&-"], {
    stdio: ["ignore", "pipe", "ignore", "pipe"],
  });
  children.push(sleeper);
  const end = () => sleeper.kill("SIGKILL");
  const line = await new Promise<string>((resolve) => {
    readline.createInterface({ input: sleeper.stdout! }).once("line", resolve);
  });
  const pid = Number(line);
  // Bounded waits for two kernel events: the shell became `sleep`; the `read` became a zombie.
  const until = async (cond: () => boolean, what: string) => {
    for (let i = 0; !cond(); i++) {
      if (i > 2000) {
        end();
        throw new Error(`${what} did not happen`);
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  const comm = () => {
    try {
      return fs.readFileSync(`/proc/${sleeper.pid}/comm`, "utf8").trim();
    } catch {
      return "";
    }
  };
  await until(() => comm() === "sleep", `process ${sleeper.pid} exec'ing sleep`);
  (sleeper.stdio[3] as NodeJS.WritableStream).end();
  await until(() => processState(pid) === "Z", `process ${pid} becoming a zombie`);
  return { pid, end };
}

const onLinux = process.platform === "linux";

/** The claim file a takeover of the lock holding `text` creates first (the rule in lock.ts). */
function claimFile(file: string, text: string, n: number): string {
  return `${file}.take-${createHash("sha256").update(text).digest("hex").slice(0, 16)}.${n}`;
}

describe("lock basics", () => {
  it("one holder at a time; release is idempotent and removes the file", () => {
    const file = path.join(tmp(), ".lock");
    const lock = acquireLock(file, "the run");
    expect(readLock(file)?.pid).toBe(process.pid);
    expect(() => acquireLock(file, "the run")).toThrow(
      new RegExp(
        `^${file}: expected no other softcal process writing the run; got one \\(pid ${process.pid} on host .*\\) — wait for it, or remove the lock file if that process is gone$`,
      ),
    );
    lock.release();
    lock.release();
    expect(fs.readdirSync(path.dirname(file))).toEqual([]);
  });

  it("tryLock: the loser learns who holds it (the holder's label), and gets it once released", () => {
    const file = path.join(tmp(), ".lock.aggregates");
    const won = tryLock(file, "shard 2/4");
    expect("release" in won).toBe(true);
    const lost = tryLock(file, "shard 3/4");
    expect(lost).toEqual({ holder: expect.objectContaining({ pid: process.pid, label: "shard 2/4" }) });
    if ("release" in won) won.release();
    const next = tryLock(file, "shard 3/4");
    expect(readLock(file)?.label).toBe("shard 3/4");
    if ("release" in next) next.release();
    expect(fs.existsSync(file)).toBe(false);
  });

  it.runIf(onLinux)(
    "a lock file that is a FIFO or larger than a lock is read as unreadable, never waited on",
    () => {
      const dir = tmp();
      const fifo = path.join(dir, ".lock");
      spawnSync("mkfifo", [fifo]);
      expect(fs.statSync(fifo).isFIFO()).toBe(true);
      // Reading a FIFO with no writer would block this thread forever; the lock is opened non-blocking.
      expect(readLock(fifo)).toBeUndefined();
      expect(() => acquireLock(fifo, "the run")).toThrow(/got one \(an unreadable lock file\)/);
      const big = path.join(dir, ".lock.big");
      const info = { pid: deadPid(), host: os.hostname(), startedAt: "then" };
      fs.writeFileSync(big, JSON.stringify(info) + " ".repeat(5000));
      expect(readLock(big)).toBeUndefined();
      fs.writeFileSync(big, JSON.stringify(info));
      expect(readLock(big)?.pid).toBe(info.pid);
    },
  );

  it("a dead holder's lock is taken over; another host's is not; an unreadable one only once it is old", () => {
    const dir = tmp();
    const file = path.join(dir, ".lock");
    fs.writeFileSync(file, JSON.stringify({ pid: deadPid(), host: os.hostname(), startedAt: "then" }));
    const taken = acquireLock(file, "the run");
    expect(readLock(file)?.pid).toBe(process.pid);
    taken.release();
    fs.writeFileSync(file, JSON.stringify({ pid: deadPid(), host: "another-host", startedAt: "then" }));
    expect(() => acquireLock(file, "the run")).toThrow(/pid \d+ on host another-host/);
    // Unparseable (a crash between create and write, by an older softcal): stale after 10 s.
    fs.writeFileSync(file, "");
    expect(() => acquireLock(file, "the run")).toThrow(/got one \(an unreadable lock file\)/);
    const old = new Date(Date.now() - 60_000);
    fs.utimesSync(file, old, old);
    acquireLock(file, "the run").release();
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  (onLinux ? it : it.skip)(
    "a zombie holder (killed, not yet reaped) counts as dead: its lock is taken over",
    async () => {
      const z = await zombie();
      try {
        expect(isProcessAlive(z.pid)).toBe(false);
        expect(isProcessAlive(process.pid)).toBe(true);
        const file = path.join(tmp(), ".lock");
        fs.writeFileSync(file, JSON.stringify({ pid: z.pid, host: os.hostname(), startedAt: "then" }));
        const lock = acquireLock(file, "the run");
        expect(readLock(file)?.pid).toBe(process.pid);
        lock.release();
      } finally {
        z.end();
      }
    },
  );

  (onLinux ? it : it.skip)(
    "--resume right after kill -9, before the killed run is reaped: the zombie's locks (run and shard) do not block it",
    async () => {
      const z = await zombie();
      try {
        const reference = tmp();
        await runExperiments({ ...toyRun, out: reference });
        const out = tmp();
        const ac = new AbortController();
        await runExperiments({
          ...toyRun,
          out,
          signal: ac.signal,
          progress: (e) => {
            if (e.done === 4) ac.abort();
          },
        });
        // As a killed run leaves them: its lock, and a shard's lock in the same folder.
        const held = JSON.stringify({ pid: z.pid, host: os.hostname(), startedAt: "then" });
        fs.writeFileSync(path.join(out, "toy", ".lock"), held);
        fs.writeFileSync(path.join(out, "toy", ".lock.shard-1-of-2"), held);
        const r = await runExperiments({ ...toyRun, out, resume: true });
        expect(r.exitCode).toBe(0);
        expect(snapshot(out)).toEqual(snapshot(reference));
      } finally {
        z.end();
      }
    },
  );

  it("a claim left by a taker that died mid-takeover is passed over; one held by a live process refuses", () => {
    const dir = tmp();
    const file = path.join(dir, ".lock");
    const stale = JSON.stringify({ pid: deadPid(), host: os.hostname(), startedAt: "then" });
    fs.writeFileSync(file, stale);
    const claim = claimFile(file, stale, 1);
    fs.writeFileSync(claim, JSON.stringify({ pid: deadPid(), host: os.hostname(), startedAt: "then" }));
    const lock = acquireLock(file, "the run");
    expect(readLock(file)?.pid).toBe(process.pid);
    lock.release();
    expect(fs.readdirSync(dir)).toEqual([]);
    // A live process's claim: it is taking the lock over, so this process refuses.
    fs.writeFileSync(file, stale);
    fs.writeFileSync(claim, JSON.stringify({ pid: process.ppid, host: os.hostname(), startedAt: "now" }));
    expect(() => acquireLock(file, "the run")).toThrow(new RegExp(`pid ${process.ppid} on host`));
    expect(fs.readFileSync(file, "utf8")).toBe(stale);
  });
});

/** A racer process: send it a command, await its one-line answer. */
interface Racer {
  ask(command: string): Promise<string>;
  pid: number;
}

function startRacer(): Promise<Racer> {
  const child = spawn(process.execPath, ["--import", "tsx", racerScript], {
    cwd: repoRoot,
    stdio: ["pipe", "pipe", "inherit"],
  });
  children.push(child);
  const waiting: ((line: string) => void)[] = [];
  const early: string[] = [];
  readline.createInterface({ input: child.stdout! }).on("line", (line) => {
    const w = waiting.shift();
    if (w) w(line);
    else early.push(line);
  });
  const next = () =>
    new Promise<string>((resolve, reject) => {
      const e = early.shift();
      if (e !== undefined) resolve(e);
      else {
        waiting.push(resolve);
        child.once("exit", (code) => reject(new Error(`racer ${child.pid} exited (${code})`)));
      }
    });
  return next().then((first) => {
    expect(first).toBe("ready");
    return {
      pid: child.pid!,
      ask(command: string) {
        child.stdin!.write(`${command}\n`);
        return next();
      },
    };
  });
}

describe("processes racing for one stale lock", () => {
  const N = 4;
  let racers: Racer[] = [];
  beforeAll(async () => {
    racers = await Promise.all(Array.from({ length: N }, startRacer));
  }, 60_000);

  it("exactly one of them gets it, every trial (dead, zombie or unreadable holder; leftover claims)", async () => {
    const kinds = onLinux
      ? (["dead", "zombie", "unreadable", "dead-claim"] as const)
      : (["dead", "unreadable"] as const);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...kinds), fc.integer({ min: 2, max: N }), async (kind, n) => {
        const dir = tmp();
        const file = path.join(dir, ".lock");
        let z: Awaited<ReturnType<typeof zombie>> | undefined;
        try {
          if (kind === "zombie") z = await zombie();
          const pid = kind === "zombie" ? z!.pid : deadPid();
          const stale = JSON.stringify({ pid, host: os.hostname(), startedAt: "then" });
          fs.writeFileSync(file, kind === "unreadable" ? "{" : stale);
          if (kind === "unreadable") {
            const old = new Date(Date.now() - 60_000);
            fs.utimesSync(file, old, old);
          }
          if (kind === "dead-claim") {
            fs.writeFileSync(
              claimFile(file, stale, 1),
              JSON.stringify({ pid: deadPid(), host: os.hostname(), startedAt: "then" }),
            );
          }
          const playing = racers.slice(0, n);
          const answers = await Promise.all(playing.map((r) => r.ask(`try ${file}`)));
          const what = `${kind}, ${n} racers: ${JSON.stringify(answers)}`;
          expect(
            answers.filter((a) => a.startsWith("error")),
            what,
          ).toEqual([]);
          expect(
            answers.filter((a) => a === "won"),
            what,
          ).toHaveLength(1);
          for (const a of answers.filter((x) => x !== "won"))
            expect(a, what).toMatch(
              /^refused .*: expected no other softcal process writing the race; got one/,
            );
          const winner = playing[answers.indexOf("won")];
          expect(readLock(file)?.pid, what).toBe(winner.pid);
          expect(await winner.ask("release")).toBe("released");
          // Nothing left behind: no lock, no claim, no temp file.
          expect(fs.readdirSync(dir), what).toEqual([]);
        } finally {
          z?.end();
          fs.rmSync(dir, { recursive: true, force: true });
        }
      }),
      { numRuns: runs(100) },
    );
  }, 600_000);
});
