// The GGUF writer's layout (read back by a small independent reader), q8_0 blocks against hand-worked
// values, the Llama q/k permutation against llama2.c's inverse, and the `lft export --gguf` verb.
import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRegistry, familyByName, ropeParameters } from "../../../core/index.ts";
import { exportCommand } from "../../../plugins/commands/export.ts";
import { makeTiny } from "../../../plugins/commands/index.ts";
import { halvesToInterleaved } from "../../../plugins/convert/gguf-arch.ts";
import { GGUF_ARCHITECTURES } from "../../../plugins/convert/gguf-architectures.ts";
import { GgmlType, ggufHeader, str, u32, writeGguf } from "../../../plugins/convert/gguf-file.ts";
import { fromQ8_0Bytes, toF16Bytes, toQ8_0Bytes } from "../../../plugins/convert/gguf-quant.ts";
import { llama3RopeFactors } from "../../../plugins/convert/gguf-rope.ts";
import { convertLlama2c, exportGguf } from "../../../plugins/convert/index.ts";
import { interleavedToHalves } from "../../../plugins/convert/llama2c-to-hf.ts";
import { modelPlugins } from "../../../plugins/models/index.ts";
import { captureIO } from "../../dsl/helpers.ts";

const work = mkdtempSync(join(tmpdir(), "lft-gguf-file-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Reads the parts of a GGUF file the writer controls: header, string/u32 metadata, tensor infos. */
function readGguf(bytes: Uint8Array) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  const u32 = () => {
    at += 4;
    return view.getUint32(at - 4, true);
  };
  const u64 = () => {
    at += 8;
    return Number(view.getBigUint64(at - 8, true));
  };
  const string = () => {
    const n = u64();
    at += n;
    return new TextDecoder().decode(bytes.subarray(at - n, at));
  };
  const magic = new TextDecoder().decode(bytes.subarray(0, 4));
  at = 4;
  const version = u32();
  const nTensors = u64();
  const nKv = u64();
  const kv: Record<string, unknown> = {};
  for (let i = 0; i < nKv; i++) {
    const key = string();
    const type = u32();
    if (type === 8) kv[key] = string();
    else if (type === 4) kv[key] = u32();
    else if (type === 9) {
      // Arrays (the vocabulary): skipped, strings by their lengths, numbers by their 4-byte width.
      const elem = u32();
      const n = u64();
      for (let j = 0; j < n; j++) {
        if (elem === 8) string();
        else at += 4;
      }
      kv[key] = `array of ${n}`;
    } else at += type === 7 ? 1 : 4; // bool, f32 / i32
  }
  const tensors = [];
  for (let i = 0; i < nTensors; i++) {
    const name = string();
    const dims = Array.from({ length: u32() }, u64);
    tensors.push({ name, dims, type: u32(), offset: u64() });
  }
  return { magic, version, kv, tensors, dataStart: Math.ceil(at / 32) * 32 };
}

test("the file is GGUF v3: metadata, tensor infos with ggml's dims order, data aligned to 32 bytes", () => {
  const a = Float32Array.from({ length: 6 }, (_, i) => i);
  const b = Float32Array.from({ length: 3 }, (_, i) => -i);
  const tensors = [
    { name: "a", shape: [2, 3], type: GgmlType.F32, byteLength: 24, data: () => new Uint8Array(a.buffer) },
    { name: "b", shape: [3], type: GgmlType.F32, byteLength: 12, data: () => new Uint8Array(b.buffer) },
  ];
  const meta = new Map([
    ["general.architecture", str("llama")],
    ["llama.block_count", u32(5)],
  ]);
  const path = join(work, "t.gguf");
  writeGguf(path, meta, tensors)._unsafeUnwrap();
  const bytes = new Uint8Array(readFileSync(path));
  const g = readGguf(bytes);
  expect(g.magic).toBe("GGUF");
  expect(g.version).toBe(3);
  expect(g.kv).toEqual({ "general.architecture": "llama", "llama.block_count": 5 });
  expect(g.tensors).toEqual([
    { name: "a", dims: [3, 2], type: 0, offset: 0 },
    { name: "b", dims: [3], type: 0, offset: 32 },
  ]);
  expect(g.dataStart).toBe(ggufHeader(meta, tensors).length);
  expect(new Float32Array(bytes.slice(g.dataStart, g.dataStart + 24).buffer)).toEqual(a);
  expect(new Float32Array(bytes.slice(g.dataStart + 32, g.dataStart + 44).buffer)).toEqual(b);
  expect(bytes.length).toBe(g.dataStart + 64);
});

test("q8_0: scale max|x|/127 in f16, values rounded half away from zero; f16 rounds to nearest even", () => {
  const x = new Float32Array(32);
  x[0] = 1.27;
  x[1] = -0.005; // -0.5 step: rounds away from zero to -1
  x[2] = 0.015; // 1.5 steps -> 2
  x[3] = 0.6;
  const q = toQ8_0Bytes(x);
  expect(q.length).toBe(34);
  const d = new Float16Array(q.slice(0, 2).buffer)[0]!;
  expect(d).toBe(Math.f16round(0.01));
  const ints = new Int8Array(q.slice(2).buffer);
  expect(Array.from(ints.slice(0, 5))).toEqual([127, -1, 2, 60, 0]);
  expect(fromQ8_0Bytes(q)[3]).toBeCloseTo(60 * d, 6);
  expect(Array.from(toQ8_0Bytes(new Float32Array(32)))).toEqual(new Array(34).fill(0));
  // 1 + 2^-11 is halfway between two f16 values: ties go to the even one (1).
  expect(Array.from(new Uint16Array(toF16Bytes(Float32Array.of(1 + 2 ** -11, 1 + 3 * 2 ** -11)).slice().buffer))).toEqual([0x3c00, 0x3c02]);
});

test("Llama's q/k permutation for llama.cpp undoes llama2.c's interleaved -> halves reordering", () => {
  const heads = 2;
  const hd = 8;
  const cols = 3;
  const w = Float32Array.from({ length: heads * hd * cols }, (_, i) => i);
  expect(halvesToInterleaved(interleavedToHalves(w, heads, hd, cols), heads, heads * hd, cols)).toEqual(w);
  // Row 1 of head 0 after the permutation is row d/2 before it (the pair partner of row 0).
  expect(Array.from(halvesToInterleaved(w, heads, heads * hd, cols).slice(cols, 2 * cols))).toEqual([12, 13, 14]);
});

test("lft export MODEL_DIR --gguf OUT --type q8_0 writes the file; a bad type is a usage error", async () => {
  const fixture = join(import.meta.dir, "../../fixtures/stories260K");
  const dir = join(work, "stories");
  convertLlama2c(join(fixture, "stories260K.bin"), join(fixture, "tok512.bin"), dir)._unsafeUnwrap();
  const io = captureIO(work);
  const session = {} as Parameters<typeof exportCommand.run>[2];
  expect(await exportCommand.run(["stories", "--gguf", "s.gguf", "--type", "q8_0"], io, session)).toBe(0);
  expect(io.out()).toContain("llama, q8_0, 47 tensors");
  const g = readGguf(new Uint8Array(readFileSync(join(work, "s.gguf")).subarray(0, 1 << 16)).slice());
  expect(g.kv["general.file_type"]).toBe(7);
  expect(g.tensors.find((t) => t.name === "blk.0.attn_q.weight")?.type).toBe(8);
  expect(g.tensors.find((t) => t.name === "blk.0.attn_norm.weight")?.type).toBe(0);
  const bad = captureIO(work);
  expect(await exportCommand.run(["stories", "--gguf", "s.gguf", "--type", "q4"], bad, session)).toBe(2);
  expect(bad.err()).toContain("--type must be one of f32, f16, q8_0");
});

test("a family without a GGUF table, and RoPE scalings llama.cpp would compute otherwise, are refused with the reason", () => {
  const fixture = join(import.meta.dir, "../../fixtures/stories260K");
  const dir = join(work, "refused");
  convertLlama2c(join(fixture, "stories260K.bin"), join(fixture, "tok512.bin"), dir)._unsafeUnwrap();
  const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
  const refusal = (extra: Record<string, unknown>) => {
    writeFileSync(join(dir, "config.json"), JSON.stringify({ ...config, ...extra }));
    return exportGguf(dir, join(work, "x.gguf"), "f16")._unsafeUnwrapErr().message;
  };
  expect(refusal({ model_type: "gpt_oss" })).toContain('model_type "gpt_oss" has no GGUF export (exported: llama, mistral');
  expect(refusal({ rope_scaling: { rope_type: "dynamic", factor: 2 } })).toContain(
    'rope_scaling of type "dynamic" is not exported to GGUF: llama.cpp has no dynamic NTK',
  );
  expect(refusal({ rope_scaling: { type: "longrope", short_factor: [1], long_factor: [2] } })).toContain('rope_scaling of type "longrope" is not exported');
  expect(refusal({ rope_scaling: { rope_type: "yarn", factor: 4, beta_fast: 16 } })).toContain(
    "llama.cpp uses beta_fast 32 and beta_slow 1 here (config: 16, 1)",
  );
  expect(refusal({ rope_scaling: { rope_type: "yarn", factor: 4, attention_factor: 1 } })).toContain("llama.cpp scales attention by 0.1 ln(factor) + 1");
  expect(refusal({ model_type: "qwen2", rope_scaling: { rope_type: "llama3", factor: 8, low_freq_factor: 1, high_freq_factor: 4 } })).toContain(
    'rope_freqs tensor only for Llama-architecture files, not "qwen2"',
  );
  expect(existsSync(join(work, "x.gguf"))).toBe(false);
});

test("configs of the added families that llama.cpp would compute otherwise are refused, naming the key", () => {
  const base = { num_hidden_layers: 2, hidden_size: 32, intermediate_size: 64, num_attention_heads: 2, rms_norm_eps: 1e-6, max_position_embeddings: 256 };
  const refusal = (modelType: string, extra: Record<string, unknown>) =>
    GGUF_ARCHITECTURES[modelType]!.hyperparameters({ ...base, model_type: modelType, ...extra })._unsafeUnwrapErr().message;
  const moe = { num_experts: 4, num_experts_per_tok: 2, moe_intermediate_size: 16 };
  expect(refusal("qwen2_moe", { ...moe, mlp_only_layers: [1] })).toContain("dense layers (mlp_only_layers [1]): llama.cpp makes every layer sparse");
  expect(refusal("qwen2_moe", { ...moe, norm_topk_prob: true })).toContain("norm_topk_prob true: llama.cpp never renormalises");
  expect(refusal("qwen3_moe", { ...moe, norm_topk_prob: false })).toContain("norm_topk_prob false: llama.cpp always renormalises");
  expect(refusal("qwen3_moe", { ...moe, norm_topk_prob: true, decoder_sparse_step: 2 })).toContain("decoder_sparse_step 2");
  const gemma2 = { head_dim: 16, attn_logit_softcapping: 50, final_logit_softcapping: 30 };
  expect(refusal("gemma2", { ...gemma2, query_pre_attn_scalar: 24 })).toContain("query_pre_attn_scalar 24: llama.cpp scales queries by 1/sqrt(16)");
  expect(refusal("gemma2", { ...gemma2, rope_theta: 500000 })).toContain("rope_theta 500000: the converter writes no RoPE base");
  expect(refusal("gemma2", { head_dim: 16 })).toContain("attn_logit_softcapping, final_logit_softcapping missing");
  const gemma3 = { num_hidden_layers: 6, head_dim: 16, query_pre_attn_scalar: 16, sliding_window: 4, sliding_window_pattern: 6 };
  expect(refusal("gemma3_text", { ...gemma3, query_pre_attn_scalar: 24 })).toContain("query_pre_attn_scalar 24: llama.cpp scales queries by 1/sqrt(16)");
  expect(refusal("gemma3_text", { ...gemma3, sliding_window_pattern: 3 })).toContain("other than five local layers to one global");
  expect(refusal("gemma3_text", { ...gemma3, rope_scaling: { rope_type: "yarn", factor: 2 } })).toContain(
    'rope_scaling "yarn": llama.cpp would apply it to the local layers too',
  );
  expect(refusal("smollm3", { num_hidden_layers: 4, no_rope_layers: [1, 0, 1, 0] })).toContain(
    "no_rope_layers [1,0,1,0]: llama.cpp rotates every layer but each 4th",
  );
  expect(refusal("smollm3", { num_hidden_layers: 4, no_rope_layer_interval: 2 })).toContain("no_rope_layers [1,0,1,0]");
  expect(refusal("cohere", { layer_norm_eps: 1e-5, tie_word_embeddings: true, use_qk_norm: true })).toContain("use_qk_norm true at 2 layers");
  expect(refusal("cohere", { layer_norm_eps: 1e-5, tie_word_embeddings: false })).toContain("always uses the embedding as its head");
  expect(refusal("glm4", { rope_parameters: { rope_type: "default", mrope_section: [8, 12, 12] } })).toContain("mrope_section");
  expect(refusal("internlm3", { bias: true })).toContain("bias true: the o_proj and MLP biases are not written");
  expect(refusal("internlm3", { rope_scaling: { rope_type: "dynamic", factor: 6 } })).toContain('rope_scaling of type "dynamic" is not exported');
  expect(refusal("phi3", { rope_scaling: { type: "longrope", short_factor: [1], long_factor: [2] } })).toContain(
    'rope_scaling "longrope": only Phi-3 models with default RoPE',
  );
  expect(refusal("qwen2_moe", { ...moe, tie_word_embeddings: true })).toContain("llama.cpp's qwen2moe needs its own output.weight");
  expect(refusal("olmo2", { sliding_window: 4096 })).toContain("sliding-window layer pattern (OLMo 3) is not written");
  expect(refusal("starcoder2", { norm_epsilon: 1e-5, use_bias: false })).toContain("use_bias false");
  // Accepted: the keys the converter writes.
  const ok = GGUF_ARCHITECTURES.qwen2_moe!.hyperparameters({ ...base, ...moe, shared_expert_intermediate_size: 48 })._unsafeUnwrap();
  expect(ok.get("qwen2moe.expert_count")?.value).toBe(4);
  expect(ok.get("qwen2moe.expert_used_count")?.value).toBe(2);
  expect(ok.get("qwen2moe.expert_feed_forward_length")?.value).toBe(16);
  expect(ok.get("qwen2moe.expert_shared_feed_forward_length")?.value).toBe(48);
  const g = GGUF_ARCHITECTURES.granite!.hyperparameters({
    ...base,
    head_dim: 8,
    attention_multiplier: 0.125,
    embedding_multiplier: 12,
    residual_multiplier: 0.22,
    logits_scaling: 8,
  })._unsafeUnwrap();
  expect([...g.keys()].filter((k) => /scale$/.test(k)).sort()).toEqual([
    "granite.attention.scale",
    "granite.embedding_scale",
    "granite.logit_scale",
    "granite.residual_scale",
  ]);
  expect(g.has("granite.attention.key_length")).toBe(false);
  const g3 = GGUF_ARCHITECTURES.gemma3_text!.hyperparameters({
    ...base,
    ...gemma3,
    rope_local_base_freq: 10000,
    rope_theta: 1e6,
    rope_scaling: { rope_type: "linear", factor: 8 },
  })._unsafeUnwrap();
  expect(g3.get("gemma3.rope.freq_base_swa")?.value).toBe(10000);
  expect(g3.get("gemma3.rope.freq_base")?.value).toBe(1e6);
  expect(g3.get("gemma3.rope.scaling.type")?.value).toBe("linear");
  expect(g3.get("gemma3.attention.sliding_window")?.value).toBe(4);
});

test("experts are stacked per layer and projection, routers kept f32; a missing expert is refused", () => {
  const registry = createRegistry();
  for (const p of modelPlugins) registry.use(p);
  const family = familyByName(registry, "mixtral")._unsafeUnwrap();
  const dir = join(work, "mixtral");
  makeTiny(family, dir, { seed: 3 })._unsafeUnwrap();
  exportGguf(dir, join(work, "mixtral.gguf"), "q8_0")._unsafeUnwrap();
  const g = readGguf(new Uint8Array(readFileSync(join(work, "mixtral.gguf"))));
  const info = (name: string) => g.tensors.find((t) => t.name === name)!;
  // ggml dims innermost first: [cols, rows, experts]; w1 (gate) [48, 32] per expert, w2 (down) [32, 48].
  expect(info("blk.0.ffn_gate_exps.weight").dims).toEqual([32, 48, 4]);
  expect(info("blk.0.ffn_down_exps.weight").dims).toEqual([48, 32, 4]);
  expect(info("blk.0.ffn_gate_exps.weight").type).toBe(GgmlType.Q8_0);
  expect(info("blk.0.ffn_down_exps.weight").type).toBe(GgmlType.F16); // rows of 48: not whole q8_0 blocks
  expect(info("blk.1.ffn_gate_inp.weight").type).toBe(GgmlType.F32);
  expect(g.kv["llama.expert_count"]).toBe(4);
  expect(g.kv["llama.expert_used_count"]).toBe(2);
  expect(g.tensors.some((t) => t.name.includes("experts"))).toBe(false);
  const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
  writeFileSync(join(dir, "config.json"), JSON.stringify({ ...config, num_local_experts: 5 }));
  expect(exportGguf(dir, join(work, "mixtral.gguf"), "f16")._unsafeUnwrapErr().message).toContain(
    "blk.0.ffn_gate_exps.weight: layer 0's w1 has experts 0,1,2,3, but config.json says 5",
  );
});

test("llama3 rope_freqs: theta^(-2i/d) divided by each factor is lft's llama3 inverse frequency", () => {
  const rope = { factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 64 };
  const config = { rope_theta: 10000, hidden_size: 256, num_attention_heads: 4, rope_scaling: { rope_type: "llama3", ...rope } };
  const factors = llama3RopeFactors(config)!;
  expect(factors).toHaveLength(32);
  const scaling = { type: "llama3" as const, factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 64 };
  const { invFreq } = ropeParameters({ theta: 10000, rotaryDim: 64, maxPositionEmbeddings: 512, scaling });
  // The short wavelengths keep factor 1, the long ones take the full factor, a smooth ramp between.
  expect(factors[0]).toBe(1);
  expect(factors[31]).toBe(8);
  expect(factors.some((f) => f > 1 && f < 8)).toBe(true);
  for (let i = 0; i < 32; i++) expect(1 / 10000 ** ((2 * i) / 64) / factors[i]!).toBeCloseTo(invFreq[i]!, 6);
  expect(llama3RopeFactors({ ...config, rope_scaling: { rope_type: "linear", factor: 2 } })).toBeNull();
});
