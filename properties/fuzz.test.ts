/**
 * Fuzzing softcal's input boundaries: arbitrary bytes and CSV-shaped text into the CSV reader,
 * arbitrary JSON into the model loader and the run-folder loader (config.json, manifest, unit
 * files, through `--resume`), run folders as untrusted input (fields of any type, deep nesting,
 * FIFO-free special files — symlinks out of the folder, to devices, dangling or looping — folders
 * and huge sparse files where files belong, cut files, hostile path components in names and unit
 * keys, through `report` and `merge`), arbitrary argument vectors into the CLI. Each input either
 * succeeds or raises softcal's own error (InputError/RunError) with a one-line message — never
 * another exception, an "internal error", a hang, a partial file, or a write outside the output
 * folder. (FIFOs and /dev/zero, which would hang or exhaust memory on a regression, are checked
 * in a child process by runFolder-untrusted.test.ts.)
 *
 * The CLI fuzz runs in-process with the working directory switched to a temp folder, and every
 * generated value is a relative path or a string without a slash, so nothing can be written
 * outside that folder (defaults such as `run --out results` land there too).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { isDeepStrictEqual as isEqual } from "node:util";
import { fc, test } from "@fast-check/vitest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseCsvTable, readCsvFile } from "../src/data/csv.js";
import { datasetFromTable } from "../src/data/dataset.js";
import { InputError, SoftcalError } from "../src/errors.js";
import { readConfig } from "../src/experiment/config.js";
import { type RunExperimentsOptions, runExperiments } from "../src/experiment/runner.js";
import { TEMP_FILE_PATTERN } from "../src/io/atomic.js";
import { type ModelBundle, modelFromJson, modelToJson } from "../src/model/modelFile.js";
import { decisionFunction, predictProba } from "../src/model/predict.js";
import { softcalMatchers } from "../src/testing/index.js";
import { cli } from "./_shared/cli.js";
import { runs } from "./_shared/replay.js";
import { toyRun } from "./_shared/runs.js";
import { toy } from "./_shared/toyExperiments.js";

expect.extend(softcalMatchers);

const roots: string[] = [];
function tmp(prefix = "softcal-fuzz-"): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  roots.push(d);
  return d;
}
afterAll(() => {
  for (const d of roots) fs.rmSync(d, { recursive: true, force: true });
});

/** The error contract: softcal's own error type, a one-line message, naming `file` when given. */
function expectSoftcalError(err: unknown, file?: string): void {
  if (!(err instanceof SoftcalError)) throw err; // anything else is the bug: rethrow it as it came
  expect(err.message.length).toBeGreaterThan(0);
  expect(err.message).not.toContain("\n");
  if (file !== undefined) expect(err.message.startsWith(file)).toBe(true);
}

// ---------------------------------------------------------------------------------------------
// CSV
// ---------------------------------------------------------------------------------------------

/** CSV-ish fields: numbers, specials, quoted text with the delimiter, quotes and line breaks. */
const csvField = fc.oneof(
  fc.double({ noNaN: false }).map(String),
  fc.integer({ min: -3, max: 5 }).map(String),
  fc.constantFrom(
    "",
    " ",
    "label",
    "x1",
    "x2",
    "NaN",
    "Infinity",
    "-0",
    "1e999",
    "0x10",
    "a",
    "B",
    "é",
    "\u0000",
  ),
  fc.string({ unit: fc.constantFrom("a", ",", '"', "\n", "\r", " ", "1", ".", "e", "-") }),
  fc.string().map((s) => `"${s.replace(/"/g, '""')}"`),
  fc.string({ maxLength: 6 }).map((s) => `"${s}`), // an unclosed or stray quote
);
const lineEnd = fc.constantFrom("\n", "\r\n", "\r");
const csvText = fc
  .tuple(
    fc.boolean(),
    fc.array(fc.array(csvField, { minLength: 1, maxLength: 5 }), { minLength: 0, maxLength: 8 }),
    lineEnd,
    fc.boolean(),
  )
  .map(([bom, rows, eol, trailing]) => {
    const body = rows.map((r) => r.join(",")).join(eol);
    return `${bom ? "\uFEFF" : ""}${body}${trailing ? eol : ""}`;
  });
/** A header-and-rows file that is mostly valid: label column, numeric features, some damage. */
const nearlyValidCsv = fc
  .tuple(
    fc.integer({ min: 1, max: 3 }),
    fc.array(
      fc.tuple(
        fc.array(fc.double({ min: -9, max: 9, noNaN: true }), { minLength: 3, maxLength: 3 }),
        fc.nat(3),
      ),
      {
        minLength: 1,
        maxLength: 6,
      },
    ),
    fc.array(fc.tuple(fc.nat(), fc.nat(), csvField), { maxLength: 2 }),
    lineEnd,
  )
  .map(([d, rows, damage, eol]) => {
    const table = [
      [...Array.from({ length: d }, (_, j) => `x${j + 1}`), "label"],
      ...rows.map(([x, y]) => [...x.slice(0, d).map(String), String(y)]),
    ];
    for (const [r, c, v] of damage) {
      const row = table[r % table.length];
      row[c % row.length] = v;
    }
    return table.map((r) => r.join(",")).join(eol) + eol;
  });

