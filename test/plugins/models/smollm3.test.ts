// The smollm3 family: the shared checks (on the Llama 3 tokenizer fixture: SmolLM3's vocabulary), NoPE
// layers from no_rope_layers and from no_rope_layer_interval, sliding NoPE layers with use_sliding_window,
// a located error for a bad no_rope_layers, and cached greedy decoding equal to recomputation.
import { expect, test } from "bun:test";
import { generate } from "../../../core/index.ts";
import smollm3Plugin, { smollm3 } from "../../../plugins/models/smollm3.ts";
import { relError } from "../../helpers/compare.ts";
import { familyChecks, flat, logitsOf, ROWS, randomFamilyModel, referenceError, smallConfig, weightsOf } from "./family-checks.ts";
import { smollm3Reference } from "./ref/smollm3.ts";

familyChecks({
  family: smollm3,
  plugin: smollm3Plugin,
  ref: smollm3Reference,
  gradients: [
    // Layer 3 is the NoPE layer: its q and k reach the loss without rotation.
    ["model.layers.3.self_attn.q_proj.weight", [3, 200]],
    ["model.layers.3.self_attn.k_proj.weight", [5, 100]],
    ["model.layers.0.self_attn.k_proj.weight", [7, 300]],
    ["model.embed_tokens.weight", [40, 333]],
  ],
});

test("no_rope_layers marks the NoPE layers; the head is tied", () => {
  const spec = smollm3.fromConfig(smollm3.tiny.config)._unsafeUnwrap();
  expect(spec.ropeLayers).toEqual([true, true, true, false]);
  expect(spec.tieWordEmbeddings).toBe(true);
  expect(smollm3.weightNames(spec).some((w) => w.name === "lm_head.weight")).toBe(false);
});

test("the tiny config's logits match the reference within 1e-5", () => {
  expect(referenceError(smollm3, smollm3Reference, smallConfig(smollm3))).toBeLessThan(1e-5);
});

test("without no_rope_layers, a NoPE layer every no_rope_layer_interval layers, and it matches the reference", () => {
  const over = { no_rope_layers: null, no_rope_layer_interval: 2 };
  expect(smollm3.fromConfig(smallConfig(smollm3, over))._unsafeUnwrap().ropeLayers).toEqual([true, false, true, false]);
  expect(referenceError(smollm3, smollm3Reference, smallConfig(smollm3, over))).toBeLessThan(1e-5);
});

test("NoPE matters: the same weights with RoPE on every layer give other logits", () => {
  const model = randomFamilyModel(smollm3, smallConfig(smollm3), 1);
  const allRope = smallConfig(smollm3, { no_rope_layers: [1, 1, 1, 1] });
  expect(relError(logitsOf(model, ROWS), flat(smollm3Reference(allRope, weightsOf(model), ROWS)))).toBeGreaterThan(1e-3);
  model.dispose();
  expect(referenceError(smollm3, smollm3Reference, allRope)).toBeLessThan(1e-5);
});

test("use_sliding_window puts the window on the NoPE layers and matches the reference", () => {
  const over = { use_sliding_window: true, sliding_window: 3 };
  expect(smollm3.fromConfig(smallConfig(smollm3, over))._unsafeUnwrap().slidingWindows).toEqual([0, 0, 0, 3]);
  expect(referenceError(smollm3, smollm3Reference, smallConfig(smollm3, over))).toBeLessThan(1e-5);
  // sliding_window without use_sliding_window: full attention, as transformers does.
  expect(smollm3.fromConfig(smallConfig(smollm3, { sliding_window: 3 }))._unsafeUnwrap().slidingWindows).toEqual([0, 0, 0, 0]);
});

test("a no_rope_layers list that is too short or not 0/1 is refused with the key named", () => {
  const short = smollm3.fromConfig(smallConfig(smollm3, { no_rope_layers: [1, 0] }));
  expect(short._unsafeUnwrapErr().message).toContain('"no_rope_layers" must list 0 (NoPE) or 1 (RoPE) for each of the 4 layers');
  expect(smollm3.fromConfig(smallConfig(smollm3, { no_rope_layers: [1, 1, 2, 0] })).isErr()).toBe(true);
});

test("cached greedy generation equals recomputation without the cache", () => {
  const model = randomFamilyModel(smollm3, smallConfig(smollm3), 5);
  const o = { maxNewTokens: 8, eosTokenIds: [] };
  const cached = generate(model, [[1, 7, 9]], o)._unsafeUnwrap().tokens;
  expect(generate(model, [[1, 7, 9]], { ...o, useCache: false })._unsafeUnwrap().tokens).toEqual(cached);
  expect(cached[0]!.length).toBe(8);
  model.dispose();
});
