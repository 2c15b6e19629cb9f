// The qwen3 family: the shared checks on the real Qwen3 tokenizer (151,936 ids, tied, tiny hidden size),
// the per-head q/k RMSNorm, head_dim as its own key (default 128), and attention_bias on all four projections.
import { expect, test } from "bun:test";
import qwen3Plugin, { qwen3 } from "../../../plugins/models/qwen3.ts";
import { familyChecks, referenceError, smallConfig } from "./family-checks.ts";

familyChecks({
  family: qwen3,
  plugin: qwen3Plugin,
  ref: "qwen3",
  tokenizerCheck: ["Hello world!", [9707, 1879, 0]],
  gradients: [
    ["model.layers.0.self_attn.q_norm.weight", [0, 9, 15]],
    ["model.layers.1.self_attn.k_norm.weight", [2, 14]],
    ["model.layers.0.self_attn.q_proj.weight", [5, 1500]],
  ],
});

test("q_norm and k_norm are per head (head_dim 16, not hidden / heads), and head_dim defaults to 128", () => {
  const spec = qwen3.fromConfig(qwen3.tiny.config)._unsafeUnwrap();
  const shapes = new Map(qwen3.weightNames(spec).map((w) => [w.name, w.shape]));
  expect(shapes.get("model.layers.0.self_attn.q_norm.weight")).toEqual([16]);
  expect(shapes.get("model.layers.0.self_attn.q_proj.weight")).toEqual([64, 32]);
  expect(shapes.get("model.layers.0.self_attn.k_proj.weight")).toEqual([32, 32]);
  expect(shapes.get("model.layers.0.self_attn.o_proj.weight")).toEqual([32, 64]);
  const { head_dim: _, ...rest } = qwen3.tiny.config;
  expect(qwen3.fromConfig(rest)._unsafeUnwrap().headDim).toBe(128);
});

test("attention_bias puts a bias on q, k, v and o, and matches the reference", () => {
  const spec = qwen3.fromConfig({ ...qwen3.tiny.config, attention_bias: true })._unsafeUnwrap();
  expect([spec.qkvBias, spec.oBias]).toEqual([true, true]);
  expect(referenceError(qwen3, "qwen3", smallConfig(qwen3, { attention_bias: true }))).toBeLessThan(1e-4);
});
