// `method lora`: low-rank adapters on linear layers, with rsLoRA scaling, DoRA, LoRA+ (a learning-rate
// ratio for B), PiSSA initialisation and modules trained fully alongside (PEFT's modules_to_save).
// This file is the method's entry (the recipe-facing option schema and its mapping to settings) and
// the public surface of plugins/methods/lora/; the work is in the files beside it.
import { err, type Result } from "neverthrow";
import type { MethodEntry, MethodError, MethodPayload, ModelFamily, OptionSchema, OptionsOf } from "../../../core/index.ts";
import { checkOptions } from "../check-options.ts";
import { loraMemory } from "../plan-memory.ts";
import { applyLora } from "./apply.ts";
import type { LoraMethod } from "./lora-method.ts";
import { loadPeftAdapter } from "./peft-load.ts";
import type { LoraSettings } from "./settings.ts";

export { applyLora } from "./apply.ts";
export { type LoraInit, type LoraInitOptions, type LoraLayerConfig, LoraLinear, type LoraRuntime } from "./lora-linear.ts";
export { LoraMethod } from "./lora-method.ts";
export { exportPeftMerged } from "./merge.ts";
export { ADAPTER_CONFIG, ADAPTER_WEIGHTS, PEFT_PREFIX, peftKey } from "./peft-layout.ts";
export { loadPeftAdapter, settingsFromPeftConfig } from "./peft-load.ts";
export { adapterConfig, type PeftAdapterSource, writePeftAdapter } from "./peft-save.ts";
export { type AdapterTargets, type LoraSettings, loraScale } from "./settings.ts";

export const loraOptions = {
  rank: { type: "number", integer: true, min: 1, default: 8, doc: "adapter rank r" },
  alpha: { type: "number", min: 0, default: 16, doc: "scale numerator: the update is alpha / rank · B·A (alpha / sqrt(rank) with rslora)" },
  dropout: { type: "number", min: 0, max: 0.99, default: 0, doc: "dropout on the adapter's input while training" },
  targets: {
    type: "list",
    item: { type: "string" },
    minLength: 1,
    default: ["all"],
    doc: "linear layers to adapt (q_proj, v_proj, ...); all: every adapter target of the model family",
  },
  rslora: { type: "boolean", default: false, doc: "rank-stabilised scaling: alpha / sqrt(rank)" },
  dora: { type: "boolean", default: false, doc: "weight-decomposed LoRA (DoRA): a trained magnitude per output row" },
  loraplus_lr_ratio: { type: "number", min: 0, doc: "LoRA+: B matrices train at lr × this ratio (16 in the paper); unset: one lr" },
  init: {
    type: "enum",
    values: ["kaiming", "gaussian", "pissa"] as const,
    default: "kaiming",
    doc: "adapter start: kaiming (A uniform, B zero; PEFT's default), gaussian, or pissa (top singular vectors of W)",
  },
  pissa_iter: { type: "number", integer: true, min: -1, default: 16, doc: "PiSSA: power iterations of the fast SVD; -1: exact SVD" },
  additional_target: { type: "list", item: { type: "string" }, default: [], doc: "modules trained fully and saved with the adapter (embed_tokens, lm_head)" },
} satisfies OptionSchema;

/** Recipe options -> settings: `all` expands to the family's adapter targets. */
export function loraSettings(o: OptionsOf<typeof loraOptions>, family: Pick<ModelFamily, "adapterTargets">): LoraSettings {
  const named = o.targets.filter((t) => t !== "all");
  const targets = o.targets.includes("all") ? [...new Set([...family.adapterTargets, ...named])] : named;
  return {
    rank: o.rank,
    alpha: o.alpha,
    dropout: o.dropout,
    targets,
    rslora: o.rslora,
    dora: o.dora,
    init: o.init,
    pissaIter: o.pissa_iter,
    loraplusRatio: o.loraplus_lr_ratio ?? null,
    additionalTargets: o.additional_target,
  };
}

export const lora: MethodEntry & MethodPayload = {
  name: "lora",
  doc: "low-rank adapters (LoRA; rsLoRA, DoRA, LoRA+, PiSSA), saved as a PEFT adapter",
  options: loraOptions,
  memory(input) {
    const checked = checkOptions(loraOptions, input.options, "lora");
    return checked.isErr() ? err(checked.error) : loraMemory({ ...input, options: checked.value });
  },
  apply(model, options, family, ctx): Result<LoraMethod, MethodError> {
    const checked = checkOptions(loraOptions, options, "lora");
    if (checked.isErr()) return err(checked.error);
    return applyLora(model, loraSettings(checked.value, family), family, ctx);
  },
  load: (model, dir, family, ctx) => loadPeftAdapter(model, dir, family, ctx),
};
