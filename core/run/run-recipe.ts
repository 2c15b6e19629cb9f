// The hand-off from whatever reads recipes (the DSL, `lft chat`) to whatever runs them: the `runRecipe`
// hook. The DSL only validates; a runner plugin (lft's is plugins/runner) registers on this hook and
// does the work. A contract in core, so readers and runners depend on core and not on each other.
//
// Contract: the hook gets a ResolvedRecipe and brings the session's live state (kept in
// `context.live` between calls: the loaded model, data, adapters) in line with its model, datasets
// and method, then runs its actions in order. The CLI calls it once per recipe; the REPL after every
// statement, with only that statement's action (or none, for a declaration). A runner returns
// undefined to pass (another runner may take the recipe), or an outcome.

import { ExitCode } from "../command/exit-codes.ts";
import type { CommandIO } from "../registry/collections.ts";
import type { FirstHook } from "../registry/hooks.ts";
import type { Registry } from "../registry/registry.ts";
import type { ResolvedRecipe } from "./recipe.ts";

export interface RunContext {
  readonly io: CommandIO;
  /** Survives between calls in one REPL session (one call for `lft recipe.lft`); the runner owns its keys. */
  readonly live: Map<string, unknown>;
  /** Aborted on Ctrl-C; a runner stops at the next step boundary and reports "interrupted". */
  readonly signal: AbortSignal;
  /** The session's registry (families, formats, templates, methods, stages, metrics); runRecipe fills it in. */
  readonly registry?: Registry;
  /**
   * Reads one line the user types (an interactive `chat`), or undefined when they leave (Ctrl-D,
   * Ctrl-C, end of input). The REPL passes its own line editor so the terminal has one reader;
   * without it a runner reads stdin.
   */
  readonly readLine?: (prompt: string) => Promise<string | undefined>;
}

export type RunOutcome =
  | { readonly status: "completed"; readonly message?: string }
  /** `code`: the exit status when it is not "the run failed" (6), e.g. 5 for an output folder in use. */
  | { readonly status: "failed"; readonly message: string; readonly code?: ExitCode }
  | { readonly status: "interrupted" };

declare module "../registry/hooks.ts" {
  interface HookTypes {
    /** First runner to return an outcome runs the recipe; declared by the DSL's plugin. */
    runRecipe: FirstHook<[ResolvedRecipe, RunContext], RunOutcome>;
  }
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
        `${what === "" ? "" : ` (needed for: ${what})`}. lft's own runner is the built-in plugin lft-runner; a session without it can still \`lft check\` recipes.\n`,
    );
    return ExitCode.notAvailable;
  }
  if (outcome.status === "failed") {
    context.io.stderr(`${recipe.file}: run failed: ${outcome.message}\n`);
    return outcome.code ?? ExitCode.runFailed;
  }
  if (outcome.status === "interrupted") {
    context.io.stderr(`${recipe.file}: interrupted\n`);
    return ExitCode.interrupted;
  }
  if (outcome.message !== undefined) context.io.stdout(`${outcome.message}\n`);
  return ExitCode.ok;
}
