// The board's client, served from memory: dsl/board/client/main.ts bundled by Bun.build at start
// (no CDN, nothing fetched), beside index.html and app.css read from the same folder.

import { readFileSync } from "node:fs";
import { join } from "node:path";

export interface StaticFiles {
  readonly html: string;
  readonly js: string;
  readonly css: string;
}

export const clientDir = join(import.meta.dir, "..", "client");

function readOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return fallback;
  }
}

/** Bundles the client; a build failure is reported as the script's text so the board still starts. */
export async function buildClient(dir = clientDir): Promise<StaticFiles> {
  const html = readOr(
    join(dir, "index.html"),
    '<!doctype html><meta charset="utf-8"><title>lft board</title><div id="app"></div><script type="module" src="/app.js"></script>',
  );
  const css = readOr(join(dir, "app.css"), "");
  let js: string;
  try {
    const built = await Bun.build({ entrypoints: [join(dir, "main.ts")], target: "browser", minify: true, format: "esm" });
    const output = built.outputs[0];
    js = built.success && output !== undefined ? await output.text() : failedScript(built.logs.map((l) => String(l.message ?? l)).join("\n"));
  } catch (cause) {
    js = failedScript(cause instanceof Error ? cause.message : String(cause));
  }
  return { html, js, css };
}

function failedScript(why: string): string {
  return `document.body.textContent = ${JSON.stringify(`lft board: the client did not build: ${why}`)};`;
}
