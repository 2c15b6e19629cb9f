// The gemma family: the shared checks on the real Gemma tokenizer (256,000 ids, tied, tiny hidden size),
// the (1 + w) norms, the sqrt(hidden) embedding scale rounded to f32, and the tanh GELU taken from
// hidden_activation (hidden_act ignored, as transformers 4.x does).
import { expect, test } from "bun:test";
import { RMSNorm } from "../../../core/index.ts";
import gemmaPlugin, { gemma } from "../../../plugins/models/gemma.ts";
import { familyChecks, referenceError, smallConfig } from "./family-checks.ts";

familyChecks({
  family: gemma,
  plugin: gemmaPlugin,
  ref: "gemma",
  // Hugging Face's (and transformers.js') ids for the Gemma tokenizer: <bos> Hello ▁world.
  tokenizerCheck: ["Hello world", [2, 4521, 2134]],
  gradients: [
    ["model.layers.0.input_layernorm.weight", [0, 17, 31]],
    ["model.norm.weight", [3, 30]],
    ["model.embed_tokens.weight", [5 * 32 + 3, 9 * 32 + 31]],
  ],
});

test("spec: (1 + w) norms, embedding scale sqrt(32) rounded to f32, head_dim 16, tied, GELU gate", () => {
  const s = gemma.fromConfig(gemma.tiny.config)._unsafeUnwrap();
  expect([s.embedScale, s.headDim, s.tieWordEmbeddings, s.hiddenAct]).toEqual([Math.fround(Math.sqrt(32)), 16, true, "gelu_tanh"]);
  const m = gemma.build(s);
  expect(
    m
      .namedModules()
      .filter(([, mod]) => mod instanceof RMSNorm)
      .map(([, n]) => (n as RMSNorm).weightOffset),
  ).toEqual([1, 1, 1, 1, 1]);
  m.dispose();
  expect(s.embedScale).not.toBe(Math.sqrt(32));
  expect(gemma.weightNames(s).map((w) => w.name)).not.toContain("lm_head.weight");
});

test("HF config defaults: hidden_activation absent means the tanh GELU whatever hidden_act says; head_dim 256; tied; ids pad 0, eos 1, bos 2", () => {
  const { hidden_activation: _a, head_dim: _h, tie_word_embeddings: _t, pad_token_id: _p, eos_token_id: _e, bos_token_id: _b, ...rest } = gemma.tiny.config;
  const s = gemma.fromConfig({ ...rest, hidden_act: "gelu" })._unsafeUnwrap();
  expect([s.hiddenAct, s.headDim, s.tieWordEmbeddings, s.padTokenId, s.eosTokenIds, s.bosTokenId]).toEqual(["gelu_tanh", 256, true, 0, [1], 2]);
  expect(gemma.fromConfig({ ...gemma.tiny.config, hidden_activation: "relu" })._unsafeUnwrapErr().message).toContain('hidden_act "relu" is not supported');
});

test("an untied Gemma (tie_word_embeddings false) has an lm_head and matches the reference", () => {
  expect(referenceError(gemma, "gemma", smallConfig(gemma, { tie_word_embeddings: false }))).toBeLessThan(1e-4);
});
