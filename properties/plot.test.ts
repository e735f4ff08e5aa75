/**
 * The plot layer: vega-lite specs compile without warnings, the reliability diagram draws exactly
 * one bar per non-empty bin over its edges (none for empty bins), ECE is in the title, PNGs are
 * real PNGs of the expected size with text actually drawn (the resvg font trap), output is
 * byte-identical for the same input, and the HTML page is self-contained and safely escaped.
 */

import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fc, test } from "@fast-check/vitest";
import { Resvg } from "@resvg/resvg-js";
import type { TopLevelSpec } from "vega-lite";
import { afterAll, describe, expect, it } from "vitest";
import type { ReliabilityBin as Bin } from "../src/calibration/bins.js";
import { InputError } from "../src/errors.js";
import { barSpec } from "../src/plot/bar.js";
import { writeFigureFile, writeFigureFiles } from "../src/plot/figureFile.js";
import { escapeHtml, escapeInlineScript, escapeJsonForScript, htmlPage } from "../src/plot/html.js";
import { lossCurveSpec } from "../src/plot/lossCurve.js";
import { metricSweepSpec, zeroStandIn } from "../src/plot/metricSweep.js";
import { openInBrowser } from "../src/plot/openInBrowser.js";
import {
  MIN_DRAWN_BIN_WIDTH,
  reliabilityDiagramSpec,
  sideBySideReliabilitySpec,
} from "../src/plot/reliability.js";
import { compileSpec, renderFigure, renderSvg, svgToImage, svgToPng } from "../src/plot/render.js";
import { renderPool } from "../src/plot/renderPool.js";
import { classOrder, decisionRegionsSpec, scatterSpec } from "../src/plot/scatter.js";
import { PANEL_WIDTH, TABLEAU10, tint } from "../src/plot/theme.js";
import { expectClose } from "./_shared/expectClose.js";
import {
  clusters,
  equalMassBins,
  equalWidthBins,
  lossRows,
  regionGrid,
  sweepRows,
} from "./_shared/plotFixtures.js";

/** Rendering costs ~20–100 ms per figure: SVG-level properties run an eighth of the global count. */
const svgRuns = Math.max(8, Math.round((fc.readConfigureGlobal().numRuns ?? 100) / 8));

/** One example of every figure kind. */
function allSpecs(): Record<string, TopLevelSpec> {
  const pts = clusters();
  return {
    reliabilityEqualWidth: reliabilityDiagramSpec(equalWidthBins(), { title: "Equal-width", ece: 0.0812 }),
    reliabilityEqualMass: reliabilityDiagramSpec(equalMassBins(), { title: "Equal-mass", ece: 0.0312 }),
    sideBySide: sideBySideReliabilitySpec(
      [
        { title: "before", bins: equalWidthBins(), ece: 0.0812 },
        { title: "after", bins: equalMassBins(), ece: 0.0312 },
      ],
      { title: "Temperature scaling" },
    ),
    scatter: scatterSpec(pts),
    regions: decisionRegionsSpec(regionGrid(0.5), pts, { step: 0.5 }),
    loss: lossCurveSpec(lossRows()),
    lossLog: lossCurveSpec(lossRows().slice(0, 300), { logY: true }),
    sweepLog: metricSweepSpec(sweepRows(), { metric: "ECE", param: "λ", logX: true }),
    sweepLinear: metricSweepSpec(sweepRows(), { metric: "ECE", param: "λ" }),
    bar: barSpec(
      [
        { category: "softmax", value: 0.03, lo: 0.02, hi: 0.04, series: "synthetic" },
        { category: "one-vs-rest", value: 0.06, lo: 0.045, hi: 0.07, series: "synthetic" },
        { category: "softmax", value: 0.05, series: "iris" },
      ],
      { title: "Test ECE", yTitle: "ECE" },
    ),
  };
}

/** The `d` attributes of the items of one named mark in a vega SVG. */
function markPaths(svg: string, markName: string): string[] {
  const start = svg.indexOf(`role-mark ${markName}_marks"`);
  if (start < 0) return [];
  const tagEnd = svg.indexOf(">", start);
  if (svg[tagEnd - 1] === "/") return []; // an empty mark group is written self-closed: <g …/>
  const end = svg.indexOf("</g>", start);
  return [...svg.slice(start, end).matchAll(/ d="([^"]*)"/g)].map((m) => m[1]);
}

