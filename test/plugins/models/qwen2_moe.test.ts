// The qwen2_moe family: the shared checks on the Qwen2 vocabulary (gradients through the router, the
// shared expert and its sigmoid gate, a routed expert, the dense layer mlp_only_layers keeps and a q/k/v
// bias), HF weight names with the dense/sparse layer pattern, norm_topk_prob, decoder_sparse_step, top-k
// over all experts and qkv_bias against the float64 reference, refused keys located, cached decoding,
// the router load-balancing loss (value and gradient) and LoRA on the experts.
import { expect, test } from "bun:test";
import { backward, generate, noGrad, ops, tensor, tidy } from "../../../core/index.ts";
import { lora } from "../../../plugins/methods/index.ts";
import { routeTokens } from "../../../plugins/models/moe.ts";
import qwen2MoePlugin, { QwenSparseMoeBlock, qwen2_moe } from "../../../plugins/models/qwen2_moe.ts";
import { AdamW } from "../../../plugins/optimizers/index.ts";
import { familyChecks, randomFamilyModel, referenceError, smallConfig, weightsOf } from "./family-checks.ts";
import { loadBalancingLoss, qwenMoeForward, qwenMoeRef } from "./ref/qwen_moe.ts";

familyChecks({
  family: qwen2_moe,
  plugin: qwen2MoePlugin,
  ref: qwenMoeRef,
  tokenizerCheck: ["Hello world!", [9707, 1879, 0]],
  gradients: [
    ["model.layers.0.mlp.gate.weight", [0, 100, 191]],
    ["model.layers.2.mlp.shared_expert_gate.weight", [3, 20]],
    ["model.layers.0.mlp.shared_expert.down_proj.weight", [7, 1000]],
    ["model.layers.0.mlp.experts.0.up_proj.weight", [4, 400]],
    ["model.layers.1.mlp.gate_proj.weight", [5, 900]],
    ["model.layers.0.self_attn.k_proj.bias", [2, 9]],
  ],
});

const ROWS = [
  [1, 5, 9, 13, 17, 21, 25],
  [3, 3, 60, 0, 12, 7, 30],
];

test("HF weight names: layer 1 (mlp_only_layers) is dense, the others sparse with experts, a shared expert and its gate", () => {
  const spec = qwen2_moe.fromConfig(qwen2_moe.tiny.config)._unsafeUnwrap();
  expect(spec.sparseLayers).toEqual([true, false, true]);
  const shapes = new Map(qwen2_moe.weightNames(spec).map((w) => [w.name, w.shape]));
  expect(shapes.get("model.layers.0.mlp.gate.weight")).toEqual([6, 32]);
  expect(shapes.get("model.layers.2.mlp.experts.5.gate_proj.weight")).toEqual([16, 32]);
  expect(shapes.get("model.layers.2.mlp.experts.5.down_proj.weight")).toEqual([32, 16]);
  expect(shapes.get("model.layers.0.mlp.shared_expert.up_proj.weight")).toEqual([48, 32]);
  expect(shapes.get("model.layers.0.mlp.shared_expert_gate.weight")).toEqual([1, 32]);
  expect(shapes.get("model.layers.1.mlp.gate_proj.weight")).toEqual([64, 32]);
  expect(shapes.has("model.layers.1.mlp.gate.weight")).toBe(false);
  expect(shapes.get("model.layers.0.self_attn.q_proj.bias")).toEqual([32]);
  expect(shapes.has("model.layers.0.self_attn.o_proj.bias")).toBe(false);
  // Per sparse layer: router + 6 experts x 3 + shared expert 3 + its gate = 23; dense: 3; attention 7; norms 2.
  expect(shapes.size).toBe(1 + 2 * (23 + 7 + 2) + (3 + 7 + 2) + 2);
  expect(qwen2_moe.adapterTargets).not.toContain("gate");
});

test("the tiny config's logits match the reference within 1e-5", () => {
  expect(referenceError(qwen2_moe, qwenMoeRef, smallConfig(qwen2_moe))).toBeLessThan(1e-5);
});

test("norm_topk_prob, decoder_sparse_step 2, top-k over all experts and qkv_bias false match the reference", () => {
  const variants = [
    { norm_topk_prob: true },
    { decoder_sparse_step: 2, mlp_only_layers: [] },
    { num_experts_per_tok: 6 },
    { num_experts_per_tok: 1, qkv_bias: false },
  ];
  for (const over of variants) expect(referenceError(qwen2_moe, qwenMoeRef, smallConfig(qwen2_moe, over), ROWS, 4)).toBeLessThan(1e-5);
  const step2 = qwen2_moe.fromConfig({ ...qwen2_moe.tiny.config, decoder_sparse_step: 2, mlp_only_layers: [] })._unsafeUnwrap();
  expect(step2.sparseLayers).toEqual([false, true, false]);
  expect(qwen2_moe.fromConfig({ ...qwen2_moe.tiny.config, qkv_bias: false })._unsafeUnwrap().qkvBias).toBe(false);
});

test("MoE keys are checked with the rest of the config, each problem located", () => {
  const e = qwen2_moe
    .fromConfig({ ...qwen2_moe.tiny.config, num_experts_per_tok: 7, mlp_only_layers: [5], use_sliding_window: true, decoder_sparse_step: 0 })
    ._unsafeUnwrapErr();
  expect(e.problems).toEqual([
    "config.json: num_experts_per_tok (7) exceeds num_experts (6)",
    'config.json: "decoder_sparse_step" must be a positive integer, got 0',
    'config.json: "mlp_only_layers" must list layer indices within 0..2, got [5]',
    "config.json: use_sliding_window true is not supported for MoE Qwen models; set it to false",
  ]);
});

