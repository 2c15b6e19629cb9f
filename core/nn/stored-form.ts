// StoredFormHook: how a plugin loads checkpoint tensors lft's loader does not read itself (a method's
// pre-quantised weights, a family's MXFP4 experts). Its own file so family.ts and load.ts both name it.
import type { Result } from "neverthrow";
import type { CheckpointError } from "../io/errors.ts";
import type { Checkpoint } from "../io/hf-checkpoint.ts";
import type { CausalLM } from "./causal-lm.ts";
import type { ModuleError } from "./module.ts";

/**
 * A checkpoint form lft's loader does not read itself (bitsandbytes' packed 4-bit weights with their
 * absmax/quant_map companions, say): a method registers it, claims the slots stored that way, and loads
 * them. Claimed slots skip the dtype/shape check; their companions are not reported as unused.
 */
export interface StoredFormHook {
  /** Whether the checkpoint stores this slot (model path, checkpoint name) in the hook's form. */
  claims(path: string, name: string, ckpt: Checkpoint): boolean;
  /** Loads a claimed slot into the model; errors name the file and tensor. */
  load(path: string, name: string, ckpt: Checkpoint, model: CausalLM): Result<void, ModuleError | CheckpointError>;
}

/** Both forms in one hook: a slot `first` claims is its, else `second`'s (a method's form over a family's). */
export function eitherStoredForm(first: StoredFormHook, second: StoredFormHook): StoredFormHook {
  return {
    claims: (path, name, ckpt) => first.claims(path, name, ckpt) || second.claims(path, name, ckpt),
    load: (path, name, ckpt, model) => (first.claims(path, name, ckpt) ? first : second).load(path, name, ckpt, model),
  };
}
