/**
 * Scale-out on a real engine: the README's Slurm recipe (docs/recipes/slurm-array.sh, included in
 * the README verbatim: properties/recipes.test.ts) submitted unmodified with
 * `sbatch --array=0-3 --wait` to a real one-node Slurm cluster (.ci/slurm.sh starts one; .ci/run
 * always does), four tasks writing into one shared --out, equals one machine's run byte for byte:
 * undisturbed, with a task requeued mid-run, and with every task finding the grid complete at once.
 *
 * The recipe takes its sweep from the environment (SEEDS, OUT, FLAGS; sbatch exports the
 * submitting environment), here a small one (properties/_shared/scaleOut.ts: SWEEP). Skipped, with
 * the reason printed, where sbatch is missing or no cluster answers — except in CI, which must
 * have the cluster: there the first test fails with the reason instead.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { csvDifferences, REPO, referenceRun, SWEEP, waitFor } from "./_shared/scaleOut.js";

const RECIPE = "docs/recipes/slurm-array.sh";
const ARRAY = "0-3";
const TASKS = 4;
const inCI = Boolean(process.env.CI);

/** Why no Slurm job can run here, or undefined when sbatch is there and a node takes jobs. */
function slurmUnavailable(): string | undefined {
  const sbatch = spawnSync("sbatch", ["--version"], { encoding: "utf8" });
  if (sbatch.error) return "sbatch not found (.ci/slurm.sh installs Slurm and starts a one-node cluster)";
  const sinfo = spawnSync("sinfo", ["--noheader", "--format=%T"], { encoding: "utf8", timeout: 30_000 });
  if (sinfo.status !== 0) {
    const why = (sinfo.stderr || String(sinfo.error ?? "")).trim().split("\n")[0];
    return `no Slurm cluster answers (sinfo: ${why}); start one with .ci/slurm.sh and export the SLURM_CONF it prints`;
  }
  if (!/\b(idle|mixed|allocated|completing)\b/.test(sinfo.stdout))
    return `the Slurm cluster has no node up (sinfo says: ${sinfo.stdout.trim() || "nothing"})`;
  return undefined;
}

const unavailable = slurmUnavailable();
if (unavailable && !inCI) console.warn(`slurm.test: SKIPPED — ${unavailable}`);

/** One submitted array: its job id (printed at submission) and sbatch's exit once every task ended. */
interface Submission {
  jobId: string;
  exit: Promise<{ code: number | null; output: string }>;
}

const children: ChildProcess[] = [];
const jobIds: string[] = [];

/**
 * Submits the recipe file as it is: `sbatch --array=0-3 --wait` from the repository (the job's
 * working folder), the sweep in the environment, each task's log to `dir/task-<i>.log`.
 */
async function submit(dir: string, out: string): Promise<Submission> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME ?? os.homedir(),
    ...(process.env.SLURM_CONF ? { SLURM_CONF: process.env.SLURM_CONF } : {}),
    SEEDS: String(SWEEP.seeds),
    OUT: out,
    FLAGS: SWEEP.flags,
  };
  const child = spawn(
    "sbatch",
    ["--parsable", "--wait", `--array=${ARRAY}`, `--chdir=${REPO}`, `--output=${dir}/task-%a.log`, RECIPE],
    { cwd: REPO, env, stdio: ["ignore", "pipe", "pipe"] },
  );
  children.push(child);
  let output = "";
  child.stderr.on("data", (d) => {
    output += d;
  });
  const exit = new Promise<{ code: number | null; output: string }>((resolve) =>
    child.on("close", (code) => resolve({ code, output })),
  );
  const jobId = await new Promise<string>((resolve, reject) => {
    let stdout = "";
    child.stdout.on("data", (d) => {
      stdout += d;
      output += d;
      const m = /^(\d+)[;\n]/.exec(stdout);
      if (m) resolve(m[1]);
    });
    child.on("close", (code) => reject(new Error(`sbatch exited (${code}) without a job id: ${output}`)));
  });
  jobIds.push(jobId);
  return { jobId, exit };
}

