#!/usr/bin/env node
/**
 * The `softcal` command line. `runCli(argv, io)` runs one command in-process and returns its exit
 * code: 0 success, 1 a failed run or check, 2 bad usage or bad input (one line on stderr, never a
 * stack trace).
 */
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Command, CommanderError } from "commander";
import { SoftcalError } from "../errors.js";
import { VERSION } from "../version.js";
import { registerCalibrate } from "./calibrate.js";
import { registerCheck } from "./check.js";
import { type CliIo, ExitCode, processIo } from "./common.js";
import { registerCompare } from "./compare.js";
import { registerEvaluate } from "./evaluate.js";
import { registerFit } from "./fit.js";
import { registerPredict } from "./predict.js";
import { registerReport } from "./report.js";
import { type ExperimentRegistry, registerRun } from "./run.js";
import { registerRuns } from "./runs.js";

/**
 * The built-in experiments (experiments/*.ts), injected into the CLI by this entry point: loaded
 * only when a command needs them (`run`, `merge`, `list`), so `softcal fit` and `--help` never load
 * them; worker threads import the same module.
 */
export const BUILTIN_EXPERIMENTS: ExperimentRegistry = {
  load: async () => (await import("../../experiments/index.js")).experiments,
  url: new URL(`../../experiments/index.${import.meta.url.endsWith(".ts") ? "ts" : "js"}`, import.meta.url),
};

/** Builds the command tree writing to `io`, with `experiments` as the experiments known by name. */
export function buildProgram(io: CliIo, experiments: ExperimentRegistry = BUILTIN_EXPERIMENTS): Command {
  const program = new Command("softcal")
    .description("softmax regression and probability calibration you can trust")
    .version(VERSION)
    .exitOverride()
    .showSuggestionAfterError(false)
    .configureOutput({
      writeOut: (s) => io.stdout(s),
      writeErr: (s) => io.stderr(s),
      outputError: () => {}, // reported by runCli, one line
    });
  registerFit(program, io);
  registerPredict(program, io);
  registerEvaluate(program, io);
  registerCalibrate(program, io);
  registerRun(program, io, experiments);
  registerReport(program, io);
  registerRuns(program, io);
  registerCompare(program, io);
  registerCheck(program, io);
  for (const c of program.commands) c.exitOverride().configureOutput({ outputError: () => {} });
  return program;
}

/** Runs `softcal <argv…>` and returns the exit code. */
export async function runCli(
  argv: readonly string[],
  io: CliIo = processIo,
  experiments: ExperimentRegistry = BUILTIN_EXPERIMENTS,
): Promise<number> {
  const program = buildProgram(io, experiments);
  try {
    await program.parseAsync([...argv], { from: "user" });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (
        e.code === "commander.helpDisplayed" ||
        e.code === "commander.version" ||
        e.code === "commander.help"
      ) {
        return 0;
      }
      io.stderr(`softcal: ${e.message.replace(/^error: /, "").split("\n")[0]}\n`);
      return 2;
    }
    if (e instanceof ExitCode) return e.code;
    if (e instanceof SoftcalError) {
      io.stderr(`softcal: ${e.message.split("\n")[0]}\n`);
      return e.exitCode;
    }
    const err = e as Error;
    io.stderr(
      `softcal: internal error: ${String(err?.message ?? err).split("\n")[0]} (a bug: please report it; SOFTCAL_DEBUG=1 shows the stack)\n`,
    );
    if (io.env.SOFTCAL_DEBUG) io.stderr(`${err?.stack ?? ""}\n`);
    return 1;
  }
}

function isMain(): boolean {
  if (!process.argv[1]) return false;
  try {
    return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) {
  // The reader of stdout went away (`softcal predict … | head`): stop quietly, as Unix tools do,
  // not with a stack trace. Files being written are atomic, so nothing is left half-written.
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(0);
    throw err;
  });
  runCli(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
