/**
 * The flags of a recalibrator's own options, shared by `calibrate` (which names the L2 penalty
 * `--l2`) and `fit --calibrate` (where `--l2` is the base model's, so the recalibrator's is
 * `--cal-l2`): each flag is checked before any data is read, and refused with the methods it
 * applies to when given for another one.
 */
import type { Command } from "commander";
import { BETA_VARIANTS, type BetaVariant } from "../calibration/recalibrators/beta.js";
import type { RecalibrationMethod } from "../calibration/recalibrators/recalibrator.js";
import type { RecalibratorOptions } from "../calibration/recalibrators/registry.js";
import { validateChoice } from "../calibration/validate.js";
import { InputError } from "../errors.js";
import { boundedNumber } from "./bounds.js";

/** The flags' values as commander gives them (strings; absent when not given). */
export interface RecalibratorFlagValues {
  variant?: string;
  odirLambda?: string;
  odirMu?: string;
}

const PENALIZED: readonly RecalibrationMethod[] = ["vector", "matrix", "dirichlet"];
const ODIR: readonly RecalibrationMethod[] = ["matrix", "dirichlet"];

/** Adds `--variant`, `--odir-lambda` and `--odir-mu` to a command. */
export function addRecalibratorOptions(cmd: Command): Command {
  return cmd
    .option("--variant <v>", `beta calibration: ${BETA_VARIANTS.join(" | ")} (default abm)`)
    .option(
      "--odir-lambda <lambda>",
      "matrix scaling and Dirichlet calibration: ODIR penalty λ ≥ 0 on the off-diagonal weights (default 0)",
    )
    .option(
      "--odir-mu <mu>",
      "matrix scaling and Dirichlet calibration: ODIR penalty μ ≥ 0 on the intercepts (default 0)",
    );
}

/**
 * The recalibrator options of `method` from its flags; `l2` is the L2 flag's name and value.
 * @throws InputError for a bad value, or a flag given for a method it does not apply to, e.g.
 *   `--variant: expected --method beta (the only method it applies to); got --method temperature`.
 */
export function recalibratorOptions(
  method: RecalibrationMethod,
  flags: RecalibratorFlagValues,
  methodFlag: string,
  l2: { flag: string; value: string | undefined },
): RecalibratorOptions {
  const only = (flag: string, methods: readonly RecalibrationMethod[]) => {
    if (!methods.includes(method)) {
      const which =
        methods.length === 1
          ? `${methodFlag} ${methods[0]} (the only method it applies to)`
          : `${methodFlag} ${methods.join(", ")}`;
      throw new InputError(`${flag}: expected ${which}; got ${methodFlag} ${method}`);
    }
  };
  const opts: RecalibratorOptions = {};
  if (l2.value !== undefined) {
    opts.l2 = boundedNumber(l2.flag, l2.value, { min: 0 });
    only(l2.flag, PENALIZED);
  }
  if (flags.variant !== undefined) {
    opts.variant = validateChoice<BetaVariant>(flags.variant, BETA_VARIANTS, "--variant");
    only("--variant", ["beta"]);
  }
  if (flags.odirLambda !== undefined) {
    opts.odirLambda = boundedNumber("--odir-lambda", flags.odirLambda, { min: 0 });
    only("--odir-lambda", ODIR);
  }
  if (flags.odirMu !== undefined) {
    opts.odirMu = boundedNumber("--odir-mu", flags.odirMu, { min: 0 });
    only("--odir-mu", ODIR);
  }
  return opts;
}
