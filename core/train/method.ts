// The contract between a fine-tuning method (plugins/methods/*) and whoever trains with it: a method
// entry `apply`s itself to a loaded model and hands back an AppliedMethod that names the trainable
// parameters, their optimizer groups, how the result is saved, and how adapters fold into the base.
// Methods themselves (full, freeze, lora, ...) live in plugins; core knows only this contract and
// Linear's adapter slot (nn/linear.ts).
import { err, ok, type Result } from "neverthrow";
import type { CausalLM } from "../nn/causal-lm.ts";
import type { ModelFamily } from "../nn/family.ts";
import type { LoadHooks } from "../nn/load.ts";
import type { GroupRule, NoDecay } from "../optim/groups.ts";
import type { MethodEntry } from "../registry/collections.ts";
import type { Tensor } from "../tensor/tensor.ts";

/** A method's failure: what was expected and what was found, every problem at once. */
export class MethodError extends Error {
  override readonly name = "MethodError";
  constructor(
    message: string,
    readonly problems: readonly string[] = [message],
  ) {
    super(message);
  }
}

/** A Philox (seed, offset) source for dropout masks; the trainer's TrainRng is one. */
export interface RandomStream {
  readonly seed: bigint;
  /** Reserves the counters for `numel` elements and returns where they start. */
  offsetFor(numel: number): bigint;
}

export interface ApplyContext {
  /** Seeds adapter initialisation and the dropout stream used until `beginForward` binds the run's. Default 0. */
  readonly seed?: number | bigint;
  /** `base_model_name_or_path` of a saved adapter: the base folder or hub name. */
  readonly baseModel?: string;
}

export interface LoadContext {
  /** Leave the loaded adapter (or additional modules) trainable; default false (inference, as PEFT's from_pretrained). */
  readonly trainable?: boolean;
  readonly seed?: number | bigint;
}

/** A method attached to one model: what the trainer needs from it. */
export interface AppliedMethod {
  /** The method's registry name (`lora`, `freeze`, ...). */
  readonly method: string;
  readonly model: CausalLM;
  /** Trainable parameters by model path, in the model's order: `TrainOptions.params`. */
  readonly params: Readonly<Record<string, Tensor>>;
  /** Parameter-group rules (LoRA+'s B-matrix learning rate): `TrainOptions.groups`. */
  readonly groups: readonly GroupRule[];
  /** Which trainable tensors get no weight decay: `TrainOptions.noDecay` (default: norms, biases, 1-D). */
  readonly noDecay?: NoDecay;
  /** Elements trained / elements in the model (adapters included). */
  readonly counts: { readonly trainable: number; readonly total: number };
  /** Train-only behaviour (dropout) is on while true; generation and evaluation set it false. */
  training: boolean;
  /**
   * Starts one forward pass (call once per micro-batch, before model.forward): dropout masks are drawn
   * from `rng` at offsets reserved here, so a resumed run draws the same masks and gradient
   * checkpointing's recomputation sees the very masks of the first pass.
   */
  beginForward(rng?: RandomStream): void;
  /** Writes the method's result to `dir` (lora: a PEFT adapter folder; full/freeze: an HF checkpoint); returns the files. */
  saveTrainable(dir: string): Result<string[], MethodError>;
  /** Folds adapters into the base weights in place and detaches them; the model is then a plain model. */
  merge(): Result<void, MethodError>;
  /**
   * Runs `fn` with the method's adapters switched off, so the model computes the untouched base: the
   * reference model of DPO/KTO/PPO/GRPO without a second copy in memory (PEFT's disable_adapter()).
   * Absent when the method changes the base weights themselves (full, freeze); an error when the base
   * cannot be recovered (merged adapters, fully trained additional modules).
   */
  withAdaptersDisabled?<T>(fn: () => T): Result<T, MethodError>;
  /**
   * Loads a second, frozen set of the method's changes saved in `dir` (e.g. a reward model's adapter
   * trained on the same base) into the same slots under `name`, inactive: model sharing, one base
   * serving two roles (LLaMA-Factory's `reward_model_type: lora`). Errors name the file.
   */
  loadAdapterSet?(name: string, dir: string): Result<void, MethodError>;
  /** Runs `fn` with the named set active in place of the trained one (set by loadAdapterSet). */
  withAdapterSet?<T>(name: string, fn: () => T): Result<T, MethodError>;
  /** Frees a set loadAdapterSet loaded (no-op when absent). */
  dropAdapterSet?(name: string): void;
}

/** What a method plugin merges into MethodEntry. */
export interface MethodPayload {
  /**
   * Attaches the method to `model`. `options` are the recipe's, validated again against the entry's
   * schema, so a direct call is checked like a recipe.
   */
  apply(model: CausalLM, options: Readonly<Record<string, unknown>>, family: ModelFamily, ctx?: ApplyContext): Result<AppliedMethod, MethodError>;
  /** Puts a saved result (`saveTrainable`'s folder) back onto a freshly loaded base model. */
  load?(model: CausalLM, dir: string, family: ModelFamily, ctx?: LoadContext): Result<AppliedMethod, MethodError>;
  /**
   * Hooks the runner passes to loadModel when this method is the recipe's: QLoRA quantises each weight
   * as it is read (the model is never whole in f32) and reads pre-quantised checkpoints; null: none.
   */
  loadHooks?(options: Readonly<Record<string, unknown>>): LoadHooks | null;
}

// Optional in the merged entry because the registry accepts bare entries (the DSL's test fixtures
// register `{ name }`); `methodEntry()` checks at use that an entry can be applied.
declare module "../registry/collections.ts" {
  interface MethodEntry {
    apply?: MethodPayload["apply"];
    load?: MethodPayload["load"];
    loadHooks?: MethodPayload["loadHooks"];
  }
}

/** The entry as an applicable method, or an error naming what its plugin left out. */
export function methodEntry(entry: MethodEntry): Result<MethodEntry & MethodPayload, MethodError> {
  if (typeof entry.apply !== "function") return err(new MethodError(`method "${entry.name}" has no apply(): its plugin registered only a name and options`));
  return ok(entry as MethodEntry & MethodPayload);
}

/** Elements in a set of tensors. */
export function countElements(tensors: Iterable<Tensor>): number {
  let n = 0;
  for (const t of tensors) n += t.numel;
  return n;
}
