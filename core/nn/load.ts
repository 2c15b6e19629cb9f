// loadModel: a Hugging Face model folder -> a CausalLM with its weights, the family chosen by
// config.json's model_type, every tensor's presence and shape checked before anything is loaded (all
// problems reported at once). saveModel writes the HF layout back: config.json, safetensors (sharded when
// large), generation_config.json.
import { join } from "node:path";
import { err, ok, type Result } from "neverthrow";
import type { Backend } from "../backend/backend.ts";
import { writeFileAtomic } from "../io/atomic-file.ts";
import { type CheckpointError, ConfigError } from "../io/errors.ts";
import { type ExpectedTensor, expectTensors, type TensorCheckError } from "../io/expect-tensors.ts";
import { type GenerationConfig, readGenerationConfig } from "../io/generation-config.ts";
import { openCheckpoint } from "../io/hf-checkpoint.ts";
import { writeCheckpoint } from "../io/hf-checkpoint-write.ts";
import { readModelConfig } from "../io/model-config.ts";
import { bytesPerParameter, modelSizeProblem } from "../io/model-size.ts";
import type { SafetensorsEntry } from "../io/safetensors-write.ts";
import type { Registry } from "../registry/registry.ts";
import type { DType } from "../tensor/dtype.ts";
import { Tensor } from "../tensor/tensor.ts";
import type { CausalLM } from "./causal-lm.ts";
import { familyForModelType, type ModelFamily } from "./family.ts";
import { ModuleError } from "./module.ts";
import type { HfConfig, ModelSpec } from "./spec.ts";
import { eitherStoredForm, type StoredFormHook } from "./stored-form.ts";

export type { StoredFormHook } from "./stored-form.ts";

export type LoadError = ModuleError | ConfigError | CheckpointError | TensorCheckError;

export interface LoadModelOptions {
  /**
   * Storage of the weight matrices (linear and embedding weights). "f32" (default): everything f32 and
   * trainable. "bf16"/"f16": matrices cast to (or kept in) half precision and frozen, computed in f32 per
   * use. "auto": matrices as stored. Norm weights and biases are always f32 (small, and precision-sensitive).
   */
  dtype?: "f32" | "bf16" | "f16" | "auto";
  backend?: Backend;
  /**
   * Called for every tensor as it is read, before the next is: a method that stores weights its own way
   * (QLoRA's quantisation) takes the tensor here. Return true when the hook consumed it (and disposed or
   * kept it); false to load it as usual. Only one tensor is ever held in f32 at a time.
   */
  transform?: TensorTransform;
  /** Slots the checkpoint stores in another form (a pre-quantised weight), loaded by the hook itself. */
  storedForm?: StoredFormHook;
}

export type LoadHooks = Pick<LoadModelOptions, "transform" | "storedForm">;

/** A per-tensor load hook (LoadModelOptions.transform): model path, the tensor as read, the model being filled. */
export type TensorTransform = (path: string, t: Tensor, model: CausalLM) => Result<boolean, ModuleError>;

export interface LoadedModel {
  model: CausalLM;
  family: ModelFamily;
  spec: ModelSpec;
  generation: GenerationConfig;
  /** Checkpoint tensors the model does not use, and checkpoint inconsistencies that did not stop loading. */
  warnings: string[];
}

type FamilyRegistry = Pick<Registry, "list" | "get">;

/** Storage dtype for one parameter under a load option. */
function storageFor(option: LoadModelOptions["dtype"], shape: readonly number[], stored: DType): "f32" | "bf16" | "f16" {
  if (shape.length < 2 || option === undefined || option === "f32") return "f32";
  if (option === "auto") return stored === "bf16" || stored === "f16" ? stored : "f32";
  return option;
}

const STORED_DTYPE: Record<string, DType> = { F32: "f32", BF16: "bf16", F16: "f16" };

