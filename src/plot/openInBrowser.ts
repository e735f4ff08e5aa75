/** Opening a written HTML file in the user's browser, when there is one; never a server. */
import { spawn } from "node:child_process";
import { resolve } from "node:path";

/** Options of {@link openInBrowser} (all for tests; the defaults are the real ones). */
export interface OpenOptions {
  /** Where the path is printed (default: a line on stderr, keeping stdout for data). */
  log?: (line: string) => void;
  /** Environment to look for a display in (default `process.env`). */
  env?: NodeJS.ProcessEnv;
  /** Platform (default `process.platform`). */
  platform?: NodeJS.Platform;
  /** Starts the opener (default: `child_process.spawn`, detached, output ignored). */
  launch?: (command: string, args: string[]) => void;
}

function defaultLaunch(command: string, args: string[]): void {
  const child = spawn(command, args, { detached: true, stdio: "ignore" });
  child.on("error", () => {}); // no opener installed: the printed path is enough
  child.unref();
}

/**
 * Prints the absolute path of `file`, then asks the desktop to open it: `xdg-open` on Linux/BSD
 * only when a display exists (`DISPLAY` or `WAYLAND_DISPLAY` set), `open` on macOS, `start` on
 * Windows. Nothing listens on any port; the process does not wait for the browser.
 *
 * @param file Path of the (self-contained) HTML file.
 * @returns true when an opener was started, false when there is no display (headless, CI).
 * @throws Never: a missing or failing opener is ignored (the path was printed).
 * Cost: O(1); spawns at most one detached process.
 * @example
 * openInBrowser("results/baseline/index.html"); // prints "/abs/results/baseline/index.html"
 */
export function openInBrowser(file: string, options: OpenOptions = {}): boolean {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const env = options.env ?? process.env;
  const platform = options.platform ?? process.platform;
  const launch = options.launch ?? defaultLaunch;
  const path = resolve(file);
  log(path);
  let command: string;
  let args: string[];
  if (platform === "darwin") {
    command = "open";
    args = [path];
  } else if (platform === "win32") {
    command = "cmd";
    args = ["/c", "start", "", path];
  } else if (env.DISPLAY || env.WAYLAND_DISPLAY) {
    command = "xdg-open";
    args = [path];
  } else {
    return false;
  }
  try {
    launch(command, args);
    return true;
  } catch {
    return false;
  }
}
