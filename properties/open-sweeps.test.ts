/**
 * Open sweeps (issue 14): a user's data, grid, config file, model outputs and own experiment
 * module, on the same engine — and package entries that load only what they need.
 */
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "csv-parse/sync";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli } from "./_shared/cli.js";
import { staticGraph } from "./_shared/staticGraph.js";

const repoRoot = path.resolve(import.meta.dirname, "..");
const root = fs.mkdtempSync(path.join(os.tmpdir(), "softcal-open-"));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

type Row = Record<string, string>;
const rows = (file: string): Row[] => parse(fs.readFileSync(file, "utf8"), { columns: true }) as Row[];
const csvs = (dir: string): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const e of fs.readdirSync(dir)) {
    const sub = path.join(dir, e);
    if (!fs.statSync(sub).isDirectory()) continue;
    for (const f of fs.readdirSync(sub))
      if (f.endsWith(".csv")) out[`${e}/${f}`] = fs.readFileSync(path.join(sub, f), "utf8");
  }
  return out;
};

/** Four Gaussian classes in 3-D, labelled by name, from a fixed integer recurrence (no randomness). */
function writeGauss(file: string, n = 160): void {
  let s = 12345;
  const u = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s + 0.5) / 2 ** 32;
  };
  const lines = ["f1,f2,f3,species"];
  for (let i = 0; i < n; i++) {
    const k = i % 4;
    const g = () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
    lines.push(`${(k + g()).toFixed(5)},${((k % 2) * 2 + g()).toFixed(5)},${g().toFixed(5)},${"abcd"[k]}`);
  }
  fs.writeFileSync(file, `${lines.join("\n")}\n`);
}

