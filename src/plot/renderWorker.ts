/**
 * A render pool's worker thread (renderPool.ts): renders each vega-lite spec it is sent and posts
 * back the SVG and PNG (the PNG's bytes transferred), or the error's message.
 */
import { parentPort } from "node:worker_threads";
import { renderFigure } from "./render.js";
import type { RenderReply } from "./renderPool.js";

const port = parentPort;
if (port) {
  port.on("message", (spec: Parameters<typeof renderFigure>[0]) => {
    renderFigure(spec).then(
      ({ svg, png }) => port.postMessage({ svg, png } satisfies RenderReply, [png.buffer as ArrayBuffer]),
      (err: unknown) =>
        port.postMessage({ error: err instanceof Error ? err.message : String(err) } satisfies RenderReply),
    );
  });
}
