/**
 * Peak memory of softcal's commands on a large CSV, as a ratio to the file's size (issue 16 item 14:
 * target ≤ 2 × the file + 100 MB for `fit` on a 200 MB CSV). Not a test: nothing here is timed or
 * asserted; it prints what it measured.
 *
 *   npm run build && node --import tsx bench/csvMemory.ts [MB=200] [--dist DIR] [--keep]
 *
 * In a temp folder it writes a training CSV of about MB megabytes (10 features printed in full
 * precision — ~18 characters each, as `String(x)` and most tools print doubles — and a label of 3
 * classes) and a predictions CSV of about the same size (10 probability columns and a label), then
 * runs each command as its own `node DIR/src/cli/main.js …` process and reads that process's peak
 * resident set (`process.resourceUsage().maxRSS`, taken at exit by a `--import` hook — the whole
 * process: start-up, reading, fitting, writing). A last child runs the library's steps one by one
 * and reports the resident set after each, to show where the memory goes.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const args = process.argv.slice(2);
const mb = Number(args.find((a) => /^\d+(\.\d+)?$/.test(a)) ?? "200");
const distIndex = args.indexOf("--dist");
const dist = resolve(distIndex >= 0 ? args[distIndex + 1] : "dist");
const keep = args.includes("--keep");
const main = join(dist, "src", "cli", "main.js");

/** A seeded LCG in [−0.5, 0.5): the data only needs to be the same every run, not good. */
function lcg(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648 - 0.5;
  };
}

/** Writes `header` then rows from `row()` until the file reaches `bytes`; returns rows written. */
function writeCsv(path: string, header: string, row: () => string, bytes: number): number {
  const fd = openSync(path, "w");
  let written = writeSync(fd, `${header}\n`);
  let rows = 0;
  while (written < bytes) {
    let block = "";
    for (let i = 0; i < 2000; i++, rows++) block += `${row()}\n`;
    written += writeSync(fd, block);
  }
  closeSync(fd);
  return rows;
}

const HOOK =
  "data:text/javascript,process.on('exit',()=>process.stderr.write('\\nsoftcal-bench-maxrss='+process.resourceUsage().maxRSS*1024+'\\n'))";

/** Runs `softcal <argv>` in a fresh process; its exit code and peak resident set in bytes. */
function peakOf(argv: string[]): { code: number | null; peak: number; stderr: string } {
  const r = spawnSync(process.execPath, ["--import", HOOK, main, ...argv], {
    encoding: "utf8",
    maxBuffer: 1 << 30,
    stdio: ["ignore", "ignore", "pipe"],
  });
  const m = /softcal-bench-maxrss=(\d+)/.exec(r.stderr);
  return {
    code: r.status,
    peak: m ? Number(m[1]) : Number.NaN,
    stderr: r.stderr.replace(/\nsoftcal-bench-maxrss=\d+\n/, ""),
  };
}

const MB = 1e6;
const fmt = (bytes: number) => `${(bytes / MB).toFixed(0)} MB`;

