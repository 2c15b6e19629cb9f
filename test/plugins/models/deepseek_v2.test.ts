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
