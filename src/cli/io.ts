/**
 * The command line's I/O seam (so commands run in-process in tests) and its exit signal: the
 * smallest module of the CLI, loaded before any command.
 */

/** Where a command's output goes: data on stdout, logs and warnings on stderr. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** stderr is a terminal (progress bars draw only then). */
  stderrIsTTY: boolean;
  env: Record<string, string | undefined>;
}

/** The process's own streams. */
export const processIo: CliIo = {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  stderrIsTTY: process.stderr.isTTY === true,
  env: process.env,
};

/** A non-zero exit whose reason was already printed: runCli returns its code and prints nothing. */
export class ExitCode extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}
