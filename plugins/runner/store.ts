// The run store for a session: `<cwd>/.lft/runs.sqlite`, what a train action records into it (the
// recipe's text, its settings, the git revision read from .git without running git), and where the
// store is for messages.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { ResolvedRecipe } from "../../core/index.ts";
import { type RunInfo, RunStore } from "../../core/index.ts";

export function storePath(cwd: string): string {
  return join(cwd, ".lft", "runs.sqlite");
}

export function openStore(cwd: string): ReturnType<typeof RunStore.open> {
  return RunStore.open(storePath(cwd));
}

/** The recipe's text when it is a file; its resolved form otherwise (the REPL). */
function recipeText(recipe: ResolvedRecipe, cwd: string): string {
  const file = resolve(cwd, recipe.file);
  try {
    if (existsSync(file)) return readFileSync(file, "utf8");
  } catch {
    // unreadable now: fall through to the resolved form
  }
  return JSON.stringify(recipe, null, 2);
}

/** HEAD's commit, read from the nearest .git folder above `dir`; undefined outside a repository. */
export function gitRevision(dir: string): string | undefined {
  for (let d = resolve(dir); ; d = dirname(d)) {
    const git = join(d, ".git");
    if (existsSync(join(git, "HEAD"))) {
      try {
        const head = readFileSync(join(git, "HEAD"), "utf8").trim();
        if (!head.startsWith("ref: ")) return head;
        const ref = head.slice(5);
        if (existsSync(join(git, ref))) return readFileSync(join(git, ref), "utf8").trim();
        const packed = existsSync(join(git, "packed-refs")) ? readFileSync(join(git, "packed-refs"), "utf8") : "";
        return packed
          .split("\n")
          .find((l) => l.endsWith(` ${ref}`))
          ?.split(" ")[0];
      } catch {
        return undefined;
      }
    }
    if (dirname(d) === d) return undefined;
  }
}

export function runInfo(recipe: ResolvedRecipe, cwd: string, name: string, config: Readonly<Record<string, unknown>>): RunInfo {
  const revision = gitRevision(recipe.baseDir);
  return { name, recipe: recipeText(recipe, cwd), config, ...(revision === undefined ? {} : { gitRevision: revision }) };
}