export function loadModel(dir: string, registry: FamilyRegistry, opts: LoadModelOptions = {}): Result<LoadedModel, LoadError> {
  const cfg = readModelConfig(dir);
  if (cfg.isErr()) return err(cfg.error);
  const { raw, file } = cfg.value;
  // Sizes first: a config that could never fit is refused before the family builds anything.
  const quantised = opts.transform !== undefined || opts.storedForm !== undefined;
  const tooBig = modelSizeProblem(raw, { bytesPerParameter: bytesPerParameter(opts.dtype ?? "f32", raw, quantised) });
  if (tooBig !== undefined) return err(new ConfigError(file, tooBig.detail, tooBig.key === undefined ? {} : { key: tooBig.key }));
  const modelType = cfg.value.model_type;
  if (modelType === undefined) return err(new ModuleError(`${file}: no "model_type": cannot tell which model family this is`));
  const family = familyForModelType(registry, modelType, file);
  if (family.isErr()) return err(family.error);
  const spec = family.value.fromConfig(raw, file);
  if (spec.isErr()) return err(spec.error);
  const generation = readGenerationConfig(dir);
  if (generation.isErr()) return err(generation.error);

  const opened = openCheckpoint(dir);
  if (opened.isErr()) return err(opened.error);
  const ckpt = opened.value;
  const model = family.value.build(spec.value);
  try {
    // Checkpoint name -> model name (sanitize may rename or drop; a tied model ignores a stored lm_head).
    const sanitize = family.value.sanitize ?? ((n: string, _spec: ModelSpec) => n);
    const sourceOf = new Map<string, string>();
    const dropped: string[] = [];
    for (const name of ckpt.names()) {
      const mapped = spec.value.tieWordEmbeddings && name === "lm_head.weight" ? null : sanitize(name, spec.value);
      if (mapped === null) dropped.push(name);
      else if (!sourceOf.has(mapped)) sourceOf.set(mapped, name);
    }
    // A method's stored form (pre-quantised QLoRA weights) and the family's own (MXFP4 experts); the method's wins a slot both claim.
    const familyForm = family.value.storedForm?.(spec.value) ?? undefined;
    const hook = opts.storedForm && familyForm ? eitherStoredForm(opts.storedForm, familyForm) : (opts.storedForm ?? familyForm);
    const claimed = new Set(hook ? model.namedSlots("", false).flatMap(([path]) => (hook.claims(path, sourceOf.get(path) ?? path, ckpt) ? [path] : [])) : []);
    const slots = model.namedSlots("", false).filter(([path]) => !claimed.has(path));
    const expected: ExpectedTensor[] = slots.map(([path, slot]) => ({ name: sourceOf.get(path) ?? path, shape: slot.shape, dtype: ["F32", "BF16", "F16"] }));
    const checked = expectTensors(ckpt, expected);
    if (checked.isErr()) {
      model.dispose();
      return err(checked.error);
    }
    // A claimed tensor's companions: `<name>.absmax`, ... (bitsandbytes) or `<name>_blocks`, `<name>_scales` (MXFP4).
    const companions = [...claimed].flatMap((path) => [`"${sourceOf.get(path) ?? path}.`, `"${sourceOf.get(path) ?? path}_`]);
    const warnings = [
      ...ckpt.warnings,
      ...checked.value.warnings.filter((w) => !dropped.some((d) => w.includes(`"${d}"`)) && !companions.some((c) => w.includes(c)) && !claimedName(w)),
    ];
    const note = dropped.length ? family.value.skippedNote?.(dropped) : null;
    if (note) warnings.push(note);
    function claimedName(w: string): boolean {
      return [...claimed].some((path) => w.includes(`"${sourceOf.get(path) ?? path}"`));
    }
    for (const path of claimed) {
      const done = hook!.load(path, sourceOf.get(path) ?? path, ckpt, model);
      if (done.isErr()) {
        model.dispose();
        return err(done.error);
      }
    }
    for (const [path, slot] of slots) {
      const source = sourceOf.get(path) ?? path;
      const stored = STORED_DTYPE[ckpt.info(source)._unsafeUnwrap().dtype] ?? "f32";
      const t = ckpt.tensor(source, { dtype: opts.transform ? "f32" : storageFor(opts.dtype, slot.shape, stored), backend: opts.backend });
      if (t.isErr()) {
        model.dispose();
        return err(t.error);
      }
      if (opts.transform) {
        const taken = opts.transform(path, t.value, model);
        if (taken.isErr()) {
          t.value.dispose();
          model.dispose();
          return err(taken.error);
        }
        if (taken.value) continue;
        const want = storageFor(opts.dtype, slot.shape, stored);
        if (want !== "f32") {
          const half = Tensor.alloc(t.value.backend, t.value.shape, want, false);
          t.value.backend.cast(half, t.value);
          t.value.dispose();
          const set = model.setParameter(path, half);
          if (set.isErr()) {
            half.dispose();
            model.dispose();
            return err(set.error);
          }
          continue;
        }
      }
      const set = model.setParameter(path, t.value);
      if (set.isErr()) {
        t.value.dispose();
        model.dispose();
        return err(set.error);
      }
    }
    return ok({ model, family: family.value, spec: spec.value, generation: generation.value, warnings });
  } finally {
    ckpt.close();
  }
}

