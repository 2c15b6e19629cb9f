// The config-only size estimate reads a composite (vision + text) config's text_config and counts
// DeepSeek's routed experts, so those models are sized against memory before anything is built.
import { expect, test } from "bun:test";
import { estimateModelSize, modelSizeProblem } from "../../../core/index.ts";

const text = { hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 128, vocab_size: 1000 };

test("a composite config is estimated from its text_config, as the flat config it nests", () => {
  const flat = estimateModelSize(text);
  const nested = estimateModelSize({ model_type: "mistral3", text_config: text, vision_config: { hidden_size: 16 } });
  expect("parameters" in flat && flat.parameters > 0).toBe(true);
  expect(nested).toEqual(flat);
  // The top-level tie_word_embeddings applies when text_config has none (Gemma 3's layout).
  const tied = estimateModelSize({ text_config: text, tie_word_embeddings: true });
  expect("parameters" in tied && "parameters" in flat && flat.parameters - tied.parameters).toBe(1000 * 64);
});

test("a huge text_config is refused before building, naming its size", () => {
  const huge = { text_config: { ...text, num_hidden_layers: 100_000 } };
  expect(modelSizeProblem(huge, { bytesPerParameter: 4, memoryBytes: 2 ** 30 })).toBeDefined();
  expect(modelSizeProblem({ text_config: { ...text, hidden_size: -1 } }, { bytesPerParameter: 4 })?.key).toBe("hidden_size");
});

test("n_routed_experts (DeepSeek) multiplies the MLP like num_local_experts", () => {
  const moe = { ...text, moe_intermediate_size: 32 };
  const a = estimateModelSize({ ...moe, n_routed_experts: 8 });
  const b = estimateModelSize({ ...moe, num_local_experts: 8 });
  const dense = estimateModelSize(moe);
  const params = (e: typeof a) => ("parameters" in e ? e.parameters : Number.NaN);
  expect(params(a)).toBe(params(b));
  expect(params(a) - params(dense)).toBe(2 * (8 * 3 * 64 * 32 - 3 * 64 * 128));
});
