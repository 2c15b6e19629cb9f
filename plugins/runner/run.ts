// The runRecipe hook: bring the session's live state in line with the recipe's model and method
// blocks (load once, reload only when they change), then run the actions in order. The first
// failure ends the run with its message; an abort ends it as "interrupted" at the next boundary.
// Train actions' output folders are locked for the whole run (output-locks.ts).
import { err, ok, type Result } from "neverthrow";
import type { Action, ModelBlock, OutputLock, Registry, ResolvedRecipe, RunContext, RunOutcome } from "../../core/index.ts";
import { ExitCode, MemoryLimitError, resolveModelPath } from "../../core/index.ts";
import { chatAction } from "./chat.ts";
import { jobCollectives, rankIO } from "./collectives.ts";
import { evalAction } from "./evaluate.ts";
import { exportAction } from "./export.ts";
import { fail, messageOf, type RunFailure } from "./failure.ts";
import { attachMethod } from "./method.ts";
import { ensureModel } from "./model.ts";
import { lockTrainOutputs, releaseAll } from "./output-locks.ts";
import { predictAction } from "./predict.ts";
import { type ActionEnd, type Scope, say } from "./scope.ts";
import { type ModelState, modelState, setModelState } from "./state.ts";
import { trainAction } from "./train.ts";

export async function runRecipeHook(recipe: ResolvedRecipe, ctx: RunContext): Promise<RunOutcome> {
  const registry = ctx.registry;
  if (registry === undefined)
    return { status: "failed", message: "the runner needs the session's registry: call it through runRecipe (dsl/run.ts), which passes it in the context" };
  const job = recipe.actions.some((a) => a.action === "train") ? jobCollectives(registry, recipe) : undefined;
  if (job?.isErr()) return { status: "failed", message: job.error.message };
  const collectives = job?.isOk() ? job.value : undefined;
  const follower = collectives !== undefined && collectives.rank > 0;
  if (follower) ctx = { ...ctx, io: rankIO(ctx.io, collectives) };
  // Before anything loads: a second run on the same output folder fails at once, naming the first
  // (rank 0 holds the locks of a data-parallel job).
  const locks = follower ? ok(new Map<string, OutputLock>()) : lockTrainOutputs(recipe, ctx.io);
  if (locks.isErr()) return { status: "failed", message: locks.error.message, code: ExitCode.ioError };
  try {
    const located = await locateModel(recipe, registry, ctx);
    if (located.isErr()) return { status: "failed", message: located.error.message };
    const state = prepareState(located.value, registry, ctx);
    if (state.isErr()) return { status: "failed", message: state.error.message };
    if (state.value === undefined) return { status: "completed" };
    const scope: Scope = {
      recipe,
      registry,
      io: ctx.io,
      signal: ctx.signal,
      state: state.value,
      outputLocks: locks.value,
      ...(collectives === undefined ? {} : { collectives }),
      ...(ctx.readLine === undefined ? {} : { readLine: ctx.readLine }),
    };
    for (const action of recipe.actions) {
      if (ctx.signal.aborted) return { status: "interrupted" };
      if (follower && action.action !== "train") continue;
      const ended = await runAction(action, scope);
      if (ended.isErr()) return { status: "failed", message: ended.error.message };
      if (ended.value === "interrupted") return { status: "interrupted" };
    }
    return { status: "completed" };
  } catch (e) {
    // More memory than the machine has: the recipe's sizes, not a bug; the message names the tensor and what to change.
    if (e instanceof MemoryLimitError) return { status: "failed", message: e.message };
    // A throw here is a bug in lft, not the user's mistake: say so in one line, no stack.
    return { status: "failed", message: `the runner failed unexpectedly: ${messageOf(e)}` };
  } finally {
    releaseAll(locks.value);
  }
}

/** The recipe with its model path as a local folder: a hub id (`org/name[@rev]`) becomes its cached snapshot. */
async function locateModel(recipe: ResolvedRecipe, registry: Registry, ctx: RunContext): Promise<Result<ResolvedRecipe, RunFailure>> {
  if (recipe.model === undefined) return ok(recipe);
  const dir = await resolveModelPath(registry, recipe.model.path, recipe.baseDir, ctx.io);
  if (dir.isErr()) return fail(dir.error.message);
  const model: ModelBlock = { ...recipe.model, path: dir.value };
  return ok({ ...recipe, model });
}

/** The model with the recipe's method attached; undefined when the recipe declares no model yet (REPL). */
function prepareState(recipe: ResolvedRecipe, registry: Registry, ctx: RunContext): Result<ModelState | undefined, RunFailure> {
  if (recipe.model === undefined) return ok(modelState(ctx.live));
  const state = ensureModel(recipe, recipe.model, registry, ctx.live, ctx.io);
  if (state.isErr() || recipe.method === undefined) return state;
  const step = attachMethod(recipe, recipe.method, state.value, registry, ctx.io);
  if (step.isErr()) return err(step.error);
  if (step.value === "attached") setModelState(ctx.live, state.value);
  if (step.value !== "reload") return state;
  // Another method trained this model: start again from the base weights.
  say(
    ctx.io,
    `method changed from ${state.value.method!.applied.method} to ${recipe.method.name}: reloading the base model (weights trained so far are dropped)`,
  );
  const fresh = ensureModel(recipe, recipe.model, registry, ctx.live, ctx.io, true);
  if (fresh.isErr()) return err(fresh.error);
  const again = attachMethod(recipe, recipe.method, fresh.value, registry, ctx.io);
  if (again.isErr()) return err(again.error);
  setModelState(ctx.live, fresh.value);
  return fresh;
}

async function runAction(action: Action, scope: Scope): Promise<Result<ActionEnd, RunFailure>> {
  switch (action.action) {
    case "train":
      return trainAction(action, scope);
    case "eval":
      return evalAction(action, scope);
    case "predict":
      return predictAction(action, scope);
    case "export":
      return exportAction(action, scope);
    case "chat":
      return chatAction(action, scope);
  }
}
