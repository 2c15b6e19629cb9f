// Where a recipe's paths point: relative paths resolve against the recipe's directory, and a run
// writes under `runs/<recipe name>` there unless the train block names an output.
import { basename, extname, isAbsolute, relative, resolve } from "node:path";
import type { ResolvedRecipe, TrainAction } from "../../core/index.ts";

export function recipePath(recipe: Pick<ResolvedRecipe, "baseDir">, path: string): string {
  return isAbsolute(path) ? path : resolve(recipe.baseDir, path);
}

/** `runs/<recipe file stem>` beside the recipe (`runs/session` in the REPL). */
export function defaultRunDir(recipe: Pick<ResolvedRecipe, "baseDir" | "file">): string {
  const stem = basename(recipe.file, extname(recipe.file)).replace(/[^A-Za-z0-9._-]+/g, "") || "session";
  return resolve(recipe.baseDir, "runs", stem);
}

/** A path as messages show it: relative to the working directory when it lies below it. */
export function shown(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  return rel !== "" && !rel.startsWith("..") && !isAbsolute(rel) ? rel : path;
}

/** Where a train action writes its checkpoints and result: its `output`, or the recipe's default run folder. */
export function trainOutput(recipe: Pick<ResolvedRecipe, "baseDir" | "file">, action: TrainAction): string {
  const o = action.options.output;
  return typeof o === "string" ? recipePath(recipe, o) : defaultRunDir(recipe);
}
