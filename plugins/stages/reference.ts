// The reference model of the preference stages: the trained model with its adapters switched off
// (LoRA: no second copy in memory), run once per batch without gradients. Full and freeze change
// the base weights themselves, so they have no such reference.
import { err, ok, type Result } from "neverthrow";
import { type CausalLM, noGrad, type StageContext, type StageMethodInfo } from "../../core/index.ts";

export function noReferenceMessage(stage: string, method: string | undefined): string {
  return `train ${stage}: the reference model is the base with the adapters switched off, but method ${method ?? "(none)"} trains the base weights themselves; use method lora, give a reference model folder (ref_model = "..."), or a loss that needs no reference (dpo: loss = orpo or simpo)`;
}

/**
 * Whether the recipe's method gives the adapters-off reference (checked before loading): LoRA
 * without fully trained additional modules.
 */
export function referenceProblem(stage: string, options: Readonly<Record<string, unknown>>, method: StageMethodInfo): string | undefined {
  if (typeof options.ref_model === "string" && options.ref_model !== "") return undefined;
  if (method.name !== "lora") return noReferenceMessage(stage, method.name);
  const extra = method.options.additional_target;
  if (Array.isArray(extra) && extra.length > 0)
    return `train ${stage}: the reference model is the base with the adapters switched off, but additional_target = [${extra.join(", ")}] trains those modules fully, so the base cannot be recovered; drop additional_target`;
  return undefined;
}

/**
 * Runs `fn` on the reference model: an explicit `ref_model` folder (a second, frozen model) when the
 * options name one, else the trained model with the method's adapters off.
 */
export function asReference<T>(
  stage: string,
  model: CausalLM,
  options: Readonly<Record<string, unknown>>,
  ctx: StageContext,
  fn: (reference: CausalLM) => T,
): Result<T, Error> {
  const explicit = options.ref_model;
  if (typeof explicit === "string" && explicit !== "") {
    if (!ctx.loadFrozen) return err(new Error(`train ${stage}: ref_model = "${explicit}" needs a runner that loads models`));
    const ref = ctx.loadFrozen(explicit);
    if (ref.isErr()) return err(new Error(`train ${stage}: ref_model: ${ref.error.message}`));
    return ok(noGrad(() => fn(ref.value)));
  }
  const method = ctx.method;
  if (!method?.withAdaptersDisabled) return err(new Error(noReferenceMessage(stage, method?.method)));
  const r = method.withAdaptersDisabled(() => fn(model));
  return r.isErr() ? err(new Error(`train ${stage}: reference forward: ${r.error.message}`)) : ok(r.value);
}
