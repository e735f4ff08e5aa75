#!/usr/bin/env node
/**
 * The `softcal` command line. `runCli(argv, io)` runs one command in-process and returns its exit
 * code: 0 success, 1 a failed run or check, 2 bad usage or bad input (one line on stderr, never a
 * stack trace).
 */
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Command, CommanderError, Help } from "commander";
import { SoftcalError } from "../errors.js";
import { VERSION } from "../version.js";
import { type CliIo, ExitCode, processIo } from "./io.js";
import type { ExperimentRegistry } from "./run.js";

/**
 * The built-in experiments (experiments/*.ts), injected into the CLI by this entry point: loaded
 * only when a command needs them (`run`, `merge`, `list`), so `softcal fit` and `--help` never load
 * them; worker threads import the same module.
 */
export const BUILTIN_EXPERIMENTS: ExperimentRegistry = {
  load: async () => (await import("../../experiments/index.js")).experiments,
  url: new URL(`../../experiments/index.${import.meta.url.endsWith(".ts") ? "ts" : "js"}`, import.meta.url),
};

type Register = (program: Command, io: CliIo, experiments: ExperimentRegistry) => void;

/**
 * Every command, in help order, grouped by the module that defines it. A command's module (and
 * everything it imports) is loaded only when that command runs or its help is shown: `softcal
 * --help` lists the commands from the names, usage terms and summaries here. `properties/cli-startup.test.ts`
 * checks these against the modules' own definitions.
 */
const COMMAND_MODULES: readonly {
  commands: readonly { name: string; term: string; description: string }[];
  load: () => Promise<Register>;
}[] = [
  {
    commands: [
      {
        name: "fit",
        term: "fit [options]",
        description: "fit softmax (multinomial) or one-vs-rest logistic regression",
      },
    ],
    load: async () => (await import("./fit.js")).registerFit,
  },
  {
    commands: [
      {
        name: "predict",
        term: "predict [options]",
        description: "predict class probabilities with a saved model",
      },
    ],
    load: async () => (await import("./predict.js")).registerPredict,
  },
  {
    commands: [
      {
        name: "evaluate",
        term: "evaluate [options]",
        description:
          "calibration metrics (accuracy, NLL, Brier, ECE, MCE, class-wise ECE) and reliability bins",
      },
    ],
    load: async () => (await import("./evaluate.js")).registerEvaluate,
  },
  {
    commands: [
      {
        name: "calibrate",
        term: "calibrate [options]",
        description: "fit a recalibrator on a calibration set; apply it to new predictions",
      },
    ],
    load: async () => (await import("./calibrate.js")).registerCalibrate,
  },
  {
    commands: [
      {
        name: "run",
        term: "run [options] [experiment...]",
        description: "run experiments: every grid point × seed, tracked in OUT/<experiment>/",
      },
      {
        name: "merge",
        term: "merge [options] <dir>",
        description: "combine --shard outputs into the files one machine writes",
      },
      {
        name: "list",
        term: "list [options] [module...]",
        description: "the experiments, their axes (what --set and --data replace) and grids",
      },
    ],
    load: async () => (await import("./run.js")).registerRun,
  },
  {
    commands: [
      {
        name: "report",
        term: "report [options] [dir]",
        description: "one self-contained HTML page over every run in DIR (figures and summary tables)",
      },
      {
        name: "show",
        term: "show [options] <run-dir>",
        description: "open a run's figures in the browser (an offline HTML page; nothing is served)",
      },
    ],
    load: async () => (await import("./report.js")).registerReport,
  },
  {
    commands: [
      {
        name: "runs",
        term: "runs [options] [dir...]",
        description:
          "every run folder under DIR…: experiment, status, when, softcal and commit, seeds, units, data, a headline metric",
      },
    ],
    load: async () => (await import("./runs.js")).registerRuns,
  },
  {
    commands: [
      {
        name: "compare",
        term: "compare [options] <run-a> <run-b>",
        description:
          "compare two runs point by point: means, B − A with a 95% interval and a p-value (paired by seed where possible)",
      },
    ],
    load: async () => (await import("./compare.js")).registerCompare,
  },
  {
    commands: [
      {
        name: "check",
        term: "check [options] <run>",
        description:
          "CI gate on a run's metrics: exit 1 if a rule is violated at a grid point (JUnit and Markdown reports)",
      },
    ],
    load: async () => (await import("./check.js")).registerCheck,
  },
];

/** The command `argv` invokes (`softcal help CMD` shows CMD's help), or undefined (top-level help, an unknown command). */
function invokedCommand(argv: readonly string[]): string | undefined {
  const words = argv.filter((a) => !a.startsWith("-"));
  return words[0] === "help" ? words[1] : words[0];
}

/**
 * Builds the command tree writing to `io`, with `experiments` as the experiments known by name.
 * Only the module of the command `argv` invokes is loaded (every module when `argv` is not given);
 * the other commands are listed by name and summary.
 */
export async function buildProgram(
  io: CliIo,
  experiments: ExperimentRegistry = BUILTIN_EXPERIMENTS,
  argv?: readonly string[],
): Promise<Command> {
  const invoked = argv === undefined ? undefined : invokedCommand(argv);
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
  const terms = new Map<string, string>();
  for (const group of COMMAND_MODULES) {
    for (const c of group.commands) terms.set(c.name, c.term);
    if (argv === undefined || group.commands.some((c) => c.name === invoked)) {
      (await group.load())(program, io, experiments);
    } else {
      for (const c of group.commands) program.command(c.name).description(c.description);
    }
  }
  // Commands not loaded have no options or arguments yet: the top-level help shows their terms
  // (the same as commander's own for the loaded commands: a test compares the two helps).
  if (argv !== undefined) {
    const help = new Help();
    program.configureHelp({ subcommandTerm: (cmd) => terms.get(cmd.name()) ?? help.subcommandTerm(cmd) });
  }
  for (const c of program.commands) c.exitOverride().configureOutput({ outputError: () => {} });
  return program;
}

/** Runs `softcal <argv…>` and returns the exit code. */
export async function runCli(
  argv: readonly string[],
  io: CliIo = processIo,
  experiments: ExperimentRegistry = BUILTIN_EXPERIMENTS,
): Promise<number> {
  const program = await buildProgram(io, experiments, argv);
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
