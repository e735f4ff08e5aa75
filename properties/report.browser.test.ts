/**
 * The HTML page of `softcal show` / `softcal report`, checked in a real headless browser (Debian
 * chromium via playwright-core): every figure kind renders to an SVG with drawn marks, with zero
 * console errors and zero network requests (the page is loaded from file:// with every other
 * request aborted and recorded). A screenshot goes to results/ci/report-screenshot.png.
 *
 * Without /usr/bin/chromium: in CI (process.env.CI set) the test fails loudly; elsewhere it is
 * skipped with a message.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type BrowserContext, chromium } from "playwright-core";
import type { TopLevelSpec } from "vega-lite";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { barSpec } from "../src/plot/bar.js";
import { htmlPage } from "../src/plot/html.js";
import { lossCurveSpec } from "../src/plot/lossCurve.js";
import { metricSweepSpec } from "../src/plot/metricSweep.js";
import { reliabilityDiagramSpec, sideBySideReliabilitySpec } from "../src/plot/reliability.js";
import { decisionRegionsSpec, scatterSpec } from "../src/plot/scatter.js";
import { cli } from "./_shared/cli.js";
import {
  clusters,
  equalMassBins,
  equalWidthBins,
  lossRows,
  regionGrid,
  sweepRows,
} from "./_shared/plotFixtures.js";

const CHROMIUM = "/usr/bin/chromium";
const haveChromium = existsSync(CHROMIUM);
const inCI = Boolean(process.env.CI);
const SCREENSHOT = fileURLToPath(new URL("../results/ci/report-screenshot.png", import.meta.url));

if (!haveChromium && !inCI) {
  console.warn(
    `report.browser.test: SKIPPED — ${CHROMIUM} not found (run .ci/install-chromium.sh, or apt-get install chromium)`,
  );
}

/** The page under test: every figure kind at least twice, and a table. */
function reportHtml(): { html: string; expectedAccuracyBars: Map<string, number> } {
  const width = equalWidthBins();
  const mass = equalMassBins();
  const pts = clusters();
  const nonEmpty = (bins: { count: number }[]) => bins.filter((b) => b.count > 0).length;
  const html = htmlPage({
    title: "softcal report (browser test)",
    intro: 'Fixed small data; checks <escaping> & "quotes" </script> too.',
    sections: [
      {
        heading: "Reliability",
        figures: [
          {
            title: "equal-width",
            spec: reliabilityDiagramSpec(width, { title: "Equal-width </script>", ece: 0.0812 }),
          },
          { title: "equal-mass", spec: reliabilityDiagramSpec(mass, { title: "Equal-mass", ece: 0.0312 }) },
          {
            title: "before / after",
            spec: sideBySideReliabilitySpec([
              { title: "before", bins: width, ece: 0.0812 },
              { title: "after", bins: mass, ece: 0.0312 },
            ]),
          },
        ],
        tables: [
          {
            caption: "Summary",
            columns: ["method", "ECE", "NLL", "note"],
            rows: [
              ["softmax", 0.0312345678, 0.41, null],
              ["one-vs-rest", 0.0812, 0.52, "<b>not bold</b>"],
            ],
          },
        ],
      },
      {
        heading: "Data and decision regions",
        figures: [
          { title: "data", spec: scatterSpec(pts) },
          {
            title: "data (titled axes)",
            spec: scatterSpec(pts.slice(0, 30), { x1Title: "feature 1", x2Title: "feature 2" }),
          },
          { title: "regions", spec: decisionRegionsSpec(regionGrid(0.25), pts, { step: 0.25 }) },
          { title: "regions, no points", spec: decisionRegionsSpec(regionGrid(0.5), [], { step: 0.5 }) },
        ],
      },
      {
        heading: "Training and sweeps",
        figures: [
          { title: "loss", spec: lossCurveSpec(lossRows()) },
          { title: "loss (log)", spec: lossCurveSpec(lossRows(), { logY: true }) },
          {
            title: "sweep (log, λ = 0)",
            spec: metricSweepSpec(sweepRows(), { metric: "ECE", param: "λ", logX: true }),
          },
          { title: "sweep (linear)", spec: metricSweepSpec(sweepRows(), { metric: "ECE", param: "λ" }) },
          {
            title: "bars",
            spec: barSpec(
              [
                { category: "softmax", value: 0.03, lo: 0.02, hi: 0.04, series: "synthetic" },
                { category: "one-vs-rest", value: 0.06, lo: 0.045, hi: 0.07, series: "synthetic" },
                { category: "softmax", value: 0.05, lo: 0.03, hi: 0.06, series: "iris" },
                { category: "one-vs-rest", value: 0.08, lo: 0.06, hi: 0.1, series: "iris" },
              ],
              { title: "Test ECE", yTitle: "ECE" },
            ),
          },
          {
            title: "bars, no series",
            spec: barSpec(
              [
                { category: "T = 1", value: 0.41 },
                { category: "T*", value: 0.33 },
              ],
              { title: "Test NLL", yTitle: "NLL" },
            ),
          },
        ],
      },
    ],
  });
  // figure ids are assigned in page order; the side-by-side figure holds two panels
  const expectedAccuracyBars = new Map<string, number>([
    ["figure-0", nonEmpty(width)],
    ["figure-1", nonEmpty(mass)],
    ["figure-2", nonEmpty(width) + nonEmpty(mass)],
  ]);
  return { html, expectedAccuracyBars };
}

