/**
 * The label rule (src/data/labels.ts; README "Data:"): plain non-negative integers are numeric
 * classes, numbers written any other way are refused, anything else is a class name compared
 * exactly. Checked through both readers (in memory and streamed from a file):
 * - round trip: an accepted column gives `classNames[y[i]] === label_i` for every row, so two
 *   different spellings never share a class and no class is split;
 * - metamorphic: renaming classes, permuting numeric labels and shuffling rows move y exactly as
 *   they should (scikit-learn's "invariance against relabeling" test, in the strong form);
 * - refusals: an integer written otherwise (`01`, `+1`, `1.0`, `1e0`, ` 1`) in a numeric column is
 *   refused at its file:line:column, and a label outside a model's classes is refused, even when it
 *   is another spelling of one of them.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fc, test } from "@fast-check/vitest";
import { afterAll, describe, expect } from "vitest";
import { parseCsvTable } from "../src/data/csv.js";
import { type Dataset, datasetFromCsvFile, datasetFromTable } from "../src/data/dataset.js";
import { MAX_CLASSES } from "../src/data/labels.js";
import { parseFiniteNumber } from "../src/data/numbers.js";
import { InputError } from "../src/errors.js";
import { quoteField } from "./_shared/arbitraries.js";

const dir = mkdtempSync(join(tmpdir(), "softcal-labels-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;

/** A data file with one feature (the row index) and the given labels, every label quoted. */
function csvOf(labels: readonly string[]): string {
  return `x1,label\n${labels.map((l, i) => `${i},${quoteField(l)}`).join("\n")}\n`;
}

/** Reads the labels with both readers; they must agree (data set or error message). */
function read(labels: readonly string[], classNames?: readonly string[]): Dataset | InputError {
  const text = csvOf(labels);
  const path = join(dir, `l${counter++}.csv`);
  writeFileSync(path, text);
  const options = classNames === undefined ? {} : { classNames };
  const attempt = (f: () => Dataset): Dataset | InputError => {
    try {
      return f();
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      return e;
    }
  };
  const inMemory = attempt(() => datasetFromTable(parseCsvTable(text, path), options));
  const streamed = attempt(() => datasetFromCsvFile(path, { ...options, chunkBytes: 7 }));
  if (inMemory instanceof InputError || streamed instanceof InputError) {
    expect(streamed instanceof InputError ? streamed.message : "accepted").toBe(
      inMemory instanceof InputError ? inMemory.message : "accepted",
    );
  } else {
    expect(streamed.classNames).toEqual(inMemory.classNames);
    expect(Array.from(streamed.y)).toEqual(Array.from(inMemory.y));
  }
  return inMemory;
}

const PLAIN = /^(?:0|[1-9][0-9]*)$/;

/** The rule, stated independently: is this column accepted (no model classes given)? */
function accepted(labels: readonly string[]): boolean {
  if (labels.includes("")) return false;
  if (labels.every((l) => PLAIN.test(l))) return labels.every((l) => Number(l) < MAX_CLASSES);
  return !labels.every((l) => parseFiniteNumber(l) !== undefined);
}

/** Labels that look alike: plain integers, other spellings of them, names, and anything. */
const label = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 12 }).map(String) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.integer({ min: 0, max: 12 }), fc.constantFrom("0%", "+%", "%.0", "%e0", " %", "%.", "-%"))
      .map(([k, f]) => f.replace("%", String(k))),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom("a", "A", "b", "é", "e\u0301", "cat", " cat", "cat ", "", "NaN", "1.5"),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 5 }) },
);
/** Mostly one kind per column (all plain, all numbers, all names), sometimes mixed. */
const column = fc.oneof(
  fc.array(fc.integer({ min: 0, max: 12 }).map(String), { minLength: 1, maxLength: 12 }),
  fc.array(fc.constantFrom("setosa", "versicolor", "virginica", "Setosa", "set osa"), {
    minLength: 1,
    maxLength: 12,
  }),
  fc.array(label, { minLength: 1, maxLength: 12 }),
);

function isDataset(r: Dataset | InputError): r is Dataset {
  return !(r instanceof InputError);
}