describe("your data and your grid", () => {
  const data = path.join(root, "gauss4.csv");
  const out = path.join(root, "own");
  const sweep = [
    "run",
    "l2-sweep",
    "--data",
    data,
    "--label",
    "species",
    "--set",
    "l2=0,0.01",
    "--seeds",
    "3",
    "--no-figures",
    "--out",
    out,
  ];
  beforeAll(() => writeGauss(data));

  it("--data CSV --set l2=0,0.01 --seeds 3: exactly 2 × 3 runs, the file fingerprinted in config.json", async () => {
    const r = await cli(...sweep);
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.code).toBe(0);
    const runs = rows(path.join(out, "l2-sweep", "runs.csv"));
    expect(runs).toHaveLength(6);
    expect(new Set(runs.map((x) => x.data))).toEqual(new Set([data]));
    expect(runs.map((x) => Number(x.l2))).toEqual([0, 0, 0, 0.01, 0.01, 0.01]);
    const config = JSON.parse(fs.readFileSync(path.join(out, "l2-sweep", "config.json"), "utf8"));
    expect(config.data).toHaveLength(1);
    expect(config.data[0]).toMatchObject({
      name: data,
      label: "species",
      rows: 160,
      columns: 3,
      classes: ["a", "b", "c", "d"],
    });
    expect(config.data[0].sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(config.axes).toEqual({ data: [data], l2: [0, 0.01] });
  });

  it("a changed CSV makes --resume exit 2 naming it, and touches nothing", async () => {
    const before = csvs(out);
    fs.appendFileSync(data, "0.1,0.2,0.3,a\n");
    const r = await cli(...sweep, "--resume");
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain(`data file ${data}: its content changed`);
    expect(csvs(out)).toEqual(before);
  });

  it("bad axes, values and files: exit 2 with one line, nothing written", async () => {
    const o = path.join(root, "never");
    const bad: [string[], string][] = [
      [
        ["run", "l2-sweep", "--set", "lambda=1"],
        '--set lambda: expected an axis of the selected experiments (data, l2); got "lambda"',
      ],
      [["run", "l2-sweep", "--set", "l2=-1"], '--set l2: expected a number >= 0; got "-1"'],
      [["run", "l2-sweep", "--set", "l2=0,0"], '--set l2: expected distinct values; got "0" twice'],
      [
        ["run", "temperature", "--set", "method=magic"],
        '--set method: expected one of none, temperature, vector, histogram, isotonic, matrix, dirichlet, beta; got "magic"',
      ],
      [["run", "l2-sweep", "--set", "l2"], '--set: expected AXIS=V1,V2,…; got "l2"'],
      [
        ["run", "l2-sweep", "--data", path.join(root, "missing.csv")],
        `${path.join(root, "missing.csv")}: expected a readable CSV file; got ENOENT`,
      ],
    ];
    for (const [argv, message] of bad) {
      const r = await cli(...argv, "--out", o);
      expect(r.code, argv.join(" ")).toBe(2);
      expect(r.stderr).toBe(`softcal: ${message}\n`);
    }
    expect(fs.existsSync(o)).toBe(false);
    // Found by the CLI fuzzer (FC_SEED=1642657070): a blank module argument names no file, and a
    // file name with surrounding white space or a line break is quoted (one readable line).
    for (const [arg, message] of [
      [" ", 'expected an experiment module file (./my-experiment.mjs); got " "'],
      [" ~]^", '" ~]^": expected an experiment module file (.mjs/.js); got no such file'],
      ["a\nb.mjs", '"a\\nb.mjs": expected an experiment module file (.mjs/.js); got no such file'],
    ]) {
      const r = await cli("list", arg);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(`softcal: ${message}\n`);
    }
  });

  it("--config sweep.json: the same settings from a file; twice ⇒ byte-identical CSVs; flags win", async () => {
    const file = path.join(root, "sweep.json");
    fs.writeFileSync(
      file,
      JSON.stringify({
        experiments: ["l2-sweep"],
        data: ["iris"],
        set: { l2: [0.001, 0.1] },
        seeds: 2,
        rootSeed: 5,
        figures: false,
      }),
    );
    const a = path.join(root, "cfg-a");
    const b = path.join(root, "cfg-b");
    expect((await cli("run", "--config", file, "--out", a)).code).toBe(0);
    expect((await cli("run", "--config", file, "--out", b)).code).toBe(0);
    expect(csvs(b)).toEqual(csvs(a));
    const runs = rows(path.join(a, "l2-sweep", "runs.csv"));
    expect(runs.map((x) => [x.data, Number(x.l2)])).toEqual([
      ["iris", 0.001],
      ["iris", 0.001],
      ["iris", 0.1],
      ["iris", 0.1],
    ]);
    const c = path.join(root, "cfg-c");
    expect((await cli("run", "--config", file, "--seeds", "1", "--out", c)).code).toBe(0);
    expect(rows(path.join(c, "l2-sweep", "runs.csv"))).toHaveLength(2);
    fs.writeFileSync(file, JSON.stringify({ seed: 3 }));
    const r = await cli("run", "--config", file, "--out", path.join(root, "never"));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/sweep\.json: expected only the keys experiments, data, .*; got "seed"\n$/);
  });

  it("list --json shows every experiment's axes", async () => {
    const r = await cli("list", "--json");
    const { experiments } = JSON.parse(r.stdout) as {
      experiments: { name: string; axes: Record<string, { type: string }> }[];
    };
    const axes = Object.fromEntries(experiments.map((e) => [e.name, Object.keys(e.axes)]));
    expect(axes).toEqual({
      baseline: ["data"],
      "l2-sweep": ["data", "l2"],
      temperature: ["data", "l2", "method"],
      "ovr-vs-softmax": ["data", "l2"],
      recalibration: ["data", "scores", "test", "method", "bins"],
    });
  });
});

