// The internlm3 family: the shared checks (on the Llama 2 SentencePiece fixture: InternLM3's own is not
// shipped), its own bias keys (qkv_bias, bias), dynamic NTK RoPE past max_position_embeddings, and cached
// greedy decoding equal to recomputation.
import { expect, test } from "bun:test";
import { generate, type HfConfig } from "../../../core/index.ts";
import internlm3Plugin, { internlm3 } from "../../../plugins/models/internlm3.ts";
import { familyChecks, randomFamilyModel, referenceError, smallConfig } from "./family-checks.ts";
import { internlm3Reference } from "./ref/internlm3.ts";

familyChecks({
  family: internlm3,
  plugin: internlm3Plugin,
  ref: internlm3Reference,
  gradientConfig: { qkv_bias: true, bias: true },
  gradients: [
    ["model.layers.0.self_attn.q_proj.bias", [1, 40]],
    ["model.layers.1.self_attn.o_proj.bias", [3, 20]],
    ["model.layers.0.mlp.down_proj.bias", [0, 31]],
    ["model.layers.1.self_attn.k_proj.weight", [5, 300]],
  ],
});

test("qkv_bias and bias name the biases: q/k/v from one, o and the MLP from the other", () => {
  const names = (over: HfConfig) =>
    internlm3
      .weightNames(internlm3.fromConfig(smallConfig(internlm3, over))._unsafeUnwrap())
      .map((w) => w.name)
      .filter((n) => n.startsWith("model.layers.0.") && n.endsWith(".bias"))
      .sort();
  expect(names({})).toEqual([]);
  expect(names({ qkv_bias: true })).toEqual([
    "model.layers.0.self_attn.k_proj.bias",
    "model.layers.0.self_attn.q_proj.bias",
    "model.layers.0.self_attn.v_proj.bias",
  ]);
  expect(names({ bias: true })).toEqual([
    "model.layers.0.mlp.down_proj.bias",
    "model.layers.0.mlp.gate_proj.bias",
    "model.layers.0.mlp.up_proj.bias",
    "model.layers.0.self_attn.o_proj.bias",
  ]);
});

test("the tiny config's logits match the reference within 1e-5", () => {
  expect(referenceError(internlm3, internlm3Reference, smallConfig(internlm3))).toBeLessThan(1e-5);
});

test("with both biases the logits match the reference within 1e-5", () => {
  expect(referenceError(internlm3, internlm3Reference, smallConfig(internlm3, { qkv_bias: true, bias: true }))).toBeLessThan(1e-5);
});

test("dynamic NTK RoPE past max_position_embeddings (7 tokens over 4) matches the reference", () => {
  const config = smallConfig(internlm3, { max_position_embeddings: 4 });
  expect(referenceError(internlm3, internlm3Reference, config)).toBeLessThan(1e-5);
  // and the growth of the base matters: the same model against a reference without the scaling differs.
  const plain = referenceError(internlm3, (c, W, rows) => internlm3Reference({ ...c, rope_scaling: null }, W, rows), config);
  expect(plain).toBeGreaterThan(1e-4);
});

test("a rope type InternLM3 does not use is refused with the key named", () => {
  const bad = internlm3.fromConfig(smallConfig(internlm3, { rope_scaling: { rope_type: "ntk-by-parts", factor: 2 } }));
  expect(bad._unsafeUnwrapErr().message).toContain('rope type "ntk-by-parts" is not supported');
});

test("cached greedy generation equals recomputation without the cache", () => {
  const model = randomFamilyModel(internlm3, smallConfig(internlm3), 5);
  const o = { maxNewTokens: 8, eosTokenIds: [] };
  const cached = generate(model, [[1, 7, 9]], o)._unsafeUnwrap().tokens;
  expect(generate(model, [[1, 7, 9]], { ...o, useCache: false })._unsafeUnwrap().tokens).toEqual(cached);
  expect(cached[0]!.length).toBe(8);
  model.dispose();
});