/** x extent in pixels of a vega rect path `M x,y h w v h h -w Z`. */
function rectX(d: string): [number, number] {
  const m = /^M(-?[\d.e-]+),(-?[\d.e-]+)h(-?[\d.e-]+)v/.exec(d);
  if (m === null) throw new Error(`not a rect path: ${d}`);
  const x = Number(m[1]);
  const w = Number(m[3]);
  return w >= 0 ? [x, x + w] : [x + w, x];
}

/** The rendered titles / labels (text element contents) of an SVG. */
function texts(svg: string): string[] {
  return [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
}

describe("every spec compiles and renders without warnings", () => {
  it.each(Object.entries(allSpecs()))("%s", async (_name, spec) => {
    expect((await compileSpec(spec)).warnings).toEqual([]);
    const warnings: string[] = [];
    const svg = await renderSvg(spec, { onWarning: (m) => warnings.push(m) });
    expect(warnings).toEqual([]);
    expect(svg.startsWith("<svg")).toBe(true);
  });

  it("a warning is reported (the check above can fail)", async () => {
    // "shape" does not apply to bars: vega-lite drops it with a warning.
    const bad = { data: { values: [] }, mark: "bar", encoding: { shape: { field: "a", type: "nominal" } } };
    expect((await compileSpec(bad as unknown as TopLevelSpec)).warnings.length).toBeGreaterThan(0);
  });
});

/** Bins with empty ones mixed in: equal-width over B, or disjoint sorted edges (zero width allowed). */
const binsArb: fc.Arbitrary<Bin[]> = fc.oneof(
  fc.integer({ min: 1, max: 20 }).chain((B) =>
    fc
      .array(
        fc.option(
          fc.record({
            count: fc.integer({ min: 1, max: 500 }),
            u: fc.double({ min: 0, max: 1, noNaN: true }),
            acc: fc.double({ min: 0, max: 1, noNaN: true }),
          }),
          { nil: null },
        ),
        { minLength: B, maxLength: B },
      )
      .map((cells) =>
        cells.map((c, b) => {
          const lower = b / B;
          const upper = (b + 1) / B;
          return c === null
            ? { lower, upper, count: 0, meanPredicted: null, observed: null }
            : { lower, upper, count: c.count, meanPredicted: lower + c.u * (upper - lower), observed: c.acc };
        }),
      ),
  ),
  fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 2, maxLength: 24 }).chain((edges) => {
    const sorted = [...edges].sort((a, b) => a - b);
    const k = Math.floor(sorted.length / 2);
    return fc
      .array(fc.tuple(fc.integer({ min: 0, max: 40 }), fc.double({ min: 0, max: 1, noNaN: true })), {
        minLength: k,
        maxLength: k,
      })
      .map((cs) =>
        cs.map(([count, acc], i) => {
          const lower = sorted[2 * i];
          const upper = sorted[2 * i + 1];
          return count === 0
            ? { lower, upper, count: 0, meanPredicted: null, observed: null }
            : { lower, upper, count, meanPredicted: (lower + upper) / 2, observed: acc };
        }),
      );
  }),
);