describe("the label rule", () => {
  test.prop([column])(
    "accepted exactly when the rule says so; then classNames[y[i]] is row i's label (no merge, no split)",
    (labels) => {
      const r = read(labels);
      expect(isDataset(r)).toBe(accepted(labels));
      if (!isDataset(r)) {
        expect(r.message).toMatch(/^[^\n]+:\d+:2: expected /); // one line at the label's line and column
        return;
      }
      labels.forEach((l, i) => {
        expect(r.classNames[r.y[i]]).toBe(l);
      });
      expect(new Set(r.y).size).toBe(new Set(labels).size);
      if (labels.every((l) => PLAIN.test(l))) {
        const max = Math.max(...labels.map(Number));
        expect(r.classNames).toEqual(Array.from({ length: max + 1 }, (_, k) => String(k)));
      } else {
        expect(r.classNames).toEqual([...new Set(labels)].sort());
      }
    },
  );

  test.prop([
    fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 1, maxLength: 12 }),
    fc.integer({ min: 0, max: 11 }),
    fc.constantFrom("0%", "+%", "%.0", "%e0", " %", "%.", "00%"),
  ])(
    "an integer spelled otherwise in a numeric column is refused at its row — never merged, never a new class",
    (ks, at0, form) => {
      const labels = ks.map(String);
      const at = at0 % (labels.length + 1);
      const k = ks[at % ks.length];
      const spelled = form.replace("%", String(k));
      labels.splice(at, 0, spelled);
      const r = read(labels);
      expect(r).toBeInstanceOf(InputError);
      // The first row holding a label that is not plain digits is the one named (line = row + 2).
      const first = labels.findIndex((l) => !PLAIN.test(l));
      expect((r as InputError).message).toMatch(
        new RegExp(
          `:${first + 2}:2: expected an integer label in 0\\.\\.K-1 written as plain digits \\(like "${k}"\\); got `,
        ),
      );
    },
  );

  test.prop([
    fc.uniqueArray(
      fc.string({ minLength: 1, maxLength: 6 }).filter((s) => parseFiniteNumber(s) === undefined),
      {
        minLength: 1,
        maxLength: 5,
      },
    ),
    fc.array(fc.nat(), { minLength: 1, maxLength: 12 }),
    fc.uniqueArray(
      fc.string({ minLength: 1, maxLength: 6 }).filter((s) => parseFiniteNumber(s) === undefined),
      {
        minLength: 5,
        maxLength: 5,
      },
    ),
  ])(
    "renaming classes: y moves with the names (same partition of rows; an order-preserving renaming keeps y)",
    (names, picks, others) => {
      const labels = picks.map((p) => names[p % names.length]);
      const r = read(labels);
      if (!isDataset(r)) return expect.fail(r.message);
      // Any injective renaming: the same rows share a class.
      const rename = new Map(names.map((n, k) => [n, others[k]]));
      const r2 = read(labels.map((l) => rename.get(l) as string));
      if (!isDataset(r2)) return expect.fail(r2.message);
      for (let i = 0; i < labels.length; i++) {
        for (let j = 0; j < labels.length; j++) expect(r2.y[i] === r2.y[j]).toBe(r.y[i] === r.y[j]);
      }
      // An order-preserving renaming (a common prefix): y itself is unchanged.
      const r3 = read(labels.map((l) => `class ${l}`));
      if (!isDataset(r3)) return expect.fail(r3.message);
      expect(Array.from(r3.y)).toEqual(Array.from(r.y));
      expect(r3.classNames).toEqual(r.classNames.map((n) => `class ${n}`));
    },
  );

  test.prop([
    fc.integer({ min: 1, max: 8 }).chain((K) =>
      fc.tuple(
        fc.array(fc.integer({ min: 0, max: K - 1 }), { minLength: 1, maxLength: 12 }),
        fc.shuffledSubarray(
          Array.from({ length: K }, (_, k) => k),
          { minLength: K, maxLength: K },
        ),
      ),
    ),
  ])("permuting numeric labels by π gives y' = π(y), K' = max π(label) + 1", ([ks, pi]) => {
    const r = read(ks.map(String));
    const r2 = read(ks.map((k) => String(pi[k])));
    if (!isDataset(r) || !isDataset(r2)) return expect.fail("refused");
    expect(Array.from(r2.y)).toEqual(Array.from(r.y, (y) => pi[y]));
    expect(r2.nClasses).toBe(Math.max(...ks.map((k) => pi[k])) + 1);
  });

  test.prop([column, fc.integer()])(
    "shuffling rows shuffles y the same way (classes do not depend on row order)",
    (labels, seed) => {
      const order = labels.map((_, i) => i);
      let s = seed >>> 0;
      for (let i = order.length - 1; i > 0; i--) {
        s = (Math.imul(s, 1103515245) + 12345) >>> 0;
        const j = s % (i + 1);
        [order[i], order[j]] = [order[j], order[i]];
      }
      const r = read(labels);
      const r2 = read(order.map((i) => labels[i]));
      expect(isDataset(r2)).toBe(isDataset(r));
      if (!isDataset(r) || !isDataset(r2)) return;
      expect(r2.classNames).toEqual(r.classNames);
      expect(Array.from(r2.y)).toEqual(order.map((i) => r.y[i]));
    },
  );

  test.prop([
    fc.uniqueArray(
      label.filter((l) => l !== ""),
      { minLength: 2, maxLength: 5 },
    ),
    fc.array(fc.nat(), { minLength: 1, maxLength: 10 }),
    fc.option(label, { nil: undefined }),
  ])(
    "with a model's classes, a label is accepted exactly when it is one of them, as written",
    (classNames, picks, extra) => {
      const labels = picks.map((p) => classNames[p % classNames.length]);
      if (extra !== undefined) labels.push(extra);
      const r = read(labels, classNames);
      const ok = labels.every((l) => classNames.includes(l));
      expect(isDataset(r)).toBe(ok);
      if (isDataset(r)) {
        expect(r.classNames).toEqual(classNames);
        labels.forEach((l, i) => {
          expect(r.classNames[r.y[i]]).toBe(l);
        });
      } else {
        const bad = labels.find((l) => !classNames.includes(l)) as string;
        expect(r.message).toContain(
          bad === "" ? "expected a label; got an empty field" : `; got ${JSON.stringify(bad)}`,
        );
      }
    },
  );
});
