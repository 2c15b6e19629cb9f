// Module trees: HF names as paths, setParameter checks, freeze/unfreeze, the Linear adapter slot, and
// memory returned on dispose.
import { expect, test } from "bun:test";
import type { Tensor } from "../../../core/index.ts";
import {
  type Attention,
  backward,
  type CausalLM,
  cpuBackend,
  Linear,
  type LinearAdapter,
  Module,
  noGrad,
  ops,
  randn,
  tensor,
  tidy,
  zeros,
} from "../../../lft.ts";
import { type LlamaDecoderLayer, llama } from "../../../plugins/models/llama.ts";
import { relError } from "../../helpers/compare.ts";
import { randomModel, specOf } from "./helpers.ts";

const ids = () => tensor([1, 2, 3, 4, 5, 6], [2, 3], { dtype: "i32" });
const logits = (m: CausalLM) => noGrad(() => tidy(() => m.forward(ids()).toArray()));

test("parameter paths are the Hugging Face weight names, in a stable order", () => {
  const m = llama.build(specOf());
  const names = m.parameterShapes().map((p) => p.name);
  expect(names.slice(0, 4)).toEqual([
    "model.embed_tokens.weight",
    "model.layers.0.self_attn.q_proj.weight",
    "model.layers.0.self_attn.k_proj.weight",
    "model.layers.0.self_attn.v_proj.weight",
  ]);
  expect(names).toContain("model.layers.1.post_attention_layernorm.weight");
  expect(names.at(-2)).toBe("model.norm.weight");
  expect(names.at(-1)).toBe("lm_head.weight");
  expect(names.length).toBe(1 + 2 * 9 + 2);
  expect(m.parameterShapes().find((p) => p.name === "model.layers.0.mlp.down_proj.weight")!.shape).toEqual([32, 48]);
  expect(m.namedModules().map(([p]) => p)).toContain("model.layers.1.self_attn.o_proj");
  // Nothing is allocated until a slot is filled, and using an empty one says so.
  expect(m.parameters().length).toBe(0);
  expect(() => logits(m)).toThrow("embedding weight has no tensor yet");
});

test("setParameter checks the name and shape and takes ownership", () => {
  const m = randomModel(specOf());
  const bad = m.setParameter("model.layers.0.self_attn.q_prj.weight", zeros([32, 32]));
  expect(bad._unsafeUnwrapErr().message).toBe(
    'no parameter named "model.layers.0.self_attn.q_prj.weight" in this model (parameters with that last component: model.embed_tokens.weight, model.layers.0.self_attn.q_proj.weight, model.layers.0.self_attn.k_proj.weight)',
  );
  const wrong = zeros([16, 32]);
  expect(m.setParameter("model.layers.0.self_attn.q_proj.weight", wrong)._unsafeUnwrapErr().message).toBe(
    'parameter "model.layers.0.self_attn.q_proj.weight": expected shape [32, 32], got [16, 32]',
  );
  wrong.dispose();
  const live = cpuBackend.allocator.stats().liveBytes;
  m.setParameter("model.layers.0.self_attn.q_proj.weight", zeros([32, 32]))._unsafeUnwrap();
  expect(cpuBackend.allocator.stats().liveBytes).toBe(live); // the old tensor was freed
  expect(m.getParameter("model.layers.0.self_attn.q_proj.weight")!.name).toBe("model.layers.0.self_attn.q_proj.weight");
  m.dispose();
});

test("freeze and unfreeze by predicate choose exactly what receives gradients", () => {
  const m = randomModel(specOf());
  expect(m.freeze()).toBe(m.parameters().length);
  expect(m.unfreeze((p) => p.endsWith("q_proj.weight") || p === "model.norm.weight")._unsafeUnwrap()).toBe(3);
  expect(m.trainableParameters().map(([n]) => n)).toEqual([
    "model.layers.0.self_attn.q_proj.weight",
    "model.layers.1.self_attn.q_proj.weight",
    "model.norm.weight",
  ]);
  tidy(() => backward(ops.sum(m.forward(ids()))));
  for (const [n, t] of m.namedParameters()) expect([n, t.grad !== null]).toEqual([n, m.trainableParameters().some(([k]) => k === n)]);
  m.dispose();
});

test("half-precision parameters cannot be unfrozen, and the refusal changes nothing", () => {
  const m = randomModel(specOf());
  m.setParameter("model.embed_tokens.weight", ops.cast(randn([40, 32], { seed: 3 }), "bf16"))._unsafeUnwrap();
  m.freeze();
  const r = m.unfreeze();
  expect(r._unsafeUnwrapErr().message).toBe(
    "cannot make 1 half-precision parameter(s) trainable; load the model with dtype f32 to train them: model.embed_tokens.weight (bf16)",
  );
  expect(m.trainableParameters().length).toBe(0);
  m.dispose();
});

/** A LoRA-shaped adapter: base + (x A^T) B^T * scale, with its own Linear children. */
class TestLora extends Module implements LinearAdapter {
  readonly lora_A: Linear;
  readonly lora_B: Linear;
  constructor(inF: number, outF: number, r: number) {
    super();
    this.lora_A = this.addModule("lora_A", new Linear(inF, r));
    this.lora_B = this.addModule("lora_B", new Linear(r, outF));
  }
  forward(x: Tensor, baseOut: Tensor): Tensor {
    return ops.add(baseOut, ops.scale(this.lora_B.forward(this.lora_A.forward(x)), 2));
  }
}

test("an adapter in a Linear's slot is listed under the layer's path (PEFT names) and adapts its output", () => {
  const m = randomModel(specOf());
  const before = logits(m);
  const q = ((m.model.layers.at(0) as LlamaDecoderLayer).self_attn as Attention).q_proj;
  const lora = new TestLora(32, 32, 4);
  lora.setParameter("lora_A.weight", randn([4, 32], { seed: 5, std: 0.3 }))._unsafeUnwrap();
  lora.setParameter("lora_B.weight", zeros([32, 4]))._unsafeUnwrap();
  q.adapter = lora;
  m.freeze((p) => !p.includes("lora_"));
  expect(m.trainableParameters().map(([n]) => n)).toEqual(["model.layers.0.self_attn.q_proj.lora_A.weight", "model.layers.0.self_attn.q_proj.lora_B.weight"]);
  // B = 0: the adapted model equals the base one; the checkpoint layout does not include the adapter.
  expect(relError(logits(m), before)).toBe(0);
  expect(m.parameterShapes().some((p) => p.name.includes("lora_"))).toBe(false);
  // Gradients reach the adapter (B first, as LoRA's zero init implies).
  tidy(() => backward(ops.sum(m.forward(ids()))));
  expect(Math.max(...m.getParameter("model.layers.0.self_attn.q_proj.lora_B.weight")!.grad!.toArray().map(Math.abs))).toBeGreaterThan(0);
  expect(m.getParameter("model.layers.0.self_attn.q_proj.weight")!.grad).toBeNull();
  m.setParameter("model.layers.0.self_attn.q_proj.lora_B.weight", randn([32, 4], { seed: 6, std: 0.3 }))._unsafeUnwrap();
  expect(relError(logits(m), before)).toBeGreaterThan(1e-3);
  m.dispose();
});

test("dispose returns every byte a model held", () => {
  const live = cpuBackend.allocator.stats().liveBytes;
  const m = randomModel(specOf());
  logits(m);
  expect(cpuBackend.allocator.stats().liveBytes).toBeGreaterThan(live);
  m.dispose();
  expect(cpuBackend.allocator.stats().liveBytes).toBe(live);
});
