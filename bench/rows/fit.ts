/**
 * Converged-fit rows (fit-digits, fit-digits-cli, fit-iris-cli): an exact L-BFGS fit (λ = 1e-3) on
 * scikit-learn's digits and iris, standardized, beside scikit-learn's `LogisticRegression` (lbfgs,
 * default tol) in the reference process — in the library, warm, and through the CLI, a cold
 * process per sample. Both answers are measured against the optimum (softcal at tol 1e-12).
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { fit } from "../../src/model/fit.js";
import { predictProba } from "../../src/model/predict.js";
import { DATA, dataset, mat, maxAbsDiff, readF64, writeCsv } from "../data.js";
import { atLeast, interleave, REPS, ROOT, recordPair, skipped, want } from "../harness.js";
import type { Reference } from "../reference.js";

/** The fit rows wanted; all skipped when scikit-learn is not installed. Cost: seconds (two optima, then the samples). */
export async function fitRows(ref: Reference, haveSklearn: boolean): Promise<void> {
  const ids = ["fit-digits", "fit-digits-cli", "fit-iris-cli"];
  if (!ids.some(want)) return;
  if (!haveSklearn) {
    if (want("fit-digits"))
      skipped(
        "fit-digits",
        "exact converged fit, digits (1797×64, K=10), λ=1e-3, warm, library",
        "scikit-learn lbfgs",
        "≥ 1.5x",
        "scikit-learn not installed",
      );
    if (want("fit-digits-cli"))
      skipped(
        "fit-digits-cli",
        "same through the CLI, cold process (fitMs)",
        "scikit-learn lbfgs",
        "≥ 1x",
        "scikit-learn not installed",
      );
    if (want("fit-iris-cli"))
      skipped(
        "fit-iris-cli",
        "exact converged fit, iris (150×4, K=3), λ=1e-3, CLI cold",
        "scikit-learn lbfgs",
        "≥ 3x",
        "scikit-learn not installed",
      );
    return;
  }
  const l2 = 1e-3;
  for (const name of ["digits", "iris"] as const) {
    const p = await dataset(ref, name);
    const probaPath = join(DATA, `${name}.P.f64`);
    const skReq = { cmd: "sk_fit", x: p.xPath, y: p.yPath, m: p.m, d: p.d, K: p.K, l2, out: probaPath };
    // The optimum, as tight as L-BFGS gets (gradient ≤ 1e-12 or its rounding floor).
    const opt = fit(mat(p), p.y, p.K, { l2, tol: 1e-12, maxIter: 20000 });
    const Pstar = predictProba(opt, mat(p)).data;
    const skOnce = (await ref.call(skReq)) as { nIter: number };
    const skErr = maxAbsDiff(readF64(probaPath), Pstar);
    const size = `${p.m}×${p.d}, K=${p.K}`;

    if (name === "digits" && want("fit-digits")) {
      for (let i = 0; i < 3; i++) fit(mat(p), p.y, p.K, { l2 }); // warm
      let ours = fit(mat(p), p.y, p.K, { l2 });
      const [s, r] = await interleave(
        REPS,
        () => {
          const t = performance.now();
          ours = fit(mat(p), p.y, p.K, { l2 });
          return performance.now() - t;
        },
        async () => ((await ref.call(skReq)) as { ms: number }).ms,
      );
      const err = maxAbsDiff(predictProba(ours, mat(p)).data, Pstar);
      recordPair(
        {
          id: "fit-digits",
          name: `exact converged fit, digits (${size}, standardized), λ=1e-3, warm, library`,
          referenceName: "scikit-learn lbfgs (default tol)",
          target: "≥ 1.5x",
          note: `max|P − P*|: softcal ${err.toExponential(1)} (${ours.iterations} it.), sklearn ${skErr.toExponential(1)} (${skOnce.nIter} it.)`,
        },
        s,
        r,
        atLeast(1.5),
      );
    }
    const cliId = name === "digits" ? "fit-digits-cli" : "fit-iris-cli";
    if (want(cliId)) {
      const csv = join(DATA, `${name}.csv`);
      writeCsv(p, csv);
      let cliErr = 0;
      const [s, r] = await interleave(
        REPS,
        () => {
          const out = spawnSync(
            process.execPath,
            [
              "--import",
              "tsx",
              join(ROOT, "src", "cli", "main.ts"),
              "fit",
              "--data",
              csv,
              "--l2",
              String(l2),
              "--json",
            ],
            { cwd: ROOT, encoding: "utf8", maxBuffer: 1 << 28 },
          );
          if (out.status !== 0) throw new Error(`softcal fit failed: ${out.stderr}`);
          const j = JSON.parse(out.stdout) as { fitMs: number; theta: number[][] };
          const P = predictProba(
            { model: "softmax", nClasses: p.K, nFeatures: p.d, theta: Float64Array.from(j.theta.flat()) },
            mat(p),
          ).data;
          cliErr = maxAbsDiff(P, Pstar);
          return j.fitMs;
        },
        async () => ((await ref.call(skReq)) as { ms: number }).ms,
      );
      const target = name === "digits" ? 1 : 3;
      recordPair(
        {
          id: cliId,
          name:
            name === "digits"
              ? `same through the CLI, cold process (fit --json fitMs), digits`
              : `exact converged fit, iris (${size}, standardized), λ=1e-3, CLI cold process (fitMs)`,
          referenceName: "scikit-learn lbfgs (default tol), warm",
          target: `≥ ${target}x`,
          note: `each softcal sample a fresh process; max|P − P*| ${cliErr.toExponential(1)}; sklearn ${skErr.toExponential(1)}`,
        },
        s,
        r,
        atLeast(target),
      );
    }
  }
}
