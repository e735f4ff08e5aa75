/**
 * A child process for the lock race tests (properties/lock.test.ts): it reads commands on stdin,
 * one per line, and answers each on stdout, one line each —
 *   `try <file>` → `won` (it now holds the lock) or `refused <message>` or `error <message>`;
 *   `release`    → `released` (it releases the lock it holds, if any).
 * It prints `ready` once loaded, so the test starts a race only when every racer is waiting.
 */
import * as readline from "node:readline";
import { SoftcalError } from "../../src/errors.js";
import { acquireLock, type Lock } from "../../src/io/lock.js";

let held: Lock | undefined;
const lines = readline.createInterface({ input: process.stdin });
lines.on("line", (line) => {
  if (line.startsWith("try ")) {
    try {
      held = acquireLock(line.slice(4), "the race");
      process.stdout.write("won\n");
    } catch (err) {
      const kind = err instanceof SoftcalError ? "refused" : "error";
      process.stdout.write(`${kind} ${(err as Error).message.replace(/\n/g, " ")}\n`);
    }
  } else if (line === "release") {
    held?.release();
    held = undefined;
    process.stdout.write("released\n");
  }
});
lines.on("close", () => held?.release());
process.stdout.write("ready\n");
