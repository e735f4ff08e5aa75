/**
 * The scale-out recipes of the README are files (docs/recipes/), included into the README
 * verbatim, and run as they are:
 * - every README block marked `<!-- recipe: docs/recipes/NAME -->` equals that file byte for byte,
 *   and every recipe file is included once — the README cannot drift from what is tested;
 * - the Kubernetes Indexed Job: each pod's command line, taken from the YAML, runs in the
 *   environment Kubernetes gives it (the container's env, JOB_COMPLETION_INDEX = 0..completions−1),
 *   then the merge Job's; the merged CSVs equal one machine's run byte for byte;
 * - the GitHub Actions matrix: each matrix job's steps, taken from the workflow, run with the
 *   matrix value and the dispatch inputs substituted as Actions does (artifacts copied between
 *   workspaces as upload/download-artifact do), then the merge job's; the same check.
 * The Slurm recipe runs on a real cluster: properties/slurm.test.ts. The sweep is small (SEEDS
 * and flags through the recipes' own inputs: properties/_shared/scaleOut.ts).
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { csvDifferences, REPO, referenceRun, SWEEP } from "./_shared/scaleOut.js";

const RECIPES = path.join(REPO, "docs", "recipes");
const MARKER = /^<!-- recipe: (docs\/recipes\/[^ ]+) -->\n```[a-z]*\n/gm;

/**
 * How `readme`'s recipe blocks differ from the recipe files, in words (empty when they agree): a
 * block marked `<!-- recipe: docs/recipes/NAME -->` (the fenced block right after the marker) must
 * equal that file byte for byte, and every file of docs/recipes/ must be included exactly once.
 */
function includeDifferences(readme: string): string[] {
  const diffs: string[] = [];
  const included: string[] = [];
  for (const m of readme.matchAll(MARKER)) {
    const start = m.index + m[0].length;
    const end = readme.indexOf("\n```\n", start - 1);
    const file = path.join(REPO, m[1]);
    if (end < 0) diffs.push(`${m[1]}: its block is not closed`);
    else if (!fs.existsSync(file)) diffs.push(`${m[1]}: no such file`);
    else if (readme.slice(start, end + 1) !== fs.readFileSync(file, "utf8"))
      diffs.push(`${m[1]}: the README's block differs from the file`);
    included.push(m[1]);
  }
  for (const name of fs.readdirSync(RECIPES).sort()) {
    const n = included.filter((f) => f === `docs/recipes/${name}`).length;
    if (n !== 1) diffs.push(`docs/recipes/${name}: included ${n} times; expected once`);
  }
  return diffs;
}

const root = fs.mkdtempSync(path.join(os.tmpdir(), "softcal-recipes-"));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

let referenceDir: string | undefined;
/** The one-machine run every recipe must equal (made once, by the first test that needs it). */
function reference(): string {
  if (referenceDir === undefined) {
    const dir = path.join(root, "one-machine");
    referenceRun(dir);
    referenceDir = dir;
  }
  return referenceDir;
}

/** Runs `argv` (a command line a recipe holds) to its end; throws with its output unless it exits 0. */
function run(argv: string[], opts: { cwd: string; env: Record<string, string> }): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), {
      cwd: opts.cwd,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? os.homedir(), ...opts.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d) => {
      output += d;
    });
    child.stderr.on("data", (d) => {
      output += d;
    });
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolve(output) : reject(new Error(`${argv.join(" ")} exited ${code}:\n${output}`)),
    );
  });
}

describe("the README's recipe blocks are the recipe files", () => {
  const readme = fs.readFileSync(path.join(REPO, "README.md"), "utf8");

  it("each marked block equals its file byte for byte; every file in docs/recipes/ is included once", () => {
    expect(fs.readdirSync(RECIPES).length).toBeGreaterThanOrEqual(4);
    expect(includeDifferences(readme)).toEqual([]);
  });

  it("a block that drifts, a block not closed, a file left out or included twice: each is caught", () => {
    const [first, second] = [...readme.matchAll(MARKER)];
    const at = first.index + first[0].length; // the block's first byte
    const edited = `${readme.slice(0, at + 2)}X${readme.slice(at + 3)}`;
    expect(includeDifferences(edited)).toEqual([`${first[1]}: the README's block differs from the file`]);
    const dropped = readme.replace(first[0], first[0].replace("recipe:", "not a recipe:"));
    expect(includeDifferences(dropped)).toEqual([`${first[1]}: included 0 times; expected once`]);
    const twice = readme.replace(second[0], first[0]);
    expect(includeDifferences(twice)).toContain(`${second[1]}: included 0 times; expected once`);
    expect(includeDifferences(twice)).toContain(`${first[1]}: included 2 times; expected once`);
    expect(includeDifferences(`${first[0]}${fs.readFileSync(path.join(REPO, first[1]), "utf8")}`)).toContain(
      `${first[1]}: its block is not closed`,
    );
  });
});

