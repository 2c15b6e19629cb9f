// Plugins a project lists for every recipe: "lft": { "plugins": [...] } in package.json, or
// [lft] plugins = [...] in bunfig.toml; a bad list is reported against the file that holds it.

import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRegistry } from "../../core/index.ts";
import { loadProjectPlugins } from "../../dsl/plugins.ts";
import { repoRoot } from "./helpers.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "lft-project-"));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const fixture = `${repoRoot}/test/dsl/fixtures/fake-no-runner.ts`;

test("bunfig.toml [lft] plugins are loaded", async () => {
  const registry = createRegistry();
  const problems = await loadProjectPlugins(registry, project({ "bunfig.toml": `[lft]\nplugins = ["${fixture}"]\n` }));
  expect(problems).toEqual([]);
  expect(registry.plugins().map((p) => p.name)).toEqual(["fake-no-runner"]);
});

test("package.json lft.plugins: a missing package and a malformed list are reported", async () => {
  const registry = createRegistry();
  const missing = await loadProjectPlugins(registry, project({ "package.json": JSON.stringify({ lft: { plugins: ["lft-plugin-absent"] } }) }));
  expect(missing.map((d) => `${d.file}: ${d.kind}: ${d.message.split(":")[0]}`)).toEqual(['package.json: plugin: plugin "lft-plugin-absent"']);
  const malformed = await loadProjectPlugins(registry, project({ "package.json": JSON.stringify({ lft: { plugins: "lft-plugin-absent" } }) }));
  expect(malformed.map((d) => d.message)).toEqual(["lft.plugins must be a list of package names"]);
  const broken = await loadProjectPlugins(registry, project({ "package.json": "{ not json" }));
  expect(broken[0]?.message).toStartWith("cannot read the plugin list:");
});

test("no list, no plugins", async () => {
  const registry = createRegistry();
  expect(await loadProjectPlugins(registry, project({ "package.json": "{}" }))).toEqual([]);
  expect(registry.plugins()).toEqual([]);
});
