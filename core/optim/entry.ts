// The optimizer hook point's payload (OptimizerEntry, merged in as the model and stage entries are):
// an optimizer plugin states its own hyper-parameters as an option schema, builds itself over the
// parameter groups train() makes, and says how much state it will hold. optimizerFactory turns an
// entry plus a recipe's values into what train() takes, validating them against that schema.
import { err, type Result } from "neverthrow";
import type { ModelSpec } from "../nn/spec.ts";
import type { OptimizerEntry } from "../registry/collections.ts";
import { type ResolvedOptions, validateOptions } from "../registry/options.ts";
import type { ParamGroup } from "./groups.ts";
import type { Optimizer, OptimizerFactory } from "./optimizer.ts";

/** What an optimizer entry is built with. */
export interface OptimizerSettings {
  /** Base learning rate (the schedule's peak); group i trains at lr * groups[i].lrScale. */
  readonly lr: number;
  /** The entry's own hyper-parameters, validated against its `options` schema (defaults filled in). */
  readonly options: ResolvedOptions;
  /** Optimizer steps in the whole run. */
  readonly totalSteps: number;
  /**
   * The model being trained, when the caller has one (the runner does): optimizers that partition
   * parameters by model structure (attention heads, layers) read its spec and config here.
   */
  readonly model?: ModelSpec;
  /** Micro-batches per optimizer step (1 when not given). */
  readonly accumulation: number;
  /** Gradient-norm clipping threshold (0: off). */
  readonly clipNorm: number;
}

/** What a recipe combines with an optimizer, for checks no option schema can express. */
export interface OptimizerUse {
  /** The recipe's method (lora, full, ...), when it has one. */
  readonly method?: string;
  /** The train block's options: lft's own (accumulate, clip, ...) and this optimizer's, defaults filled in. */
  readonly train: ResolvedOptions;
}

/** A combination an optimizer refuses; reported at the first of `keys` the train block writes (else at its header). */
export interface OptimizerConflict {
  readonly keys: readonly string[];
  readonly message: string;
}

declare module "../registry/collections.ts" {
  interface OptimizerEntry {
    /**
     * The optimizer over `groups` (each with its names, tensors, lr multiplier and weight decay);
     * a bad combination of options (one the schema cannot express) is an error naming the option.
     */
    build(groups: readonly ParamGroup[], settings: OptimizerSettings): Result<Optimizer, Error>;
    /**
     * Bytes of state the optimizer will hold once every parameter has had an update (memory planning);
     * `model` as in OptimizerSettings, for optimizers whose state depends on the model's structure.
     */
    stateBytes(groups: readonly ParamGroup[], options: ResolvedOptions, model?: ModelSpec): number;
    /**
     * Bytes of parameter gradients backward holds at once (memory planning); absent: one f32 gradient
     * per trainable element. BAdam computes the active block's only.
     */
    gradientBytes?(groups: readonly ParamGroup[], options: ResolvedOptions, model?: ModelSpec): number;
    /** Combinations with the rest of a recipe this optimizer refuses (`lft check` reports each at its line). */
    conflicts?(use: OptimizerUse): readonly OptimizerConflict[];
  }
}

/**
 * What train() takes for an entry and the values a recipe (or a caller) gave: the lr and the
 * entry's own options. The values are validated when train() builds the optimizer, so every
 * caller, not only the DSL's checker, gets the schema's messages.
 */
export function optimizerFactory(entry: OptimizerEntry, lr: number, options: Readonly<Record<string, unknown>> = {}, model?: ModelSpec): OptimizerFactory {
  const where = `optimizer "${entry.name}"`;
  return (groups, ctx) => {
    if (!(Number.isFinite(lr) && lr >= 0)) return err(new Error(`${where}: lr must be a finite number >= 0, found ${lr}`));
    const valid = validateOptions(entry.options ?? {}, options, where);
    if (valid.isErr()) return err(new Error(valid.error.map((e) => e.message).join("; ")));
    return entry.build(groups, {
      lr,
      options: valid.value,
      totalSteps: ctx.totalSteps,
      model,
      accumulation: ctx.accumulation ?? 1,
      clipNorm: ctx.clipNorm ?? 0,
    });
  };
}
