// `method llama_pro { expand = N }` (LLaMA-Factory's use_llama_pro with finetuning_type freeze and
// freeze_trainable_layers = N): expands the loaded model by N blocks (expand.ts), trains only those
// blocks (all of each, or the named modules inside them, plus optional modules outside the layers) and
// saves the expanded model as a complete Hugging Face checkpoint. With `expanded = true` the model was
// already expanded (LLaMA-Factory's scripts/llama_pro.py output) and only the blocks are chosen, by
// LLaMA-Factory's stride rule. The method's result is a new model object: the runner adopts
// AppliedMethod.model when it differs from the model it passed in.
import { err, ok, type Result } from "neverthrow";
import { type CausalLM, type MethodEntry, MethodError, type MethodPayload, type OptionSchema, type PlanParam } from "../../../core/index.ts";
import { checkOptions } from "../check-options.ts";
import { freezeSelection, trainOnlyPaths } from "../freeze.ts";
import { partialMemory } from "../plan-memory.ts";
import { adapterProblem, WholeModelMethod } from "../whole-model.ts";
import { expandedBlockIds, expandModel } from "./expand.ts";

export { type ExpandedLayer, type Expansion, expandedBlockIds, expandedConfig, expandModel, expansionPlan } from "./expand.ts";

export const llamaProOptions = {
  expand: {
    type: "number",
    integer: true,
    min: 1,
    required: true,
    doc: "new blocks: one copy (o_proj and down_proj zeroed) after every (layers / expand)-th layer; LLaMA-Factory's freeze_trainable_layers",
  },
  expanded: {
    type: "boolean",
    default: false,
    doc: "the model is already expanded (LLaMA-Factory's scripts/llama_pro.py): only choose the new blocks, do not insert",
  },
  modules: {
    type: "list",
    item: { type: "string" },
    minLength: 1,
    default: ["all"],
    doc: "modules trained inside the new blocks (self_attn, mlp, q_proj, ...); all: the whole block",
  },
  extra_modules: { type: "list", item: { type: "string" }, default: [], doc: "modules outside the layers also trained (embed_tokens, norm, lm_head)" },
} satisfies OptionSchema;

const LAYER = /^model\.layers\.(\d+)\./;

/** Freezes `model` except the blocks `ids` (filtered by modules) and the extra modules; half-precision ones are widened to f32. */
function trainOnly(model: CausalLM, ids: readonly number[], modules: readonly string[], extra: readonly string[]): Result<void, MethodError> {
  // freeze's selection with "every layer" picks the modules; the block filter keeps the new blocks only.
  const chosen = freezeSelection(model, { layers: model.spec.numLayers, modules, extra_modules: extra });
  if (chosen.isErr()) return err(new MethodError(`method "llama_pro": ${chosen.error.join("; ")}`, chosen.error));
  const blocks = new Set(ids);
  trainOnlyPaths(
    model,
    chosen.value.filter((p) => {
      const m = LAYER.exec(p);
      return m ? blocks.has(Number(m[1])) : true;
    }),
  );
  return ok(undefined);
}

export const llamaPro: MethodEntry & MethodPayload = {
  name: "llama_pro",
  doc: "LLaMA Pro: insert zero-initialised copies of every k-th decoder layer and train only them",
  options: llamaProOptions,
  apply(model, options, family): Result<WholeModelMethod, MethodError> {
    const checked = checkOptions(llamaProOptions, options, "llama_pro");
    if (checked.isErr()) return err(checked.error);
    const o = checked.value;
    const busy = adapterProblem(model, "llama_pro");
    if (busy) return err(busy);
    // Check the module names on the base before anything moves.
    const names = freezeSelection(model, { layers: model.spec.numLayers, modules: o.modules, extra_modules: o.extra_modules });
    if (names.isErr()) return err(new MethodError(`method "llama_pro": ${names.error.join("; ")}`, names.error));
    if (o.expanded) {
      const ids = expandedBlockIds(model.spec.numLayers, o.expand);
      if (ids.isErr()) return err(new MethodError(`method "llama_pro" (expanded = true): ${ids.error}`));
      const trained = trainOnly(model, ids.value, o.modules, o.extra_modules);
      return trained.isErr() ? err(trained.error) : ok(new WholeModelMethod("llama_pro", model));
    }
    const grown = expandModel(model, family, o.expand);
    if (grown.isErr()) return err(grown.error);
    const trained = trainOnly(grown.value.model, grown.value.newLayers, o.modules, o.extra_modules);
    if (trained.isErr()) return err(trained.error);
    return ok(new WholeModelMethod("llama_pro", grown.value.model));
  },
  memory(input) {
    const checked = checkOptions(llamaProOptions, input.options, "llama_pro");
    if (checked.isErr()) return err(checked.error);
    const o = checked.value;
    const layers = o.expanded ? input.spec.numLayers : input.spec.numLayers + o.expand;
    const ids = expandedBlockIds(layers, o.expand);
    if (ids.isErr()) return err(new Error(ids.error));
    // The new blocks are copies of the blocks before them: the same names and shapes at new indices.
    const weights = o.expanded ? input.weights : [...input.weights, ...newBlockWeights(input.weights, ids.value)];
    const blocks = new Set(ids.value);
    const all = o.modules.includes("all");
    return ok({
      ...partialMemory({ ...input, weights }, (name) => {
        const m = LAYER.exec(name);
        if (m) return blocks.has(Number(m[1])) && (all || o.modules.some((mod) => `.${name}.`.includes(`.${mod}.`)));
        return o.extra_modules.some((mod) => `.${name}.`.includes(`.${mod}.`));
      }),
      layers,
    });
  },
};

/** Weights of the inserted blocks, named at their indices (shapes of block 0: every block has the same). */
function newBlockWeights(weights: readonly PlanParam[], ids: readonly number[]): PlanParam[] {
  const first = weights.filter((w) => w.name.startsWith("model.layers.0."));
  return ids.flatMap((id) => first.map((w) => ({ name: w.name.replace("model.layers.0.", `model.layers.${id}.`), shape: w.shape })));
}