/** The parse → data set path every command's CSV input takes; returns normally or throws. */
function readAsDataset(text: string, file: string): void {
  let table: ReturnType<typeof parseCsvTable>;
  try {
    table = parseCsvTable(text, file);
  } catch (e) {
    expectSoftcalError(e, file);
    return;
  }
  expect(table.header.length).toBeGreaterThan(0);
  expect(new Set(table.header).size).toBe(table.header.length);
  expect(table.rows.length).toBeGreaterThan(0);
  expect(table.lines).toHaveLength(table.rows.length);
  for (let r = 0; r < table.rows.length; r++) {
    expect(table.rows[r]).toHaveLength(table.header.length);
    expect(table.lines[r]).toBeGreaterThan(r === 0 ? 1 : table.lines[r - 1]);
  }
  try {
    const ds = datasetFromTable(table);
    expect(ds.X.rows).toBe(ds.y.length);
    for (const v of ds.X.data) expect(Number.isFinite(v)).toBe(true);
    for (const k of ds.y) expect(k >= 0 && k < ds.nClasses).toBe(true);
  } catch (e) {
    expectSoftcalError(e, file);
  }
}

describe("fuzz: CSV reader", () => {
  test.prop([fc.uint8Array({ maxLength: 200 })], { numRuns: runs(300) })(
    "arbitrary bytes: a table (header unique, rows of header width) or an InputError naming the file",
    (bytes) => {
      readAsDataset(Buffer.from(bytes).toString("utf8"), "bytes.csv");
    },
  );

  test.prop([csvText], { numRuns: runs(300) })(
    "CSV-shaped text (quotes, delimiters, CR/LF/CRLF, BOM, specials): a table or an InputError naming the file",
    (text) => {
      readAsDataset(text, "shaped.csv");
    },
  );

  test.prop([nearlyValidCsv], { numRuns: runs(200) })(
    "nearly valid data files: a data set or an InputError with file:line[:column]",
    (text) => {
      readAsDataset(text, "near.csv");
    },
  );

  test.prop([fc.uint8Array({ maxLength: 100 })], { numRuns: runs(30) })(
    "readCsvFile on arbitrary bytes on disk: the same contract",
    (bytes) => {
      const file = path.join(fuzzDir(), "bytes.csv");
      fs.writeFileSync(file, bytes);
      try {
        readCsvFile(file);
      } catch (e) {
        expectSoftcalError(e, file);
      }
    },
  );
});

let sharedDir: string | undefined;
function fuzzDir(): string {
  sharedDir ??= tmp();
  return sharedDir;
}

// ---------------------------------------------------------------------------------------------
// Model files
// ---------------------------------------------------------------------------------------------

const validModel: ModelBundle = {
  model: "softmax",
  nClasses: 3,
  nFeatures: 2,
  theta: Float64Array.of(0.1, -1, 2, 0, 0.5, 0.5, -0.1, 1, -3),
  classNames: ["a", "b", "c"],
  featureNames: ["x1", "x2"],
  standardization: { mean: [0, 1], scale: [1, 2] },
  training: { optimizer: "lbfgs", l2: 0 },
};
const validModelObject = JSON.parse(modelToJson(validModel)) as Record<string, unknown>;

/** A valid model with one field replaced by arbitrary JSON, deleted, or nested damage. */
const mutatedModel = fc
  .tuple(
    fc.constantFrom(...Object.keys(validModelObject), "extra"),
    fc.oneof(fc.jsonValue(), fc.constant(undefined)),
    fc.option(fc.tuple(fc.nat(), fc.jsonValue())),
  )
  .map(([key, value, nested]) => {
    const o = structuredClone(validModelObject);
    if (value === undefined) delete o[key];
    else o[key] = value;
    if (nested) {
      const theta = structuredClone(validModelObject.theta) as unknown[][];
      const [at, v] = nested;
      theta[at % 3][at % 4] = v;
      o.theta = theta;
    }
    return JSON.stringify(o);
  });

function loadModel(text: string): void {
  let m: ModelBundle;
  try {
    m = modelFromJson(text, "m.json");
  } catch (e) {
    expectSoftcalError(e, "m.json");
    return;
  }
  // Accepted ⇒ usable: Θ has K×(d+1) finite entries and predictions are probabilities.
  expect(m.theta).toHaveLength(m.nClasses * (m.nFeatures + 1));
  expect(m.classNames).toHaveLength(m.nClasses);
  expect(m.featureNames).toHaveLength(m.nFeatures);
  for (const v of m.theta) expect(Number.isFinite(v)).toBe(true);
  const X = {
    rows: 2,
    cols: m.nFeatures,
    data: Float64Array.from({ length: 2 * m.nFeatures }, (_, i) => i - 1),
  };
  // Finite logits give softmax rows: rounding only (K·ε). Logits that overflow (|θ|·|x| near
  // 1.8e308) are the separate, pinned case below.
  if (decisionFunction(m, X).data.every(Number.isFinite))
    expect(predictProba(m, X)).toBeOnSimplex({ tol: 1e-12 });
}

