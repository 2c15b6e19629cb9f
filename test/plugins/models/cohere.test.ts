// The cohere family (Command-R / R+): the shared checks (on the Llama 3 tokenizer fixture: Cohere's own
// is not shipped) against an independent float64 reference, the parallel block and bias-free LayerNorms,
// per-head q/k norms on and off, attention_bias, logit_scale, tied and untied heads, and cached decoding.
import { expect, test } from "bun:test";
import { generate } from "../../../core/index.ts";
import coherePlugin, { cohere } from "../../../plugins/models/cohere.ts";
import { familyChecks, randomFamilyModel, referenceError, smallConfig } from "./family-checks.ts";
import { cohereReference } from "./ref/cohere.ts";

familyChecks({
  family: cohere,
  plugin: coherePlugin,
  ref: cohereReference,
  gradients: [
    ["model.layers.0.input_layernorm.weight", [0, 21]],
    ["model.layers.1.self_attn.q_norm.weight", [1, 9, 30]],
    ["model.layers.0.self_attn.k_norm.weight", [4, 13]],
    ["model.layers.1.self_attn.k_proj.weight", [5, 100, 300]],
    ["model.norm.weight", [2, 31]],
    ["model.embed_tokens.weight", [40, 1000]],
  ],
});

test("the tiny config's logits match the reference within 1e-5", () => {
  expect(referenceError(cohere, cohereReference, smallConfig(cohere))).toBeLessThan(1e-5);
});

test("one bias-free input_layernorm per layer, q/k norms with one weight row per head, a tied head", () => {
  const spec = cohere.fromConfig(cohere.tiny.config)._unsafeUnwrap();
  const shapes = new Map(cohere.weightNames(spec).map((w) => [w.name, w.shape]));
  expect(shapes.get("model.layers.0.input_layernorm.weight")).toEqual([32]);
  expect(shapes.has("model.layers.0.input_layernorm.bias")).toBe(false);
  expect(shapes.has("model.layers.0.post_attention_layernorm.weight")).toBe(false);
  expect(shapes.get("model.layers.0.self_attn.q_norm.weight")).toEqual([4, 8]);
  expect(shapes.get("model.layers.0.self_attn.k_norm.weight")).toEqual([2, 8]);
  expect(shapes.has("lm_head.weight")).toBe(false);
});

test("Command-R's layout (no q/k norms, MHA), attention_bias and an untied head match the reference", () => {
  const r = smallConfig(cohere, { use_qk_norm: false, num_key_value_heads: 4, logit_scale: 0.0625 });
  expect(referenceError(cohere, cohereReference, r)).toBeLessThan(1e-5);
  expect(referenceError(cohere, cohereReference, smallConfig(cohere, { attention_bias: true, tie_word_embeddings: false }))).toBeLessThan(1e-5);
});

test("absent keys take CohereConfig's defaults: tied, logit_scale 0.0625, no q/k norms, layer_norm_eps 1e-5", () => {
  const { tie_word_embeddings, logit_scale, use_qk_norm, layer_norm_eps, ...rest } = smallConfig(cohere);
  const spec = cohere.fromConfig(rest)._unsafeUnwrap();
  expect([spec.tieWordEmbeddings, spec.logitScale, spec.useQkNorm, spec.layerNormEps]).toEqual([true, 0.0625, false, 1e-5]);
  expect(referenceError(cohere, cohereReference, rest)).toBeLessThan(1e-5);
});

/** Command R7B's layout (model_type cohere2) at the small config: 4 layers, the last one global. */
const r7b = (over: Record<string, unknown> = {}) =>
  smallConfig(cohere, { model_type: "cohere2", use_qk_norm: undefined, num_hidden_layers: 4, sliding_window: 3, sliding_window_pattern: 4, ...over });

test("cohere2: sliding layers with RoPE, every 4th layer global without position encoding, match the reference", () => {
  const spec = cohere.fromConfig(r7b())._unsafeUnwrap();
  expect([spec.slidingWindows, spec.ropeLayers, spec.useQkNorm]).toEqual([[3, 3, 3, 0], [true, true, true, false], false]);
  expect(referenceError(cohere, cohereReference, r7b())).toBeLessThan(1e-5);
  // layer_types wins over the pattern; head_dim is always hidden_size / num_attention_heads.
  const typed = r7b({ layer_types: ["full_attention", "sliding_attention", "full_attention", "sliding_attention"], head_dim: 4 });
  expect(cohere.fromConfig(typed)._unsafeUnwrap().ropeLayers).toEqual([false, true, false, true]);
  expect(cohere.fromConfig(typed)._unsafeUnwrap().headDim).toBe(8);
  expect(referenceError(cohere, cohereReference, typed)).toBeLessThan(1e-5);
});

test("cohere2: cached greedy generation equals recomputation, through global layers and past the window", () => {
  const model = randomFamilyModel(cohere, r7b(), 5);
  const o = { maxNewTokens: 8, eosTokenIds: [] };
  const cached = generate(model, [[1, 7, 9]], o)._unsafeUnwrap().tokens;
  expect(generate(model, [[1, 7, 9]], { ...o, useCache: false })._unsafeUnwrap().tokens).toEqual(cached);
  model.dispose();
});

test("cohere2: malformed layer_types are refused, naming the key", () => {
  expect(cohere.fromConfig(r7b({ layer_types: ["sliding_attention"] }))._unsafeUnwrapErr().message).toContain("layer_types");
});

test("a bad key is refused, naming it", () => {
  expect(cohere.fromConfig(smallConfig(cohere, { use_qk_norm: "yes" }))._unsafeUnwrapErr().message).toContain("use_qk_norm");
  expect(cohere.fromConfig(smallConfig(cohere, { partial_rotary_factor: 0.5 }))._unsafeUnwrapErr().message).toContain("partial_rotary_factor 0.5");
});

test("cached greedy generation equals recomputation without the cache", () => {
  const model = randomFamilyModel(cohere, smallConfig(cohere), 5);
  const o = { maxNewTokens: 8, eosTokenIds: [] };
  const cached = generate(model, [[1, 7, 9]], o)._unsafeUnwrap().tokens;
  expect(generate(model, [[1, 7, 9]], { ...o, useCache: false })._unsafeUnwrap().tokens).toEqual(cached);
  expect(cached[0]!.length).toBe(8);
  model.dispose();
});