export interface SaveModelOptions {
  /** Convert floats on the way out; default: each tensor as the model stores it. */
  dtype?: "f32" | "bf16" | "f16";
  /** generation_config.json; default: the spec's bos/eos/pad ids. */
  generation?: HfConfig;
  /** Shard above this many bytes (default 5e9, as transformers). */
  maxShardBytes?: number;
}

export interface SavedModel {
  files: string[];
}

/** HF writes json.dumps(obj, indent=2, sort_keys=True) + "\n". */
function hfJson(obj: HfConfig): Uint8Array {
  const sorted = (v: unknown): unknown =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map((k) => [k, sorted((v as Record<string, unknown>)[k])]),
        )
      : Array.isArray(v)
        ? v.map(sorted)
        : v;
  return new TextEncoder().encode(`${JSON.stringify(sorted(obj), null, 2)}\n`);
}

function generationDefaults(spec: ModelSpec): HfConfig {
  const eos = spec.eosTokenIds.length === 1 ? spec.eosTokenIds[0] : spec.eosTokenIds.length ? spec.eosTokenIds : undefined;
  return Object.fromEntries(
    Object.entries({ bos_token_id: spec.bosTokenId ?? undefined, eos_token_id: eos, pad_token_id: spec.padTokenId ?? undefined }).filter(
      ([, v]) => v !== undefined,
    ),
  );
}

/** Writes the model's base weights (adapters excluded) and config in HF layout to dir. */
export function saveModel(model: CausalLM, dir: string, opts: SaveModelOptions = {}): Result<SavedModel, ModuleError | CheckpointError> {
  const missing = model.missingParameters();
  if (missing.length)
    return err(
      new ModuleError(
        `cannot save: ${missing.length} parameter(s) have no tensor (${missing.slice(0, 3).join(", ")}${missing.length > 3 ? ", ..." : ""})`,
        missing,
      ),
    );
  const converted: Tensor[] = [];
  try {
    const entries: SafetensorsEntry[] = model.namedSlots("", false).map(([name, slot]) => {
      const t = slot.tensor!;
      if (!opts.dtype || opts.dtype === t.dtype) return { name, data: t };
      const c = Tensor.alloc(t.backend, t.shape, opts.dtype, false);
      converted.push(c);
      if (t.dtype === "f32" || opts.dtype === "f32") t.backend.cast(c, t);
      else {
        const wide = Tensor.alloc(t.backend, t.shape, "f32", false);
        t.backend.cast(wide, t);
        t.backend.cast(c, wide);
        wide.dispose();
      }
      return { name, data: c };
    });
    const written = writeCheckpoint(dir, entries, { maxShardBytes: opts.maxShardBytes });
    if (written.isErr()) return err(written.error);
    const cfg = writeFileAtomic(join(dir, "config.json"), (put) => put(hfJson(model.spec.config)));
    if (cfg.isErr()) return err(cfg.error);
    const gen = writeFileAtomic(join(dir, "generation_config.json"), (put) => put(hfJson(opts.generation ?? generationDefaults(model.spec))));
    if (gen.isErr()) return err(gen.error);
    return ok({
      files: [...written.value.files, ...(written.value.index ? [written.value.index] : []), join(dir, "config.json"), join(dir, "generation_config.json")],
    });
  } finally {
    for (const c of converted) c.dispose();
  }
}