describe("fuzz: model loader", () => {
  test.prop([fc.json()], { numRuns: runs(300) })(
    "arbitrary JSON: a usable model or an InputError",
    (text) => {
      loadModel(text);
    },
  );
  test.prop([mutatedModel], { numRuns: runs(300) })(
    "a valid model with one field replaced by arbitrary JSON: a usable model or an InputError",
    (text) => {
      loadModel(text);
    },
  );
  test.prop([fc.string({ maxLength: 80 })], { numRuns: runs(200) })(
    "arbitrary text (cut-off JSON, NaN, comments): an InputError naming the file",
    (text) => {
      loadModel(text);
    },
  );
  // Found by the fuzz above: logits that overflow to ±Infinity (finite Θ and x, |Θ x̃| > 1.8e308)
  // gave NaN probabilities. softmax now takes its limit (one-hot on +∞).
  it("a loaded model whose logits overflow still predicts probabilities (no NaN)", () => {
    const text = JSON.stringify({
      ...validModelObject,
      theta: [
        [0.1, -1, 2],
        [0, 0.5, 8.98846567431158e307],
        [-0.1, 1, -3],
      ],
    });
    const m = modelFromJson(text, "m.json");
    const X = { rows: 1, cols: 2, data: Float64Array.of(1, 2) }; // class 1's logit: 0.5 + 2^1023·2 = +Infinity
    expect(predictProba(m, X)).toBeOnSimplex();
  });

  test.prop([fc.nat()], { numRuns: runs(100) })("a valid model cut short anywhere: an InputError", (at) => {
    const text = modelToJson(validModel).trimEnd(); // without its final "}" it is never valid JSON
    const cut = text.slice(0, at % text.length);
    expect(() => modelFromJson(cut, "m.json")).toThrow(InputError);
  });
});

// ---------------------------------------------------------------------------------------------
// Run folders: config.json, manifest, unit files
// ---------------------------------------------------------------------------------------------

/** The toy sweep (one unit per file, so one unit's file can be damaged on its own), toy only, 2 seeds. */
const runBase: RunExperimentsOptions = { ...toyRun, experiments: [toy], seeds: 2 };

/** Replaces the value at a random path of a JSON value (or the whole value) by arbitrary JSON. */
function mutateJson(base: unknown): fc.Arbitrary<string> {
  return fc
    .tuple(fc.array(fc.nat(), { maxLength: 4 }), fc.oneof(fc.jsonValue(), fc.constant(undefined)))
    .map(([route, value]) => {
      const root = structuredClone(base) as unknown;
      if (route.length === 0) return JSON.stringify(value ?? null);
      let node = root;
      for (let i = 0; i < route.length; i++) {
        if (node === null || typeof node !== "object") break;
        const keys = Object.keys(node);
        if (keys.length === 0) break;
        const key = keys[route[i] % keys.length];
        const last = i === route.length - 1;
        const child = (node as Record<string, unknown>)[key];
        if (last || child === null || typeof child !== "object") {
          if (value === undefined && !Array.isArray(node)) delete (node as Record<string, unknown>)[key];
          else (node as Record<string, unknown>)[key] = value ?? null;
          break;
        }
        node = child;
      }
      return JSON.stringify(root);
    });
}

describe("fuzz: run-folder loader (--resume over damaged files)", () => {
  let good: {
    config: unknown;
    manifest: unknown;
    unit: unknown;
    unitName: string;
    reference: Record<string, string>;
  };
  let template = "";
  beforeAll(async () => {
    const out = tmp();
    template = out;
    await runExperiments({ ...runBase, out });
    const dir = path.join(out, "toy");
    const unitName = fs.readdirSync(path.join(dir, "units"))[0];
    const read = (f: string) => JSON.parse(fs.readFileSync(f, "utf8")) as unknown;
    good = {
      config: read(path.join(dir, "config.json")),
      manifest: read(path.join(dir, "manifest.json")),
      unit: read(path.join(dir, "units", unitName)),
      unitName,
      reference: csvFiles(dir),
    };
  });
  function csvFiles(dir: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const f of fs.readdirSync(dir))
      if (f.endsWith(".csv")) out[f] = fs.readFileSync(path.join(dir, f), "utf8");
    return out;
  }

  test.prop([fc.json()], { numRuns: runs(100) })(
    "readConfig: arbitrary JSON gives a config or an InputError",
    (text) => {
      const dir = fs.mkdtempSync(path.join(fuzzDir(), "cfg-"));
      fs.writeFileSync(path.join(dir, "config.json"), text);
      try {
        readConfig(dir);
      } catch (e) {
        expectSoftcalError(e, path.join(dir, "config.json"));
      }
    },
  );

  // `good` is filled in beforeAll; the chained arbitrary reads it only when generating.
  const damaged = fc.constantFrom("config" as const, "manifest" as const, "unit" as const).chain((which) =>
    fc.record({
      which: fc.constant(which),
      text: fc.oneof(
        { weight: 3, arbitrary: fc.constant(null).chain(() => mutateJson(good[which])) },
        { weight: 1, arbitrary: fc.json() },
        { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
      ),
    }),
  );
  test.prop([damaged], { numRuns: runs(25) })(
    "--resume over a damaged config.json, manifest.json or unit file: the same results or an InputError, never a crash",
    async ({ which, text }) => {
      const out = fs.mkdtempSync(path.join(fuzzDir(), "run-"));
      fs.cpSync(template, out, { recursive: true });
      const dir = path.join(out, "toy");
      const file =
        which === "config"
          ? path.join(dir, "config.json")
          : which === "manifest"
            ? path.join(dir, "manifest.json")
            : path.join(dir, "units", good.unitName);
      fs.writeFileSync(file, text);
      try {
        const r = await runExperiments({ ...runBase, out, resume: true });
        // Accepted ⇒ the run completes with the undamaged run's bytes (a bad unit file is re-run)…
        expect(r.exitCode).toBe(0);
        const got = csvFiles(dir);
        if (which === "unit" && !isEqual(got, good.reference)) {
          // …unless the damage left a well-formed record of the same unit with other result
          // values (say a metric 1.29 → null or 7): a record's values are its data, and nothing
          // on disk could tell them from the original's. Then only that unit's rows may differ.
          const ident = (u: unknown) => {
            const o = u as Record<string, unknown>;
            return [o.format, o.experiment, o.key, o.pointIndex, o.seedIndex, o.seed, o.point];
          };
          expect(ident(JSON.parse(text))).toEqual(ident(good.unit));
          const unit = good.unit as { seedIndex: number; seed: number; point: Record<string, unknown> };
          const ours = `${Object.values(unit.point).join(",")},,${unit.seedIndex},${unit.seed},`;
          const want = good.reference["runs.csv"].split("\n");
          const lines = got["runs.csv"].split("\n");
          expect(lines.length).toBe(want.length);
          const differing = lines.filter((l, i) => l !== want[i]);
          expect(differing.length).toBeGreaterThan(0);
          for (const l of differing) expect(l.startsWith(ours), `${l} is a row of ${ours}`).toBe(true);
        } else {
          expect(got).toEqual(good.reference);
        }
      } catch (e) {
        expectSoftcalError(e);
        expect(e).toBeInstanceOf(InputError);
      }
      expect(fs.readdirSync(dir).filter((f) => TEMP_FILE_PATTERN.test(f))).toEqual([]);
      fs.rmSync(out, { recursive: true, force: true });
    },
  );
});