function slurm(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 60_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}): ${r.stderr}`);
  return r.stdout.trim();
}

/**
 * What the cluster says about a job and its node, and the tail of every task log and of
 * slurmctld's log: attached to a wait that gave up, so a failure in CI explains itself.
 */
function clusterState(jobId: string, dir: string): string {
  const run = (cmd: string, args: string[]) => {
    const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 30_000 });
    return `$ ${cmd} ${args.join(" ")}\n${(r.stdout + r.stderr).trim() || `(nothing; ${r.error ?? r.status})`}`;
  };
  const tail = (file: string, lines: number) => {
    try {
      return `--- ${file} (last ${lines} lines)\n${fs.readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n")}`;
    } catch (err) {
      return `--- ${file}: ${(err as Error).message}`;
    }
  };
  const parts = [
    run("squeue", ["--noheader", "--array", "--jobs", jobId, "--format=%i %T %r %M"]),
    run("sinfo", ["--Node", "--noheader", "--format=%N %T %E"]),
    ...Array.from({ length: TASKS }, (_, t) => tail(path.join(dir, `task-${t}.log`), 15)),
  ];
  const conf = process.env.SLURM_CONF;
  if (conf) parts.push(tail(path.join(path.dirname(conf), "slurmctld.log"), 30));
  return parts.join("\n");
}

function log(dir: string, task: number): string {
  return fs.readFileSync(path.join(dir, `task-${task}.log`), "utf8");
}

const EXPERIMENTS = ["baseline", "l2-sweep", "ovr-vs-softmax", "temperature"];

/**
 * How every task ended, from its own log: the last line softcal printed for each experiment, and
 * any error line. sbatch --wait's exit code alone does not tell: it is the largest among the tasks
 * slurmctld still holds at the end, and a task that ended early may be purged by then (MinJobAge).
 */
function taskEndings(dir: string): string[] {
  const endings: string[] = [];
  for (let task = 0; task < TASKS; task++) {
    const lines = log(dir, task).split("\n");
    for (const l of lines.filter((l) => l.startsWith("softcal:"))) endings.push(`task ${task}: ${l}`);
    for (const exp of EXPERIMENTS) {
      const last = lines.filter((l) => new RegExp(`^${exp}: [a-z]+ — `).test(l)).at(-1);
      endings.push(
        `task ${task}: ${exp}: ${last?.replace(/ — .*/, "").replace(`${exp}: `, "") ?? "no end line"}`,
      );
    }
  }
  return endings;
}

/** taskEndings when every task completed every experiment. */
const allCompleted = Array.from({ length: TASKS }, (_, t) =>
  EXPERIMENTS.map((e) => `task ${t}: ${e}: completed`),
).flat();

interface ShardManifest {
  status: string;
  unitsRun: number;
  unitsSkipped: number;
  aggregated: boolean;
  previousAttempts: { status: string }[];
}

/** manifest.shard-<task+1>-of-4.json of every experiment, by experiment. */
function shardManifests(out: string, task: number): Map<string, ShardManifest> {
  const m = new Map<string, ShardManifest>();
  for (const exp of fs.readdirSync(out).sort()) {
    const file = path.join(out, exp, `manifest.shard-${task + 1}-of-${TASKS}.json`);
    if (fs.existsSync(file)) m.set(exp, JSON.parse(fs.readFileSync(file, "utf8")) as ShardManifest);
  }
  return m;
}

/**
 * A unit batch file of array task `task` in `out/<exp>/units/`, or undefined while there is none.
 * A batch is named after its first unit (`<key>.jsonl`) and holds units of one shard only; unit i
 * of config.json belongs to task i mod 4 (--shard auto: task index + 1 = shard index).
 */
function batchOfTask(out: string, exp: string, task: number): string | undefined {
  let keys: string[];
  let names: string[];
  try {
    const config = JSON.parse(fs.readFileSync(path.join(out, exp, "config.json"), "utf8")) as {
      units: { key: string }[];
    };
    keys = config.units.map((u) => u.key);
    names = fs.readdirSync(path.join(out, exp, "units"));
  } catch {
    return undefined; // not written yet
  }
  return names.find((n) => {
    const m = /^(p\d+-s\d+)(~\d+)?\.jsonl$/.exec(n);
    return m !== null && keys.indexOf(m[1]) % TASKS === task;
  });
}

