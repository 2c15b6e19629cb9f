// The granite family: the shared checks (make-tiny, load -> save -> load, the float64 reference, gradients
// through the multipliers), each of the four multipliers read with GraniteConfig's defaults and each
// matching the reference on its own, and cached decoding equal to uncached.
import { expect, test } from "bun:test";
import { generate, loadModel } from "../../../core/index.ts";
import granitePlugin, { granite } from "../../../plugins/models/granite.ts";
import { familyChecks, referenceError, registryWith, smallConfig } from "./family-checks.ts";

const { tinyDir } = familyChecks({
  family: granite,
  plugin: granitePlugin,
  ref: "granite",
  tokenizerCheck: ["Hello world!", [1, 15043, 3186, 29991]],
  gradients: [
    ["model.embed_tokens.weight", [3, 40, 200]],
    ["model.layers.0.self_attn.q_proj.weight", [5, 300]],
    ["model.layers.1.mlp.down_proj.weight", [7, 900]],
    ["model.norm.weight", [0, 17]],
  ],
});

test("granite: the four multipliers are read from config.json, each defaulting to 1 as GraniteConfig does", () => {
  const spec = granite.fromConfig(granite.tiny.config)._unsafeUnwrap();
  expect([spec.embeddingMultiplier, spec.residualMultiplier, spec.attnScale, spec.logitsScaling]).toEqual([12, 0.22, 0.125, 8]);
  const { embedding_multiplier: _e, residual_multiplier: _r, attention_multiplier: _a, logits_scaling: _l, ...rest } = granite.tiny.config;
  const d = granite.fromConfig(rest)._unsafeUnwrap();
  expect([d.embeddingMultiplier, d.residualMultiplier, d.attnScale, d.logitsScaling]).toEqual([1, 1, 1, 1]);
  expect(granite.fromConfig({ ...granite.tiny.config, logits_scaling: 0 })._unsafeUnwrapErr().message).toContain("logits_scaling");
});

test("granite: each multiplier on its own matches the reference (relative error < 1e-5)", () => {
  const neutral = { embedding_multiplier: 1, residual_multiplier: 1, attention_multiplier: 1, logits_scaling: 1 };
  for (const over of [
    neutral,
    { ...neutral, embedding_multiplier: 6 },
    { ...neutral, residual_multiplier: 0.3 },
    { ...neutral, attention_multiplier: 0.05 },
    { ...neutral, logits_scaling: 4 },
    { attention_bias: true, tie_word_embeddings: false },
  ])
    expect(referenceError(granite, "granite", smallConfig(granite, over))).toBeLessThan(1e-5);
  expect(referenceError(granite, "granite", smallConfig(granite))).toBeLessThan(1e-5);
});

test("granite: greedy decoding with the KV cache gives the same tokens as without", () => {
  const { model } = loadModel(tinyDir(), registryWith(granitePlugin))._unsafeUnwrap();
  const prompts = [
    [1, 450, 4996, 17354],
    [1, 15043, 3186, 29991],
  ];
  const o = { maxNewTokens: 8, eosTokenIds: [] as number[] };
  const cached = generate(model, prompts, o)._unsafeUnwrap().tokens;
  expect(cached.map((t) => t.length)).toEqual([8, 8]);
  expect(generate(model, prompts, { ...o, useCache: false })._unsafeUnwrap().tokens).toEqual(cached);
  model.dispose();
});
