/**
 * The temperature row: fitting a temperature to 10,000 seeded logits of 10 classes, softcal's
 * `temperatureScale` beside scipy's bounded scalar search on the same NLL in the reference
 * process; the two temperatures are printed side by side.
 */
import { temperatureScale } from "../../src/calibration/recalibrators/temperature.js";
import { createRng } from "../../src/data/rng.js";
import type { Matrix } from "../../src/linalg/matrix.js";
import { save } from "../data.js";
import { atLeast, interleave, REPS, recordPair, skipped, want } from "../harness.js";
import type { Reference } from "../reference.js";

/** The temperature row, if wanted; skipped when scipy is not installed. Cost: well under a second. */
export async function temperatureRows(ref: Reference, haveScipy: boolean): Promise<void> {
  if (!want("temperature")) return;
  const name = "temperature fit, 10k×10 logits";
  if (!haveScipy)
    return skipped("temperature", name, "scipy bounded scalar search", "≥ 5x", "scipy not installed");
  const n = 10_000;
  const K = 10;
  const rng = createRng(11);
  const Z = new Float64Array(n * K);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = rng.int(K);
    for (let k = 0; k < K; k++) Z[i * K + k] = 3 * (rng.normal() + (k === y[i] ? 1.5 : 0));
  }
  const p = save("temperature", Z, y, n, K, K);
  const S0: Matrix = { rows: n, cols: K, data: Z };
  const req = { cmd: "temp", z: p.xPath, y: p.yPath, n, K };
  for (let i = 0; i < 3; i++) temperatureScale(S0, y, { logits: true });
  await ref.call(req);
  let T = 0;
  let Tref = 0;
  const [s, r] = await interleave(
    REPS,
    () => {
      const t = performance.now();
      T = temperatureScale(S0, y, { logits: true }).temperature;
      return performance.now() - t;
    },
    async () => {
      const out = (await ref.call(req)) as { ms: number; T: number };
      Tref = out.T;
      return out.ms;
    },
  );
  recordPair(
    {
      id: "temperature",
      name,
      referenceName: "scipy minimize_scalar bounded (0.05, 20)",
      target: "≥ 5x",
      note: `T* softcal ${T.toPrecision(12)}, scipy ${Tref.toPrecision(12)} (xatol 1e-5)`,
    },
    s,
    r,
    atLeast(5),
  );
}
