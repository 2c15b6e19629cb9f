// Loading plugin packages into a session's registry: the `use "package"` statements of a recipe, and
// the project's list (`"lft": { "plugins": [...] }` in package.json, or `[lft] plugins = [...]` in
// bunfig.toml). Every failure is a diagnostic naming the package.

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { PluginError, Registry } from "../core/index.ts";
import { type Diagnostic, error } from "./diagnostics";
import type { Recipe } from "./recipe";

/** Loads each `use` of the recipe, resolving names from `from` (the recipe's directory). */
export async function loadUses(recipe: Recipe, registry: Registry, from: string): Promise<Diagnostic[]> {
  const problems: Diagnostic[] = [];
  for (const statement of recipe.statements) {
    if (statement.kind !== "use") continue;
    const spec = statement.pkg.raw;
    if (spec.includes("${") || spec.includes("\\")) {
      problems.push(error("semantic", recipe.file, statement.pkg.span, "use takes the package name as written, without ${...} or escapes"));
      continue;
    }
    const loaded = await loadPackage(registry, spec, from);
    if (loaded !== undefined) problems.push(error("plugin", recipe.file, statement.pkg.span, `use "${spec}": ${loaded.message}`));
  }
  return problems;
}

/** The project's plugin list, loaded from `cwd`; problems are reported against the file that named them. */
export async function loadProjectPlugins(registry: Registry, cwd: string): Promise<Diagnostic[]> {
  const problems: Diagnostic[] = [];
  for (const { file, specs } of projectPluginLists(cwd, problems)) {
    for (const spec of specs) {
      const failed = await loadPackage(registry, spec, cwd);
      if (failed !== undefined) problems.push(error("plugin", file, undefined, `plugin "${spec}": ${failed.message}`));
    }
  }
  return problems;
}

/**
 * Loads a package unless the same module is already loaded (a recipe may `use` what package.json
 * already lists, and the REPL may see the same `use` twice). Returns the error, if any.
 */
async function loadPackage(registry: Registry, spec: string, from: string): Promise<PluginError | undefined> {
  let resolved: string | undefined;
  try {
    resolved = Bun.resolveSync(spec, from);
  } catch {
    resolved = undefined; // loadPluginPackage reports it with its own message
  }
  if (resolved !== undefined && registry.plugins().some((p) => p.source === resolved)) return undefined;
  const result = await registry.loadPluginPackage(spec, { from });
  return result.isErr() ? result.error : undefined;
}

function projectPluginLists(cwd: string, problems: Diagnostic[]): { file: string; specs: string[] }[] {
  const lists: { file: string; specs: string[] }[] = [];
  const read = (name: string, parse: (text: string) => unknown): void => {
    const path = join(cwd, name);
    if (!existsSync(path)) return;
    let config: unknown;
    try {
      config = parse(readFileSync(path, "utf8"));
    } catch (cause) {
      problems.push(error("plugin", name, undefined, `cannot read the plugin list: ${cause instanceof Error ? cause.message : String(cause)}`));
      return;
    }
    const plugins = (config as { lft?: { plugins?: unknown } } | null)?.lft?.plugins;
    if (plugins === undefined) return;
    if (!Array.isArray(plugins) || !plugins.every((p) => typeof p === "string")) {
      problems.push(error("plugin", name, undefined, "lft.plugins must be a list of package names"));
      return;
    }
    lists.push({ file: name, specs: plugins });
  };
  read("package.json", (text) => JSON.parse(text));
  read("bunfig.toml", (text) => Bun.TOML.parse(text));
  return lists;
}