describe("reliability diagram", () => {
  test.prop([binsArb], { numRuns: svgRuns })(
    "exactly one accuracy bar per non-empty bin, spanning its edges; nothing for empty bins",
    async (bins) => {
      const svg = await renderSvg(reliabilityDiagramSpec(bins, { title: "t", ece: 0.05 }));
      const nonEmpty = bins.filter((b) => b.count > 0);
      for (const mark of ["accuracy", "gap", "histogram"]) {
        expect(markPaths(svg, mark).length, mark).toBe(nonEmpty.length);
      }
      // Bars in data order; x in pixels = 420·edge. Widths below MIN_DRAWN_BIN_WIDTH are widened
      // on purpose. Tolerance 1e-9 px: the scale computes 420·(v − 0)/(1 − 0), a few ulps of 420.
      const xs = markPaths(svg, "accuracy").map(rectX);
      nonEmpty.forEach((b, i) => {
        const [x0, x1] = xs[i];
        if (b.upper - b.lower >= MIN_DRAWN_BIN_WIDTH) {
          expectClose([x0, x1], [PANEL_WIDTH * b.lower, PANEL_WIDTH * b.upper], { atol: 1e-9 }, "bar x");
        } else {
          expectClose(x1 - x0, PANEL_WIDTH * MIN_DRAWN_BIN_WIDTH, { atol: 1e-9 }, "widened bar");
          expect(x0).toBeLessThanOrEqual(PANEL_WIDTH * b.lower + 1e-9);
          expect(x1).toBeGreaterThanOrEqual(PANEL_WIDTH * b.upper - 1e-9);
        }
      });
    },
  );

  it("an empty bin is not drawn as accuracy 0 (the notebook's bug)", async () => {
    const bins: Bin[] = [
      { lower: 0, upper: 0.5, count: 0, meanPredicted: null, observed: null },
      { lower: 0.5, upper: 1, count: 4, meanPredicted: 0.8, observed: 0.75 },
    ];
    const svg = await renderSvg(reliabilityDiagramSpec(bins, { title: "t", ece: 0.05 }));
    expect(markPaths(svg, "accuracy").map(rectX)).toEqual([[210, 420]]);
  });

  it("ECE is in the title text, and the default subtitle counts samples and empty bins", async () => {
    const svg = await renderSvg(
      reliabilityDiagramSpec(equalWidthBins(), { title: "Softmax, test", ece: 0.04231 }),
    );
    const n = equalWidthBins().reduce((s, b) => s + b.count, 0);
    expect(texts(svg)).toContain("Softmax, test — ECE = 0.0423");
    expect(texts(svg)).toContain(`n = ${n}, 15 bins (6 empty)`);
    const side = await renderSvg(
      sideBySideReliabilitySpec([
        { title: "before", bins: equalWidthBins(), ece: 0.1 },
        { title: "after", bins: equalMassBins(), ece: 0.02 },
      ]),
    );
    expect(texts(side)).toEqual(expect.arrayContaining(["before — ECE = 0.1000", "after — ECE = 0.0200"]));
  });

  it("rejects bad bins with a RangeError naming the bin", () => {
    const ok = equalWidthBins();
    expect(() => reliabilityDiagramSpec([], { title: "t", ece: 0 })).toThrow(
      "reliabilityDiagramSpec: expected at least one bin; got 0",
    );
    const noAcc = ok.map((b, i) => (i === 6 ? { ...b, observed: null } : b));
    expect(() => reliabilityDiagramSpec(noAcc, { title: "t", ece: 0 })).toThrow(
      "reliabilityDiagramSpec: bins[6].observed must be in [0, 1] for a non-empty bin; got null",
    );
    const reversed = ok.map((b, i) => (i === 2 ? { ...b, lower: 0.9 } : b));
    expect(() => reliabilityDiagramSpec(reversed, { title: "t", ece: 0 })).toThrow(RangeError);
    expect(() => reliabilityDiagramSpec(ok, { title: "t", ece: Number.NaN })).toThrow(
      "reliabilityDiagramSpec: ece must be a finite number; got NaN",
    );
    expect(() => sideBySideReliabilitySpec([])).toThrow(RangeError);
  });
});