// In CI a missing browser is a failing test (counted as failed), never a silent skip.
test.skipIf(!haveChromium && !inCI)("chromium is installed for the browser test", () => {
  if (!haveChromium) {
    throw new Error(`chromium missing: .ci/install-chromium.sh should have installed it (${CHROMIUM})`);
  }
});

describe.runIf(haveChromium)("HTML report in headless chromium", () => {
  let dir = "";
  let context: BrowserContext | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "softcal-browser-"));
    context = await chromium.launchPersistentContext(join(dir, "profile"), {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-quic",
        "--no-first-run",
        "--disable-component-update",
        "--disable-sync",
      ],
      viewport: { width: 1500, height: 1000 },
    });
  });

  afterAll(async () => {
    await context?.close();
    if (dir !== "") rmSync(dir, { recursive: true, force: true });
  });

  test("every figure renders offline: SVG marks, no console error or warning, no network request", async () => {
    if (context === undefined) throw new Error("browser did not start");
    const { html, expectedAccuracyBars } = reportHtml();
    const file = join(dir, "report.html");
    writeFileSync(file, html);

    const network: string[] = [];
    const consoleErrors: string[] = [];
    await context.route("**/*", async (route) => {
      const url = route.request().url();
      if (url.startsWith("file:")) return route.continue();
      network.push(url);
      return route.abort();
    });
    const page = await context.newPage();
    page.on("console", (msg) => {
      // errors and warnings both fail the test (vega reports spec problems as warnings)
      if (msg.type() === "error" || msg.type() === "warning")
        consoleErrors.push(`${msg.type()}: ${msg.text()}`);
    });
    page.on("pageerror", (err) => consoleErrors.push(`pageerror: ${err.message}`));
    page.on("request", (req) => {
      if (!req.url().startsWith("file:") && !req.url().startsWith("data:")) network.push(req.url());
    });

    await page.goto(pathToFileURL(file).href, { waitUntil: "load" });
    await page.waitForSelector('body[data-figures-rendered="true"]', { timeout: 10_000 });

    const figures = await page.$$eval(".vega-figure", (els) =>
      els.map((el) => ({
        id: el.id,
        rendered: el.getAttribute("data-rendered"),
        text: el.getAttribute("data-rendered") === "error" ? (el.textContent ?? "") : "",
        svg: el.querySelectorAll("svg").length,
        marks: el.querySelectorAll('svg [role="graphics-symbol"]').length,
        accuracyBars: el.querySelectorAll(
          "svg g.mark-rect.accuracy_marks > path, svg g.mark-rect.panel0_accuracy_marks > path, svg g.mark-rect.panel1_accuracy_marks > path",
        ).length,
      })),
    );
    expect(figures.length).toBe(13);
    for (const f of figures) {
      expect(f.rendered, `${f.id}: ${f.text}`).toBe("true");
      expect(f.svg, `${f.id} has an <svg>`).toBeGreaterThanOrEqual(1);
      expect(f.marks, `${f.id} has drawn marks`).toBeGreaterThan(0);
    }
    for (const [id, n] of expectedAccuracyBars) {
      expect(
        figures.find((f) => f.id === id)?.accuracyBars,
        `${id}: one accuracy bar per non-empty bin`,
      ).toBe(n);
    }
    // The table is plain HTML, escaped, with numbers to 6 significant digits and null as "—".
    const cells = await page.$$eval("table td", (tds) => tds.map((td) => td.textContent));
    expect(cells).toEqual([
      "softmax",
      "0.0312346",
      "0.41",
      "—",
      "one-vs-rest",
      "0.0812",
      "0.52",
      "<b>not bold</b>",
    ]);
    expect(await page.$$eval("table b", (b) => b.length)).toBe(0);

    mkdirSync(dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    await page.close();

    expect(consoleErrors).toEqual([]);
    expect(network).toEqual([]);
  });

  test("`softcal report` over a real (quick) run: every experiment's figures render offline", async () => {
    if (context === undefined) throw new Error("browser did not start");
    const out = join(dir, "results");
    const run = await cli(
      "run",
      "baseline",
      "ovr-vs-softmax",
      "--quick",
      "--seeds",
      "2",
      "--jobs",
      "1",
      "--out",
      out,
    );
    expect(run.code, run.stderr).toBe(0);
    const rep = await cli("report", out);
    expect(rep.code, rep.stderr).toBe(0);
    const file = rep.stdout.trim();
    expect(file).toBe(join(out, "report.html"));

    const network: string[] = [];
    const problems: string[] = [];
    const page = await context.newPage();
    page.on("console", (msg) => {
      if (msg.type() === "error" || msg.type() === "warning") problems.push(`${msg.type()}: ${msg.text()}`);
    });
    page.on("pageerror", (err) => problems.push(`pageerror: ${err.message}`));
    page.on("request", (req) => {
      if (!req.url().startsWith("file:") && !req.url().startsWith("data:")) network.push(req.url());
    });
    await page.goto(pathToFileURL(file).href, { waitUntil: "load" });
    await page.waitForSelector('body[data-figures-rendered="true"]', { timeout: 20_000 });
    const figures = await page.$$eval(".vega-figure", (els) =>
      els.map((el) => ({
        id: el.id,
        rendered: el.getAttribute("data-rendered"),
        marks: el.querySelectorAll('svg [role="graphics-symbol"]').length,
      })),
    );
    // baseline: 2 scatter + 2 regions + loss + 4 reliability; ovr-vs-softmax (quick, 2-D clusters):
    // 3 reliability + 2 regions + ECE bars.
    expect(figures.length).toBe(15);
    for (const f of figures) {
      expect(f.rendered, f.id).toBe("true");
      expect(f.marks, `${f.id} has drawn marks`).toBeGreaterThan(0);
    }
    const captions = await page.$$eval("table caption", (c) => c.map((x) => x.textContent));
    expect(captions).toEqual([
      "Runs (softcal runs): sorted by start time; the headline is the mean over seeds per grid point (its range over the points)",
      "baseline: mean [95% interval] over seeds (summary.csv)",
      "ovr-vs-softmax: mean [95% interval] over seeds (summary.csv)",
      "ovr-vs-softmax: paired.csv",
    ]);
    await page.screenshot({ path: SCREENSHOT.replace(/\.png$/, "-run.png"), fullPage: true });
    await page.close();
    expect(problems).toEqual([]);
    expect(network).toEqual([]);
  });

  test("a spec's usermeta cannot change the page's embed options (no actions menu, no injected source header)", async () => {
    if (context === undefined) throw new Error("browser did not start");
    // vega-embed merges usermeta.embedOptions over the page's options: this spec asks for the
    // actions menu (whose "View Source" writes sourceHeader into a page as HTML) and a canvas.
    const usermeta = {
      embedOptions: { actions: true, renderer: "canvas", sourceHeader: "<script>window.pwned = 1</script>" },
    };
    const hostile = {
      ...(barSpec([{ category: "a", value: 1 }], { title: "t", yTitle: "y" }) as object),
      usermeta,
    } as unknown as TopLevelSpec;
    const html = htmlPage({
      title: "usermeta",
      sections: [{ heading: "h", figures: [{ title: "f", spec: hostile }] }],
    });
    // Control: the same page with both protections undone (usermeta put back, the page script's
    // delete removed) shows the menu — so the check below can fail.
    const specJson = /<script type="application\/json" id="spec-0">(.*?)<\/script>/s.exec(html)?.[1] ?? "";
    const unprotected = html
      .replace(specJson, () => JSON.stringify({ ...JSON.parse(specJson), usermeta }).replace(/</g, "\\u003c"))
      .replace('if (spec !== null && typeof spec === "object") delete spec.usermeta;', "");
    expect(unprotected).not.toBe(html);
    const look = async (page: string, name: string) => {
      const file = join(dir, `${name}.html`);
      writeFileSync(file, page);
      const tab = await context!.newPage();
      await tab.goto(pathToFileURL(file).href, { waitUntil: "load" });
      await tab.waitForSelector('body[data-figures-rendered="true"]', { timeout: 10_000 });
      // A string expression: this file is type-checked without the DOM library.
      const seen = await tab.evaluate(`({
        actions: document.querySelectorAll(".vega-actions, details").length,
        hasActions: document.querySelectorAll(".has-actions").length,
        svg: document.querySelectorAll("#figure-0 svg").length,
        canvas: document.querySelectorAll("#figure-0 canvas").length,
        pwned: window.pwned ?? null,
      })`);
      await tab.close();
      return seen;
    };
    expect(await look(html, "usermeta")).toEqual({
      actions: 0,
      hasActions: 0,
      svg: 1,
      canvas: 0,
      pwned: null,
    });
    const control = (await look(unprotected, "usermeta-unprotected")) as {
      hasActions: number;
      canvas: number;
    };
    expect(control.hasActions).toBe(1);
    expect(control.canvas).toBe(1);
  });
});
