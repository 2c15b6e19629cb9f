// The run contract (RunContext, RunOutcome, the `runRecipe` hook and its caller) lives in core
// (core/run/run-recipe.ts); re-exported here for the DSL. What the REPL reads from a session's live state:

export { type RunContext, type RunOutcome, runRecipe } from "../core/index.ts";

/** What the REPL and `:params` read from `live`, when a runner put a model there (core/nn's Module fits). */
export interface LiveModel {
  namedParameters(): Iterable<readonly [string, { readonly shape: readonly number[]; readonly dtype: string; readonly requiresGrad?: boolean }]>;
}

export function liveModel(live: ReadonlyMap<string, unknown>): LiveModel | undefined {
  const model = live.get("model");
  const fits = typeof model === "object" && model !== null && typeof (model as { namedParameters?: unknown }).namedParameters === "function";
  return fits ? (model as LiveModel) : undefined;
}