describe("PNG output", () => {
  const isPng = (b: Uint8Array) =>
    Buffer.from(b.subarray(0, 8)).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  const ihdrSize = (b: Uint8Array) => {
    const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
    return [v.getUint32(16), v.getUint32(20)];
  };
  const svgSize = (svg: string) => {
    const m = /^<svg[^>]* width="(\d+)" height="(\d+)"/.exec(svg);
    if (m === null) throw new Error("no size on the svg");
    return [Number(m[1]), Number(m[2])];
  };

  it("has the PNG signature and the SVG's size times the scale", async () => {
    const svg = await renderSvg(allSpecs().reliabilityEqualWidth);
    const [w, h] = svgSize(svg);
    for (const scale of [1, 2]) {
      const png = svgToPng(svg, { scale });
      expect(isPng(png)).toBe(true);
      expect(ihdrSize(png)).toEqual([w * scale, h * scale]);
    }
    expect(() => svgToPng(svg, { scale: 0 })).toThrow("svgToPng: scale must be a finite number > 0; got 0");
  });

  /** Pixels differing between two same-size RGBA images inside rows [y0, y1). */
  const diffPixels = (a: Uint8Array, b: Uint8Array, width: number, y0: number, y1: number) => {
    let n = 0;
    for (let p = y0 * width; p < y1 * width; p++) {
      const i = 4 * p;
      if (a[i] !== b[i] || a[i + 1] !== b[i + 1] || a[i + 2] !== b[i + 2] || a[i + 3] !== b[i + 3]) n++;
    }
    return n;
  };

  it("draws text: the title area differs from the same SVG without text (and without fonts it would not)", async () => {
    const svg = await renderSvg(allSpecs().reliabilityEqualWidth);
    const noText = svg.replace(/<text[^>]*>[^<]*<\/text>/g, "");
    expect(noText.length).toBeLessThan(svg.length);
    const withText = svgToImage(svg, { scale: 1 });
    const without = svgToImage(noText, { scale: 1 });
    // Title and subtitle occupy the top ~50 px: a 15 px bold line of ~30 glyphs is hundreds of
    // anti-aliased pixels; 300 is a floor that a single stray glyph could not reach.
    expect(diffPixels(withText.pixels, without.pixels, withText.width, 0, 50)).toBeGreaterThan(300);
    // The trap this guards against: resvg with no font loaded draws no text, silently.
    const fontless = new Resvg(svg, { font: { loadSystemFonts: false } }).render();
    expect(diffPixels(new Uint8Array(fontless.pixels), without.pixels, withText.width, 0, 50)).toBe(0);
  });

  it("same spec ⇒ byte-identical SVG and PNG, for every figure kind", async () => {
    for (const [name, spec] of Object.entries(allSpecs())) {
      const a = await renderFigure(spec, { scale: 1 });
      const b = await renderFigure(structuredClone(spec), { scale: 1 });
      expect(a.svg === b.svg, name).toBe(true);
      expect(Buffer.from(a.png).equals(Buffer.from(b.png)), name).toBe(true);
    }
  });
});

describe("rendering on several threads (renderPool)", () => {
  it("gives every figure the bytes renderFigure gives on this thread, requested all at once", async () => {
    const specs = Object.entries(allSpecs());
    const here: { svg: string; png: Uint8Array }[] = [];
    for (const [, spec] of specs) here.push(await renderFigure(spec));
    const pool = renderPool(3);
    try {
      // Twice over: the second round reuses warm workers, which must not change a byte either.
      const all = await Promise.all([...specs, ...specs].map(([, spec]) => pool.render(spec)));
      all.forEach((fig, i) => {
        const [name] = specs[i % specs.length];
        expect(fig.svg === here[i % specs.length].svg, name).toBe(true);
        expect(Buffer.from(fig.png).equals(Buffer.from(here[i % specs.length].png)), name).toBe(true);
      });
      // The figures really were drawn on other threads too (a pool of 3: two workers).
      expect(pool.workersStarted).toBe(2);
    } finally {
      await pool.close();
    }
  });

  it("a spec that cannot render rejects its own promise only, on whichever thread drew it", async () => {
    const pool = renderPool(2);
    try {
      const bad = {
        mark: "point",
        data: { values: [{ a: 1 }] },
        encoding: { x: { field: "a", type: "nope" } },
      };
      const results = await Promise.allSettled(
        [allSpecs().reliabilityEqualWidth, bad, bad, allSpecs().reliabilityEqualWidth].map((s) =>
          pool.render(s as object),
        ),
      );
      expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "rejected", "fulfilled"]);
    } finally {
      await pool.close();
    }
  });
});