// ---------------------------------------------------------------------------------------------
// Run folders as untrusted input: field types, nesting, special files, path components
// ---------------------------------------------------------------------------------------------

/** Strings shaped like path components, hostile ones first: what a crafted shard names things with. */
const pathComponent = fc.oneof(
  fc.constantFrom(
    "..",
    ".",
    "",
    "../escaped",
    "../../escaped",
    "/tmp/pwned",
    "a/b",
    "a\\b",
    "a\u0000b",
    ".hidden",
    "-rf",
    "x".repeat(300),
    "toy-2",
    "a..b",
    "p0-s0",
    "p00-s0",
    "p0-s0/../p1-s0",
    "p-1-s0",
  ),
  fc.string({ unit: fc.constantFrom(".", "/", "a", "-", "\\", "0", "p", "s"), maxLength: 12 }),
);

/**
 * Every path under `root` (not following symlinks) → kind and bytes (a file above 1 MiB — the
 * fuzzer's sparse files — by size and modification time: reading 300 MiB of zeros per case is slow).
 */
function treeOf(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) {
        out.set(full, "dir");
        walk(full);
      } else if (e.isSymbolicLink()) out.set(full, `link ${fs.readlinkSync(full)}`);
      else if (e.isFile()) {
        const st = fs.statSync(full);
        out.set(
          full,
          st.size > 2 ** 20 ? `${st.size} bytes, mtime ${st.mtimeMs}` : fs.readFileSync(full, "latin1"),
        );
      } else out.set(full, "special");
    }
  };
  walk(root);
  return out;
}

/** Paths in `after` that are new or changed against `before` (and paths gone from it). */
function changedPaths(before: Map<string, string>, after: Map<string, string>): string[] {
  const changed: string[] = [];
  for (const [p, v] of after) if (before.get(p) !== v) changed.push(p);
  for (const p of before.keys()) if (!after.has(p)) changed.push(p);
  return changed;
}

function isInsideFolder(p: string, folder: string): boolean {
  return p === folder || p.startsWith(folder + path.sep);
}