interface Container {
  workingDir: string;
  env: { name: string; value: string }[];
  command: string[];
  args: string[];
  volumeMounts: { name: string; mountPath: string }[];
}
interface JobSpec {
  kind: string;
  metadata: { name: string };
  spec: {
    completionMode?: string;
    completions?: number;
    template: { spec: { containers: Container[] } };
  };
}

/** The one Job of a recipe file, and its one container. */
function readJob(name: string): { job: JobSpec; container: Container } {
  const docs = parseAllDocuments(fs.readFileSync(path.join(RECIPES, name), "utf8"));
  expect(docs).toHaveLength(1);
  expect(docs[0].errors).toEqual([]);
  const job = docs[0].toJS() as JobSpec;
  expect(job.kind).toBe("Job");
  expect(job.spec.template.spec.containers).toHaveLength(1);
  return { job, container: job.spec.template.spec.containers[0] };
}

/**
 * A container's command line and environment as Kubernetes starts it, with `values` replacing
 * values the YAML declares (a test may set only variables the recipe has); the image's working
 * folder, a clone after `npm ci`, is this repository.
 */
function podProcess(container: Container, values: Record<string, string>) {
  const env = Object.fromEntries(container.env.map((e) => [e.name, e.value]));
  for (const [k, v] of Object.entries(values)) {
    expect(Object.keys(env), `the recipe declares ${k}`).toContain(k);
    env[k] = v;
  }
  // The results volume is mounted where RESULTS says.
  expect(container.volumeMounts.map((v) => v.mountPath)).toContain(
    Object.fromEntries(container.env.map((e) => [e.name, e.value])).RESULTS,
  );
  expect(container.workingDir).toBe("/softcal");
  return { argv: [...container.command, ...container.args], env };
}

describe("Kubernetes Indexed Job (docs/recipes/k8s-indexed-job.yaml, then k8s-merge-job.yaml)", () => {
  it("every completion index's pod, then the merge Job: the merged CSVs equal one machine's", {
    timeout: 240_000,
  }, async () => {
    const results = path.join(root, "k8s");
    const sweep = readJob("k8s-indexed-job.yaml");
    expect(sweep.job.spec.completionMode).toBe("Indexed");
    const n = sweep.job.spec.completions!;
    expect(n).toBeGreaterThan(1);
    const pod = podProcess(sweep.container, {
      SEEDS: String(SWEEP.seeds),
      RESULTS: results,
      FLAGS: SWEEP.flags,
    });
    // The pods of an Indexed Job run at once; each sees its index and its hostname <job>-<index>.
    await Promise.all(
      Array.from({ length: n }, (_, i) =>
        run(pod.argv, {
          cwd: REPO,
          env: { ...pod.env, JOB_COMPLETION_INDEX: String(i), HOSTNAME: `${sweep.job.metadata.name}-${i}` },
        }),
      ),
    );
    // Pod i ran shard i+1 of n (the index came from JOB_COMPLETION_INDEX).
    for (let i = 0; i < n; i++) {
      const manifests = fs
        .readdirSync(path.join(results, "shards", String(i), "baseline"))
        .filter((f) => f.startsWith("manifest"));
      expect(manifests, `pod ${i}`).toEqual([`manifest.shard-${i + 1}-of-${n}.json`]);
    }
    const merge = readJob("k8s-merge-job.yaml");
    const mergePod = podProcess(merge.container, { RESULTS: results, FLAGS: "--no-figures" });
    await run(mergePod.argv, { cwd: REPO, env: mergePod.env });
    expect(csvDifferences(reference(), path.join(results, "merged"))).toEqual([]);
  });
});

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, string | number>;
}
interface Workflow {
  on: { workflow_dispatch: { inputs: Record<string, { default: string }> } };
  jobs: Record<
    string,
    { needs?: string; strategy?: { matrix: Record<string, (string | number)[]> }; steps: Step[] }
  >;
}

