// The gemma3 family: the shared checks on Gemma 3's real tokenizer against the independent float64
// reference (ref/gemma3.ts); the 5 local : 1 global layer pattern with the local layers' own RoPE, read from
// both config forms (rope_local_base_freq + rope_scaling, transformers 5's per-layer-type rope_parameters);
// per-head (1 + w) q/k norms; the optional soft-caps; gradient checkpointing through both RoPEs; cached
// decoding; the multimodal "gemma3" config loaded as its language model; located refusals.
import { expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Tokenizer as PeerTokenizer } from "@huggingface/tokenizers";
import { backward, generate, type HfConfig, loadModel, ops, saveModel, tensor, tidy, writeSafetensors } from "../../../core/index.ts";
import { loadTokenizer } from "../../../core/tokenizer/load.ts";
import gemma3Plugin, { gemma3 } from "../../../plugins/models/gemma3.ts";
import { relError } from "../../helpers/compare.ts";
import { familyChecks, logitsOf, ROWS, randomFamilyModel, referenceError, registryWith, smallConfig } from "./family-checks.ts";
import { gemma3Reference } from "./ref/gemma3.ts";

// Hugging Face's ids for this text (@huggingface/tokenizers on the same tokenizer.json; checked again below).
const HELLO: [string, number[]] = ["Hello world!", [2, 9259, 1902, 236888]];

const { tinyDir } = familyChecks({
  family: gemma3,
  plugin: gemma3Plugin,
  ref: gemma3Reference,
  tokenizerCheck: HELLO,
  gradients: [
    ["model.layers.0.self_attn.q_norm.weight", [0, 9, 15]],
    ["model.layers.5.self_attn.k_norm.weight", [2, 14]],
    ["model.layers.5.self_attn.q_proj.weight", [5, 300]],
    ["model.layers.1.pre_feedforward_layernorm.weight", [3, 20]],
    ["model.layers.5.post_feedforward_layernorm.weight", [1, 30]],
    ["model.embed_tokens.weight", [32 * 5 + 3, 32 * 9 + 7]],
  ],
});

const registry = registryWith(gemma3Plugin);
const small = (over: HfConfig = {}) => smallConfig(gemma3, over);

test("five local layers to one global, each local with the window and the unscaled local RoPE", () => {
  const spec = gemma3.fromConfig(gemma3.tiny.config)._unsafeUnwrap();
  expect(spec.localLayers).toEqual([true, true, true, true, true, false]);
  expect(spec.slidingWindows).toEqual([4, 4, 4, 4, 4, 0]);
  expect(spec.rope).toMatchObject({ theta: 1e6, rotaryDim: 16, scaling: { type: "linear", factor: 8 } });
  expect(spec.ropeVariants).toEqual({ sliding_attention: { ...spec.rope, theta: 10000, scaling: null } });
  expect([spec.attnScale, spec.attnSoftcap, spec.finalSoftcap]).toEqual([24 ** -0.5, 0, 0]);
  const shapes = new Map(gemma3.weightNames(spec).map((w) => [w.name, w.shape]));
  expect(shapes.get("model.layers.0.self_attn.q_norm.weight")).toEqual([16]);
  expect(shapes.get("model.layers.5.self_attn.k_norm.weight")).toEqual([16]);
  expect(shapes.get("model.layers.3.pre_feedforward_layernorm.weight")).toEqual([32]);
  expect(shapes.has("lm_head.weight")).toBe(false);
});

test("the small config's logits match the reference within 1e-5", () => {
  expect(referenceError(gemma3, gemma3Reference, small())).toBeLessThan(1e-5);
});

test("the local RoPE is its own: another rope_local_base_freq changes the logits, and both match the reference", () => {
  const model = randomFamilyModel(gemma3, small(), 4);
  const other = randomFamilyModel(gemma3, small({ rope_local_base_freq: 100 }), 4);
  expect(relError(logitsOf(other, ROWS), logitsOf(model, ROWS))).toBeGreaterThan(1e-3);
  model.dispose();
  other.dispose();
  expect(referenceError(gemma3, gemma3Reference, small({ rope_local_base_freq: 100 }))).toBeLessThan(1e-5);
  // Without rope_scaling the global layers differ from the tiny preset's (factor 8) too.
  expect(referenceError(gemma3, gemma3Reference, small({ rope_scaling: null }))).toBeLessThan(1e-5);
});

