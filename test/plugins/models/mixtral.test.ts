// The mixtral family: the shared checks (gradients include the router gate and experts), Mixtral's
// routing as HF's MixtralSparseMoeBlock (softmax, top-k, renormalise) for top-1/2/all, experts that get
// no token, the MoE config keys checked with the rest of the config, and the router load-balancing loss
// (value and gradient against transformers' formula; its default coefficient from the config).
import { expect, test } from "bun:test";
import { backward, ops, tensor, tidy } from "../../../core/index.ts";
import mixtralPlugin, { mixtral, SparseMoeBlock } from "../../../plugins/models/mixtral.ts";
import { RouterLogits } from "../../../plugins/models/moe.ts";
import { expectClose } from "../../helpers/compare.ts";
import { randomArray } from "../../helpers/random.ts";
import { familyChecks, ROWS, randomFamilyModel, referenceError, smallConfig } from "./family-checks.ts";
import { linear } from "./ref/primitives.ts";
import { loadBalancingLoss } from "./ref/qwen_moe.ts";

familyChecks({
  family: mixtral,
  plugin: mixtralPlugin,
  ref: "mixtral",
  tokenizerCheck: ["Hello world!", [1, 22557, 1526, 28808]],
  gradients: [
    ["model.layers.0.block_sparse_moe.gate.weight", [0, 45, 100, 127]],
    ["model.layers.1.block_sparse_moe.gate.weight", [33, 64]],
    ["model.layers.0.block_sparse_moe.experts.1.w1.weight", [0, 500]],
    ["model.layers.1.block_sparse_moe.experts.2.w2.weight", [7, 1000]],
  ],
});

test("HF weight names: block_sparse_moe.gate and experts.N.w1/w2/w3, no dense mlp; adapters may target w1/w2/w3 and gate", () => {
  const spec = mixtral.fromConfig(mixtral.tiny.config)._unsafeUnwrap();
  const shapes = new Map(mixtral.weightNames(spec).map((w) => [w.name, w.shape]));
  expect(shapes.get("model.layers.1.block_sparse_moe.gate.weight")).toEqual([4, 32]);
  expect(shapes.get("model.layers.1.block_sparse_moe.experts.3.w1.weight")).toEqual([48, 32]);
  expect(shapes.get("model.layers.1.block_sparse_moe.experts.3.w2.weight")).toEqual([32, 48]);
  expect(shapes.get("model.layers.1.block_sparse_moe.experts.3.w3.weight")).toEqual([48, 32]);
  expect([...shapes.keys()].filter((n) => n.includes(".mlp."))).toEqual([]);
  expect(shapes.size).toBe(1 + 2 * (4 + 2 + 1 + 4 * 3) + 2);
  for (const t of ["w1", "w2", "w3", "gate", "q_proj"]) expect(mixtral.adapterTargets).toContain(t);
});

test("top-1, top-2 and all-experts routing match the reference's softmax -> top-k -> renormalise", () => {
  for (const k of [1, 2, 4]) expect(referenceError(mixtral, "mixtral", smallConfig(mixtral, { num_experts_per_tok: k }), ROWS, 20 + k)).toBeLessThan(1e-4);
});

test("an expert no token is routed to gets no gradient, the chosen ones and the input do; top-1 leaves the router none, as in HF", () => {
  const block = new SparseMoeBlock({ hiddenSize: 8, intermediateSize: 6, numExperts: 3, topK: 1, act: "silu" });
  block.initParameters({ seed: 1, std: 0.5 });
  // Router rows: expert 2 always loses (its row is strongly negative along x's direction, x > 0).
  block.setParameter("gate.weight", tensor([...new Array(8).fill(0.3), ...new Array(8).fill(-0.2), ...new Array(8).fill(-5)], [3, 8]))._unsafeUnwrap();
  tidy(() => {
    const x = tensor(randomArray(5 * 8, 3, 0.1, 1), [1, 5, 8], { requiresGrad: true });
    backward(ops.sum(block.forward(x)));
    expect(block.getParameter("experts.2.w1.weight")!.grad).toBeNull();
    expect(block.getParameter("experts.0.w1.weight")!.grad).not.toBeNull();
    // top-1: the weight is softmax of one logit (1): the router gradient is exactly zero, as in HF.
    expectClose(block.getParameter("gate.weight")!.grad!.toArray(), new Float64Array(24), 1e-12, "top-1 router grad");
    expect(x.grad).not.toBeNull();
  });
  block.dispose();
});

test("MoE keys are checked with the rest of the config", () => {
  const e = mixtral.fromConfig({ ...mixtral.tiny.config, num_experts_per_tok: 5, router_jitter_noise: 0.1, num_hidden_layers: 0 })._unsafeUnwrapErr();
  expect(e.problems).toEqual([
    'config.json: "num_hidden_layers" must be a positive integer, got 0',
    "config.json: num_experts_per_tok (5) exceeds num_local_experts (4)",
    "config.json: router_jitter_noise 0.1 is not supported; set it to 0.0",
  ]);
  expect(mixtral.fromConfig({ ...mixtral.tiny.config, sliding_window: 6 })._unsafeUnwrap().slidingWindows).toEqual([6, 6]);
});

test("the router load-balancing loss of a block is transformers' formula on its gate's logits, and its gradient reaches the gate", () => {
  const recorder = new RouterLogits(4, 2, 0);
  const block = new SparseMoeBlock({ hiddenSize: 8, intermediateSize: 6, numExperts: 4, topK: 2, act: "silu" }, recorder);
  block.initParameters({ seed: 4, std: 0.5 });
  const xs = randomArray(6 * 8, 5, -1, 1);
  const gate = Float64Array.from(block.getParameter("gate.weight")!.toArray());
  const refLoss = (g: Float64Array) => {
    const logits = Array.from({ length: 6 }, (_, t) => [...linear(Float64Array.from(xs.subarray(t * 8, t * 8 + 8)), g)]);
    return loadBalancingLoss([logits], 4, 2);
  };
  tidy(() => {
    recorder.begin();
    block.forward(tensor(xs, [1, 6, 8]));
    const term = recorder.end()!;
    expect(Math.abs(term.item() - refLoss(gate))).toBeLessThan(1e-5);
    backward(term);
  });
  const grad = block.getParameter("gate.weight")!.grad!.toArray();
  for (const i of [0, 9, 17, 30]) {
    const keep = gate[i]!;
    gate[i] = keep + 1e-5;
    const up = refLoss(gate);
    gate[i] = keep - 1e-5;
    const down = refLoss(gate);
    gate[i] = keep;
    const numeric = (up - down) / 2e-5;
    expect(Math.abs(numeric)).toBeGreaterThan(1e-6);
    expect(Math.abs(grad[i]! - numeric)).toBeLessThan(1e-4 + 1e-3 * Math.abs(numeric));
  }
  block.dispose();
});

test("output_router_logits with router_aux_loss_coef sets the model's default coefficient; without it the loss is off", () => {
  const on = randomFamilyModel(mixtral, smallConfig(mixtral, { output_router_logits: true, router_aux_loss_coef: 0.02 }));
  expect(on.auxiliaryLoss?.defaultCoefficient).toBe(0.02);
  on.dispose();
  const off = randomFamilyModel(mixtral, smallConfig(mixtral));
  expect(off.auxiliaryLoss?.defaultCoefficient).toBe(0);
  off.dispose();
});
