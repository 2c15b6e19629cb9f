// `:save`: the session's recipe with its relative paths rewritten to resolve from the saved file's
// folder (recipes resolve paths from their own folder; the REPL from its working directory).

import { existsSync } from "node:fs";
import { dirname, isAbsolute, relative, resolve } from "node:path";
import type { Recipe, Statement, Value } from "../recipe";

/** Blocks whose header string is a path (chat's is a prompt). */
const pathBlocks = new Set(["model", "dataset", "export", "eval", "predict"]);

/**
 * The recipe as it reads from `file`'s folder. A relative string moves when it names something
 * that exists from `cwd`, or is an export's folder (which need not exist yet); hub ids and dataset
 * names that are not files stay as written, as do strings with `${...}` or escapes.
 */
export function rebaseRecipe(recipe: Recipe, cwd: string, file: string): Recipe {
  const to = dirname(resolve(cwd, file));
  const move = (value: Value & { kind: "string" }, always: boolean): Value & { kind: "string" } => {
    const raw = value.raw;
    if (raw === "" || isAbsolute(raw) || raw.includes("${") || raw.includes("\\") || raw.includes("://")) return value;
    const from = resolve(cwd, raw);
    if (!existsSync(from) && !always) return value;
    const moved = relative(to, from) || ".";
    return moved === raw ? value : { ...value, raw: moved };
  };
  const statements = recipe.statements.map((s): Statement => {
    if (s.kind === "use") return s.pkg.raw.startsWith(".") ? { ...s, pkg: move(s.pkg, true) } : s;
    if (s.kind === "let") return s.value.kind === "string" ? { ...s, value: move(s.value, false) } : s;
    if (s.source === undefined || !pathBlocks.has(s.block)) return s;
    return { ...s, source: move(s.source, s.block === "export") };
  });
  return { ...recipe, statements };
}