test("transformers 5's per-layer-type rope_parameters read as the older keys do", () => {
  const { rope_scaling: _s, rope_theta: _t, rope_local_base_freq: _l, ...rest } = small();
  const v5 = {
    ...rest,
    rope_parameters: {
      full_attention: { rope_type: "linear", factor: 8.0, rope_theta: 1e6 },
      sliding_attention: { rope_type: "default", rope_theta: 10000.0 },
    },
  };
  const a = gemma3.fromConfig(small())._unsafeUnwrap();
  const b = gemma3.fromConfig(v5)._unsafeUnwrap();
  expect(b.rope).toEqual(a.rope);
  expect(b.ropeVariants).toEqual(a.ropeVariants);
  expect(referenceError(gemma3, gemma3Reference, v5)).toBeLessThan(1e-5);
  // A local theta given only by the per-type entry.
  const local = { ...v5, rope_parameters: { ...v5.rope_parameters, sliding_attention: { rope_type: "default", rope_theta: 500 } } };
  expect(gemma3.fromConfig(local)._unsafeUnwrap().ropeVariants?.sliding_attention?.theta).toBe(500);
  expect(referenceError(gemma3, gemma3Reference, local)).toBeLessThan(1e-5);
});

test("layer_types and sliding_window_pattern choose the local layers; a null window leaves them full but locally rotated", () => {
  const types = ["full_attention", "sliding_attention", "full_attention", "sliding_attention", "sliding_attention", "full_attention"];
  const spec = gemma3.fromConfig(small({ layer_types: types }))._unsafeUnwrap();
  expect(spec.localLayers).toEqual(types.map((t) => t === "sliding_attention"));
  expect(referenceError(gemma3, gemma3Reference, small({ layer_types: types }))).toBeLessThan(1e-5);
  expect(gemma3.fromConfig(small({ sliding_window_pattern: 2 }))._unsafeUnwrap().localLayers).toEqual([true, false, true, false, true, false]);
  const open = gemma3.fromConfig(small({ sliding_window: null }))._unsafeUnwrap();
  expect([open.slidingWindows, open.localLayers[0]]).toEqual([[0, 0, 0, 0, 0, 0], true]);
  expect(referenceError(gemma3, gemma3Reference, small({ sliding_window: null }))).toBeLessThan(1e-5);
});

test("final_logit_softcapping caps the logits; attn_logit_softcapping is ignored, as transformers does; attention_bias matches the reference", () => {
  const config = small({ attn_logit_softcapping: 2, final_logit_softcapping: 3, attention_bias: true });
  const spec = gemma3.fromConfig(config)._unsafeUnwrap();
  expect([spec.attnSoftcap, spec.finalSoftcap, spec.qkvBias]).toEqual([0, 3, true]);
  expect(referenceError(gemma3, gemma3Reference, config)).toBeLessThan(1e-5);
  const capped = randomFamilyModel(gemma3, small({ attn_logit_softcapping: 0.5 }), 2);
  const plain = randomFamilyModel(gemma3, small(), 2);
  expect(relError(logitsOf(capped, ROWS), logitsOf(plain, ROWS))).toBe(0);
  capped.dispose();
  plain.dispose();
});

test("gradient checkpointing recomputes both RoPEs: same loss and gradients", () => {
  const model = randomFamilyModel(gemma3, small(), 9);
  const run = (ckpt: boolean) => {
    model.gradientCheckpointing = ckpt;
    for (const t of model.parameters()) {
      t.grad?.dispose();
      t.grad = null;
    }
    const loss = tidy(() => {
      const [B, T] = [ROWS.length, ROWS[0]!.length];
      const targets = ROWS.flatMap((row) => row.map((_, t) => (t + 1 < T ? row[t + 1]! : -100)));
      const logits = ops.reshape(model.forward(tensor(ROWS.flat(), [B, T], { dtype: "i32" })), [B * T, 64]);
      const l = ops.crossEntropy(logits, tensor(targets, [B * T], { dtype: "i32" }));
      backward(l);
      return l.item();
    });
    return { loss, grads: model.namedParameters().map(([, t]) => t.grad!.toArray()) };
  };
  const plain = run(false);
  const ckpt = run(true);
  expect(ckpt.loss).toBe(plain.loss);
  for (const [i, g] of ckpt.grads.entries()) expect(relError(g, plain.grads[i]!)).toBe(0);
  model.dispose();
});

test("cached greedy generation equals recomputation without the cache (past the sliding window)", () => {
  const model = randomFamilyModel(gemma3, small(), 5);
  const o = { maxNewTokens: 10, eosTokenIds: [] };
  const cached = generate(model, [[1, 7, 9]], o)._unsafeUnwrap().tokens;
  expect(generate(model, [[1, 7, 9]], { ...o, useCache: false })._unsafeUnwrap().tokens).toEqual(cached);
  expect(cached[0]!.length).toBe(10);
  model.dispose();
});