/**
 * Substitutes `${{ matrix.K }}` and `${{ inputs.K }}` as Actions does before a step runs; any
 * other expression, or an input the workflow does not declare, fails the test.
 */
function substitute(text: string, matrix: Record<string, string>, inputs: Record<string, string>): string {
  return text.replace(/\$\{\{\s*([^}]*?)\s*\}\}/g, (_, expr: string) => {
    const m = /^(matrix|inputs)\.([A-Za-z_][A-Za-z0-9_-]*)$/.exec(expr);
    const value = m === null ? undefined : (m[1] === "matrix" ? matrix : inputs)[m[2]];
    if (value === undefined) throw new Error(`the test cannot evaluate \${{ ${expr} }}`);
    return value;
  });
}

/**
 * Runs one job of the workflow in `workspace` as a runner would, after checkout and `npm ci`
 * (the workspace holds this repository's build: dist/): `run` steps through bash -eo pipefail,
 * upload-artifact/download-artifact as copies to and from `artifacts/`.
 */
async function runJob(
  steps: Step[],
  workspace: string,
  artifacts: string,
  matrix: Record<string, string>,
  inputs: Record<string, string>,
): Promise<void> {
  fs.mkdirSync(workspace, { recursive: true });
  fs.symlinkSync(path.join(REPO, "dist"), path.join(workspace, "dist"));
  for (const step of steps) {
    const action = step.uses?.replace(/@.*/, "");
    const opts = Object.fromEntries(
      Object.entries(step.with ?? {}).map(([k, v]) => [k, substitute(String(v), matrix, inputs)]),
    );
    if (action === "actions/checkout" || action === "actions/setup-node" || step.run === "npm ci") continue; // done
    if (action === "actions/upload-artifact") {
      // upload-artifact leaves hidden files out (include-hidden-files: false).
      fs.cpSync(path.join(workspace, opts.path), path.join(artifacts, opts.name), {
        recursive: true,
        filter: (src) => !path.basename(src).startsWith("."),
      });
    } else if (action === "actions/download-artifact") {
      // Without a name: every artifact, each into <path>/<artifact name>/.
      expect(opts.name).toBeUndefined();
      fs.cpSync(artifacts, path.join(workspace, opts.path), { recursive: true });
    } else if (step.run !== undefined) {
      await run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", substitute(step.run, matrix, inputs)],
        {
          cwd: workspace,
          env: {},
        },
      );
    } else {
      throw new Error(`the test does not know the step ${JSON.stringify(step)}`);
    }
  }
}

describe("GitHub Actions matrix (docs/recipes/github-actions-matrix.yml)", () => {
  it("every matrix job, then the merge job: the merged CSVs equal one machine's", {
    timeout: 240_000,
  }, async () => {
    const wf = parse(fs.readFileSync(path.join(RECIPES, "github-actions-matrix.yml"), "utf8")) as Workflow;
    const inputs = {
      seeds: String(SWEEP.seeds),
      "run-flags": SWEEP.flags,
      "merge-flags": "--no-figures",
    };
    expect(Object.keys(wf.on.workflow_dispatch.inputs).sort()).toEqual(Object.keys(inputs).sort());
    const dir = path.join(root, "gha");
    const artifacts = path.join(dir, "artifacts");
    fs.mkdirSync(artifacts, { recursive: true });
    const { sweep, merge } = wf.jobs;
    expect(merge.needs).toBe("sweep");
    const shards = sweep.strategy!.matrix.shard.map(String);
    expect(shards.length).toBeGreaterThan(1);
    // The matrix jobs run at once, each on its own runner (its own workspace).
    await Promise.all(
      shards.map((s) => runJob(sweep.steps, path.join(dir, `sweep-${s}`), artifacts, { shard: s }, inputs)),
    );
    await runJob(merge.steps, path.join(dir, "merge"), artifacts, {}, inputs);
    expect(csvDifferences(reference(), path.join(dir, "merge", "results"))).toEqual([]);
    expect(fs.existsSync(path.join(dir, "merge", "results", "report.html"))).toBe(true);
    // Matrix job s ran shard s (the index came from the matrix value on its command line).
    for (const s of shards) {
      const names = fs
        .readdirSync(path.join(artifacts, `shard-${s}`, "baseline"))
        .filter((f) => f.startsWith("manifest"));
      expect(names).toEqual([`manifest.shard-${s}-of-${shards.length}.json`]);
    }
  });
});
