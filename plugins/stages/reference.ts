// The reference model of the preference stages: the trained model with its adapters switched off
// (LoRA: no second copy in memory), run once per batch without gradients. Full and freeze change
// the base weights themselves, so they have no such reference.
import { err, ok, type Result } from "neverthrow";
import type { AppliedMethod, StageMethodInfo } from "../../core/index.ts";

export function noReferenceMessage(stage: string, method: string | undefined): string {
  return `train ${stage}: the reference model is the base with the adapters switched off, but method ${method ?? "(none)"} trains the base weights themselves; use method lora, or a loss that needs no reference (dpo: loss = orpo or simpo)`;
}

/**
 * Whether the recipe's method gives the adapters-off reference (checked before loading): LoRA
 * without fully trained additional modules.
 */
export function referenceProblem(stage: string, method: StageMethodInfo): string | undefined {
  if (method.name !== "lora") return noReferenceMessage(stage, method.name);
  const extra = method.options.additional_target;
  if (Array.isArray(extra) && extra.length > 0)
    return `train ${stage}: the reference model is the base with the adapters switched off, but additional_target = [${extra.join(", ")}] trains those modules fully, so the base cannot be recovered; drop additional_target`;
  return undefined;
}

/** Runs `fn` as the reference model: the method with its adapters off. */
export function asReference<T>(stage: string, method: AppliedMethod | undefined, fn: () => T): Result<T, Error> {
  if (!method?.withAdaptersDisabled) return err(new Error(noReferenceMessage(stage, method?.method)));
  const r = method.withAdaptersDisabled(fn);
  return r.isErr() ? err(new Error(`train ${stage}: reference forward: ${r.error.message}`)) : ok(r.value);
}
