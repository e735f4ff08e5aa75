/**
 * `npm run bench`: softcal beside its references (issue 5's table), on the same generated data, in
 * one run, interleaved (softcal and reference alternate, the order flipping every repetition),
 * several repetitions each; prints medians with [min, max], the ratio reference ÷ softcal (higher
 * is better) against the target, and writes results/bench/bench.csv and bench.json.
 *
 *   npm run bench [-- --reps 5] [-- --rows gd-lesson,gd-100k,...] [-- --quick]
 *
 * (`npm run bench` builds first: the --jobs rows time the compiled engine in dist/, which must be
 * the current sources'.)
 *
 * References run in one long-lived Python process (bench/reference_server.py) with
 * /usr/bin/python3 (numpy; scikit-learn and scipy where installed — their rows print
 * "skipped: scikit-learn not installed" otherwise). Timings are wall-clock medians on a shared
 * machine: ratios taken within one run are what to compare, never absolute times across runs.
 *
 * This file only runs the row groups in order and reports. The rest of bench/:
 * - harness.ts: the options, statistics, interleaved timing, the rows recorded and the report;
 * - reference.ts: the Python reference process (its client; the server is reference_server.py);
 * - data.ts: the generated problems and data sets, written where the reference reads them;
 * - rows/: one file per row group — gradientDescent (gd-*), fit (fit-*), temperature, jobs
 *   (jobs*), memory (with memory.ts, the process it measures), wholeProcess (startup-*, sweep-*,
 *   run-all, against the Python peers peer_*.py).
 */
import { mkdirSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { DATA } from "./data.js";
import { REPS, report } from "./harness.js";
import { PYTHON, Reference } from "./reference.js";
import { fitRows } from "./rows/fit.js";
import { gradientDescentRows } from "./rows/gradientDescent.js";
import { jobsRows } from "./rows/jobs.js";
import { memoryRows } from "./rows/memory.js";
import { temperatureRows } from "./rows/temperature.js";
import { wholeProcessRows } from "./rows/wholeProcess.js";

mkdirSync(DATA, { recursive: true });
const ref = new Reference();
const env = await ref.hello();
const machine = { node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model, loadavg: loadavg() };
process.stderr.write(
  `bench: ${REPS} repetitions, interleaved; node ${process.version}, python ${env.python} (${PYTHON}), numpy ${env.numpy}, scikit-learn ${env.sklearn ?? "not installed"}, scipy ${env.scipy ?? "not installed"}; load average ${loadavg()
    .map((v) => v.toFixed(1))
    .join(" ")}\n`,
);
try {
  await gradientDescentRows(ref);
  await fitRows(ref, env.sklearn !== null);
  await temperatureRows(ref, env.scipy !== null);
  await jobsRows();
  memoryRows();
  await wholeProcessRows(env.sklearn !== null);
} finally {
  ref.close();
}
report(machine, env);