test("cached greedy generation equals recomputation without the cache", () => {
  const model = randomFamilyModel(qwen2_moe, smallConfig(qwen2_moe), 5);
  const o = { maxNewTokens: 8, eosTokenIds: [] };
  const cached = generate(model, [[1, 7, 9]], o)._unsafeUnwrap().tokens;
  expect(generate(model, [[1, 7, 9]], { ...o, useCache: false })._unsafeUnwrap().tokens).toEqual(cached);
  expect(cached[0]!.length).toBe(8);
  model.dispose();
});

test("the load-balancing loss is transformers' formula over the sparse layers, padding left out, and its gradient reaches the router", () => {
  const config = smallConfig(qwen2_moe);
  const model = randomFamilyModel(qwen2_moe, config, 7);
  const aux = model.auxiliaryLoss!;
  expect(aux.defaultCoefficient).toBe(0);
  expect(qwen2_moe.fromConfig({ ...config, output_router_logits: true, router_aux_loss_coef: 0.02 })._unsafeUnwrap().auxLossCoef).toBe(0.02);
  const mask = [1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1];
  let value = 0;
  tidy(() => {
    aux.begin();
    model.forward(tensor(ROWS.flat(), [2, 7], { dtype: "i32" }));
    const term = aux.end(mask)!;
    value = term.item();
    backward(term);
  });
  const W = weightsOf(model);
  const refAux = (weights: typeof W) => {
    const logits: number[][][] = [];
    qwenMoeForward(config, weights, ROWS, logits);
    expect(logits.length).toBe(2); // layers 0 and 2
    return loadBalancingLoss(logits, 6, 2, mask);
  };
  expect(Math.abs(value - refAux(W))).toBeLessThan(1e-5);
  // Unmasked, it differs (the padding counted): the mask is applied, not ignored.
  const logits: number[][][] = [];
  qwenMoeForward(config, W, ROWS, logits);
  expect(Math.abs(loadBalancingLoss(logits, 6, 2) - value)).toBeGreaterThan(1e-6);
  for (const name of ["model.layers.0.mlp.gate.weight", "model.layers.2.mlp.gate.weight"]) {
    const grad = model.getParameter(name)!.grad!.toArray();
    const x = W.get(name)!;
    for (const i of [0, 77, 150]) {
      const keep = x[i]!;
      x[i] = keep + 1e-5;
      const up = refAux(W);
      x[i] = keep - 1e-5;
      const down = refAux(W);
      x[i] = keep;
      const numeric = (up - down) / 2e-5;
      expect(Math.abs(numeric)).toBeGreaterThan(1e-6);
      expect(Math.abs(grad[i]! - numeric)).toBeLessThan(1e-4 + 1e-3 * Math.abs(numeric));
    }
  }
  // Not recording: nothing is kept and no term comes back; forwards without grad are not recorded either.
  expect(aux.end()).toBeNull();
  aux.begin();
  noGrad(() => tidy(() => model.forward(tensor(ROWS.flat(), [2, 7], { dtype: "i32" }))));
  expect(aux.end()).toBeNull();
  model.dispose();
});

test("the sparse block's shared expert is scaled by sigmoid(shared_expert_gate(x)) and added to the routed sum", () => {
  const spec = qwen2_moe.fromConfig(smallConfig(qwen2_moe))._unsafeUnwrap();
  const block = new QwenSparseMoeBlock(spec, null);
  block.initParameters({ seed: 2, std: 0.3 });
  tidy(() => {
    const x = tensor(
      Array.from({ length: 3 * 32 }, (_, i) => Math.sin(i)),
      [3, 32],
    );
    const full = block.forward(x).toArray();
    const routed = routeTokens(x, block.gate.forward(x), block.experts.items, spec.routing).toArray();
    const z = block.shared_expert_gate!.forward(x).toArray();
    const shared = block.shared_expert!.forward(x).toArray();
    for (let i = 0; i < full.length; i++) {
      const g = 1 / (1 + Math.exp(-z[Math.floor(i / 32)]!));
      expect(Math.abs(full[i]! - (routed[i]! + g * shared[i]!))).toBeLessThan(1e-5);
    }
  });
  block.dispose();
});

test("LoRA's default targets wrap every expert and the shared expert (not the routers), and training through them lowers the loss", () => {
  const model = randomFamilyModel(qwen2_moe, smallConfig(qwen2_moe), 9);
  const applied = lora.apply(model, { rank: 4, alpha: 8, dropout: 0, targets: ["all"] }, qwen2_moe, { seed: 3 })._unsafeUnwrap();
  const names = Object.keys(applied.params);
  expect(names).toContain("model.layers.0.mlp.experts.3.gate_proj.lora_A.weight");
  expect(names).toContain("model.layers.2.mlp.shared_expert.down_proj.lora_B.weight");
  expect(names.some((n) => n.includes("mlp.gate.lora") || n.includes("shared_expert_gate"))).toBe(false);
  const opt = new AdamW(Object.values(applied.params), { lr: 1e-2 });
  const ids = tensor(
    ROWS.flatMap((r) => r.slice(0, 6)),
    [2, 6],
    { dtype: "i32" },
  );
  const targets = tensor(
    ROWS.flatMap((r) => r.slice(1)),
    [12],
    { dtype: "i32" },
  );
  const losses: number[] = [];
  for (let step = 0; step < 8; step++) {
    tidy(() => {
      const loss = ops.crossEntropy(ops.reshape(model.forward(ids), [12, 64]), targets);
      losses.push(loss.item());
      backward(loss);
      opt.update();
      opt.zeroGrad();
    });
  }
  expect(losses.at(-1)!).toBeLessThan(losses[0]! - 0.05);
  ids.dispose();
  targets.dispose();
  model.dispose();
});