describe("your model's outputs: the recalibration experiment", () => {
  it("--predictions logits.csv --logits --seeds 20 runs every method with paired effects against none", async () => {
    // An over-confident 3-class model's logits (3× the true ones), labels drawn from the true ones.
    let s = 99;
    const u = () => {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      return (s + 0.5) / 2 ** 32;
    };
    const lines = ["z0,z1,z2,label"];
    for (let i = 0; i < 600; i++) {
      const z = [u() * 4 - 2, u() * 4 - 2, u() * 4 - 2];
      const e = z.map(Math.exp);
      const t = e.reduce((a, b) => a + b, 0);
      let r = u() * t;
      let y = 2;
      for (let k = 0; k < 3; k++) {
        r -= e[k];
        if (r < 0) {
          y = k;
          break;
        }
      }
      lines.push(`${z.map((v) => (3 * v).toFixed(6)).join(",")},${y}`);
    }
    const file = path.join(root, "logits.csv");
    fs.writeFileSync(file, `${lines.join("\n")}\n`);
    const out = path.join(root, "recal");
    const r = await cli(
      "run",
      "recalibration",
      "--predictions",
      file,
      "--logits",
      "--seeds",
      "20",
      "--no-figures",
      "--out",
      out,
    );
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.code).toBe(0);
    const paired = rows(path.join(out, "recalibration", "paired.csv"));
    const methods = new Set(paired.map((p) => p.method));
    expect(methods).toEqual(
      new Set(["temperature", "vector", "matrix", "dirichlet", "histogram", "isotonic", "beta"]),
    );
    for (const p of paired) {
      expect(p.reference).toBe("none");
      expect(Number(p.n) + Number(p.n_failed) + Number(p.n_nonfinite)).toBe(20);
    }
    // Temperature scaling cannot change a prediction, and finds the over-confidence (T ≈ 3).
    const acc = paired.find((p) => p.method === "temperature" && p.metric === "accuracy") as Row;
    expect(Number(acc.mean_diff)).toBe(0);
    const Ts = rows(path.join(out, "recalibration", "runs.csv"))
      .filter((x) => x.method === "temperature")
      .map((x) => Number(x.temperature));
    const meanT = Ts.reduce((a, b) => a + b, 0) / Ts.length;
    expect(meanT).toBeGreaterThan(2);
    expect(meanT).toBeLessThan(4.5);
    const nll = paired.find((p) => p.method === "temperature" && p.metric === "nll") as Row;
    expect(Number(nll.ci95_hi)).toBeLessThan(0);
  });

  it("probabilities that do not sum to 1 are refused before any unit runs", async () => {
    const file = path.join(root, "badprobs.csv");
    fs.writeFileSync(file, "p_a,p_b,label\n0.5,0.5,a\n0.7,0.4,b\n0.2,0.8,b\n0.9,0.1,a\n");
    const out = path.join(root, "never2");
    const r = await cli("run", "recalibration", "--predictions", file, "--out", out);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^softcal: .*badprobs\.csv:3:.*expected probabilities summing to 1/);
    expect(fs.existsSync(out)).toBe(false);
  });
});

describe("package entries load what they need", () => {
  it("softcal (the library) loads no CLI, no engine, no experiment, no plotting or CLI package", () => {
    const g = staticGraph("src/index.ts");
    expect(
      g.files.filter(
        (f) => f.startsWith("src/cli/") || f.startsWith("src/experiment/") || f.startsWith("experiments/"),
      ),
    ).toEqual([]);
    for (const p of [
      "commander",
      "cli-progress",
      "vega",
      "vega-lite",
      "vega-embed",
      "@resvg/resvg-js",
      "csv-stringify",
    ]) {
      expect(g.packages).not.toContain(p);
    }
  });

  it("softcal/experiments loads no CLI and no experiment module; the built-in experiments import only public entries", () => {
    const g = staticGraph("src/experiment/index.ts");
    expect(g.files.filter((f) => f.startsWith("src/cli/") || f.startsWith("experiments/"))).toEqual([]);
    expect(g.packages).not.toContain("commander");
    for (const f of fs.readdirSync(path.join(repoRoot, "experiments"))) {
      const src = fs.readFileSync(path.join(repoRoot, "experiments", f), "utf8");
      const specs = [...src.matchAll(/^import[^;]*?\sfrom\s+"([^"]+)"/gms)].map((m) => m[1]);
      for (const spec of specs) {
        expect(
          ["../src/index.js", "../src/experiment/index.js"].includes(spec) ||
            /^\.\/[a-z0-9-]+\.js$/.test(spec),
          `${f}: ${spec}`,
        ).toBe(true);
      }
    }
  });
});

