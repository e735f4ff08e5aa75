/**
 * The reference side of the bench: one long-lived Python process (bench/reference_server.py) that
 * times numpy / scikit-learn / scipy on the data the bench wrote, so the references pay their
 * start-up and imports once, not in every sample. Protocol: one JSON request per line on its
 * stdin, one JSON reply per line on its stdout (the commands are listed in reference_server.py).
 */
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { ROOT } from "./harness.js";

/** /usr/bin/python3 (numpy + scikit-learn + scipy here) when it has numpy, else `python3` on PATH. */
export const PYTHON =
  existsSync("/usr/bin/python3") && spawnSync("/usr/bin/python3", ["-c", "import numpy"]).status === 0
    ? "/usr/bin/python3"
    : "python3";

/** A request or reply of the protocol. */
export type Json = Record<string, unknown>;

/** The versions the reference process reports (null: the package is not installed). */
export type ReferenceVersions = {
  python: string;
  numpy: string;
  sklearn: string | null;
  scipy: string | null;
};

/** The running reference process: start it once, {@link Reference.call} it for each sample, close it at the end. */
export class Reference {
  private proc: ChildProcessWithoutNullStreams;
  private lines: AsyncIterator<string>;
  /** Starts bench/reference_server.py with {@link PYTHON}; its stderr goes to ours. */
  constructor() {
    this.proc = spawn(PYTHON, [join(ROOT, "bench", "reference_server.py")], { stdio: "pipe" });
    this.proc.stderr.on("data", (b) => process.stderr.write(b));
    this.lines = createInterface({ input: this.proc.stdout })[Symbol.asyncIterator]();
  }
  /** Sends one request and waits for its reply; throws the reference's `error` if it sends one. */
  async call(req: Json): Promise<Json> {
    this.proc.stdin.write(`${JSON.stringify(req)}\n`);
    const { value, done } = await this.lines.next();
    if (done) throw new Error("the reference process exited");
    const out = JSON.parse(value) as Json;
    if (typeof out.error === "string") throw new Error(`reference: ${out.error}`);
    return out;
  }
  /** Python's, numpy's, scikit-learn's and scipy's versions: which rows can run. */
  async hello(): Promise<ReferenceVersions> {
    return (await this.call({ cmd: "hello" })) as ReferenceVersions;
  }
  /** Ends the process (closing its stdin ends its request loop). */
  close(): void {
    this.proc.stdin.end();
  }
}
