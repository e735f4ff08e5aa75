/**
 * One self-contained, offline HTML page of interactive figures and tables (`softcal show`,
 * `softcal report`): vega, vega-lite and vega-embed are inlined from their built bundles in
 * node_modules, specs are embedded as JSON, and a Content-Security-Policy forbids every network
 * request (no src/href points outside the page). The page is ~850 KB plus the data.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { TopLevelSpec } from "vega-lite";

/** A figure of an HTML page: a caption and a vega-lite spec (data inline). */
export interface HtmlFigure {
  title: string;
  spec: TopLevelSpec;
}

/** A plain HTML table; numbers are shown with up to 6 significant digits, null as "—". */
export interface HtmlTable {
  caption: string;
  columns: string[];
  rows: (string | number | null)[][];
}

/** A section of an HTML page: a heading, its figures, then its tables. */
export interface HtmlSection {
  heading: string;
  figures: HtmlFigure[];
  tables?: HtmlTable[];
}

/** What {@link htmlPage} draws. */
export interface HtmlPageContent {
  /** Page title (also the `<h1>`). */
  title: string;
  /** Optional paragraph under the title (plain text). */
  intro?: string;
  sections: HtmlSection[];
}

const require = createRequire(import.meta.url);

/** The three bundles, in load order: vega, then vega-lite (needs vega), then vega-embed. */
const BUNDLES = [
  { pkg: "vega", file: "build/vega.min.js" },
  { pkg: "vega-lite", file: "build/vega-lite.min.js" },
  { pkg: "vega-embed", file: "build/vega-embed.min.js" },
] as const;

/**
 * The root folder of an installed package. Their `exports` hide `package.json` and the UMD
 * builds, so resolve the main entry and walk up to the `package.json` that names the package.
 */
function packageRoot(pkg: string): string {
  let dir = dirname(require.resolve(pkg));
  for (;;) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest)) {
      const name = (JSON.parse(readFileSync(manifest, "utf8")) as { name?: string }).name;
      if (name === pkg) return dir;
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`htmlPage: cannot find the package root of "${pkg}"`);
    dir = up;
  }
}

/**
 * Makes JavaScript safe inside `<script>…</script>`: `</script` becomes `<\/script` (the same
 * string wherever it can occur in JS: a string, template or regex literal). `<!--` would switch the
 * HTML parser into its "escaped" state and has no such safe rewrite, so it is refused.
 */
export function escapeInlineScript(js: string): string {
  if (/<!--/.test(js))
    throw new Error("htmlPage: a script to inline contains '<!--'; cannot inline it safely");
  return js.replace(/<\/(script)/gi, "<\\/$1");
}

/**
 * JSON safe inside `<script type="application/json">`: every `<` (only possible inside JSON
 * strings) becomes `\u003c`, so no `</script>` or `<!--` survives; U+2028/2029 are escaped too.
 */
export function escapeJsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

let bundleCache: string | undefined;

/** The three bundles' source, escaped and concatenated into script elements (read once). */
function inlinedBundles(): string {
  if (bundleCache === undefined) {
    bundleCache = BUNDLES.map(({ pkg, file }) => {
      const path = join(packageRoot(pkg), file);
      if (!existsSync(path)) throw new Error(`htmlPage: ${pkg} bundle not found at ${path}`);
      return `<script data-bundle="${pkg}">\n${escapeInlineScript(readFileSync(path, "utf8"))}\n</script>`;
    }).join("\n");
  }
  return bundleCache;
}

/** Escapes text for HTML element content and double-quoted attributes. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

/** A table cell's text: numbers to ≤ 6 significant digits (integers as they are), null → "—". */
function cellText(v: string | number | null): string {
  if (v === null) return "—";
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
  return v;
}