describe("your own experiment, in a separate project that depends on softcal", () => {
  const project = path.join(root, "user-project");
  // The README's example module, verbatim: what users copy is what this test runs.
  const readme = fs.readFileSync(path.join(repoRoot, "README.md"), "utf8");
  const EXPERIMENT = (readme.match(/```js\n(\/\/ early-stop\.mjs[\s\S]*?)```/) ?? [])[1] ?? "";
  const bin = () => path.join(project, "node_modules", ".bin", "softcal");
  // Enough units (3 × 300 fits) that the run outlasts its first 200 ms batch, for the kill below.
  const SEEDS = "300";
  const softcal = (args: string[], env: Record<string, string> = {}) =>
    spawnSync("npx", ["--no-install", "softcal", ...args], {
      cwd: project,
      encoding: "utf8",
      timeout: 120_000,
      env: { ...process.env, ...env },
    });

  beforeAll(() => {
    const dist = path.join(repoRoot, "dist", "src", "cli", "main.js");
    expect(fs.existsSync(dist), `${dist} is missing: run \`npm run build\` first (npm test does)`).toBe(true);
    fs.mkdirSync(path.join(project, "node_modules", ".bin"), { recursive: true });
    fs.symlinkSync(repoRoot, path.join(project, "node_modules", "softcal"), "dir");
    fs.symlinkSync(path.join("..", "softcal", "dist", "src", "cli", "main.js"), bin());
    fs.writeFileSync(
      path.join(project, "package.json"),
      '{ "name": "user-project", "type": "module", "private": true }\n',
    );
    expect(EXPERIMENT).toContain("export default experiment;");
    fs.writeFileSync(path.join(project, "exp.mjs"), EXPERIMENT);
  });

  it("runs with --jobs 2; list shows it; kill + --resume, --shard 1/2 + 2/2 + merge give the same bytes; report draws it", async () => {
    const full = softcal([
      "run",
      "./exp.mjs",
      "--jobs",
      "2",
      "--parallel-min-ms",
      "0",
      "--seeds",
      SEEDS,
      "--out",
      "full",
    ]);
    expect(full.stderr).not.toMatch(/internal error/);
    expect(full.status, full.stderr).toBe(0);
    const reference = csvs(path.join(project, "full"));
    expect(Object.keys(reference).sort()).toEqual([
      "early-stop/paired.csv",
      "early-stop/reliability.csv",
      "early-stop/runs.csv",
      "early-stop/summary.csv",
    ]);
    expect(rows(path.join(project, "full", "early-stop", "runs.csv"))).toHaveLength(3 * Number(SEEDS));

    const list = softcal(["list", "./exp.mjs"]);
    expect(list.stdout).toContain("early-stop — test metrics of L-BFGS stopped after k iterations");
    expect(list.stdout).toContain("--set iters=…");

    // kill -9 once the first unit batch is on disk, then --resume: the uninterrupted bytes.
    const killed = path.join(project, "killed");
    const child = spawn(bin(), ["run", "./exp.mjs", "--jobs", "1", "--seeds", SEEDS, "--out", "killed"], {
      cwd: project,
      stdio: "ignore",
    });
    const units = path.join(killed, "early-stop", "units");
    await new Promise<void>((resolve, reject) => {
      const poll = setInterval(() => {
        const batches = fs.existsSync(units) ? fs.readdirSync(units).filter((f) => f.endsWith(".jsonl")) : [];
        if (batches.length > 0) {
          clearInterval(poll);
          child.kill("SIGKILL");
          resolve();
        }
      }, 20);
      child.on("exit", () => {
        clearInterval(poll);
        reject(new Error("the run ended before a batch was written"));
      });
    });
    await new Promise((r) => child.on("exit", r));
    const resumed = softcal(["run", "./exp.mjs", "--seeds", SEEDS, "--out", "killed", "--resume"]);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(csvs(killed)).toEqual(reference);

    for (const shard of ["1/2", "2/2"]) {
      const r = softcal([
        "run",
        "./exp.mjs",
        "--seeds",
        SEEDS,
        "--shard",
        shard,
        "--out",
        `shards/${shard[0]}`,
      ]);
      expect(r.status, r.stderr).toBe(0);
    }
    const merged = softcal(["merge", "shards", "--into", "merged", "--module", "./exp.mjs"]);
    expect(merged.status, merged.stderr).toBe(0);
    expect(csvs(path.join(project, "merged"))).toEqual(reference);

    const report = softcal(["report", "full"]);
    expect(report.status, report.stderr).toBe(0);
    expect(fs.readFileSync(path.join(project, "full", "report.html"), "utf8")).toContain("early-stop");
  }, 300_000);

  it("a TypeScript module without a loader: one line saying how to run it", () => {
    fs.writeFileSync(path.join(project, "exp.ts"), "export default {};\n");
    const r = softcal(["run", "./exp.ts", "--out", "never"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      /^softcal: \.\/exp\.ts: expected a JavaScript module; got TypeScript, which Node runs only through a loader/,
    );
  });
});
