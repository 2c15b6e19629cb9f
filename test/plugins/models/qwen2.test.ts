// The qwen2 family: the shared checks on the real Qwen vocabulary (151,936 ids, tied embeddings, tiny
// hidden size), q/k/v biases without an o bias, and which layers slide (use_sliding_window,
// max_window_layers, layer_types).
import { expect, test } from "bun:test";
import qwen2Plugin, { qwen2 } from "../../../plugins/models/qwen2.ts";
import { familyChecks, referenceError, smallConfig } from "./family-checks.ts";

familyChecks({
  family: qwen2,
  plugin: qwen2Plugin,
  ref: "qwen2",
  tokenizerCheck: ["Hello world!", [9707, 1879, 0]],
  gradients: [
    ["model.layers.0.self_attn.k_proj.bias", [1, 9]],
    ["model.layers.1.self_attn.v_proj.bias", [0, 15]],
    ["model.layers.0.mlp.gate_proj.weight", [3, 1000]],
  ],
});

test("q, k and v carry biases, o does not, and the tied model stores no lm_head", () => {
  const spec = qwen2.fromConfig(qwen2.tiny.config)._unsafeUnwrap();
  const names = qwen2.weightNames(spec).map((w) => w.name);
  expect(names).toContain("model.layers.0.self_attn.q_proj.bias");
  expect(names).toContain("model.layers.1.self_attn.v_proj.bias");
  expect(names.filter((n) => n.endsWith("o_proj.bias"))).toEqual([]);
  expect(names).not.toContain("lm_head.weight");
  expect(spec.vocabSize).toBe(151936);
});

test("windows: none unless use_sliding_window; then on layers >= max_window_layers, or as layer_types lists them", () => {
  const c = { ...qwen2.tiny.config, num_hidden_layers: 3 };
  const windows = (over: Record<string, unknown>) => qwen2.fromConfig({ ...c, ...over })._unsafeUnwrap().slidingWindows;
  expect(windows({ sliding_window: 4 })).toEqual([0, 0, 0]);
  expect(windows({ use_sliding_window: true, sliding_window: 4, max_window_layers: 1 })).toEqual([0, 4, 4]);
  expect(windows({ use_sliding_window: true, sliding_window: 4, layer_types: ["sliding_attention", "full_attention", "sliding_attention"] })).toEqual([
    4, 0, 4,
  ]);
  expect(windows({ use_sliding_window: true, sliding_window: null, max_window_layers: 0 })).toEqual([0, 0, 0]);
  expect(qwen2.fromConfig({ ...c, layer_types: ["full_attention"] })._unsafeUnwrapErr().message).toContain(
    '"layer_types" must list "sliding_attention" or "full_attention" for each of the 3 layers',
  );
});

test("a windowed upper layer matches the reference (which computes its windows from the same keys)", () => {
  expect(referenceError(qwen2, "qwen2", smallConfig(qwen2, { use_sliding_window: true, sliding_window: 3, max_window_layers: 1 }))).toBeLessThan(1e-4);
});
