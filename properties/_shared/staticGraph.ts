import * as fs from "node:fs";
import * as path from "node:path";

const repoRoot = path.resolve(import.meta.dirname, "..", "..");

/**
 * The modules a source file loads statically (transitively; `import type` and dynamic `import()`
 * excluded), as paths relative to the repository, and the packages among them.
 */
export function staticGraph(entry: string): { files: string[]; packages: string[] } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const walk = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    const src = fs.readFileSync(file, "utf8");
    for (const m of src.matchAll(/^(?:import|export)(?!\s+type\b)[^;]*?\sfrom\s+"([^"]+)"/gms)) {
      const spec = m[1];
      if (spec.startsWith(".")) walk(path.resolve(path.dirname(file), spec.replace(/\.js$/, ".ts")));
      else packages.add(spec.replace(/^(@[^/]+\/[^/]+|[^@/][^/]*).*$/, "$1"));
    }
  };
  walk(path.resolve(repoRoot, entry));
  return { files: [...files].map((f) => path.relative(repoRoot, f)), packages: [...packages] };
}
