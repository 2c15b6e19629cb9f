// LLaMA Pro on every shipped family, at its tiny preset with random weights: the expanded model is
// built by the family itself from config.json, so each llama-style family expands with its logits
// unchanged; a family whose layers cannot take a neutral copy (Mixtral: experts, no down_proj) or
// whose layers depend on their index is refused with a message, never silently changed.
import { expect, test } from "bun:test";
import { createRegistry, familyByName, type ModelFamily, noGrad, tensor, tidy } from "../../../../core/index.ts";
import { llamaPro } from "../../../../plugins/methods/index.ts";
import { modelPlugins } from "../../../../plugins/models/index.ts";

const registry = createRegistry();
for (const plugin of modelPlugins) registry.use(plugin)._unsafeUnwrap();
const families = registry.list("models").map((e) => familyByName(registry, e.name)._unsafeUnwrap());

/** Bigger than the preset's usual 2 layers so that expand = 2 inserts between layers, not only at the end. */
function tinyModel(family: ModelFamily, extra: Record<string, unknown> = {}) {
  const config = { ...family.tiny.config, model_type: family.modelTypes[0], num_hidden_layers: 4, ...extra };
  const model = family.build(family.fromConfig(config)._unsafeUnwrap());
  model.initParameters({ seed: 11, std: 0.05 });
  return model;
}

const logits = (model: ReturnType<typeof tinyModel>): Float32Array =>
  noGrad(() => tidy(() => model.forward(tensor([1, 5, 9, 13, 17, 21, 25, 29], [1, 8], { dtype: "i32" })).toArray() as Float32Array));

test("the shipped families are all here", () => {
  expect(families.map((f) => f.name).sort()).toEqual([
    "cohere",
    "deepseek_v2",
    "deepseek_v3",
    "gemma",
    "gemma2",
    "gemma3",
    "glm4",
    "gpt_oss",
    "granite",
    "internlm3",
    "llama",
    "mistral",
    "mistral3",
    "mixtral",
    "olmo2",
    "phi3",
    "qwen2",
    "qwen2_moe",
    "qwen3",
    "qwen3_moe",
    "smollm3",
    "starcoder2",
  ]);
});

/** Families whose layers cannot take a neutral copy, or take their set-up from their index. */
const refused: Readonly<Record<string, string>> = {
  mixtral: "the decoder layers have no down_proj weights",
  // Mistral 3 keeps its decoder under language_model.model.layers (the checkpoint's names).
  mistral3: "the model has no weights named model.layers.<i>.*",
  // StarCoder 2's MLP ends in c_proj, which llama_pro.py does not zero.
  starcoder2: "the decoder layers have no down_proj weights",
  // Gemma 2 alternates sliding and global attention by layer index when config.json has no layer_types.
  gemma2: 'family "gemma2" sets layers up by their index, so inserted copies would not match their source: layer 2 (from layer 1) would get slidingWindows',
  // Its tiny preset keeps layer 1 dense (mlp_only_layers: [1]): the dense/sparse pattern is by index.
  qwen2_moe:
    'family "qwen2_moe" sets layers up by their index, so inserted copies would not match their source: layer 2 (from layer 1) would get sparseLayers true, not false',
  // Gemma 3 makes every sliding_window_pattern-th layer global by index when config.json has no layer_types.
  gemma3: 'family "gemma3" sets layers up by their index, so inserted copies would not match their source: layer 5 (from layer 3) would get slidingWindows',
};

function expandsUnchanged(family: ModelFamily, extra: Record<string, unknown> = {}): void {
  const model = tinyModel(family, extra);
  const before = logits(model);
  const grown = llamaPro.apply(model, { expand: 2 }, family)._unsafeUnwrap();
  expect(grown.model.spec.numLayers).toBe(6);
  const after = logits(grown.model);
  let worst = 0;
  for (let i = 0; i < before.length; i++) worst = Math.max(worst, Math.abs(before[i]! - after[i]!));
  expect(worst).toBeLessThan(1e-5);
  expect(Object.keys(grown.params).every((p) => /^model\.layers\.[25]\./.test(p))).toBe(true);
  grown.model.dispose();
}

for (const family of families) {
  test(`${family.name}: expand 4 -> 6 layers ${refused[family.name] ? "is refused with the reason, the model untouched" : "keeps the logits"}`, () => {
    const why = refused[family.name];
    if (why === undefined) return expandsUnchanged(family);
    const model = tinyModel(family);
    const before = logits(model);
    expect(llamaPro.apply(model, { expand: 2 }, family)._unsafeUnwrapErr().message).toContain(why);
    expect(logits(model)).toEqual(before);
    model.dispose();
  });
}

test("gemma2 with layer_types in config.json expands, the list expanded with the layers", () => {
  expandsUnchanged(familyByName(registry, "gemma2")._unsafeUnwrap(), {
    layer_types: ["sliding_attention", "full_attention", "sliding_attention", "full_attention"],
  });
});

test("gemma3 with layer_types in config.json expands, its local layers keeping their window and RoPE", () => {
  expandsUnchanged(familyByName(registry, "gemma3")._unsafeUnwrap(), {
    layer_types: ["sliding_attention", "sliding_attention", "sliding_attention", "full_attention"],
  });
});

test("qwen2 with sliding windows from max_window_layers on is refused: the copies would shift the boundary", () => {
  const family = familyByName(registry, "qwen2")._unsafeUnwrap();
  const model = tinyModel(family, { use_sliding_window: true, sliding_window: 4, max_window_layers: 2 });
  expect(llamaPro.apply(model, { expand: 2 }, family)._unsafeUnwrapErr().message).toContain("sets layers up by their index");
  model.dispose();
});

test("deepseek_v3 with more dense layers than the copies keep is refused: a copied dense layer would land in a MoE slot", () => {
  const family = familyByName(registry, "deepseek_v3")._unsafeUnwrap();
  const model = tinyModel(family, { first_k_dense_replace: 2 });
  expect(llamaPro.apply(model, { expand: 2 }, family)._unsafeUnwrapErr().message).toContain("moeLayers");
  model.dispose();
});

test("qwen2_moe with every layer sparse expands unchanged: each expert's and the shared expert's down_proj start at zero", () => {
  expandsUnchanged(familyByName(registry, "qwen2_moe")._unsafeUnwrap(), { mlp_only_layers: [] });
});
