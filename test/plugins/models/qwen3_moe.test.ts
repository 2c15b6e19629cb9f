// The qwen3_moe family: the shared checks on the Qwen3 tokenizer (gradients through the per-head q/k
// norms, the router and a routed expert), HF weight names (no shared expert, no q/k/v bias), head_dim
// defaulting to hidden / heads (unlike dense Qwen3), norm_topk_prob off, mlp_only_layers, decoder_sparse_step
// and attention_bias against the float64 reference, refused keys, cached decoding, and the load-balancing
// loss with every layer sparse.
import { expect, test } from "bun:test";
import { generate, tensor, tidy } from "../../../core/index.ts";
import qwen3MoePlugin, { qwen3_moe } from "../../../plugins/models/qwen3_moe.ts";
import { familyChecks, randomFamilyModel, referenceError, smallConfig, weightsOf } from "./family-checks.ts";
import { loadBalancingLoss, qwenMoeForward, qwenMoeRef } from "./ref/qwen_moe.ts";

familyChecks({
  family: qwen3_moe,
  plugin: qwen3MoePlugin,
  ref: qwenMoeRef,
  tokenizerCheck: ["Hello world!", [9707, 1879, 0]],
  gradients: [
    ["model.layers.0.self_attn.q_norm.weight", [0, 9, 15]],
    ["model.layers.1.self_attn.k_norm.weight", [2, 14]],
    // Renormalised top-k: only the experts chosen for some token (layer 0: not 1 or 7) get a router gradient.
    ["model.layers.0.mlp.gate.weight", [0, 100, 200]],
    ["model.layers.1.mlp.gate.weight", [40, 200]],
    ["model.layers.1.mlp.experts.6.down_proj.weight", [5, 300]],
    ["model.layers.1.self_attn.o_proj.weight", [3, 1000]],
  ],
});

const ROWS = [
  [1, 5, 9, 13, 17, 21, 25],
  [3, 3, 60, 0, 12, 7, 30],
];

test("HF weight names: every layer sparse by default, experts.N.{gate,up,down}_proj, per-head q/k norms, no shared expert or bias", () => {
  const spec = qwen3_moe.fromConfig(qwen3_moe.tiny.config)._unsafeUnwrap();
  expect(spec.sparseLayers).toEqual([true, true]);
  const shapes = new Map(qwen3_moe.weightNames(spec).map((w) => [w.name, w.shape]));
  expect(shapes.get("model.layers.1.mlp.gate.weight")).toEqual([8, 32]);
  expect(shapes.get("model.layers.1.mlp.experts.7.up_proj.weight")).toEqual([16, 32]);
  expect(shapes.get("model.layers.0.self_attn.q_norm.weight")).toEqual([16]);
  expect(shapes.get("model.layers.0.self_attn.q_proj.weight")).toEqual([64, 32]);
  expect([...shapes.keys()].filter((n) => n.includes("shared_expert") || n.endsWith(".bias"))).toEqual([]);
  // Per layer: router + 8 experts x 3 + attention 4 + q/k norms 2 + layer norms 2.
  expect(shapes.size).toBe(1 + 2 * (1 + 24 + 4 + 2 + 2) + 2);
  expect(qwen3_moe.adapterTargets).not.toContain("gate");
  const { head_dim: _, ...rest } = qwen3_moe.tiny.config;
  expect(qwen3_moe.fromConfig(rest)._unsafeUnwrap().headDim).toBe(8);
});

test("the tiny config's logits match the reference within 1e-5", () => {
  expect(referenceError(qwen3_moe, qwenMoeRef, smallConfig(qwen3_moe))).toBeLessThan(1e-5);
});

test("norm_topk_prob false, mlp_only_layers, decoder_sparse_step, attention_bias and the default head_dim match the reference", () => {
  const { head_dim: _, ...noHeadDim } = smallConfig(qwen3_moe);
  const variants = [
    smallConfig(qwen3_moe, { norm_topk_prob: false }),
    smallConfig(qwen3_moe, { mlp_only_layers: [0] }),
    smallConfig(qwen3_moe, { decoder_sparse_step: 2, num_experts_per_tok: 8 }),
    smallConfig(qwen3_moe, { attention_bias: true }),
    noHeadDim,
  ];
  for (const config of variants) expect(referenceError(qwen3_moe, qwenMoeRef, config, ROWS, 6)).toBeLessThan(1e-5);
  expect(qwen3_moe.fromConfig({ ...qwen3_moe.tiny.config, mlp_only_layers: [0] })._unsafeUnwrap().sparseLayers).toEqual([false, true]);
  const biased = qwen3_moe.fromConfig({ ...qwen3_moe.tiny.config, attention_bias: true })._unsafeUnwrap();
  expect([biased.qkvBias, biased.oBias]).toEqual([true, true]);
});

test("MoE keys are checked with the rest of the config, each problem located", () => {
  const e = qwen3_moe.fromConfig({ ...qwen3_moe.tiny.config, num_experts_per_tok: 9, mlp_only_layers: "all", use_sliding_window: true })._unsafeUnwrapErr();
  expect(e.problems).toEqual([
    "config.json: num_experts_per_tok (9) exceeds num_experts (8)",
    'config.json: "mlp_only_layers" must list layer indices within 0..1, got "all"',
    "config.json: use_sliding_window true is not supported for MoE Qwen models; set it to false",
  ]);
});

test("cached greedy generation equals recomputation without the cache", () => {
  const model = randomFamilyModel(qwen3_moe, smallConfig(qwen3_moe), 5);
  const o = { maxNewTokens: 8, eosTokenIds: [] };
  const cached = generate(model, [[1, 7, 9]], o)._unsafeUnwrap().tokens;
  expect(generate(model, [[1, 7, 9]], { ...o, useCache: false })._unsafeUnwrap().tokens).toEqual(cached);
  expect(cached[0]!.length).toBe(8);
  model.dispose();
});

test("the load-balancing loss over both sparse layers is transformers' formula (top-2 of 8, no padding)", () => {
  const config = smallConfig(qwen3_moe, { output_router_logits: true, router_aux_loss_coef: 0.01 });
  const model = randomFamilyModel(qwen3_moe, config, 8);
  expect(model.auxiliaryLoss!.defaultCoefficient).toBe(0.01);
  let value = 0;
  tidy(() => {
    model.auxiliaryLoss!.begin();
    model.forward(tensor(ROWS.flat(), [2, 7], { dtype: "i32" }));
    value = model.auxiliaryLoss!.end()!.item();
  });
  const logits: number[][][] = [];
  qwenMoeForward(config, weightsOf(model), ROWS, logits);
  expect(logits.length).toBe(2);
  expect(Math.abs(value - loadBalancingLoss(logits, 8, 2))).toBeLessThan(1e-5);
  model.dispose();
});