describe("other figures", () => {
  it("metric sweep on a log axis draws λ = 0 one decade below the smallest positive λ, labeled 0", async () => {
    expect(zeroStandIn([0, 1e-3, 0.1])).toBeCloseTo(1e-4, 15);
    expect(zeroStandIn([0])).toBe(null);
    const svg = await renderSvg(metricSweepSpec(sweepRows(), { metric: "ECE", param: "λ", logX: true }));
    const labels = texts(svg);
    expect(labels).toEqual(expect.arrayContaining(["0", "1e-4", "0.001", "0.01", "0.1", "1"]));
    expect(labels.some((t) => t.includes("λ = 0 drawn at 0.00001"))).toBe(true);
    expect(() =>
      metricSweepSpec([{ param: -1, mean: 0, lo: 0, hi: 0, series: "s" }], {
        metric: "m",
        param: "p",
        logX: true,
      }),
    ).toThrow("metricSweepSpec: rows[0].param must be >= 0 with logX; got -1");
    expect(() =>
      metricSweepSpec([{ param: 1, mean: 0, lo: 1, hi: 0, series: "s" }], { metric: "m", param: "p" }),
    ).toThrow("metricSweepSpec: rows[0] must have lo <= hi; got [1, 0]");
  });

  it("decision-region cells are the predicted class's color, paler when less confident", () => {
    const grid = [
      { x1: 0, x2: 0, predicted: "b", confidence: 1 },
      { x1: 1, x2: 0, predicted: "a", confidence: 0.5 },
    ];
    const spec = decisionRegionsSpec(grid, [], { step: 1 }) as unknown as {
      layer: { data: { values: { fill: string }[] } }[];
    };
    const fills = spec.layer[0].data.values.map((v) => v.fill);
    expect(fills).toEqual([tint(TABLEAU10[1], 0.65), tint(TABLEAU10[0], 0.375)]);
    expect(tint("#4c78a8", 0.5)).toBe("#a6bcd4");
    expect(() => decisionRegionsSpec(grid, [], { step: 0 })).toThrow(
      "decisionRegionsSpec: step must be a finite number > 0; got 0",
    );
  });

  test.prop([
    fc.array(fc.oneof(fc.integer({ min: 0, max: 30 }).map(String), fc.string({ maxLength: 3 })), {
      maxLength: 20,
    }),
  ])("classOrder is a sorted set, independent of input order", (labels) => {
    const order = classOrder(labels);
    expect(new Set(order)).toEqual(new Set(labels));
    expect(order.length).toBe(new Set(labels).size);
    expect(classOrder([...labels].reverse())).toEqual(order);
  });

  it("classOrder sorts numbers numerically", () => {
    expect(classOrder(["b", "10", "2", "b"])).toEqual(["2", "10", "b"]);
  });

  it("bar, loss and scatter reject bad rows", () => {
    expect(() => barSpec([{ category: "a", value: 1, lo: 0 }], { title: "t", yTitle: "y" })).toThrow(
      "barSpec: rows[0] must give both lo and hi or neither; got lo 0, hi undefined",
    );
    expect(() => lossCurveSpec([{ iteration: 0, loss: 0 }], { logY: true })).toThrow(
      "lossCurveSpec: rows[0].loss must be > 0 with logY; got 0",
    );
    expect(() => scatterSpec([{ x1: Number.POSITIVE_INFINITY, x2: 0, label: "a" }])).toThrow(
      "scatterSpec: points[0].x1 must be a finite number; got Infinity",
    );
  });
});