test("the tokenizer gives Hugging Face's ids on varied text (ASCII, code, CJK, emoji, whitespace runs)", () => {
  const json = JSON.parse(readFileSync(join(tinyDir(), "tokenizer.json"), "utf8"));
  const peer = new PeerTokenizer(json, JSON.parse(readFileSync(join(tinyDir(), "tokenizer_config.json"), "utf8")));
  const ours = loadTokenizer(tinyDir())._unsafeUnwrap();
  const texts = [
    HELLO[0],
    "The quick brown fox jumps over the lazy dog.",
    "def f(x):\n    return {'a': [x, x**2]}  # comment\n",
    "机器学习是人工智能的一个分支。日本語のテキスト",
    "emoji 🤗🚀 and ZWJ 👩‍💻 together",
    "runs   of    spaces\t\ttabs\n\n\nnewlines  ",
    "<start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\n",
  ];
  for (const text of texts) expect(ours.encode(text)).toEqual(peer.encode(text).ids);
  expect(peer.encode(HELLO[0]).ids).toEqual(HELLO[1]);
});

// transformers < 4.52 saved the language model as language_model.model.*, later ones as model.language_model.*.
const MULTIMODAL_NAMES: [string, (name: string) => string][] = [
  ["language_model.model.*", (name) => `language_model.${name}`],
  ["model.language_model.*", (name) => name.replace(/^model\./, "model.language_model.")],
];

for (const [layout, rename] of MULTIMODAL_NAMES) {
  test(`a multimodal gemma3 checkpoint (${layout}) loads as its language model and saves as gemma3_text`, () => {
    const root = mkdtempSync(join(tmpdir(), "lft-gemma3-mm-"));
    try {
      const text = small();
      const model = randomFamilyModel(gemma3, text, 6);
      const { architectures: _a, model_type: _m, bos_token_id, eos_token_id, pad_token_id, ...textConfig } = text;
      const mm = {
        architectures: ["Gemma3ForConditionalGeneration"],
        model_type: "gemma3",
        bos_token_id,
        eos_token_id,
        pad_token_id,
        text_config: { ...textConfig, model_type: "gemma3_text" },
        vision_config: { model_type: "siglip_vision_model", hidden_size: 8 },
      };
      writeFileSync(join(root, "config.json"), JSON.stringify(mm));
      const entries = model.namedParameters().map(([name, t]) => ({ name: rename(name), data: t }));
      const vision = tensor(new Float32Array(8), [8]);
      const extra = [
        { name: `${layout.startsWith("model.") ? "model." : ""}vision_tower.vision_model.post_layernorm.weight`, data: vision },
        { name: `${layout.startsWith("model.") ? "model." : ""}multi_modal_projector.mm_soft_emb_norm.weight`, data: vision },
      ];
      writeSafetensors(join(root, "model.safetensors"), [...entries, ...extra])._unsafeUnwrap();
      const loaded = loadModel(root, registry)._unsafeUnwrap();
      expect(loaded.family.name).toBe("gemma3");
      expect(loaded.warnings).toEqual([
        "2 vision tensors (vision_tower.*, multi_modal_projector.*) were not loaded: the gemma3 family loads the language model only",
      ]);
      expect(relError(logitsOf(loaded.model, ROWS), logitsOf(model, ROWS))).toBe(0);
      expect(loaded.spec.config.model_type).toBe("gemma3_text");
      saveModel(loaded.model, join(root, "text"))._unsafeUnwrap();
      const saved = JSON.parse(readFileSync(join(root, "text", "config.json"), "utf8"));
      expect([saved.model_type, saved.architectures, saved.hidden_size, saved.eos_token_id]).toEqual(["gemma3_text", ["Gemma3ForCausalLM"], 32, 2]);
      const again = loadModel(join(root, "text"), registry)._unsafeUnwrap();
      expect(relError(logitsOf(again.model, ROWS), logitsOf(model, ROWS))).toBe(0);
      again.model.dispose();
      loaded.model.dispose();
      model.dispose();
      vision.dispose();
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
}

test("a gemma3 config without text_config is refused, naming the file", () => {
  const bad = gemma3.fromConfig({ model_type: "gemma3", vision_config: {} }, "mm/config.json");
  expect(bad._unsafeUnwrapErr().message).toContain(`mm/config.json: a "gemma3" config loads as its language model, which needs a "text_config" object`);
});

test("refuses bidirectional attention, a bad layer_types and a bad query_pre_attn_scalar, naming the file and key", () => {
  const msg = (over: HfConfig) => gemma3.fromConfig(small(over), "g3/config.json")._unsafeUnwrapErr().message;
  expect(msg({ use_bidirectional_attention: true })).toContain("g3/config.json: use_bidirectional_attention is not supported");
  expect(msg({ layer_types: ["full_attention"] })).toContain(`g3/config.json: "layer_types" must list`);
  expect(msg({ query_pre_attn_scalar: 0 })).toContain(`"query_pre_attn_scalar" must be positive`);
  expect(msg({ rope_parameters: { full_attention: { rope_type: "su" } } })).toContain(`rope type "su" is not supported`);
});
