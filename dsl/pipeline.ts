// Recipe file → checked recipe, the path every verb shares: read, parse, apply --set, load the
// `use`d plugins, check against the registry. Every stage's diagnostics are kept, so one run shows
// syntax, plugin and semantic problems together.

import { readFileSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { err, ok, type Result } from "neverthrow";
import type { Registry } from "../core/index.ts";
import { type Checked, checkRecipe } from "./check";
import { type Diagnostic, error, isError } from "./diagnostics";
import { applyOverrides, overridesFile, overridesSource } from "./overrides";
import { maxRecipeBytes, parseSource } from "./parse";
import { loadUses, type PluginMode } from "./plugins";
import type { Recipe } from "./recipe";

export interface Loaded {
  readonly recipe: Recipe;
  readonly checked: Checked;
  /** File name → text, for showing source lines under diagnostics. */
  readonly sources: Map<string, string>;
}

export interface Failed {
  readonly diagnostics: readonly Diagnostic[];
  readonly sources: Map<string, string>;
}

export function readSource(path: string, cwd: string): Result<string, Diagnostic> {
  try {
    const size = statSync(resolve(cwd, path)).size;
    if (size > maxRecipeBytes)
      return err(error("syntax", path, undefined, `the recipe is ${(size / 2 ** 20).toFixed(1)} MiB; recipes are at most ${maxRecipeBytes / 2 ** 20} MiB`));
    return ok(readFileSync(resolve(cwd, path), "utf8"));
  } catch (cause) {
    const code = (cause as { code?: string }).code;
    const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory" : cause instanceof Error ? cause.message : String(cause);
    return err(error("io", path, undefined, `cannot read: ${why}`));
  }
}

/** `path` as the user wrote it (diagnostics show it), resolved against `cwd`. */
/** `mode` "declare" (read-only verbs) reads `use` packages' declarations instead of importing them. */
export async function loadRecipeFile(
  path: string,
  registry: Registry,
  cwd: string,
  sets: readonly string[] = [],
  mode: PluginMode = "import",
): Promise<Result<Loaded, Failed>> {
  const sources = new Map<string, string>();
  const text = readSource(path, cwd);
  if (text.isErr()) return err({ diagnostics: [text.error], sources });
  sources.set(path, text.value);
  if (sets.length > 0) sources.set(overridesFile, overridesSource(sets));
  const baseDir = dirname(resolve(cwd, path));
  const result = await checkSource(text.value, path, registry, baseDir, sets, mode);
  return result.isOk() ? ok({ ...result.value, sources }) : err({ diagnostics: result.error, sources });
}

/** The same pipeline for text in hand (the REPL's statements, tests). */
export async function checkSource(
  text: string,
  file: string,
  registry: Registry,
  baseDir: string,
  sets: readonly string[] = [],
  mode: PluginMode = "import",
): Promise<Result<{ recipe: Recipe; checked: Checked }, Diagnostic[]>> {
  const parsed = parseSource(text, file);
  const diagnostics: Diagnostic[] = [...parsed.diagnostics];
  let recipe = parsed.recipe;
  const overridden = applyOverrides(recipe, sets);
  if (overridden.isErr()) diagnostics.push(...overridden.error);
  else recipe = overridden.value;
  const uses = await loadUses(recipe, registry, baseDir, mode);
  diagnostics.push(...uses);
  const checked = checkRecipe(recipe, { registry, baseDir, partial: diagnostics.some(isError) });
  if (checked.isErr()) return err([...diagnostics, ...pointAtUnimported(checked.error, uses)]);
  if (diagnostics.some(isError)) return err([...diagnostics, ...checked.value.warnings]);
  return ok({ recipe, checked: { ...checked.value, warnings: [...diagnostics, ...checked.value.warnings] } });
}

/**
 * A name no plugin provides while some `use` package was left unimported (a read-only verb without
 * --trust warned about it): say that it may come from there.
 */
function pointAtUnimported(problems: readonly Diagnostic[], uses: readonly Diagnostic[]): Diagnostic[] {
  const unimported = uses.filter((d) => d.kind === "plugin" && d.severity === "warning" && d.span !== undefined);
  if (unimported.length === 0) return [...problems];
  const lines = unimported.map((d) => `line ${d.span!.line}`).join(", ");
  const hint = `; it may come from a use package that was not imported (${lines}): check with --trust to import it`;
  return problems.map((d) => (d.kind === "unavailable" ? { ...d, message: `${d.message}${hint}` } : d));
}