function tableHtml(t: HtmlTable, where: string): string {
  t.rows.forEach((r, i) => {
    if (r.length !== t.columns.length) {
      throw new RangeError(
        `htmlPage: ${where} row ${i} must have ${t.columns.length} cells (one per column); got ${r.length}`,
      );
    }
  });
  const head = t.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join("");
  const body = t.rows
    .map(
      (r) =>
        `<tr>${r.map((v) => `<td${typeof v === "number" ? ' class="num"' : v === null ? ' class="na"' : ""}>${escapeHtml(cellText(v))}</td>`).join("")}</tr>`,
    )
    .join("\n");
  return `<div class="table-wrap"><table>\n<caption>${escapeHtml(t.caption)}</caption>\n<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody></table></div>`;
}

/** No network at all: scripts and styles inline only, images and fonts from data:/blob: only. */
const CSP =
  "default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; " +
  "img-src data: blob:; font-src data:; connect-src 'none'; form-action 'none'; base-uri 'none'";

const STYLE = `
body { font-family: "DejaVu Sans", Verdana, system-ui, sans-serif; margin: 0 auto; max-width: 1500px;
  padding: 16px 28px 48px; color: #222; background: #fff; }
h1 { font-size: 26px; margin: 8px 0 4px; }
h2 { font-size: 20px; margin: 36px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
nav ol { columns: 2; font-size: 14px; }
.intro { color: #444; max-width: 70em; }
.figures { display: flex; flex-wrap: wrap; gap: 20px 28px; align-items: flex-start; }
figure { margin: 0; }
figcaption { font-size: 12px; color: #666; margin-top: 2px; }
.vega-figure { min-width: 200px; min-height: 120px; }
.vega-figure[data-rendered="error"] { color: #b00; font-family: monospace; white-space: pre-wrap; }
.table-wrap { overflow-x: auto; margin: 16px 0; }
table { border-collapse: collapse; font-size: 13px; }
caption { text-align: left; font-weight: bold; padding: 4px 0; }
th, td { border-bottom: 1px solid #e3e3e3; padding: 3px 10px; text-align: left; }
th { background: #f4f4f4; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.na { color: #aaa; text-align: center; }
footer { margin-top: 40px; font-size: 12px; color: #888; }
`;

/**
 * The options every figure is embedded with. A spec's `usermeta.embedOptions` would be merged over
 * them by vega-embed (its options win over the page's), re-enabling the actions menu whose "View
 * Source" writes the spec's `sourceHeader` into a page as HTML: specs come from run folders, which
 * are untrusted, so {@link htmlPage} strips `usermeta` and the page script deletes it again.
 */
export const EMBED_OPTIONS = { actions: false, renderer: "svg", mode: "vega-lite" } as const;

/** A spec without its top-level `usermeta` (the only place vega-embed reads embed options from). */
export function withoutUsermeta(spec: TopLevelSpec): TopLevelSpec {
  if (spec === null || typeof spec !== "object" || !Object.hasOwn(spec, "usermeta")) return spec;
  const { usermeta: _dropped, ...rest } = spec as TopLevelSpec & { usermeta?: unknown };
  return rest as TopLevelSpec;
}

/** Renders every figure with vega-embed; records success or the error on the container. */
const BOOT = `
(function () {
  var figures = document.querySelectorAll(".vega-figure[data-spec]");
  var pending = figures.length;
  function done() { if (--pending === 0) document.body.setAttribute("data-figures-rendered", "true"); }
  if (pending === 0) document.body.setAttribute("data-figures-rendered", "true");
  figures.forEach(function (el) {
    var spec;
    try { spec = JSON.parse(document.getElementById(el.getAttribute("data-spec")).textContent); }
    catch (err) { el.setAttribute("data-rendered", "error"); el.textContent = "bad spec: " + err; console.error(err); done(); return; }
    if (spec !== null && typeof spec === "object") delete spec.usermeta; // the page's options win
    vegaEmbed(el, spec, ${JSON.stringify(EMBED_OPTIONS)}).then(function () {
      el.setAttribute("data-rendered", "true"); done();
    }).catch(function (err) {
      el.setAttribute("data-rendered", "error");
      el.textContent = "This figure failed to render: " + err;
      console.error(err); done();
    });
  });
})();
`;

