// Plugin authoring as README shows it: examples/plugin-hello's own `bun test` passes when run inside
// that folder (its tsconfig maps `lft/*` onto this repository), and a plugin written in an empty folder
// that imports the bare `lft` package (resolved through package.json's `exports`, with node_modules/lft
// linked to this repository as npm does for a `file:` dependency) is loaded by `use` and its metric,
// declaring `scale: 100`, prints like the built-in exact_match. Its package.json declares it, so
// `lft check` validates the recipe without running it.

import { afterAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../dsl/cli.ts";
import { captureIO, repoRoot } from "../dsl/helpers.ts";

const project = mkdtempSync(join(tmpdir(), "lft-empty-plugin-"));
afterAll(() => rmSync(project, { recursive: true, force: true }));

test("examples/plugin-hello's own bun test passes inside its folder", () => {
  const run = Bun.spawnSync([process.execPath, "test"], { cwd: join(repoRoot, "examples/plugin-hello") });
  const out = run.stdout.toString() + run.stderr.toString();
  expect(out).toContain("4 pass");
  expect(out).toContain("0 fail");
  expect(run.exitCode).toBe(0);
});

test("a plugin from an empty folder imports `lft`, checks from its declaration, loads with use, and its percent metric prints 100.00", async () => {
  // The "lft" field declares what the plugin provides, so `lft check` needs not run it.
  const lft = { entry: "./my-metric.ts", provides: { metrics: { always_one: { doc: "1 for any set" } } } };
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "my-project", private: true, dependencies: { lft: `file:${repoRoot}` }, lft }));
  mkdirSync(join(project, "node_modules"));
  symlinkSync(repoRoot, join(project, "node_modules", "lft"));
  writeFileSync(
    join(project, "my-metric.ts"),
    `import { definePlugin, type MetricEntry } from "lft";
const always: MetricEntry = { name: "always_one", doc: "1 for any set", scale: 100, compute: () => 1 };
export default definePlugin({ name: "my-metric", setup(api) { api.register.metrics(always); } });
`,
  );
  writeFileSync(join(project, "data.json"), JSON.stringify([{ instruction: "hi", output: "hello" }]));
  writeFileSync(
    join(project, "p.lft"),
    `use "./my-metric.ts"\nmodel llama "${repoRoot}/examples/models/stories260K" { template = default }\npredict "data.json" { metrics = [always_one, exact_match]  max_new_tokens = 2 }\n`,
  );
  const io = captureIO(project);
  expect(await main(["check", "p.lft"], io)).toBe(0);
  expect(io.err()).toBe("");
  const run = Bun.spawnSync([process.execPath, join(repoRoot, "dsl/cli.ts"), "run", "p.lft"], {
    cwd: project,
    env: { ...process.env, LFT_HISTORY: join(project, ".history") },
  });
  const out = run.stdout.toString() + run.stderr.toString();
  expect(out).toContain("always_one 100.00");
  expect(run.exitCode).toBe(0);
});
