/**
 * manifest.json: who ran a run, where, with what, and how it ended (the status is written last).
 */
import { execFileSync } from "node:child_process";
import * as os from "node:os";
import * as path from "node:path";
import { PACKAGE_DIR, VERSION } from "../version.js";
import { badField, parseRunJson, readRunText } from "./runFiles.js";
import type { Shard } from "./shard.js";

/** How a run ended (RUNNING while it runs, or if the process died). */
export type RunStatus = "RUNNING" | "COMPLETED" | "FAILED" | "INTERRUPTED";

/** Contents of manifest.json (or manifest.shard-I-of-N.json for a shard). */
export interface Manifest {
  experiment: string;
  status: RunStatus;
  softcalVersion: string;
  /** `git rev-parse HEAD` of softcal's folder; absent outside a git checkout. */
  gitCommit?: string;
  /** True if tracked files differ from that commit. */
  gitDirty?: boolean;
  node: string;
  platform: string;
  arch: string;
  host: string;
  argv: string[];
  rootSeed: number;
  seeds: number;
  shard?: Shard;
  jobs: number;
  startedAt: string;
  endedAt?: string;
  /** Units in this run's share (the whole grid, or the shard's part). */
  units: number;
  /** Units found finished on disk and skipped (resume). */
  unitsSkipped: number;
  /** Units run to completion by this attempt. */
  unitsRun: number;
  failures: { unit: string; message: string }[];
  /** True once runs.csv, summary.csv, reliability.csv (and figures) are written. */
  aggregated: boolean;
  /** Earlier attempts in this folder (from resumed runs), oldest first. */
  previousAttempts: { startedAt: string; endedAt?: string; status: RunStatus }[];
  /** For merged runs: the run folders merged. */
  mergedFrom?: string[];
}

/** Static facts about the running softcal and machine (computed once per process). */
export type Environment = Pick<
  Manifest,
  "softcalVersion" | "gitCommit" | "gitDirty" | "node" | "platform" | "arch" | "host"
>;

let cached: Environment | undefined;

/** softcal's version (package.json), git commit if any, node version, platform. */
export function environment(): Environment {
  if (cached) return cached;
  let git: Pick<Environment, "gitCommit" | "gitDirty"> = {};
  if (PACKAGE_DIR) {
    const run = (args: string[]) =>
      execFileSync("git", args, {
        cwd: PACKAGE_DIR,
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
        timeout: 5000,
      });
    try {
      git = {
        gitCommit: run(["rev-parse", "HEAD"]).trim(),
        gitDirty: run(["status", "--porcelain", "--untracked-files=no"]).trim() !== "",
      };
    } catch {
      // not a git checkout, or no git: silently absent
    }
  }
  cached = {
    softcalVersion: VERSION,
    ...git,
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    host: os.hostname(),
  };
  return cached;
}

/** The manifest fields that describe the software and machine (the same for every manifest). */
export function environmentFields(argv: string[]): Environment & { argv: string[] } {
  return { ...environment(), argv };
}

/** File name of the manifest: `manifest.json`, or `manifest.shard-I-of-N.json` for a shard. */
export function manifestName(shard: Shard | undefined): string {
  return shard ? `manifest.shard-${shard.index}-of-${shard.count}.json` : "manifest.json";
}

/** The statuses a manifest may hold. */
export const RUN_STATUSES: readonly RunStatus[] = ["RUNNING", "COMPLETED", "FAILED", "INTERRUPTED"];

/**
 * Reads and validates a manifest ({@link checkManifest}); undefined if there is no file. The file is
 * untrusted (runFiles.ts): it must be a regular file inside `runDir` (default: its folder) of at most
 * `RUN_FILE_LIMITS.manifest` bytes, with JSON nested at most `RUN_JSON_MAX_DEPTH` levels.
 * Errors: one-line InputError naming the file.
 */
export function readManifest(file: string, runDir = path.dirname(file)): Manifest | undefined {
  const text = readRunText("manifest", file, runDir);
  if (text === undefined) return undefined;
  return checkManifest(parseRunJson("manifest", text, file), file);
}