describe("HTML page", () => {
  const page = htmlPage({
    title: 'Report <1> & "2"',
    sections: [
      {
        heading: "A </script> heading",
        figures: [
          {
            title: "r",
            spec: reliabilityDiagramSpec(equalWidthBins(), { title: "x </script><!-- y", ece: 0.01 }),
          },
        ],
        tables: [
          {
            caption: "t",
            columns: ["a", "b"],
            rows: [
              [1.23456789, null],
              ["<i>", 7],
            ],
          },
        ],
      },
      { heading: "Empty", figures: [] },
    ],
  });

  it("is self-contained: no external src or href, a CSP that forbids network access", () => {
    expect(page).not.toMatch(/\b(src|href)\s*=\s*["']?\s*(https?:)?\/\//i);
    expect(page).not.toMatch(/<link\b/i);
    expect(page).toContain("default-src 'none'");
    for (const pkg of ["vega", "vega-lite", "vega-embed"])
      expect(page).toContain(`<script data-bundle="${pkg}">`);
    expect(page.length).toBeGreaterThan(800_000);
  });

  it("every <script> is closed exactly once, and the inlined spec parses back to the spec", () => {
    expect(page.match(/<script\b/gi)?.length).toBe(page.match(/<\/script>/gi)?.length);
    expect(page).not.toMatch(/<!--/);
    const json = /<script type="application\/json" id="spec-0">([\s\S]*?)<\/script>/.exec(page)?.[1];
    expect(JSON.parse(json ?? "")).toEqual(
      JSON.parse(
        JSON.stringify(reliabilityDiagramSpec(equalWidthBins(), { title: "x </script><!-- y", ece: 0.01 })),
      ),
    );
  });

  it("escapes text and renders tables (6 significant digits, null as —)", () => {
    expect(page).toContain("<title>Report &lt;1&gt; &amp; &quot;2&quot;</title>");
    expect(page).toContain("<h2>A &lt;/script&gt; heading</h2>");
    expect(page).toContain('<td class="num">1.23457</td><td class="na">—</td>');
    expect(page).toContain("<td>&lt;i&gt;</td>");
    expect(() =>
      htmlPage({
        title: "t",
        sections: [{ heading: "h", figures: [], tables: [{ caption: "c", columns: ["a"], rows: [[1, 2]] }] }],
      }),
    ).toThrow("htmlPage: section 0 table 0 row 0 must have 1 cells (one per column); got 2");
  });

  it("is deterministic", () => {
    const again = htmlPage({
      title: "t",
      sections: [{ heading: "h", figures: [{ title: "f", spec: allSpecs().loss }] }],
    });
    expect(
      htmlPage({
        title: "t",
        sections: [{ heading: "h", figures: [{ title: "f", spec: allSpecs().loss }] }],
      }),
    ).toBe(again);
  });

  test.prop([fc.string({ unit: "binary" })])("escaped JSON parses back and hides </script and <!--", (s) => {
    const out = escapeJsonForScript({ s });
    expect(JSON.parse(out)).toEqual({ s });
    expect(out).not.toMatch(/<\/script|<!--/i);
  });

  test.prop([fc.string({ unit: "binary" })])("escaped inline script keeps a string literal's value", (s) => {
    fc.pre(!s.includes("<!--"));
    const js = `return ${JSON.stringify(s)};`;
    const escaped = escapeInlineScript(js);
    expect(escaped).not.toMatch(/<\/script/i);
    expect(new Function(escaped)()).toBe(s);
  });

  it("escapeHtml escapes the five special characters", () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe("&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    expect(() => escapeInlineScript("var a = 1 <!-- 2")).toThrow("cannot inline it safely");
  });
});

describe("openInBrowser", () => {
  it("prints the absolute path and opens nothing without a display", () => {
    const lines: string[] = [];
    const launched: string[][] = [];
    const opened = openInBrowser("x/report.html", {
      log: (l) => lines.push(l),
      env: {},
      platform: "linux",
      launch: (c, a) => launched.push([c, ...a]),
    });
    expect(opened).toBe(false);
    expect(lines).toEqual([`${process.cwd()}/x/report.html`]);
    expect(launched).toEqual([]);
  });

  it("uses xdg-open when a display exists, and never throws", () => {
    const launched: string[][] = [];
    expect(
      openInBrowser("/tmp/r.html", {
        log: () => {},
        env: { DISPLAY: ":0" },
        platform: "linux",
        launch: (c, a) => launched.push([c, ...a]),
      }),
    ).toBe(true);
    expect(launched).toEqual([["xdg-open", "/tmp/r.html"]]);
    const failing = () => {
      throw new Error("ENOENT");
    };
    expect(
      openInBrowser("/tmp/r.html", {
        log: () => {},
        env: { WAYLAND_DISPLAY: "w" },
        platform: "linux",
        launch: failing,
      }),
    ).toBe(false);
  });
});

describe("figure files", () => {
  const dir = mkdtempSync(join(tmpdir(), "softcal-plot-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const spec = () => barSpec([{ category: "a", value: 1 }], { title: "t", yTitle: "y" });

  it("writes SVG or PNG by extension, and both with writeFigureFiles; no temp file left", async () => {
    await writeFigureFile(spec(), join(dir, "a.svg"));
    await writeFigureFile(spec(), join(dir, "a.PNG"), { scale: 1 });
    const both = await writeFigureFiles(spec(), join(dir, "b"));
    expect(readFileSync(join(dir, "a.svg"), "utf8")).toBe(await renderSvg(spec()));
    expect(readFileSync(join(dir, "a.PNG")).subarray(1, 4).toString()).toBe("PNG");
    expect(readFileSync(both.svg, "utf8").startsWith("<svg")).toBe(true);
    expect(Buffer.from(readFileSync(both.png)).equals(Buffer.from(svgToPng(await renderSvg(spec()))))).toBe(
      true,
    );
    expect(readdirSync(dir).sort()).toEqual(["a.PNG", "a.svg", "b.png", "b.svg"]);
  });

  it("rejects another extension with a one-line InputError, writing nothing", async () => {
    const err = await writeFigureFile(spec(), join(dir, "c.pdf")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).message).toBe(
      `--plot: expected a file name ending in .svg or .png; got ${JSON.stringify(join(dir, "c.pdf"))}`,
    );
    expect(readdirSync(dir)).not.toContain("c.pdf");
  });
});
