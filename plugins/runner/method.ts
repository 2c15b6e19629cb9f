// The method block → a method attached to the session's model (lora wraps layers, full/freeze choose
// what trains). An unchanged block keeps what is attached, and what it trained; a changed one needs
// a fresh base, which run.ts reloads before calling attachMethod again.
import { ok, type Result } from "neverthrow";
import type { MethodBlock, ResolvedRecipe } from "../../core/index.ts";
import { type CommandIO, methodEntry, type Registry } from "../../core/index.ts";
import { fail, type RunFailure } from "./failure.ts";
import { count } from "./format.ts";
import { say } from "./scope.ts";
import { adoptModel, type ModelState } from "./state.ts";

export function methodKey(block: MethodBlock): string {
  return JSON.stringify({ name: block.name, options: block.options });
}

/** "keep": already attached; "attached": newly applied; "reload": another method trained this model. */
export type MethodStep = "keep" | "attached" | "reload";

export function attachMethod(recipe: ResolvedRecipe, block: MethodBlock, state: ModelState, registry: Registry, io: CommandIO): Result<MethodStep, RunFailure> {
  const key = methodKey(block);
  const current = state.method;
  if (current?.key === key) return ok("keep");
  if (current !== undefined) {
    if (!current.key.startsWith("adapter:")) return ok("reload");
    // An adapter loaded for inference under another method: fold it into the base, then apply.
    const merged = current.applied.merge();
    if (merged.isErr()) return fail(`merging the loaded adapter before method ${block.name}: ${merged.error.message}`);
    state.method = undefined;
    say(io, `merged the loaded ${current.applied.method} adapter into the base weights before applying method ${block.name}`);
  }
  const entry = registry.get("methods", block.name);
  if (entry.isErr()) return fail(`method ${block.name}: ${entry.error.message}`);
  const method = methodEntry(entry.value);
  if (method.isErr()) return fail(method.error.message);
  const seed = Number(recipe.model?.options.seed ?? 42);
  const applied = method.value.apply(state.model, block.options, state.family, { seed, baseModel: state.dir });
  if (applied.isErr()) return fail(`method ${block.name}: ${applied.error.message}`);
  applied.value.training = false;
  // A method may hand back a new model (llama_pro's expanded one): it becomes the session's model.
  adoptModel(state, applied.value.model);
  state.method = { key, applied: applied.value };
  const { trainable, total } = applied.value.counts;
  say(io, `method ${block.name}: ${count(trainable)} of ${count(total)} parameters trainable (${((100 * trainable) / Math.max(1, total)).toFixed(2)}%)`);
  return ok("attached");
}
