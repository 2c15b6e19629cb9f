// The starcoder2 family: the shared checks (on the Llama 2 tokenizer fixture: StarCoder 2's own is not
// shipped) against an independent float64 reference, LayerNorms with bias, the ungated GELU MLP, biases
// on or off (use_bias), the sliding window, Starcoder2Config's defaults, dropouts loaded and not applied, cached decoding.
import { expect, test } from "bun:test";
import { generate } from "../../../core/index.ts";
import starcoder2Plugin, { starcoder2 } from "../../../plugins/models/starcoder2.ts";
import { familyChecks, randomFamilyModel, referenceError, smallConfig } from "./family-checks.ts";
import { starcoder2Reference } from "./ref/starcoder2.ts";

familyChecks({
  family: starcoder2,
  plugin: starcoder2Plugin,
  ref: starcoder2Reference,
  gradients: [
    ["model.layers.0.input_layernorm.bias", [0, 19]],
    ["model.layers.1.post_attention_layernorm.weight", [3, 30]],
    ["model.layers.0.mlp.c_fc.bias", [2, 77]],
    ["model.layers.1.mlp.c_proj.weight", [5, 1000]],
    ["model.layers.0.self_attn.o_proj.bias", [4]],
    ["model.norm.bias", [1, 28]],
  ],
  // A window shorter than the gradient rows (6 tokens), so masked keys are exercised too.
  gradientConfig: { sliding_window: 3 },
});

test("the tiny config's logits match the reference within 1e-5", () => {
  expect(referenceError(starcoder2, starcoder2Reference, smallConfig(starcoder2))).toBeLessThan(1e-5);
});

test("LayerNorms with bias, c_fc/c_proj with bias, biased attention, a tied head", () => {
  const spec = starcoder2.fromConfig(starcoder2.tiny.config)._unsafeUnwrap();
  const shapes = new Map(starcoder2.weightNames(spec).map((w) => [w.name, w.shape]));
  expect(shapes.get("model.layers.0.input_layernorm.bias")).toEqual([32]);
  expect(shapes.get("model.norm.bias")).toEqual([32]);
  expect(shapes.get("model.layers.0.mlp.c_fc.weight")).toEqual([128, 32]);
  expect(shapes.get("model.layers.0.mlp.c_proj.bias")).toEqual([32]);
  expect(shapes.get("model.layers.1.self_attn.o_proj.bias")).toEqual([32]);
  expect(shapes.has("lm_head.weight")).toBe(false);
  expect(spec.slidingWindows).toEqual([4096, 4096]);
});

test("a short sliding window, use_bias false and an untied head match the reference", () => {
  expect(referenceError(starcoder2, starcoder2Reference, smallConfig(starcoder2, { sliding_window: 3 }))).toBeLessThan(1e-5);
  const plain = smallConfig(starcoder2, { use_bias: false, tie_word_embeddings: false, sliding_window: null });
  const spec = starcoder2.fromConfig(plain)._unsafeUnwrap();
  expect([spec.qkvBias, spec.oBias, spec.mlpBias, spec.slidingWindows]).toEqual([false, false, false, [0, 0]]);
  expect(referenceError(starcoder2, starcoder2Reference, plain)).toBeLessThan(1e-5);
});

test("absent keys take Starcoder2Config's defaults: 2 kv heads, gelu_pytorch_tanh, tied, use_bias, no window", () => {
  const { num_key_value_heads, hidden_act, tie_word_embeddings, use_bias, sliding_window, ...rest } = smallConfig(starcoder2);
  const spec = starcoder2.fromConfig(rest)._unsafeUnwrap();
  expect([spec.numKvHeads, spec.hiddenAct, spec.tieWordEmbeddings, spec.qkvBias, spec.mlpBias, spec.slidingWindows]).toEqual([
    2,
    "gelu_tanh",
    true,
    true,
    true,
    [0, 0],
  ]);
  expect(referenceError(starcoder2, starcoder2Reference, rest)).toBeLessThan(1e-5);
});

test("the released configs' dropouts (0.1) load and change nothing: lft fine-tunes without dropout; a non-number is refused", () => {
  const dropouts = { residual_dropout: 0.1, embedding_dropout: 0.1, attention_dropout: 0.1 };
  expect(referenceError(starcoder2, starcoder2Reference, smallConfig(starcoder2, dropouts))).toBeLessThan(1e-5);
  const msg = starcoder2.fromConfig(smallConfig(starcoder2, { residual_dropout: "high" }))._unsafeUnwrapErr().message;
  expect(msg).toContain('"residual_dropout" must be a finite number');
});

test("cached greedy generation equals recomputation without the cache, past the sliding window", () => {
  const model = randomFamilyModel(starcoder2, smallConfig(starcoder2, { sliding_window: 4 }), 5);
  const o = { maxNewTokens: 8, eosTokenIds: [] };
  const cached = generate(model, [[1, 7, 9]], o)._unsafeUnwrap().tokens;
  expect(generate(model, [[1, 7, 9]], { ...o, useCache: false })._unsafeUnwrap().tokens).toEqual(cached);
  expect(cached[0]!.length).toBe(8);
  model.dispose();
});
