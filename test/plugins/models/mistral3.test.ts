// The mistral3 family (text only): the shared checks on the nested text_config and the
// language_model.* weight names, the vision tower skipped with one warning, transformers >= 4.52's
// model.language_model.* layout read too, located errors for a missing or foreign text_config, and
// cached greedy decoding equal to recomputation.
import { expect, test } from "bun:test";
import { cpSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { generate, type HfConfig, loadModel, type SafetensorsEntry, writeSafetensors } from "../../../core/index.ts";
import mistral3Plugin, { mistral3 } from "../../../plugins/models/mistral3.ts";
import { relError } from "../../helpers/compare.ts";
import { familyChecks, logitsOf, ROWS, randomFamilyModel, referenceError, registryWith } from "./family-checks.ts";
import { mistral3Reference } from "./ref/mistral3.ts";

const tinyText = mistral3.tiny.config.text_config as HfConfig;
/** The tiny config with text_config keys changed (smallConfig's top-level keys do not reach text_config). */
const withText = (over: HfConfig): HfConfig => ({ ...mistral3.tiny.config, text_config: { ...tinyText, vocab_size: 64, ...over } });

const { tinyDir } = familyChecks({
  family: mistral3,
  plugin: mistral3Plugin,
  ref: mistral3Reference,
  gradientConfig: { text_config: { ...tinyText, vocab_size: 64 } },
  gradients: [
    ["language_model.model.layers.0.self_attn.q_proj.weight", [3, 100]],
    ["language_model.model.layers.1.mlp.down_proj.weight", [7, 500]],
    ["language_model.model.norm.weight", [0, 17]],
    ["language_model.lm_head.weight", [40, 1000]],
  ],
});

test("text_config holds the decoder's keys and the weights sit under language_model.*", () => {
  const spec = mistral3.fromConfig(withText({}))._unsafeUnwrap();
  expect([spec.hiddenSize, spec.numLayers, spec.vocabSize, spec.headDim]).toEqual([32, 2, 64, 8]);
  expect([spec.bosTokenId, spec.eosTokenIds]).toEqual([1, [2]]);
  expect(spec.slidingWindows).toEqual([0, 0]);
  const names = mistral3.weightNames(spec).map((w) => w.name);
  expect(names).toContain("language_model.model.embed_tokens.weight");
  expect(names).toContain("language_model.lm_head.weight");
  expect(names.every((n) => n.startsWith("language_model."))).toBe(true);
});

test("the tiny config's logits match the reference within 1e-5", () => {
  expect(referenceError(mistral3, mistral3Reference, withText({}))).toBeLessThan(1e-5);
});

test("a sliding window in text_config (absent: MistralConfig's 4096) matches the reference", () => {
  expect(mistral3.fromConfig(withText({ sliding_window: undefined }))._unsafeUnwrap().slidingWindows).toEqual([4096, 4096]);
  expect(mistral3.fromConfig(withText({ sliding_window: 3 }))._unsafeUnwrap().slidingWindows).toEqual([3, 3]);
  expect(referenceError(mistral3, mistral3Reference, withText({ sliding_window: 3 }))).toBeLessThan(1e-5);
});

test("vision weights are skipped with one warning; transformers >= 4.52's layout loads the same model", () => {
  const registry = registryWith(mistral3Plugin);
  const base = loadModel(tinyDir(), registry)._unsafeUnwrap();
  // The same tensors renamed as transformers >= 4.52 saves them, plus a vision tower and a projector.
  const dir = join(tinyDir(), "..", "with-vision");
  cpSync(tinyDir(), dir, { recursive: true });
  rmSync(join(dir, "model.safetensors"));
  const later = (n: string) => n.replace("language_model.model.", "model.language_model.").replace("language_model.lm_head.", "lm_head.");
  const zeros = (shape: number[]) => new Uint8Array(4 * shape.reduce((a, b) => a * b, 1));
  const entries: SafetensorsEntry[] = [
    ...base.model.namedParameters().map(([n, t]) => ({ name: later(n), data: t })),
    { name: "model.vision_tower.patch_conv.weight", dtype: "F32", shape: [16, 3, 14, 14], data: zeros([16, 3, 14, 14]) },
    { name: "model.multi_modal_projector.linear_1.weight", dtype: "F32", shape: [32, 64], data: zeros([32, 64]) },
  ];
  writeSafetensors(join(dir, "model.safetensors"), entries)._unsafeUnwrap();
  const again = loadModel(dir, registry)._unsafeUnwrap();
  expect(again.warnings).toEqual([
    "2 vision tensors (vision_tower.*, multi_modal_projector.*) were not loaded: the mistral3 family loads the language model only",
  ]);
  expect(relError(logitsOf(again.model, ROWS), logitsOf(base.model, ROWS))).toBe(0);
  base.model.dispose();
  again.model.dispose();
});

test("a missing text_config or a language model other than Mistral's is refused with the key named", () => {
  const { text_config: _, ...flat } = mistral3.tiny.config;
  expect(mistral3.fromConfig(flat)._unsafeUnwrapErr().message).toContain('config.json: "text_config" must be an object');
  const other = mistral3.fromConfig(withText({ model_type: "ministral3" }));
  expect(other._unsafeUnwrapErr().message).toContain('text_config.model_type "ministral3" is not supported');
  const bad = mistral3.fromConfig(withText({ hidden_size: undefined }));
  expect(bad._unsafeUnwrapErr().message).toContain("config.json text_config");
});

test("cached greedy generation equals recomputation without the cache", () => {
  const model = randomFamilyModel(mistral3, withText({}), 5);
  const o = { maxNewTokens: 8, eosTokenIds: [] };
  const cached = generate(model, [[1, 7, 9]], o)._unsafeUnwrap().tokens;
  expect(generate(model, [[1, 7, 9]], { ...o, useCache: false })._unsafeUnwrap().tokens).toEqual(cached);
  expect(cached[0]!.length).toBe(8);
  model.dispose();
});

test("the saved config keeps text_config and vision_config as written", () => {
  const config = JSON.parse(readFileSync(join(tinyDir(), "config.json"), "utf8"));
  expect(config.text_config.hidden_size).toBe(32);
  expect(config.vision_config.model_type).toBe("pixtral");
});