describe("fuzz: run folders as untrusted input", () => {
  let template = "";
  let goodConfig: Record<string, unknown> = {};
  beforeAll(async () => {
    // A finished toy run with its figure spec (cheap renderer) and extra table, as a shard pair's
    // material: `out/toy` is the run folder.
    template = tmp();
    await runExperiments({
      ...runBase,
      out: template,
      figures: true,
      render: async (spec) => ({
        svg: `<svg>${JSON.stringify(spec).length}</svg>`,
        png: new Uint8Array([1]),
      }),
    });
    goodConfig = JSON.parse(fs.readFileSync(path.join(template, "toy", "config.json"), "utf8"));
  });

  /** A fresh copy of the template: `out` (the folder of runs), `dir` (the toy run), a sibling `into`. */
  function fresh(): { root: string; out: string; dir: string; into: string } {
    const root = fs.mkdtempSync(path.join(fuzzDir(), "untrusted-"));
    const out = path.join(root, "out");
    fs.cpSync(template, out, { recursive: true });
    return { root, out, dir: path.join(out, "toy"), into: path.join(root, "into") };
  }

  // `goodConfig` is filled in beforeAll; the chained arbitraries read it only when generating.
  const mutatedConfig = fc.oneof(
    { weight: 3, arbitrary: fc.constant(null).chain(() => mutateJson(goodConfig)) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom("experiment", "unitKey", "gridKey"), pathComponent)
        .map(([where, name]) => {
          const c = structuredClone(goodConfig) as {
            experiment: string;
            units: { key: string }[];
            grid: Record<string, unknown>[];
          };
          if (where === "experiment") c.experiment = name;
          else if (where === "unitKey") c.units[0].key = name;
          else c.grid[0] = { ...c.grid[0], [name]: 1 };
          return JSON.stringify(c);
        }),
    },
  );
  test.prop([mutatedConfig], { numRuns: runs(200) })(
    "readConfig over a valid config with a field replaced (types, nesting, names): an InputError naming the file, or a config whose names are path components and whose units are the grid's plan",
    (text) => {
      const dir = fs.mkdtempSync(path.join(fuzzDir(), "cfg-"));
      const file = path.join(dir, "config.json");
      fs.writeFileSync(file, text);
      let config: ReturnType<typeof readConfig>;
      try {
        config = readConfig(dir);
      } catch (e) {
        expectSoftcalError(e, file);
        expect(e).toBeInstanceOf(InputError);
        return;
      }
      // Accepted ⇒ safe to join into paths and to walk.
      expect(config).toBeDefined();
      const c = config!;
      expect(path.dirname(path.join("into", c.experiment))).toBe("into");
      expect(c.experiment).toMatch(/^[A-Za-z0-9][A-Za-z0-9._-]*$/);
      expect(c.grid.length).toBeGreaterThan(0);
      for (const p of c.grid) {
        expect(p !== null && typeof p === "object" && !Array.isArray(p)).toBe(true);
        for (const v of Object.values(p)) expect(["string", "boolean", "number"]).toContain(typeof v);
        for (const v of Object.values(p)) if (typeof v === "number") expect(Number.isFinite(v)).toBe(true);
        for (const k of Object.keys(p)) expect(c.parameters).toContain(k);
      }
      expect(c.units).toHaveLength(c.grid.length * c.seeds);
      c.units.forEach((u, i) => {
        const point = Math.floor(i / c.seeds);
        expect(u).toMatchObject({ key: `p${point}-s${i % c.seeds}`, point, seedIndex: i % c.seeds });
        expect(Number.isInteger(u.seed) && u.seed >= 0 && u.seed < 2 ** 32).toBe(true);
      });
      expect(() => JSON.stringify(c)).not.toThrow();
    },
  );

  /** Files of the template run a damage can hit (relative to the run folder). */
  const targets = [
    "config.json",
    "manifest.json",
    "manifest.shard-1-of-2.json",
    "units/p0-s0.jsonl",
    "units/zz-extra.jsonl",
    "units",
    "summary.csv",
    "paired.csv",
    "figures",
    "figures/toy-value.vl.json",
    "figures/toy-value.svg",
    "figures/bad name.svg",
    "toy-table.csv",
  ];
  type Damage =
    | { kind: "symlink"; to: "/dev/null" | "outside" | "inside" | "dangling" | "loop" }
    | { kind: "folder" | "sparse" | "invalidUtf8" }
    | { kind: "deep"; depth: number }
    | { kind: "cut"; at: number };
  const damage: fc.Arbitrary<Damage> = fc.oneof(
    fc.record({
      kind: fc.constant("symlink" as const),
      to: fc.constantFrom(
        "/dev/null" as const,
        "outside" as const,
        "inside" as const,
        "dangling" as const,
        "loop" as const,
      ),
    }),
    fc.record({ kind: fc.constantFrom("folder" as const, "sparse" as const, "invalidUtf8" as const) }),
    fc.record({ kind: fc.constant("deep" as const), depth: fc.integer({ min: 2, max: 200_000 }) }),
    fc.record({ kind: fc.constant("cut" as const), at: fc.nat() }),
  );

  /** Applies `d` to `file` (inside run folder `dir`); `root` holds the files "outside" the run folder. */
  function apply(d: Damage, file: string, root: string): void {
    let st: fs.Stats | undefined;
    try {
      st = fs.lstatSync(file);
    } catch {
      st = undefined;
    }
    if (d.kind === "symlink" && d.to === "inside") {
      // The file (or folder) moved to a hidden name beside it and linked back: a symlink softcal
      // follows, so the run folder stays valid. Nothing there: nothing to link.
      if (st === undefined) return;
      const moved = path.join(path.dirname(file), `.moved-${path.basename(file)}`);
      fs.renameSync(file, moved);
      fs.symlinkSync(path.basename(moved), file);
      return;
    }
    const original = st?.isFile() ? fs.readFileSync(file) : Buffer.from("{}\n");
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.rmSync(file, { recursive: true, force: true });
    switch (d.kind) {
      case "symlink": {
        if (d.to === "/dev/null") fs.symlinkSync("/dev/null", file);
        else if (d.to === "dangling") fs.symlinkSync(`${file}.missing`, file);
        else if (d.to === "loop") fs.symlinkSync(path.basename(file), file);
        else {
          const copy = path.join(root, `outside-${path.basename(file)}`);
          fs.writeFileSync(copy, original);
          fs.symlinkSync(copy, file);
        }
        return;
      }
      case "folder":
        fs.mkdirSync(file);
        return;
      case "sparse": {
        const fd = fs.openSync(file, "w");
        fs.ftruncateSync(fd, 300 * 1024 * 1024); // above every run file's bound, no disk used
        fs.closeSync(fd);
        return;
      }
      case "invalidUtf8":
        fs.writeFileSync(
          file,
          Buffer.concat([original.subarray(0, 10), Buffer.from([0xc3, 0x28]), original.subarray(10)]),
        );
        return;
      case "deep":
        fs.writeFileSync(file, `${"[".repeat(d.depth)}${"]".repeat(d.depth)}\n`);
        return;
      case "cut":
        fs.writeFileSync(file, original.subarray(0, d.at % Math.max(1, original.length)));
        return;
    }
  }

  test.prop([fc.constantFrom(...targets), damage, fc.constantFrom("report" as const, "merge" as const)], {
    numRuns: runs(50),
  })(
    "special files, nesting, sizes and cuts anywhere in a run folder: report and merge exit 0 or 2 (one line naming the damaged file, the run folder or the missing units), and change nothing outside their output",
    async (target, d, command) => {
      const { root, out, dir, into } = fresh();
      const file = path.join(dir, target);
      apply(d, file, root);
      if (command === "report") fs.mkdirSync(into);
      const before = treeOf(root);
      const r =
        command === "report"
          ? await cli("report", out, "--out", path.join(into, "report.html"))
          : await cli("merge", out, "--into", into, "--no-figures");
      expect([0, 2], r.stderr).toContain(r.code);
      expect(r.stderr).not.toContain("internal error");
      if (d.kind === "symlink" && d.to === "inside") expect(r.code, r.stderr).toBe(0);
      if (r.code === 2) {
        const lines = r.stderr.trimEnd().split("\n");
        expect(lines.length, r.stderr).toBe(1);
        const named =
          lines[0].startsWith(`softcal: ${file}`) ||
          lines[0].startsWith(`softcal: ${out}:`) ||
          lines[0].startsWith(`softcal: ${dir}:`) ||
          lines[0].startsWith("softcal: toy: expected every unit of the grid");
        expect(named, lines[0]).toBe(true);
        // Refused: nothing written at all (the report's folder stays empty, merge's uncreated).
        expect(fs.existsSync(into) ? fs.readdirSync(into) : []).toEqual([]);
      }
      const outside = changedPaths(before, treeOf(root)).filter((p) => !isInsideFolder(p, into));
      expect(outside).toEqual([]);
      if (fs.existsSync(into)) {
        for (const p of treeOf(into).keys()) expect(path.basename(p)).not.toMatch(TEMP_FILE_PATTERN);
      }
      fs.rmSync(root, { recursive: true, force: true });
    },
  );

  test.prop([fc.constantFrom(...targets), damage], { numRuns: runs(25) })(
    "--resume over the same damages: the undamaged run's CSV bytes or an InputError naming the damaged file",
    async (target, d) => {
      const { root, out, dir } = fresh();
      const reference = Object.fromEntries(
        fs
          .readdirSync(dir)
          .filter((f) => f.endsWith(".csv") && f !== "paired.csv")
          .map((f) => [f, fs.readFileSync(path.join(dir, f), "utf8")]),
      );
      const file = path.join(dir, target);
      apply(d, file, root);
      try {
        const r = await runExperiments({ ...runBase, out, resume: true });
        expect(r.exitCode).toBe(0);
        for (const [f, text] of Object.entries(reference))
          expect(fs.readFileSync(path.join(dir, f), "utf8")).toBe(text);
      } catch (e) {
        expectSoftcalError(e);
        expect(e).toBeInstanceOf(InputError);
        const m = (e as Error).message;
        expect(m.startsWith(file) || m.startsWith(dir) || m.startsWith(`--out`), m).toBe(true);
      }
      fs.rmSync(root, { recursive: true, force: true });
    },
  );

  test.prop([fc.constantFrom("experiment" as const, "unitKey" as const), pathComponent], {
    numRuns: runs(60),
  })(
    "a shard's experiment name or unit key replaced by a path-like string: merge refuses it naming config.json, or writes only inside --into",
    async (where, name) => {
      const { root, out, dir, into } = fresh();
      const configFile = path.join(dir, "config.json");
      const c = JSON.parse(fs.readFileSync(configFile, "utf8")) as {
        experiment: string;
        units: { key: string }[];
      };
      const oldKey = c.units[0].key;
      if (where === "experiment") c.experiment = name;
      else c.units[0].key = name;
      fs.writeFileSync(configFile, JSON.stringify(c));
      // The unit records say the same, so they belong to the crafted config.
      for (const f of fs.readdirSync(path.join(dir, "units"))) {
        const p = path.join(dir, "units", f);
        const lines = fs.readFileSync(p, "utf8").split("\n").filter(Boolean);
        const crafted = lines.map((l) => {
          const u = JSON.parse(l) as { experiment: string; key: string };
          if (where === "experiment") u.experiment = name;
          else if (u.key === oldKey) u.key = name;
          return `${JSON.stringify(u)}\n`;
        });
        fs.writeFileSync(p, crafted.join(""));
      }
      const before = treeOf(root);
      const r = await cli("merge", out, "--into", into, "--no-figures");
      expect([0, 2], r.stderr).toContain(r.code);
      const safeName = /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name) && name.length <= 200;
      const accepted = where === "experiment" ? safeName : name === oldKey;
      if (accepted) {
        expect(r.code, r.stderr).toBe(0);
        expect(fs.readdirSync(into)).toEqual([where === "experiment" ? name : "toy"]);
      } else {
        expect(r.code, r.stderr).toBe(2);
        expect(r.stderr.startsWith(`softcal: ${configFile}: expected `), r.stderr).toBe(true);
        expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
      }
      const outside = changedPaths(before, treeOf(root)).filter((p) => !isInsideFolder(p, into));
      expect(outside).toEqual([]);
      fs.rmSync(root, { recursive: true, force: true });
    },
  );
});