/**
 * Builds one self-contained offline HTML page of sections with interactive figures (vega-embed,
 * SVG renderer, no action menu: {@link EMBED_OPTIONS}) and plain tables. Each spec's top-level
 * `usermeta` is dropped ({@link withoutUsermeta}), so no spec can change the page's embed options.
 *
 * Offline by construction: vega, vega-lite and vega-embed are inlined from
 * `node_modules/{vega,vega-lite,vega-embed}/build/*.min.js` (read once per process), every spec is
 * inlined as JSON, no element has an external `src`/`href`, and a Content-Security-Policy meta tag
 * blocks every network request. Inlined code has `</script` escaped; JSON has every `<` escaped.
 * When rendered, each figure container gets `data-rendered="true"` (or `"error"` with the message
 * shown in place and logged to the console), and `<body>` gets `data-figures-rendered="true"` once
 * all have settled. The output is deterministic (no timestamps).
 *
 * @param content `{ title, intro?, sections: [{ heading, figures: [{ title, spec }], tables? }] }`.
 * @returns The HTML document (~850 KB of libraries plus the specs' data).
 * @throws RangeError when a table row's length differs from its columns'; Error when a bundle is
 *   missing from node_modules.
 * Cost: O(size of specs and tables) after the first call (~1 ms to read the bundles).
 * @example
 * writeFileSync("report.html", htmlPage({
 *   title: "softcal report",
 *   sections: [{ heading: "baseline", figures: [{ title: "reliability", spec }] }],
 * }));
 */
export function htmlPage(content: HtmlPageContent): string {
  let figureId = 0;
  const specs: string[] = [];
  const sectionsHtml = content.sections.map((section, s) => {
    const figures = section.figures.map((f) => {
      const id = figureId++;
      specs.push(
        `<script type="application/json" id="spec-${id}">${escapeJsonForScript(withoutUsermeta(f.spec))}</script>`,
      );
      return `<figure><div class="vega-figure" id="figure-${id}" data-spec="spec-${id}"></div><figcaption>${escapeHtml(f.title)}</figcaption></figure>`;
    });
    const tables = (section.tables ?? []).map((t, i) => tableHtml(t, `section ${s} table ${i}`));
    return [
      `<section id="section-${s}">`,
      `<h2>${escapeHtml(section.heading)}</h2>`,
      figures.length > 0 ? `<div class="figures">\n${figures.join("\n")}\n</div>` : "",
      ...tables,
      "</section>",
    ]
      .filter((x) => x !== "")
      .join("\n");
  });
  const nav =
    content.sections.length > 1
      ? `<nav><ol>${content.sections.map((s, i) => `<li><a href="#section-${i}">${escapeHtml(s.heading)}</a></li>`).join("")}</ol></nav>`
      : "";
  return [
    "<!DOCTYPE html>",
    '<html lang="en">',
    "<head>",
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${CSP}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="generator" content="softcal">',
    `<title>${escapeHtml(content.title)}</title>`,
    `<style>${STYLE}</style>`,
    "</head>",
    "<body>",
    `<h1>${escapeHtml(content.title)}</h1>`,
    content.intro === undefined ? "" : `<p class="intro">${escapeHtml(content.intro)}</p>`,
    nav,
    "<noscript>The figures need JavaScript (inlined in this file; nothing is downloaded).</noscript>",
    ...sectionsHtml,
    "<footer>Generated by softcal. Self-contained: vega, vega-lite and vega-embed are inlined; works offline.</footer>",
    ...specs,
    inlinedBundles(),
    `<script>${BOOT}</script>`,
    "</body>",
    "</html>",
    "",
  ]
    .filter((x) => x !== "")
    .join("\n");
}
