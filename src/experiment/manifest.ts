/**
 * manifest.json: who ran a run, where, with what, and how it ended (the status is written last).
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
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
export interface Environment {
  softcalVersion: string;
  gitCommit?: string;
  gitDirty?: boolean;
  node: string;
  platform: string;
  arch: string;
  host: string;
}

let cached: Environment | undefined;

/** softcal's version (package.json), git commit if any, node version, platform. */
export function environment(): Environment {
  if (cached) return cached;
  const pkgDir = findPackageDir(path.dirname(fileURLToPath(import.meta.url)));
  let version = "unknown";
  if (pkgDir) {
    try {
      version = (
        JSON.parse(fs.readFileSync(path.join(pkgDir, "package.json"), "utf8")) as { version: string }
      ).version;
    } catch {
      // keep "unknown"
    }
  }
  const env: Environment = {
    softcalVersion: version,
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    host: os.hostname(),
  };
  if (pkgDir) {
    const git = (args: string[]) =>
      execFileSync("git", args, {
        cwd: pkgDir,
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
        timeout: 5000,
      });
    try {
      env.gitCommit = git(["rev-parse", "HEAD"]).trim();
      env.gitDirty = git(["status", "--porcelain", "--untracked-files=no"]).trim() !== "";
    } catch {
      // not a git checkout, or no git: silently absent
    }
  }
  cached = env;
  return env;
}

function findPackageDir(start: string): string | undefined {
  let dir = start;
  for (;;) {
    const file = path.join(dir, "package.json");
    try {
      if ((JSON.parse(fs.readFileSync(file, "utf8")) as { name?: string }).name === "softcal") return dir;
    } catch {
      // keep walking up
    }
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** File name of the manifest: `manifest.json`, or `manifest.shard-I-of-N.json` for a shard. */
export function manifestName(shard: Shard | undefined): string {
  return shard ? `manifest.shard-${shard.index}-of-${shard.count}.json` : "manifest.json";
}

/** Reads a manifest, or undefined if missing/unreadable. */
export function readManifest(file: string): Manifest | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as Manifest;
  } catch {
    return undefined;
  }
}