/**
 * Validates parsed manifest contents and returns them; fields it does not know are kept and
 * ignored. Checked: `experiment` a string; `status` one of {@link RUN_STATUSES}; `softcalVersion`,
 * `node`, `platform`, `arch`, `host`, `startedAt` strings, `endedAt` and `gitCommit` strings when
 * present, `gitDirty` a boolean when present; `argv` and `mergedFrom` (when present) arrays of
 * strings; `rootSeed`, `units`, `unitsSkipped`, `unitsRun` integers >= 0, `seeds` and `jobs`
 * integers >= 1; `shard` (when present) `{ index, count }` with 1 <= index <= count; `failures` an
 * array of `{ unit, message }` strings; `aggregated` a boolean; `previousAttempts` an array of
 * `{ startedAt, endedAt?, status }`. Errors: InputError `<file>: expected <field> to be <what>; got
 * <value>`. Cost: O(size of the manifest).
 */
export function checkManifest(value: unknown, file: string): Manifest {
  const bad = (what: string, got: unknown): never => {
    throw badField(file, what, got);
  };
  const isObject = (v: unknown): v is Record<string, unknown> =>
    v !== null && typeof v === "object" && !Array.isArray(v);
  const isInt = (v: unknown, min: number) => typeof v === "number" && Number.isSafeInteger(v) && v >= min;
  const isStrings = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === "string");
  const isStatus = (v: unknown) => RUN_STATUSES.includes(v as RunStatus);
  if (!isObject(value)) return bad("a softcal run manifest (a JSON object)", value);
  const m = value;
  for (const f of ["experiment", "softcalVersion", "node", "platform", "arch", "host", "startedAt"]) {
    if (typeof m[f] !== "string") bad(`"${f}" to be a string`, m[f]);
  }
  for (const f of ["endedAt", "gitCommit"]) {
    if (m[f] !== undefined && typeof m[f] !== "string") bad(`"${f}" to be a string`, m[f]);
  }
  if (!isStatus(m.status)) bad(`"status" to be one of ${RUN_STATUSES.join(", ")}`, m.status);
  if (m.gitDirty !== undefined && typeof m.gitDirty !== "boolean")
    bad(`"gitDirty" to be a boolean`, m.gitDirty);
  if (typeof m.aggregated !== "boolean") bad(`"aggregated" to be a boolean`, m.aggregated);
  if (!isStrings(m.argv)) bad(`"argv" to be an array of strings`, m.argv);
  if (m.mergedFrom !== undefined && !isStrings(m.mergedFrom))
    bad(`"mergedFrom" to be an array of folder names`, m.mergedFrom);
  for (const f of ["rootSeed", "units", "unitsSkipped", "unitsRun"]) {
    if (!isInt(m[f], 0)) bad(`"${f}" to be an integer >= 0`, m[f]);
  }
  for (const f of ["seeds", "jobs"]) if (!isInt(m[f], 1)) bad(`"${f}" to be an integer >= 1`, m[f]);
  if (m.shard !== undefined) {
    const s = m.shard;
    if (!isObject(s) || !isInt(s.count, 1) || !isInt(s.index, 1) || (s.index as number) > (s.count as number))
      bad(`"shard" to be { index, count } with 1 <= index <= count`, s);
  }
  if (
    !Array.isArray(m.failures) ||
    !m.failures.every((f) => isObject(f) && typeof f.unit === "string" && typeof f.message === "string")
  )
    bad(`"failures" to be an array of { unit, message }`, m.failures);
  if (
    !Array.isArray(m.previousAttempts) ||
    !m.previousAttempts.every(
      (a) =>
        isObject(a) &&
        typeof a.startedAt === "string" &&
        (a.endedAt === undefined || typeof a.endedAt === "string") &&
        isStatus(a.status),
    )
  )
    bad(`"previousAttempts" to be an array of { startedAt, endedAt?, status }`, m.previousAttempts);
  return m as unknown as Manifest;
}
