/**
 * softcal's own package folder (found by walking up from this module, in src/ or dist/src/) and
 * its version from package.json.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

function findPackageDir(start: string): { dir: string; version: string } | undefined {
  let dir = start;
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === "softcal") return { dir, version: pkg.version ?? "0.0.0-unknown" };
    } catch {
      // keep walking up
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

const found = findPackageDir(dirname(fileURLToPath(import.meta.url)));

/** The folder holding softcal's package.json, or undefined if it cannot be found. */
export const PACKAGE_DIR: string | undefined = found?.dir;

/** softcal's version (package.json's `version`). */
export const VERSION: string = found?.version ?? "0.0.0-unknown";
