// The glm4 family (GLM-4-0414): the shared checks (on the Qwen3 tokenizer fixture: GLM-4's own is not
// shipped) against an independent float64 reference, the sandwich norms, interleaved partial RoPE (the
// de-interleave trick matches rotating (2i, 2i+1) pairs), Glm4Config's defaults, and cached decoding.
import { expect, test } from "bun:test";
import { generate } from "../../../core/index.ts";
import glm4Plugin, { glm4 } from "../../../plugins/models/glm4.ts";
import { familyChecks, randomFamilyModel, referenceError, smallConfig } from "./family-checks.ts";
import { glm4Reference } from "./ref/glm4.ts";

familyChecks({
  family: glm4,
  plugin: glm4Plugin,
  ref: glm4Reference,
  gradients: [
    ["model.layers.0.post_self_attn_layernorm.weight", [0, 17]],
    ["model.layers.1.post_mlp_layernorm.weight", [3, 30]],
    ["model.layers.0.self_attn.q_proj.bias", [1, 2, 40]],
    ["model.layers.1.self_attn.k_proj.weight", [5, 100, 300]],
    ["model.layers.0.mlp.gate_up_proj.weight", [7, 2500]],
  ],
});

test("the tiny config's logits match the reference within 1e-5", () => {
  expect(referenceError(glm4, glm4Reference, smallConfig(glm4))).toBeLessThan(1e-5);
});

test("sandwich norms, a fused gate_up_proj, biases on q/k/v but not o, half of each head rotated", () => {
  const spec = glm4.fromConfig(glm4.tiny.config)._unsafeUnwrap();
  const shapes = new Map(glm4.weightNames(spec).map((w) => [w.name, w.shape]));
  expect(shapes.get("model.layers.0.post_self_attn_layernorm.weight")).toEqual([32]);
  expect(shapes.get("model.layers.1.post_mlp_layernorm.weight")).toEqual([32]);
  expect(shapes.get("model.layers.0.mlp.gate_up_proj.weight")).toEqual([128, 32]);
  expect(shapes.get("model.layers.0.self_attn.k_proj.bias")).toEqual([32]);
  expect(shapes.has("model.layers.0.self_attn.o_proj.bias")).toBe(false);
  expect(spec.rope.rotaryDim).toBe(8);
});

test("full interleaved rotary (partial_rotary_factor 1) and no attention bias match the reference", () => {
  expect(referenceError(glm4, glm4Reference, smallConfig(glm4, { partial_rotary_factor: 1.0 }))).toBeLessThan(1e-5);
  expect(referenceError(glm4, glm4Reference, smallConfig(glm4, { attention_bias: false }))).toBeLessThan(1e-5);
});

test("absent keys take Glm4Config's defaults: head_dim 128, partial rotary 0.5, attention_bias, eps 1.5625e-7", () => {
  const { head_dim, partial_rotary_factor, attention_bias, rms_norm_eps, ...rest } = smallConfig(glm4);
  const spec = glm4.fromConfig({ ...rest, hidden_size: 256, num_attention_heads: 2, num_key_value_heads: 1 })._unsafeUnwrap();
  expect([spec.headDim, spec.rope.rotaryDim, spec.qkvBias, spec.oBias, spec.rmsNormEps]).toEqual([128, 64, true, false, 1.5625e-7]);
  // transformers 5 writes the factor inside rope_parameters.
  const v5 = glm4.fromConfig({ ...rest, head_dim: 16, rope_parameters: { rope_type: "default", rope_theta: 10000, partial_rotary_factor: 0.25 } });
  expect(v5._unsafeUnwrap().rope.rotaryDim).toBe(4);
});

test("model_type glm (GLM-4-9B): the same layers without the two post-norms, against the reference", () => {
  const glm = smallConfig(glm4, { model_type: "glm", architectures: ["GlmForCausalLM"] });
  const spec = glm4.fromConfig(glm)._unsafeUnwrap();
  const names = glm4.weightNames(spec).map((w) => w.name);
  expect(names).toContain("model.layers.0.post_attention_layernorm.weight");
  expect(names.some((n) => n.includes("post_self_attn_layernorm") || n.includes("post_mlp_layernorm"))).toBe(false);
  expect(referenceError(glm4, glm4Reference, glm)).toBeLessThan(1e-5);
  const model = randomFamilyModel(glm4, glm, 5);
  const o = { maxNewTokens: 6, eosTokenIds: [] };
  expect(generate(model, [[1, 7, 9]], { ...o, useCache: false })._unsafeUnwrap().tokens).toEqual(generate(model, [[1, 7, 9]], o)._unsafeUnwrap().tokens);
  model.dispose();
});

test("an odd number of rotary dims is refused, naming the keys", () => {
  const r = glm4.fromConfig(smallConfig(glm4, { partial_rotary_factor: 0.1875 }));
  expect(r._unsafeUnwrapErr().message).toContain("head_dim 16 x partial_rotary_factor 0.1875 gives 3 rotary dims");
});

test("cached greedy generation equals recomputation without the cache", () => {
  const model = randomFamilyModel(glm4, smallConfig(glm4), 5);
  const o = { maxNewTokens: 8, eosTokenIds: [] };
  const cached = generate(model, [[1, 7, 9]], o)._unsafeUnwrap().tokens;
  expect(generate(model, [[1, 7, 9]], { ...o, useCache: false })._unsafeUnwrap().tokens).toEqual(cached);
  expect(cached[0]!.length).toBe(8);
  model.dispose();
});
