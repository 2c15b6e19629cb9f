// The deepseek_v2 family: the shared checks (on DeepSeek-V3's tokenizer: V2's own is not on npm), MLA with an
// uncompressed q_proj (V2-Lite) and with q_lora_rank (V2), softmax routing greedy and group-limited by the
// group max, shared experts, norm_topk_prob, YaRN's mscale^2 score scale, cached decoding, located errors.
import { expect, test } from "bun:test";
import { generate } from "../../../core/index.ts";
import deepseekV3Plugin, { deepseekV2, deepseekV2Plugin } from "../../../plugins/models/deepseek.ts";
import { familyChecks, randomFamilyModel, referenceError, registryWith, smallConfig } from "./family-checks.ts";
import { deepseekReference } from "./ref/deepseek.ts";

familyChecks({
  family: deepseekV2,
  plugin: deepseekV2Plugin,
  ref: deepseekReference,
  tokenizerCheck: ["Hello world!", [0, 19923, 2058, 3]],
  gradients: [
    // rows 8..11 of q_proj are head 0's rope part
    ["model.layers.1.self_attn.q_proj.weight", [3, 9 * 32 + 1, 40 * 32 + 6]],
    ["model.layers.2.self_attn.kv_a_layernorm.weight", [1, 14]],
    ["model.layers.0.self_attn.kv_a_proj_with_mqa.weight", [17 * 32 + 2, 8]],
    ["model.layers.2.self_attn.kv_b_proj.weight", [6 * 16 + 3]],
    ["model.layers.1.mlp.gate.weight", [2, 33, 66]],
    ["model.layers.2.mlp.shared_experts.down_proj.weight", [5, 700]],
  ],
});

test("V2-Lite's layout: q_proj instead of q_a/q_b, no correction bias, shared experts of n_shared * moe size", () => {
  const spec = deepseekV2.fromConfig(deepseekV2.tiny.config)._unsafeUnwrap();
  const shapes = new Map(deepseekV2.weightNames(spec).map((w) => [w.name, w.shape]));
  expect(shapes.get("model.layers.1.self_attn.q_proj.weight")).toEqual([4 * 12, 32]);
  expect(shapes.has("model.layers.1.self_attn.q_a_proj.weight")).toBe(false);
  expect(shapes.has("model.layers.1.mlp.gate.e_score_correction_bias")).toBe(false);
  expect(shapes.get("model.layers.1.mlp.shared_experts.gate_proj.weight")).toEqual([32, 32]);
  expect(spec.routing).toMatchObject({ scoring: "softmax", nGroup: 1, topK: 3, normTopk: false });
});

test("the tiny config's logits match the reference within 1e-5", () => {
  expect(referenceError(deepseekV2, deepseekReference, smallConfig(deepseekV2))).toBeLessThan(1e-5);
});

test("variants match the reference: q_lora_rank, group_limited_greedy, norm_topk_prob, no shared experts, moe_layer_freq, no YaRN", () => {
  for (const over of [
    { q_lora_rank: 24, attention_bias: true },
    { topk_method: "group_limited_greedy", n_group: 4, topk_group: 2, routed_scaling_factor: 16.0 },
    { norm_topk_prob: true, n_shared_experts: null },
    { first_k_dense_replace: 0, moe_layer_freq: 2, rope_scaling: null },
  ])
    expect(referenceError(deepseekV2, deepseekReference, smallConfig(deepseekV2, over))).toBeLessThan(1e-5);
});

test("cached greedy generation equals recomputation without the cache", () => {
  const model = randomFamilyModel(deepseekV2, smallConfig(deepseekV2, { q_lora_rank: 24 }), 5);
  const o = { maxNewTokens: 8, eosTokenIds: [] };
  const cached = generate(
    model,
    [
      [1, 7, 9],
      [4, 4, 2],
    ],
    o,
  )._unsafeUnwrap().tokens;
  expect(
    generate(
      model,
      [
        [1, 7, 9],
        [4, 4, 2],
      ],
      { ...o, useCache: false },
    )._unsafeUnwrap().tokens,
  ).toEqual(cached);
  expect(cached[0]!.length).toBe(8);
  model.dispose();
});

test("both plugins register their family; a V2 config is read by deepseek_v2 only", () => {
  expect(
    registryWith(deepseekV2Plugin)
      .list("models")
      .map((e) => e.name),
  ).toEqual(["deepseek_v2"]);
  expect(
    registryWith(deepseekV3Plugin)
      .list("models")
      .map((e) => e.name),
  ).toEqual(["deepseek_v3"]);
});

test("unsupported configs fail with the key named", () => {
  const bad = (over: Record<string, unknown>) => deepseekV2.fromConfig({ ...deepseekV2.tiny.config, ...over })._unsafeUnwrapErr().message;
  expect(bad({ topk_method: "noaux_tc" })).toContain('topk_method "noaux_tc"');
  expect(bad({ scoring_func: "sigmoid" })).toContain('scoring_func "sigmoid"');
  expect(bad({ topk_method: "group_limited_greedy", n_group: 4, topk_group: 5 })).toContain('"topk_group" (5) exceeds n_group (4)');
  expect(bad({ num_experts_per_tok: 9 })).toContain("exceeds n_routed_experts");
  expect(bad({ attention_dropout: 0.1 })).toContain("attention_dropout");
});

test("DeepSeek-V2-Lite's and DeepSeek-V2's released configs read", () => {
  const lite = {
    ...deepseekV2.tiny.config,
    bos_token_id: 100000,
    eos_token_id: 100001,
    hidden_size: 2048,
    intermediate_size: 10944,
    kv_lora_rank: 512,
    moe_intermediate_size: 1408,
    n_routed_experts: 64,
    num_attention_heads: 16,
    num_experts_per_tok: 6,
    num_hidden_layers: 27,
    num_key_value_heads: 16,
    pretraining_tp: 1,
    qk_nope_head_dim: 128,
    qk_rope_head_dim: 64,
    v_head_dim: 128,
    vocab_size: 102400,
  };
  const spec = deepseekV2.fromConfig(lite)._unsafeUnwrap();
  expect([spec.qLoraRank, spec.numSharedExperts, spec.moeLayers.filter(Boolean).length]).toEqual([null, 2, 26]);
  // YaRN with mscale = mscale_all_dim: the rotated dims keep factor 1, the scores take mscale(40, 0.707)^2
  expect(spec.rope.scaling).toMatchObject({ type: "yarn", attentionFactor: 1 });
  expect(spec.attnScale * Math.sqrt(192)).toBeCloseTo((0.0707 * Math.log(40) + 1) ** 2, 3);
  const v2 = {
    ...lite,
    hidden_size: 5120,
    intermediate_size: 12288,
    moe_intermediate_size: 1536,
    n_group: 8,
    n_routed_experts: 160,
    num_attention_heads: 128,
    num_hidden_layers: 60,
    num_key_value_heads: 128,
    q_lora_rank: 1536,
    routed_scaling_factor: 16.0,
    topk_group: 3,
    topk_method: "group_limited_greedy",
  };
  expect(deepseekV2.fromConfig(v2)._unsafeUnwrap().routing).toEqual({
    scoring: "softmax",
    nGroup: 8,
    topkGroup: 3,
    groupScore: "max",
    topK: 6,
    normTopk: false,
    scale: 16,
  });
});
