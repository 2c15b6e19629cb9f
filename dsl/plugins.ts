// Loading plugin packages into a session's registry: the `use "package"` statements of a recipe, and
// the project's list (`"lft": { "plugins": [...] }` in package.json, or `[lft] plugins = [...]` in
// bunfig.toml). Every failure is a diagnostic naming the package.
//
// Two modes. "import" (runs, train, the REPL's statements) imports the package, i.e. runs its code,
// and then holds what it registered against its package.json declaration. "declare" (lft check, fmt,
// plugins and :check without --trust) runs nothing: it registers the declaration of the package's
// package.json (plugin-declaration.ts), or warns that without one its names cannot be checked.

import { existsSync } from "node:fs";
import { join } from "node:path";
import { declarationMismatches, type PluginError, type Registry } from "../core/index.ts";
import { type Diagnostic, error, type Span } from "./diagnostics";
import { findDeclaration, readManifest, registerDeclaration } from "./plugin-declaration";
import type { Recipe } from "./recipe";

/** "import" runs a package's code; "declare" only reads its package.json. */
export type PluginMode = "import" | "declare";

/** Loads each `use` of the recipe, resolving names from `from` (the recipe's directory). */
export async function loadUses(recipe: Recipe, registry: Registry, from: string, mode: PluginMode = "import"): Promise<Diagnostic[]> {
  const problems: Diagnostic[] = [];
  for (const statement of recipe.statements) {
    if (statement.kind !== "use") continue;
    const spec = statement.pkg.raw;
    if (spec.includes("${") || spec.includes("\\")) {
      problems.push(error("semantic", recipe.file, statement.pkg.span, "use takes the package name as written, without ${...} or escapes"));
      continue;
    }
    problems.push(...(await loadOne(registry, spec, from, mode, recipe.file, statement.pkg.span, `use "${spec}"`)));
  }
  return problems;
}

/** The project's plugin list, loaded from `cwd`; problems are reported against the file that named them. */
export async function loadProjectPlugins(registry: Registry, cwd: string, mode: PluginMode = "import"): Promise<Diagnostic[]> {
  const problems: Diagnostic[] = [];
  for (const { file, specs } of projectPluginLists(cwd, problems)) {
    for (const spec of specs) problems.push(...(await loadOne(registry, spec, cwd, mode, file, undefined, `plugin "${spec}"`)));
  }
  return problems;
}

async function loadOne(
  registry: Registry,
  spec: string,
  from: string,
  mode: PluginMode,
  file: string,
  span: Span | undefined,
  what: string,
): Promise<Diagnostic[]> {
  if (mode === "declare") {
    const declared = registerDeclaration(registry, spec, from);
    if (declared === "ok") return [];
    return [{ ...error("plugin", file, span, `${what}: ${declared.message}`), severity: declared.severity }];
  }
  const loaded = await loadPackage(registry, spec, from);
  if (loaded === undefined) return [];
  if (loaded instanceof Error) return [error("plugin", file, span, `${what}: ${loaded.message}`)];
  return loaded.map((m) => error("plugin", file, span, `${what}: ${m}`));
}

/**
 * Loads a package unless the same module is already loaded (a recipe may `use` what package.json
 * already lists, and the REPL may see the same `use` twice). Returns the error, or where what it
 * registered differs from its package.json declaration.
 */
async function loadPackage(registry: Registry, spec: string, from: string): Promise<PluginError | string[] | undefined> {
  let resolved: string | undefined;
  try {
    resolved = Bun.resolveSync(spec, from);
  } catch {
    resolved = undefined; // loadPluginPackage reports it with its own message
  }
  if (resolved !== undefined && registry.plugins().some((p) => p.source === resolved)) return undefined;
  const result = await registry.loadPluginPackage(spec, { from });
  if (result.isErr()) return result.error;
  const found = resolved === undefined ? undefined : findDeclaration(spec, resolved);
  if (found === undefined || found.kind === "undeclared") return undefined;
  if (found.kind === "bad") return [found.why];
  const { declaration, file } = found;
  const mismatches = declarationMismatches(declaration, result.value, (collection, name) =>
    registry
      .get(collection, name)
      .map((e) => e.options)
      .unwrapOr(undefined),
  );
  return mismatches.length === 0
    ? undefined
    : [
        `the plugin does not match the "lft" declaration in ${file}: ${mismatches.join("; ")}; update the declaration (lft check reads it instead of running the package)`,
      ];
}

function projectPluginLists(cwd: string, problems: Diagnostic[]): { file: string; specs: string[] }[] {
  const lists: { file: string; specs: string[] }[] = [];
  const read = (name: string, parse: (text: string) => unknown): void => {
    const path = join(cwd, name);
    if (!existsSync(path)) return;
    const read = readManifest(path);
    if ("problem" in read) {
      problems.push(error("plugin", name, undefined, `cannot read the plugin list: ${read.problem}`));
      return;
    }
    let config: unknown;
    try {
      config = parse(read.text);
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
