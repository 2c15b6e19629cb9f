// Reads a PEFT LoRA adapter folder (adapter_config.json + adapter_model.safetensors, as PEFT or
// peft-save.ts writes it) onto a base model. Every tensor name and shape is checked against the model
// before anything changes, and the features lft does not implement are refused by name rather than
// silently giving different outputs.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { err, ok, type Result } from "neverthrow";
import { type CausalLM, type LoadContext, MethodError, openSafetensors, readJsonObject, type Tensor } from "../../../core/index.ts";
import { applyLora } from "./apply.ts";
import type { LoraMethod } from "./lora-method.ts";
import { settingsFromPeftConfig } from "./peft-config.ts";
import { ADAPTER_CONFIG, ADAPTER_WEIGHTS, PEFT_PREFIX, peftKey } from "./peft-layout.ts";
import type { AdapterTargets, LoraSettings } from "./settings.ts";
import { fullMatchRegExp, resolveLinearTargets, resolveModules } from "./targets.ts";

export { settingsFromPeftConfig };

/** Saved name -> shape for everything the settings put on this model. */
function expectedTensors(model: CausalLM, s: LoraSettings, family: AdapterTargets): Result<Map<string, number[]>, string[]> {
  let spec: readonly string[] | RegExp = s.targets;
  if (s.targetPattern !== undefined) {
    const re = fullMatchRegExp(s.targetPattern);
    if (re.isErr()) return err([re.error]);
    spec = re.value;
  }
  const resolved = resolveLinearTargets(model, spec, family.adapterTargets);
  const modules = resolveModules(model, s.additionalTargets, "modules_to_save entry");
  if (resolved.isErr() || modules.isErr()) return err([...(resolved.isErr() ? resolved.error : []), ...(modules.isErr() ? modules.error : [])]);
  const want = new Map<string, number[]>();
  for (const [path, lin] of resolved.value) {
    want.set(peftKey(path, "lora_A.weight"), [s.rank, lin.inFeatures]);
    want.set(peftKey(path, "lora_B.weight"), [lin.outFeatures, s.rank]);
    if (s.dora) want.set(peftKey(path, "lora_magnitude_vector"), [lin.outFeatures]);
  }
  for (const [path, module] of modules.value) {
    for (const [name, shape] of module.namedSlots("", false).map(([n, slot]) => [n, slot.shape] as const))
      want.set(`${PEFT_PREFIX}${path}.${name}`, [...shape]);
  }
  return ok(want);
}

/**
 * Loads the adapter in `dir` onto `model` (a base loaded with loadModel). Frozen for inference unless
 * ctx.trainable; `merge()` then folds it in. A PiSSA adapter saved unconverted gets its residual base
 * recomputed from the SVD of the base weights.
 */
export function loadPeftAdapter(model: CausalLM, dir: string, family: AdapterTargets, ctx: LoadContext = {}): Result<LoraMethod, MethodError> {
  const cfgPath = join(dir, ADAPTER_CONFIG);
  const raw = readJsonObject(cfgPath, "PEFT adapter config");
  if (raw.isErr()) return err(new MethodError(raw.error.message));
  const settings = settingsFromPeftConfig(raw.value, cfgPath);
  if (settings.isErr()) return err(settings.error);
  const s = settings.value;
  const weightsPath = join(dir, ADAPTER_WEIGHTS);
  if (!existsSync(weightsPath)) {
    const bin = existsSync(join(dir, "adapter_model.bin"));
    return err(
      new MethodError(
        `${dir}: no ${ADAPTER_WEIGHTS}${bin ? " (only adapter_model.bin, a PyTorch pickle lft does not read: re-save it with safe_serialization=True)" : ""}`,
      ),
    );
  }
  const want = expectedTensors(model, s, family);
  if (want.isErr()) return err(new MethodError(`${cfgPath}: ${want.error.join("; ")}`, want.error));
  const opened = openSafetensors(weightsPath);
  if (opened.isErr()) return err(new MethodError(opened.error.message));
  const file = opened.value;
  try {
    // Older PEFT releases briefly saved DoRA's vector as `lora_magnitude_vector.weight`.
    const sourceOf = (name: string) => (!file.has(name) && name.endsWith(".lora_magnitude_vector") && file.has(`${name}.weight`) ? `${name}.weight` : name);
    const problems: string[] = [];
    const used = new Set<string>();
    for (const [name, shape] of want.value) {
      const src = sourceOf(name);
      if (!file.has(src)) {
        problems.push(`missing tensor "${name}"`);
        continue;
      }
      used.add(src);
      const got = file.info(src)._unsafeUnwrap().shape;
      if (got.join(",") !== shape.join(",")) problems.push(`tensor "${src}" is [${got.join(", ")}], expected [${shape.join(", ")}]`);
    }
    const unexpected = file.names().filter((n) => !used.has(n));
    if (unexpected.length > 0)
      problems.unshift(
        `${unexpected.length} tensor(s) this model has no place for (e.g. ${unexpected.slice(0, 3).join(", ")}); was it trained on another architecture?`,
      );
    if (problems.length > 0)
      return err(
        new MethodError(`${weightsPath}: ${problems.slice(0, 8).join("; ")}${problems.length > 8 ? `; … and ${problems.length - 8} more` : ""}`, problems),
      );

    const applied = applyLora(model, s, family, { seed: ctx.seed ?? 0 });
    if (applied.isErr()) return err(applied.error);
    const m = applied.value;
    const load = (name: string): Tensor => file.tensor(sourceOf(name), { dtype: "f32", backend: model.parameters()[0]?.backend })._unsafeUnwrap();
    for (const [path, lora] of m.adapters) {
      lora.setParameter("lora_A.weight", load(peftKey(path, "lora_A.weight")))._unsafeUnwrap();
      lora.setParameter("lora_B.weight", load(peftKey(path, "lora_B.weight")))._unsafeUnwrap();
      if (s.dora) lora.setParameter("lora_magnitude_vector", load(peftKey(path, "lora_magnitude_vector")))._unsafeUnwrap();
    }
    for (const [path, module] of m.additional) {
      for (const [name] of module.namedSlots("", false)) model.setParameter(`${path}.${name}`, load(`${PEFT_PREFIX}${path}.${name}`))._unsafeUnwrap();
    }
    if (!ctx.trainable) {
      model.freeze();
      m.training = false;
    }
    return ok(m);
  } finally {
    file.close();
  }
}
