// config.json -> ModelSpec: defaults, the quirks of real configs, every problem reported at once, and
// the family lookup by model_type.
import { expect, test } from "bun:test";
import { createRegistry, familyForModelType } from "../../../core/index.ts";
import llamaPlugin, { llama } from "../../../plugins/models/llama.ts";
import { readLlamaConfig } from "../../../plugins/models/llama-config.ts";
import { TEST_CONFIG } from "../../core/nn/helpers.ts";

test("defaults follow transformers' LlamaConfig, and real-config quirks are read", () => {
  const spec = llama.fromConfig({ ...TEST_CONFIG, num_key_value_heads: undefined, pad_token_id: -1, eos_token_id: [2, 7], head_dim: 16 })._unsafeUnwrap();
  expect(spec.numKvHeads).toBe(4); // absent: as many as query heads (MHA)
  expect(spec.padTokenId).toBeNull(); // -1 means none in old Llama configs
  expect(spec.eosTokenIds).toEqual([2, 7]);
  expect(spec.headDim).toBe(16); // explicit head_dim wins over hidden / heads
  expect(spec.attnScale).toBe(1 / 4);
  expect(spec.rope.rotaryDim).toBe(16);
  expect(
    llama
      .build(spec)
      .parameterShapes()
      .find((p) => p.name.endsWith("0.self_attn.q_proj.weight"))!.shape,
  ).toEqual([64, 32]);
  expect([spec.qkvBias, spec.oBias, spec.mlpBias, spec.tieWordEmbeddings, spec.rmsNormEps]).toEqual([false, false, false, false, 1e-5]);
});

test("every problem in a config is reported at once, each naming the key", () => {
  const { hidden_size: _h, ...noHidden } = TEST_CONFIG as Record<string, unknown>;
  const r = llama.fromConfig(
    { ...noHidden, num_key_value_heads: 3, rope_scaling: { type: "ntk-by-parts", factor: 4 }, attention_dropout: 0.1, hidden_act: "relu" },
    "m/config.json",
  );
  const e = r._unsafeUnwrapErr();
  expect(e.problems).toEqual([
    'm/config.json: "hidden_size" must be a positive integer, got nothing',
    'm/config.json: hidden_act "relu" is not supported (supported: silu, swish, gelu_pytorch_tanh)',
    "m/config.json: num_attention_heads (4) must be a multiple of num_key_value_heads (3)",
    "m/config.json: attention_dropout 0.1 is not supported (the attention kernel has no dropout); set it to 0.0",
    'm/config.json rope_scaling: rope type "ntk-by-parts" is not supported (supported: default, linear, dynamic, llama3, yarn)',
  ]);
  expect(e.message.startsWith("5 problem(s) in m/config.json for family llama:")).toBe(true);
});

test("llama3 rope_scaling needs its four keys", () => {
  const e = llama.fromConfig({ ...TEST_CONFIG, rope_scaling: { rope_type: "llama3", factor: 8 } })._unsafeUnwrapErr();
  expect(e.problems).toEqual([
    'config.json rope_scaling: "low_freq_factor" must be a finite number, got nothing',
    'config.json rope_scaling: "high_freq_factor" must be a finite number, got nothing',
    'config.json rope_scaling: "original_max_position_embeddings" must be a positive integer, got nothing',
    "config.json rope_scaling: high_freq_factor (0) must exceed low_freq_factor (0)",
  ]);
});

test("the family is found by model_type, and an unknown type lists the known ones", () => {
  const registry = createRegistry();
  registry.use(llamaPlugin);
  expect(familyForModelType(registry, "llama")._unsafeUnwrap().name).toBe("llama");
  expect(familyForModelType(registry, "mamba", "x/config.json")._unsafeUnwrapErr().message).toBe(
    'x/config.json: no model family reads model_type "mamba" (known: llama)',
  );
});

test("a yarn rope_scaling resolves factor, betas, truncate and the attention factor as transformers does", () => {
  const base = { ...llama.tiny.config, max_position_embeddings: 163840 };
  const ds = readLlamaConfig(
    { ...base, rope_scaling: { type: "yarn", factor: 40, original_max_position_embeddings: 4096, mscale: 1, mscale_all_dim: 1, beta_fast: 32, beta_slow: 1 } },
    "llama",
  )._unsafeUnwrap();
  expect(ds.rope.scaling).toEqual({
    type: "yarn",
    factor: 40,
    originalMaxPositionEmbeddings: 4096,
    betaFast: 32,
    betaSlow: 1,
    truncate: true,
    attentionFactor: 1,
  });
  // No factor: max / original; no mscale: 0.1 ln(factor) + 1; missing betas: 32 and 1.
  const bare = readLlamaConfig(
    { ...base, rope_scaling: { rope_type: "yarn", original_max_position_embeddings: 40960, truncate: false } },
    "llama",
  )._unsafeUnwrap();
  expect(bare.rope.scaling).toEqual({
    type: "yarn",
    factor: 4,
    originalMaxPositionEmbeddings: 40960,
    betaFast: 32,
    betaSlow: 1,
    truncate: false,
    attentionFactor: 0.1 * Math.log(4) + 1,
  });
  const bad = readLlamaConfig({ ...base, rope_scaling: { type: "yarn", factor: "big" } }, "llama");
  expect(bad._unsafeUnwrapErr().message).toContain('"factor" must be a finite number');
});
