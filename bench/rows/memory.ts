/**
 * The memory row: the peak resident set a fit adds on top of holding X, as a multiple of X's size
 * (target ≤ 3x), measured by bench/memory.ts in a fresh process (a peak RSS is a process's
 * whole-life figure, so it needs a process of its own).
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { QUICK, ROOT, record, stats, want } from "../harness.js";

/** The memory row, if wanted: m = 1,000,000 (200,000 with --quick), d = 2, K = 3. Cost: one tsx process, seconds. */
export function memoryRows(): void {
  if (!want("memory")) return;
  const [m, d, K] = QUICK ? [200_000, 2, 3] : [1_000_000, 2, 3];
  const out = spawnSync(
    process.execPath,
    ["--expose-gc", "--import", "tsx", join(ROOT, "bench", "memory.ts"), String(m), String(d), String(K)],
    { cwd: ROOT, encoding: "utf8" },
  );
  if (out.status !== 0) throw new Error(`bench/memory.ts failed: ${out.stderr}`);
  const j = JSON.parse(out.stdout) as { xBytes: number; rssBefore: number; peakRss: number; fitMs: number };
  const multiple = (j.peakRss - j.rssBefore) / j.xBytes;
  record({
    id: "memory",
    name: `peak memory fitting m=${m} d=${d} K=${K} (L-BFGS, λ=1e-3)`,
    unit: "× size of X",
    softcal: stats([multiple]),
    referenceName: "size of X as float64",
    reference: null,
    ratio: multiple,
    target: "≤ 3x",
    met: multiple <= 3,
    note: `X ${(j.xBytes / 2 ** 20).toFixed(1)} MiB; peak RSS − RSS before fit = ${((j.peakRss - j.rssBefore) / 2 ** 20).toFixed(1)} MiB; fit ${j.fitMs.toFixed(0)} ms`,
  });
}
