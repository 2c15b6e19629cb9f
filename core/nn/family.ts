// What a model family registers in the `models` collection (merged into ModelEntry), and the lookups
// the loader uses: a family by name or by HF `model_type`.
import { err, ok, type Result } from "neverthrow";
import type { EntryBase, ModelEntry } from "../registry/collections.ts";
import { definePlugin, type Plugin } from "../registry/plugin.ts";
import type { Registry } from "../registry/registry.ts";
import type { Shape } from "../tensor/shape.ts";
import type { CausalLM } from "./causal-lm.ts";
import { ModuleError } from "./module.ts";
import type { HfConfig, ModelSpec } from "./spec.ts";
import type { StoredFormHook } from "./stored-form.ts";

/** A small random checkpoint's recipe: the family's real config keys at tiny sizes, and its tokenizer. */
export interface TinyPreset {
  /** config.json without model_type (added from the family's first model type); vocab_size must match the tokenizer. */
  config: HfConfig;
  /**
   * Folder name under the tokenizer fixtures, or `npm:<package>` for an installed package's `models/`
   * folder: its tokenizer.json and tokenizer_config.json are copied.
   */
  tokenizer: string;
  /** generation_config.json keys beyond the token ids taken from config (optional). */
  generation?: HfConfig;
}

/** A family as its plugin defines it: every field present. S is the family's own spec type. */
export interface ModelFamily<S extends ModelSpec = ModelSpec> extends EntryBase {
  /** The HF `model_type` values this family reads (config.json). */
  readonly modelTypes: readonly string[];
  /** config.json -> spec; every problem at once. `where` names the file in messages. */
  fromConfig(config: HfConfig, where?: string): Result<S, ModuleError>;
  /** The module tree for a spec this family read (no memory is allocated until parameters are filled). */
  build(spec: S): CausalLM<S>;
  /** Every tensor a checkpoint of this spec holds, with its shape (HF names). */
  weightNames(spec: S): { name: string; shape: Shape }[];
  /** Module names adapters may wrap (`q_proj`, ...), as PEFT's target_modules. */
  readonly adapterTargets: readonly string[];
  /**
   * Maps a checkpoint tensor name to the model's (null: not a parameter, skip it), given the spec read
   * from its config (DeepSeek-V3 skips the layers past num_hidden_layers). Default: as is.
   */
  sanitize?(name: string, spec: S): string | null;
  /** One load warning about the checkpoint tensors sanitize dropped (a vision tower left out), or null for none. */
  skippedNote?(dropped: readonly string[]): string | null;
  /** Slots this spec's checkpoints store in another form (gpt-oss's MXFP4 experts), loaded by the hook; null: none. */
  storedForm?(spec: S): StoredFormHook | null;
  readonly tiny: TinyPreset;
}

// Optional in the merged entry because the registry accepts bare entries (its own tests register
// `{ name }`); `modelFamily()` checks at use that a family has them all.
declare module "../registry/collections.ts" {
  interface ModelEntry {
    readonly modelTypes?: readonly string[];
    fromConfig?(config: HfConfig, where?: string): Result<ModelSpec, ModuleError>;
    build?(spec: ModelSpec): CausalLM;
    weightNames?(spec: ModelSpec): { name: string; shape: Shape }[];
    readonly adapterTargets?: readonly string[];
    sanitize?(name: string, spec: ModelSpec): string | null;
    skippedNote?(dropped: readonly string[]): string | null;
    storedForm?(spec: ModelSpec): StoredFormHook | null;
    readonly tiny?: TinyPreset;
  }
}

/** A family whose weight list comes from its module tree (the usual case: names are module paths). */
export function defineModelFamily<S extends ModelSpec>(
  f: Omit<ModelFamily<S>, "weightNames"> & { weightNames?: ModelFamily<S>["weightNames"] },
): ModelFamily<S> {
  return { ...f, weightNames: f.weightNames ?? ((spec) => f.build(spec).parameterShapes()) };
}

const REQUIRED = ["modelTypes", "fromConfig", "build", "weightNames", "adapterTargets", "tiny"] as const;

/** The entry as a complete family, or an error naming the fields its plugin left out. */
export function modelFamily(entry: ModelEntry): Result<ModelFamily, ModuleError> {
  const missing = REQUIRED.filter((k) => entry[k] === undefined);
  if (missing.length) return err(new ModuleError(`model family "${entry.name}" is missing ${missing.join(", ")}: define it with defineModelFamily`));
  return ok(entry as ModelFamily);
}

type ModelRegistry = Pick<Registry, "list" | "get">;

/** The family registered under `name`. */
export function familyByName(registry: ModelRegistry, name: string): Result<ModelFamily, ModuleError> {
  const e = registry.get("models", name);
  if (e.isErr()) return err(new ModuleError(e.error.message));
  return modelFamily(e.value);
}

/** The family that reads HF `model_type` (config.json), with the known types listed when none does. */
export function familyForModelType(registry: ModelRegistry, modelType: string, where = "config.json"): Result<ModelFamily, ModuleError> {
  const entries = registry.list("models");
  const hit = entries.find((e) => e.modelTypes?.includes(modelType));
  if (hit) return modelFamily(hit);
  const known = entries.flatMap((e) => e.modelTypes ?? []).sort();
  return err(new ModuleError(`${where}: no model family reads model_type "${modelType}" (known: ${known.length ? known.join(", ") : "none registered"})`));
}

/** The plugin that registers one family: `lft-models-<name>`. */
export function modelFamilyPlugin(family: ModelFamily): Plugin {
  return definePlugin({
    name: `lft-models-${family.name}`,
    setup(api) {
      api.register.models(family);
    },
  });
}
