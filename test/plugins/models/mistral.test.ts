// The mistral family: the shared checks (make-tiny round trip, float64 reference, gradients), and its
// sliding window: equal to full attention while the sequence fits the window, different after, and the
// same window (query i sees keys i - W + 1 .. i) as the reference, cached generation included.
import { expect, test } from "bun:test";
import { generate } from "../../../core/index.ts";
import mistralPlugin, { mistral } from "../../../plugins/models/mistral.ts";
import { relError } from "../../helpers/compare.ts";
import { familyChecks, flat, logitsOf, ROWS, randomFamilyModel, referenceError, smallConfig, weightsOf } from "./family-checks.ts";
import { hfReference } from "./hf-reference.ts";

familyChecks({
  family: mistral,
  plugin: mistralPlugin,
  ref: "mistral",
  tokenizerCheck: ["Hello world!", [1, 22557, 1526, 28808]],
  gradients: [
    ["model.layers.0.self_attn.q_proj.weight", [0, 77, 200]],
    ["model.layers.1.mlp.down_proj.weight", [5, 700]],
    ["model.embed_tokens.weight", [5 * 32 + 3, 9 * 32]],
  ],
  gradientConfig: { sliding_window: 3 },
});

test("sliding_window: 4096 when absent (MistralConfig's default), none when null, on every layer; no biases even if attention_bias says so", () => {
  const { sliding_window: _, ...rest } = mistral.tiny.config;
  expect(mistral.fromConfig(rest)._unsafeUnwrap().slidingWindows).toEqual([4096, 4096]);
  expect(mistral.fromConfig({ ...rest, sliding_window: null })._unsafeUnwrap().slidingWindows).toEqual([0, 0]);
  const s = mistral.fromConfig({ ...rest, sliding_window: 5, attention_bias: true })._unsafeUnwrap();
  expect([s.slidingWindows, s.qkvBias, s.oBias]).toEqual([[5, 5], false, false]);
  // MistralConfig ignores layer_types (transformers warns and windows every layer).
  expect(mistral.fromConfig({ ...rest, sliding_window: 5, layer_types: ["full_attention", "full_attention"] })._unsafeUnwrap().slidingWindows).toEqual([5, 5]);
  expect(mistral.fromConfig({ ...rest, sliding_window: -1 })._unsafeUnwrapErr().message).toContain('"sliding_window" must be an integer >= 0, got -1');
});

test("a window of 4 equals full attention for 4 tokens, differs from the 5th on, and matches the reference's window", () => {
  const windowed = randomFamilyModel(mistral, smallConfig(mistral, { sliding_window: 4 }), 5);
  const full = randomFamilyModel(mistral, smallConfig(mistral, { sliding_window: null }), 5);
  const short = ROWS.map((r) => r.slice(0, 4));
  // The same kernels on the same numbers while no key falls outside the window.
  expect(relError(logitsOf(windowed, short), logitsOf(full, short))).toBeLessThan(1e-6);
  const [a, b] = [logitsOf(windowed, ROWS), logitsOf(full, ROWS)];
  const V = 64;
  const T = ROWS[0]!.length;
  for (let t = 0; t < T; t++) {
    const err = relError(a.slice(t * V, (t + 1) * V), b.slice(t * V, (t + 1) * V));
    if (t < 4) expect(err).toBeLessThan(1e-6);
    else expect(err).toBeGreaterThan(1e-3);
  }
  expect(referenceError(mistral, "mistral", smallConfig(mistral, { sliding_window: 4 }), ROWS, 5)).toBeLessThan(1e-4);
  // Off by one either way would be caught: the reference with a window of 3 or 5 disagrees.
  for (const w of [3, 5])
    expect(relError(a, flat(hfReference("mistral", smallConfig(mistral, { sliding_window: w }), weightsOf(windowed), ROWS)))).toBeGreaterThan(1e-3);
  windowed.dispose();
  full.dispose();
});

test("cached greedy generation past the window equals recomputation without the cache", () => {
  const model = randomFamilyModel(mistral, smallConfig(mistral, { sliding_window: 3 }), 9);
  const o = { maxNewTokens: 8, eosTokenIds: [] };
  const cached = generate(model, [[1, 7, 9]], o)._unsafeUnwrap().tokens;
  expect(generate(model, [[1, 7, 9]], { ...o, useCache: false })._unsafeUnwrap().tokens).toEqual(cached);
  expect(cached[0]!.length).toBe(8);
  model.dispose();
});
