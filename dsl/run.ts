// The hand-off from the language to whatever runs recipes: the `runRecipe` hook. The DSL only
// validates; a runner plugin (the trainer, when it exists) registers on this hook and does the work.
//
// Contract: the hook gets a ResolvedRecipe and brings the session's live state (kept in
// `context.live` between calls: the loaded model, data, adapters) in line with its model, datasets
// and method, then runs its actions in order. The CLI calls it once per recipe; the REPL after every
// statement, with only that statement's action (or none, for a declaration). A runner returns
// undefined to pass (another runner may take the recipe), or an outcome.

import type { CommandIO, FirstHook, Registry } from "../core/index.ts";
import { ExitCode } from "./exit-codes";
import type { ResolvedRecipe } from "./recipe";

export interface RunContext {
  readonly io: CommandIO;
  /** Survives between calls in one REPL session (one call for `lft recipe.lft`); the runner owns its keys. */
  readonly live: Map<string, unknown>;
  /** Aborted on Ctrl-C; a runner stops at the next step boundary and reports "interrupted". */
  readonly signal: AbortSignal;
  /** The session's registry (families, formats, templates, methods, stages, metrics); runRecipe fills it in. */
  readonly registry?: Registry;
}

export type RunOutcome =
  | { readonly status: "completed"; readonly message?: string }
  | { readonly status: "failed"; readonly message: string }
  | { readonly status: "interrupted" };

declare module "../core/index.ts" {
  interface HookTypes {
    /** First runner to return an outcome runs the recipe; declared by the DSL's plugin. */
    runRecipe: FirstHook<[ResolvedRecipe, RunContext], RunOutcome>;
  }
}

/** What the REPL and `:params` read from `live`, when a runner put a model there (core/nn's Module fits). */
export interface LiveModel {
  namedParameters(): Iterable<readonly [string, { readonly shape: readonly number[]; readonly dtype: string; readonly requiresGrad?: boolean }]>;
}

export function liveModel(live: ReadonlyMap<string, unknown>): LiveModel | undefined {
  const model = live.get("model");
  const fits = typeof model === "object" && model !== null && typeof (model as { namedParameters?: unknown }).namedParameters === "function";
  return fits ? (model as LiveModel) : undefined;
}

/** Runs a checked recipe through the hook; the exit status says how it went. */
export async function runRecipe(recipe: ResolvedRecipe, registry: Registry, context: RunContext): Promise<ExitCode> {
  const result = await registry.callFirst("runRecipe", recipe, { ...context, registry });
  if (result.isErr()) {
    context.io.stderr(`error: ${result.error.message}\n`);
    return ExitCode.runFailed;
  }
  const outcome = result.value;
  if (outcome === undefined) {
    const what = recipe.actions.map((a) => (a.action === "train" ? `train ${a.stage}` : a.action)).join(", ");
    context.io.stderr(
      `${recipe.file}: the recipe is valid, but nothing can run it: no loaded plugin handles runRecipe` +
        `${what === "" ? "" : ` (needed for: ${what})`}. lft's trainer is not built yet; \`lft check\` validates recipes meanwhile.\n`,
    );
    return ExitCode.notAvailable;
  }
  if (outcome.status === "failed") {
    context.io.stderr(`${recipe.file}: run failed: ${outcome.message}\n`);
    return ExitCode.runFailed;
  }
  if (outcome.status === "interrupted") {
    context.io.stderr(`${recipe.file}: interrupted\n`);
    return ExitCode.interrupted;
  }
  if (outcome.message !== undefined) context.io.stdout(`${outcome.message}\n`);
  return ExitCode.ok;
}
