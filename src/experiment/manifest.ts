/**
 * manifest.json: who ran a run, where, with what, and how it ended (the status is written last).
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import { PACKAGE_DIR, VERSION } from "../version.js";
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

/** Reads a manifest, or undefined if missing/unreadable. */
export function readManifest(file: string): Manifest | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as Manifest;
  } catch {
    return undefined;
  }
}