describe.skipIf(unavailable !== undefined && !inCI)(`Slurm job array: ${RECIPE}`, () => {
  let root: string;
  let reference: string;

  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "softcal-slurm-"));
    // The array's tasks run as this user on this host: the shared folder must be readable there.
    fs.chmodSync(root, 0o755);
    if (unavailable) return;
    reference = path.join(root, "one-machine");
    referenceRun(reference);
  });

  afterAll(() => {
    for (const id of jobIds) spawnSync("scancel", [id]); // a failed test leaves no job behind
    for (const c of children) if (c.exitCode === null) c.kill();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it("a Slurm cluster answers (CI installs and starts one: .ci/slurm.sh)", () => {
    expect(unavailable).toBeUndefined();
  });

  it("the recipe asks for the array the test submits, with requeue and appended logs", () => {
    const text = fs.readFileSync(path.join(REPO, RECIPE), "utf8");
    expect(text).toContain(`#SBATCH --array=${ARRAY}\n`);
    expect(text).toContain("#SBATCH --requeue\n");
    expect(text).toContain("#SBATCH --open-mode=append\n");
    expect(text).toMatch(/--shard auto\b/);
    expect(text).toMatch(/--resume\b/);
  });

  it("4 tasks into one shared --out equal one machine's run, byte for byte", {
    timeout: 300_000,
  }, async () => {
    const dir = path.join(root, "undisturbed");
    const out = path.join(dir, "out");
    fs.mkdirSync(dir);
    const job = await submit(dir, out);
    const { code, output } = await job.exit;
    // Every task's ending first: a task's error line says why sbatch's exit code is not 0.
    expect(taskEndings(dir)).toEqual(allCompleted);
    expect(code, output).toBe(0);
    expect(csvDifferences(reference, out)).toEqual([]);
    // Every task ran its share in every experiment, and finished it.
    for (let task = 0; task < TASKS; task++) {
      const manifests = shardManifests(out, task);
      expect([...manifests.keys()]).toEqual(EXPERIMENTS);
      for (const [exp, m] of manifests) {
        expect(m.status, `${exp}, task ${task}`).toBe("COMPLETED");
        expect(m.unitsSkipped, `${exp}, task ${task}`).toBe(0);
      }
      expect(log(dir, task)).toMatch(/ovr-vs-softmax: completed — \d+ run, 0 resumed, 0 failed/);
    }
  });

  it("a task requeued mid-run (scontrol requeue) resumes and the sweep ends with the same bytes", {
    timeout: 300_000,
  }, async () => {
    const dir = path.join(root, "requeued");
    const out = path.join(dir, "out");
    fs.mkdirSync(dir);
    const victim = 1; // shard 2/4: runs in the first wave on a 2-CPU node
    const job = await submit(dir, out);
    const task = `${job.jobId}_${victim}`;
    const diagnose = () => clusterState(job.jobId, dir);
    // The event: the victim has finished units on disk (a batch of its baseline units). Its other
    // three experiments are still to run, so the requeue lands mid-run; the checks below prove it.
    await waitFor(
      `a batch of task ${victim}'s units`,
      () => batchOfTask(out, "baseline", victim),
      180_000,
      diagnose,
    );
    slurm("scontrol", ["requeue", task]);
    // Slurm holds a requeued job back for 2 minutes (BeginTime); once it is pending again, let it go.
    const state = await waitFor(
      `task ${task} pending again after the requeue`,
      () => {
        const s = spawnSync("squeue", ["--noheader", "--jobs", task, "--format=%T %r"], { encoding: "utf8" });
        const line = s.stdout.trim();
        return line.startsWith("PENDING") ? line : undefined;
      },
      90_000,
      diagnose,
    );
    if (state.includes("BeginTime")) slurm("scontrol", ["update", `JobId=${task}`, "StartTime=now"]);

    const { code, output } = await job.exit;
    // Every task's ending first: a task's error line says why sbatch's exit code is not 0.
    expect(taskEndings(dir)).toEqual(allCompleted);
    expect(code, output).toBe(0);
    expect(csvDifferences(reference, out)).toEqual([]);

    // Killed mid-run: Slurm says so, softcal stopped gently (SIGTERM), and the second attempt
    // found units of the first on disk (resumed) and still had units to run (the first did not finish).
    const text = log(dir, victim);
    expect(text).toMatch(/CANCELLED AT \S+ DUE TO JOB REQUEUE/);
    expect(text).toContain("interrupted: finishing the units in progress");
    const manifests = shardManifests(out, victim);
    const total = (f: (m: ShardManifest) => number) => [...manifests.values()].reduce((s, m) => s + f(m), 0);
    expect(total((m) => m.unitsSkipped)).toBeGreaterThan(0);
    expect(total((m) => m.unitsRun)).toBeGreaterThan(0);
    expect(manifests.get("baseline")?.previousAttempts.length).toBeGreaterThan(0);
    for (const [exp, m] of manifests) expect(m.status, exp).toBe("COMPLETED");
    // The undisturbed tasks ran once.
    for (const t of [0, 2, 3]) {
      for (const [exp, m] of shardManifests(out, t))
        expect(m.previousAttempts, `${exp}, task ${t}`).toEqual([]);
    }
  });

  /** The folder of the next test: every task finds the grid complete as it starts. */
  let atOnce: { dir: string; out: string } | undefined;

  // Every task resumes with nothing to run and finds the grid complete at once: the shard that
  // takes the aggregates claim (.lock.aggregates) writes them; the others say who does (or did).
  it("tasks that all find the grid complete at once leave the same aggregates as one machine", {
    timeout: 300_000,
  }, async () => {
    const dir = path.join(root, "at-once");
    const out = path.join(dir, "out");
    // Every unit is on disk before the array starts (the one-machine run's config and units, no
    // aggregates, no manifests): each task resumes, has nothing to run, and goes straight to the
    // aggregates — tasks 0 and 1 start together on the 2-CPU node, so two of them get there at
    // the same moment.
    for (const exp of fs.readdirSync(reference)) {
      fs.mkdirSync(path.join(out, exp), { recursive: true });
      fs.copyFileSync(path.join(reference, exp, "config.json"), path.join(out, exp, "config.json"));
      fs.cpSync(path.join(reference, exp, "units"), path.join(out, exp, "units"), { recursive: true });
    }
    const job = await submit(dir, out);
    const { code, output } = await job.exit;
    // Every task's ending first: a task's error line says why sbatch's exit code is not 0.
    expect(taskEndings(dir)).toEqual(allCompleted);
    expect(code, output).toBe(0);
    expect(csvDifferences(reference, out)).toEqual([]);
    for (let task = 0; task < TASKS; task++) {
      for (const [exp, m] of shardManifests(out, task)) {
        expect(m.status, `${exp}, task ${task}`).toBe("COMPLETED");
        expect(m.unitsRun, `${exp}, task ${task}`).toBe(0);
      }
    }
    atOnce = { dir, out };
  });

  it("of tasks that find the grid complete at once, exactly one writes the aggregates; the others say so", () => {
    expect(atOnce).toBeDefined();
    const { dir, out } = atOnce!;
    for (const exp of EXPERIMENTS) {
      const writers = [0, 1, 2, 3].filter((t) => shardManifests(out, t).get(exp)?.aggregated);
      expect(writers, exp).toHaveLength(1);
      const writer = `shard ${writers[0] + 1}/${TASKS}`;
      for (const t of [0, 1, 2, 3].filter((t) => t !== writers[0])) {
        const lines = log(dir, t).split("\n");
        const said = lines.filter(
          (l) => l.startsWith(`${exp}:`) && l.includes("aggregates") && l.includes(writer),
        );
        const about = lines.filter((l) => l.startsWith(`${exp}:`) || l.startsWith("softcal:")).join("\n");
        expect(said, `${exp}: task ${t}'s log names the writer (${writer}); it says:\n${about}`).not.toEqual(
          [],
        );
      }
    }
  });
});