// ---------------------------------------------------------------------------------------------
// CLI argument vectors
// ---------------------------------------------------------------------------------------------

describe("fuzz: CLI argument vectors", () => {
  let work = "";
  let cwd = "";
  beforeAll(async () => {
    work = tmp("softcal-argv-");
    cwd = process.cwd();
    const w = (name: string, text: string) => fs.writeFileSync(path.join(work, name), text);
    w("train.csv", "x1,x2,label\n0,0,a\n1,0,b\n0,1,c\n1,1,a\n2,1,b\n1,2,c\n");
    // 40 rows (calibrate needs at least as many rows as bins), deterministic and varied.
    const rows = Array.from({ length: 40 }, (_, i) => {
      const z = [Math.sin(i), Math.cos(3 * i), (i % 5) / 2 - 1];
      const e = z.map(Math.exp);
      const sum = e[0] + e[1] + e[2];
      return { z, p: e.map((v) => v / sum), label: "abc"[(i * 7) % 3] };
    });
    w("preds.csv", `p_a,p_b,p_c,label\n${rows.map((r) => `${r.p.join(",")},${r.label}`).join("\n")}\n`);
    w("logits.csv", `a,b,c,label\n${rows.map((r) => `${r.z.join(",")},${r.label}`).join("\n")}\n`);
    w("bad.csv", 'x1,label\n1,"a\n');
    w("bad.json", '{"format": "softcal-model"');
    fs.mkdirSync(path.join(work, "folder"));
    fs.mkdirSync(path.join(work, "out"));
    process.chdir(work);
    const r = await cli("fit", "--data", "train.csv", "--save", "model.json");
    expect(r.code, r.stderr).toBe(0);
  });
  afterAll(() => {
    if (cwd) process.chdir(cwd);
  });

  // Per command: its flags, each with good values (chosen 6 times in 7) and bad ones. Every path
  // is relative to the temp folder; numbers stay small (a huge --iters for gd is slow, not a hang).
  const badCsvs = ["bad.csv", "missing.csv", "folder", "train.csv/x", "model.json"];
  const badNum = ["-1", "abc", "", "NaN", "1e999"];
  const label: Values = [["label"], ["x1", "p_a", "nope"]];
  type Values = [good: string[], bad: string[]] | null;
  interface CommandSpec {
    req?: string[];
    flags: Record<string, Values>;
    pos?: string[][];
  }
  const spec: Record<string, CommandSpec> = {
    fit: {
      req: ["--data"],
      flags: {
        "--data": [
          ["train.csv", "iris", "lesson", "clusters"],
          [...badCsvs, "preds.csv"],
        ],
        "--label": label,
        "--model": [["softmax", "ovr"], ["tree"]],
        "--l2": [["0", "0.1", "1e-3", "100"], badNum],
        "--optimizer": [["gd", "lbfgs"], ["adam"]],
        "--alpha": [
          ["0.1", "0.5", "50"],
          [...badNum, "0"],
        ],
        "--iters": [
          ["1", "50", "300"],
          ["0", "-1", "2.5", "abc"],
        ],
        "--tol": [
          ["1e-6", "1e-12"],
          [...badNum, "0"],
        ],
        "--threads": [
          ["1", "2"],
          ["0", "x"],
        ],
        "--standardize": null,
        "--save": [["out/m.json"], ["model.json", "folder", "nodir/m.json"]],
        "--force": null,
        "--json": null,
      },
    },
    predict: {
      req: ["--model", "--data"],
      flags: {
        "--model": [["model.json"], ["bad.json", "missing.json", "train.csv", "folder"]],
        "--data": [["train.csv"], [...badCsvs, "iris", "preds.csv"]],
        "--label": label,
        "--out": [["out/p.csv"], ["train.csv", "folder", "nodir/p.csv"]],
        "--force": null,
      },
    },
    evaluate: {
      req: ["--predictions"],
      flags: {
        "--predictions": [
          ["preds.csv", "logits.csv"],
          [...badCsvs, "train.csv"],
        ],
        "--label": label,
        "--logits": null,
        "--bins": [
          ["1", "5", "15", "100"],
          [...badNum, "0", "2.5"],
        ],
        "--strategy": [["uniform", "quantile"], ["x"]],
        "--bin-rule": [["softcal", "sklearn"], ["x"]],
        "--bootstrap": [
          ["1", "20"],
          ["0", "-1", "x"],
        ],
        "--seed": [
          ["0", "7"],
          ["-1", "x"],
        ],
        "--level": [
          ["0.95", "0.5"],
          ["0", "1", "1.5", "x"],
        ],
        "--metric": [
          ["ece", "ece,nll,brier"],
          ["nope", ""],
        ],
        "--plot": [
          ["out/r.svg", "out/r.png"],
          ["out/r.txt", "folder", "nodir/r.svg"],
        ],
        "--force": null,
        "--json": null,
      },
    },
    calibrate: {
      req: ["--fit"],
      flags: {
        "--method": [["temperature", "platt", "isotonic", "histogram", "vector"], ["x"]],
        "--fit": [
          ["logits.csv", "preds.csv"],
          [...badCsvs, "train.csv"],
        ],
        "--apply": [["logits.csv", "preds.csv"], badCsvs],
        "--out": [["out/c.csv"], ["train.csv", "folder"]],
        "--save": [["out/cal.json"], ["model.json", "folder"]],
        "--label": label,
        "--logits": null,
        "--bins": [
          ["5", "15"],
          [...badNum, "0"],
        ],
        "--force": null,
        "--json": null,
      },
    },
    list: { flags: { "--json": null } },
    merge: {
      pos: [["folder", "missing", "train.csv", "out"]],
      flags: { "--into": [["out/merged"], ["train.csv"]], "--no-figures": null },
    },
    report: {
      pos: [["folder", "missing", "train.csv"]],
      flags: { "--out": [["out/r.html"], ["train.csv", "folder"]], "--force": null },
    },
    // `run` always names an unknown experiment first, so it is refused before any work.
    run: {
      pos: [["no-such-experiment"]],
      flags: {
        "--out": [["out/run"], ["train.csv"]],
        "--seeds": [["1"], ["0", "x"]],
        "--jobs": [["1"], ["0"]],
        "--shard": [["1/2"], ["3/2", "auto", "x"]],
        "--resume": null,
        "--force": null,
        "--quick": null,
        "--no-figures": null,
      },
    },
  };
  const allFlags = [
    ...new Set(Object.values(spec).flatMap((c) => Object.keys(c.flags))),
    "--help",
    "--version",
    "-h",
    "--",
  ];
  const anyToken = fc.oneof(
    fc.constantFrom(...allFlags),
    fc.constantFrom(...badCsvs, ...badNum, "train.csv", "1"),
    fc.string({ maxLength: 8 }).filter((s) => !/[/\\]/.test(s) && s !== "all" && s !== ".."),
  );
  const commandArgv = fc.constantFrom(...Object.keys(spec)).chain((command) => {
    const c = spec[command];
    const flagArbs = Object.entries(c.flags).map(([flag, vals]) => {
      const value: fc.Arbitrary<string[]> =
        vals === null
          ? fc.constant([flag])
          : fc
              .oneof(
                { weight: 6, arbitrary: fc.constantFrom(...vals[0]) },
                { weight: 1, arbitrary: fc.constantFrom(...vals[1]) },
              )
              .map((v) => [flag, v]);
      // Required flags are present 9 times in 10, the others 1 time in 3.
      const absent = fc.constant([] as string[]);
      return c.req?.includes(flag)
        ? fc.oneof({ weight: 9, arbitrary: value }, { weight: 1, arbitrary: absent })
        : fc.oneof({ weight: 1, arbitrary: value }, { weight: 2, arbitrary: absent });
    });
    return fc
      .tuple(
        fc.tuple(...(c.pos ?? []).map((vals) => fc.constantFrom(...vals))),
        fc.tuple(...flagArbs),
        fc.oneof(
          { weight: 4, arbitrary: fc.constant(undefined) },
          { weight: 1, arbitrary: fc.tuple(fc.nat(), anyToken) },
        ),
      )
      .map(([pos, flags, damage]) => {
        const args = [command, ...pos, ...flags.flat()];
        // One stray token (1 time in 5) anywhere after the command — for `run`, after its unknown
        // experiment: a stray value-taking flag (--label, --out) right before it would take it as
        // its value and run every experiment, a minute of work for a case meant to be refused.
        const first = command === "run" ? 2 : 1;
        if (damage) args.splice(first + (damage[0] % (args.length - first + 1)), 0, damage[1]);
        return args;
      });
  });
  const argv = fc.oneof(
    { weight: 9, arbitrary: commandArgv },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom("nope", "help", "fit", "--help"), fc.array(anyToken, { maxLength: 5 }))
        .map(([c, rest]) => [c, ...rest]),
    },
  );

  function listFiles(dir: string): Map<string, string> {
    const out = new Map<string, string>();
    const walk = (d: string) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const full = path.join(d, e.name);
        if (e.isDirectory()) walk(full);
        else out.set(path.relative(dir, full), fs.readFileSync(full, "latin1"));
      }
    };
    walk(dir);
    return out;
  }

  test.prop([argv], { numRuns: runs(150), timeout: 20_000 })(
    "exit 0, 1 or 2; errors are one line 'softcal: …' (never an internal error); exit 2 changes no file; no temp file left",
    async (args) => {
      expect(process.cwd()).toBe(work);
      const before = listFiles(work);
      const r = await cli(...args);
      expect([0, 1, 2], `exit code ${r.code} for ${JSON.stringify(args)}: ${r.stderr}`).toContain(r.code);
      expect(r.stderr).not.toContain("internal error");
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
      if (r.code !== 0) {
        const last = r.stderr.trimEnd().split("\n").pop() ?? "";
        expect(last, JSON.stringify(args)).toMatch(/^softcal: \S/);
      }
      const after = listFiles(work);
      for (const name of after.keys()) expect(path.basename(name)).not.toMatch(TEMP_FILE_PATTERN);
      if (r.code === 2) {
        // Bad usage or input: nothing created, nothing changed.
        expect([...after.keys()].sort(), JSON.stringify(args)).toEqual([...before.keys()].sort());
        for (const [name, text] of before) expect(after.get(name), name).toBe(text);
      }
      // Outputs of a successful run stay for the next case; reset so they do not pile up.
      for (const name of after.keys())
        if (!before.has(name) && name.startsWith("out")) fs.rmSync(path.join(work, name));
    },
  );
});
