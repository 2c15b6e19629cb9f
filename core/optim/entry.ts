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
    return entry.build(groups, { lr, options: valid.value, totalSteps: ctx.totalSteps, model });
  };
}
