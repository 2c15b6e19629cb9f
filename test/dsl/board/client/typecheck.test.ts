// The board client is browser code, type-checked with the DOM library by its own tsconfig (the
// project's leaves the DOM out); this keeps `make test` checking it, and checks the bundle builds.

import { expect, test } from "bun:test";
import { repoRoot } from "../../helpers.ts";

test("the board client type-checks against the DOM and bundles", async () => {
  const tsc = Bun.spawn([`${repoRoot}/node_modules/.bin/tsc`, "-p", `${repoRoot}/dsl/board/client`], { stdout: "pipe", stderr: "pipe" });
  const out = await new Response(tsc.stdout).text();
  expect(out).toBe("");
  expect(await tsc.exited).toBe(0);
  const build = await Bun.build({ entrypoints: [`${repoRoot}/dsl/board/client/main.ts`], target: "browser", minify: true });
  expect(build.success).toBe(true);
  const js = await build.outputs[0]!.text();
  // Served from the board itself: no module may be fetched from elsewhere at run time.
  expect(js).not.toMatch(/\bimport\s*\(|from\s*["']https?:/);
  expect(js.length).toBeGreaterThan(10_000);
}, 60_000);