const dir = mkdtempSync(join(tmpdir(), "softcal-csvmem-"));
try {
  const d = 10;
  const K = 3;
  const next = lcg(7);
  const train = join(dir, "train.csv");
  const header = [...Array.from({ length: d }, (_, j) => `x${j + 1}`), "label"].join(",");
  const rows = writeCsv(
    train,
    header,
    () => {
      const k = Math.floor((next() + 0.5) * K);
      const x = Array.from({ length: d }, (_, j) => String((j % K === k ? 1 : 0) + next() + next()));
      return `${x.join(",")},${k}`;
    },
    mb * MB,
  );
  const predictions = join(dir, "predictions.csv");
  const C = 10;
  const predRows = writeCsv(
    predictions,
    [...Array.from({ length: C }, (_, k) => `p_c${k}`), "label"].join(","),
    () => {
      // A label that agrees with the most probable class 3 times in 4 (better than chance, so
      // temperature scaling has an optimum to find).
      const w = Array.from({ length: C }, () => Math.exp(3 * next()));
      const sum = w.reduce((a, b) => a + b, 0);
      const p = w.map((v) => v / sum);
      const top = p.indexOf(Math.max(...p));
      const label = next() < 0.25 ? top : Math.floor((next() + 0.5) * C);
      return `${p.join(",")},c${label}`;
    },
    mb * MB,
  );
  const trainBytes = statSync(train).size;
  const predBytes = statSync(predictions).size;
  const model = join(dir, "model.json");
  const out = join(dir, "out.csv");
  const runs: [string, string[], number][] = [
    [
      `fit (${rows} rows × ${d} features, ${K} classes)`,
      ["fit", "--data", train, "--save", model],
      trainBytes,
    ],
    ["fit --standardize", ["fit", "--data", train, "--standardize", "--save", model, "--force"], trainBytes],
    ["predict --out", ["predict", "--model", model, "--data", train, "--out", out], trainBytes],
    [`evaluate (${predRows} rows × ${C} classes)`, ["evaluate", "--predictions", predictions], predBytes],
    ["calibrate --fit (temperature)", ["calibrate", "--fit", predictions], predBytes],
  ];
  const node = execFileSync(process.execPath, ["--version"], { encoding: "utf8" }).trim();
  process.stdout.write(`softcal CLI ${main} on Node ${node}; files in ${dir}\n\n`);
  process.stdout.write(
    "| command | file | peak RSS | ratio | ≤ 2 × file + 100 MB |\n|---|---|---|---|---|\n",
  );
  const results = [];
  for (const [name, argv, size] of runs) {
    const r = peakOf(argv);
    if (r.code !== 0)
      process.stdout.write(`(${name} exited ${r.code}: ${r.stderr.trim().split("\n").pop()})\n`);
    const target = 2 * size + 100 * MB;
    results.push({ command: name, fileBytes: size, peakRss: r.peak, ratio: r.peak / size, exitCode: r.code });
    process.stdout.write(
      `| ${name} | ${fmt(size)} | ${fmt(r.peak)} | ${(r.peak / size).toFixed(2)} | ${r.peak <= target ? "met" : "not met"} (${fmt(target)}) |\n`,
    );
  }

  // Where the memory of a fit goes: the library's steps in one process, resident set after each.
  const steps = `
    const { datasetFromCsvFile } = await import(${JSON.stringify(join(dist, "src", "data", "dataset.js"))});
    const { fit } = await import(${JSON.stringify(join(dist, "src", "model", "fit.js"))});
    const rss = () => process.memoryUsage().rss;
    const out = { start: rss() };
    const ds = datasetFromCsvFile(${JSON.stringify(train)});
    out.xBytes = ds.X.data.byteLength; out.yBytes = ds.y.byteLength;
    out.afterRead = rss(); out.peakAfterRead = process.resourceUsage().maxRSS * 1024;
    fit(ds.X, ds.y, ds.nClasses, {});
    out.afterFit = rss(); out.peakAfterFit = process.resourceUsage().maxRSS * 1024;
    process.stdout.write(JSON.stringify(out));
  `;
  // A module file, not `-e`: worker threads inherit the process's execArgv, and would run an `-e`
  // script again instead of their own.
  const stepsFile = join(dir, "steps.mjs");
  writeFileSync(stepsFile, steps);
  const s = JSON.parse(
    execFileSync(process.execPath, [stepsFile], { encoding: "utf8", maxBuffer: 1 << 26 }),
  ) as Record<string, number>;
  process.stdout.write(
    `\nWhere fit's memory goes (${fmt(trainBytes)} file): process start ${fmt(s.start)}; after reading ` +
      `${fmt(s.afterRead)} (peak ${fmt(s.peakAfterRead)}; X is ${fmt(s.xBytes)}, y ${fmt(s.yBytes)}); ` +
      `after the fit ${fmt(s.afterFit)} (peak ${fmt(s.peakAfterFit)}: the kernel's own copy of X and its work arrays).\n`,
  );
  process.stdout.write(`\n${JSON.stringify({ mb, node, results, steps: s })}\n`);
} finally {
  if (keep) process.stdout.write(`kept ${dir}\n`);
  else rmSync(dir, { recursive: true, force: true });
}
