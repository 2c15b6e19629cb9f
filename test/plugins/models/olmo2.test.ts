// The olmo2 family: the shared checks (on the Llama 3 tokenizer fixture: OLMo 2's own is not shipped),
// post-norms with no pre-norms, the q/k RMSNorm over the whole projection (not per head), attention_bias
// on all four projections, and cached greedy decoding equal to recomputation.
import { expect, test } from "bun:test";
import { generate } from "../../../core/index.ts";
import olmo2Plugin, { olmo2 } from "../../../plugins/models/olmo2.ts";
import { familyChecks, randomFamilyModel, referenceError, smallConfig } from "./family-checks.ts";

familyChecks({
  family: olmo2,
  plugin: olmo2Plugin,
  ref: "olmo2",
  gradients: [
    ["model.layers.0.self_attn.q_norm.weight", [0, 9, 31]],
    ["model.layers.1.self_attn.k_norm.weight", [2, 14]],
    ["model.layers.0.post_attention_layernorm.weight", [3, 20]],
    ["model.layers.1.post_feedforward_layernorm.weight", [1, 30]],
    ["model.layers.0.self_attn.q_proj.weight", [5, 500]],
  ],
});

test("q_norm and k_norm span the whole projection, there are no pre-norms, and the head is untied", () => {
  const spec = olmo2.fromConfig(olmo2.tiny.config)._unsafeUnwrap();
  const shapes = new Map(olmo2.weightNames(spec).map((w) => [w.name, w.shape]));
  expect(shapes.get("model.layers.0.self_attn.q_norm.weight")).toEqual([32]);
  expect(shapes.get("model.layers.0.self_attn.k_norm.weight")).toEqual([16]);
  expect(shapes.get("model.layers.0.post_feedforward_layernorm.weight")).toEqual([32]);
  expect(shapes.has("model.layers.0.input_layernorm.weight")).toBe(false);
  expect(shapes.get("lm_head.weight")).toEqual([128256, 32]);
});

test("the tiny config's logits match the reference within 1e-5", () => {
  expect(referenceError(olmo2, "olmo2", smallConfig(olmo2))).toBeLessThan(1e-5);
});

test("attention_bias puts a bias on q, k, v and o, and matches the reference", () => {
  const spec = olmo2.fromConfig({ ...olmo2.tiny.config, attention_bias: true })._unsafeUnwrap();
  expect([spec.qkvBias, spec.oBias]).toEqual([true, true]);
  expect(referenceError(olmo2, "olmo2", smallConfig(olmo2, { attention_bias: true }))).toBeLessThan(1e-5);
});

test("cached greedy generation equals recomputation without the cache", () => {
  const model = randomFamilyModel(olmo2, smallConfig(olmo2), 5);
  const o = { maxNewTokens: 8, eosTokenIds: [] };
  const cached = generate(model, [[1, 7, 9]], o)._unsafeUnwrap().tokens;
  expect(generate(model, [[1, 7, 9]], { ...o, useCache: false })._unsafeUnwrap().tokens).toEqual(cached);
  expect(cached[0]!.length).toBe(8);
  model.dispose();
});
