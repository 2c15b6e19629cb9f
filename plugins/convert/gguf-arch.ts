// Per-family GGUF tables, as llama.cpp's convert_hf_to_gguf.py writes each architecture: the
// general.architecture name, the <arch>.* hyperparameters from config.json, HF weight names ->
// GGUF tensor names, and the converter's weight edits (Llama's q/k row permutation for llama.cpp's
// interleaved RoPE, Gemma's norm weights stored as 1 + w). Mistral is written as "llama", as there.
import { err, ok, type Result } from "neverthrow";
import { f32, type GgufValue, str, u32 } from "./gguf-file.ts";

type Json = Record<string, unknown>;

export interface GgufArchitecture {
  /** general.architecture. */
  name: string;
  /** <arch>.* entries. */
  hyperparameters(config: Json): Result<Map<string, GgufValue>, Error>;
  /** Edits a tensor as the converter does before writing (rows of a row-major [rows, cols] array). */
  edit?(hfName: string, data: Float32Array, shape: readonly number[], config: Json): Float32Array;
  /** HF names the converter drops (beyond rotary caches). */
  drop?(hfName: string, config: Json): boolean;
}

const num = (config: Json, key: string): number | undefined => (typeof config[key] === "number" ? (config[key] as number) : undefined);

/** The keys every architecture writes (TextModel.set_gguf_parameters); problems listed together. */
function commonHyperparameters(arch: string, config: Json, extra: (m: Map<string, GgufValue>) => void = () => {}): Result<Map<string, GgufValue>, Error> {
  const missing = ["num_hidden_layers", "hidden_size", "intermediate_size", "num_attention_heads", "rms_norm_eps"].filter((k) => num(config, k) === undefined);
  if (missing.length) return err(new Error(`config.json: ${missing.join(", ")} missing (needed for the GGUF header)`));
  const scaling = config.rope_scaling as Json | null | undefined;
  const scalingType = scaling ? (scaling.rope_type ?? scaling.type) : null;
  if (scaling && scalingType !== "linear" && scalingType !== "default")
    return err(new Error(`config.json: rope_scaling of type ${JSON.stringify(scalingType)} is not exported to GGUF yet (linear only)`));
  const m = new Map<string, GgufValue>();
  const heads = num(config, "num_attention_heads")!;
  m.set(`${arch}.block_count`, u32(num(config, "num_hidden_layers")!));
  const context = num(config, "max_position_embeddings");
  if (context !== undefined) m.set(`${arch}.context_length`, u32(context));
  m.set(`${arch}.embedding_length`, u32(num(config, "hidden_size")!));
  m.set(`${arch}.feed_forward_length`, u32(num(config, "intermediate_size")!));
  m.set(`${arch}.attention.head_count`, u32(heads));
  m.set(`${arch}.attention.head_count_kv`, u32(num(config, "num_key_value_heads") ?? heads));
  const theta = num(config, "rope_theta");
  if (theta !== undefined) m.set(`${arch}.rope.freq_base`, f32(theta));
  m.set(`${arch}.attention.layer_norm_rms_epsilon`, f32(num(config, "rms_norm_eps")!));
  const headDim = num(config, "head_dim");
  if (headDim !== undefined) {
    m.set(`${arch}.attention.key_length`, u32(headDim));
    m.set(`${arch}.attention.value_length`, u32(headDim));
  }
  if (scaling && scalingType === "linear") {
    m.set(`${arch}.rope.scaling.type`, str("linear"));
    m.set(`${arch}.rope.scaling.factor`, f32(scaling.factor as number));
  }
  extra(m);
  return ok(m);
}

/**
 * Rows of each head reordered from rotate-half pairs (i, i + d/2) to interleaved pairs (2i, 2i + 1):
 * the converter's permute(w, n_head, n_head_kv), i.e. reshape(heads, 2, d/2, cols).swapaxes(1, 2).
 */
export function halvesToInterleaved(w: Float32Array, heads: number, rows: number, cols: number): Float32Array {
  const out = new Float32Array(w.length);
  const hd = rows / heads;
  const half = hd / 2;
  for (let h = 0; h < heads; h++)
    for (let i = 0; i < half; i++)
      for (let part = 0; part < 2; part++) {
        const src = (h * hd + part * half + i) * cols;
        out.set(w.subarray(src, src + cols), (h * hd + 2 * i + part) * cols);
      }
  return out;
}

const llama: GgufArchitecture = {
  name: "llama",
  hyperparameters: (config) =>
    commonHyperparameters("llama", config, (m) => {
      const heads = num(config, "num_attention_heads")!;
      m.set("llama.vocab_size", u32(num(config, "vocab_size") ?? 0));
      m.set("llama.rope.dimension_count", u32(num(config, "head_dim") ?? num(config, "hidden_size")! / heads));
    }),
  edit(hfName, data, shape, config) {
    const heads = num(config, "num_attention_heads")!;
    const kvHeads = num(config, "num_key_value_heads") ?? heads;
    const cols = shape.length > 1 ? shape[1]! : 1;
    if (/\.q_proj\.(weight|bias)$/.test(hfName)) return halvesToInterleaved(data, heads, shape[0]!, cols);
    if (/\.k_proj\.(weight|bias)$/.test(hfName)) return halvesToInterleaved(data, kvHeads, shape[0]!, cols);
    return data;
  },
};

const qwen2: GgufArchitecture = { name: "qwen2", hyperparameters: (config) => commonHyperparameters("qwen2", config) };
const qwen3: GgufArchitecture = { name: "qwen3", hyperparameters: (config) => commonHyperparameters("qwen3", config) };

const gemma: GgufArchitecture = {
  name: "gemma",
  hyperparameters: (config) =>
    commonHyperparameters("gemma", config, (m) => {
      const headDim = num(config, "head_dim") ?? num(config, "hidden_size")! / num(config, "num_attention_heads")!;
      m.set("gemma.attention.key_length", u32(headDim));
      m.set("gemma.attention.value_length", u32(headDim));
    }),
  // Gemma's RMSNorm multiplies by (1 + w); llama.cpp's by w.
  edit: (hfName, data) => (hfName.endsWith("norm.weight") ? data.map((x) => x + 1) : data),
  // The output projection is the embedding (lm_head is not used by llama.cpp's Gemma).
  drop: (hfName) => hfName === "lm_head.weight",
};

/** Architectures by HF model_type. */
export const GGUF_ARCHITECTURES: Readonly<Record<string, GgufArchitecture>> = { llama, mistral: llama, qwen2, qwen3, gemma };

const LAYER_TENSORS: Record<string, string> = {
  "input_layernorm.weight": "attn_norm.weight",
  "self_attn.q_proj.weight": "attn_q.weight",
  "self_attn.q_proj.bias": "attn_q.bias",
  "self_attn.k_proj.weight": "attn_k.weight",
  "self_attn.k_proj.bias": "attn_k.bias",
  "self_attn.v_proj.weight": "attn_v.weight",
  "self_attn.v_proj.bias": "attn_v.bias",
  "self_attn.o_proj.weight": "attn_output.weight",
  "self_attn.q_norm.weight": "attn_q_norm.weight",
  "self_attn.k_norm.weight": "attn_k_norm.weight",
  "post_attention_layernorm.weight": "ffn_norm.weight",
  "mlp.gate_proj.weight": "ffn_gate.weight",
  "mlp.up_proj.weight": "ffn_up.weight",
  "mlp.down_proj.weight": "ffn_down.weight",
};

const GLOBAL_TENSORS: Record<string, string> = {
  "model.embed_tokens.weight": "token_embd.weight",
  "model.norm.weight": "output_norm.weight",
  "lm_head.weight": "output.weight",
};

/** The GGUF name of an HF weight; null for what the converter skips (rotary caches); an error for the unknown. */
export function ggufTensorName(hfName: string): Result<string | null, Error> {
  if (hfName.endsWith("rotary_emb.inv_freq")) return ok(null);
  const global = GLOBAL_TENSORS[hfName];
  if (global) return ok(global);
  const m = /^model\.layers\.(\d+)\.(.+)$/.exec(hfName);
  const tail = m ? LAYER_TENSORS[m[2]!] : undefined;
  if (m && tail) return ok(`blk.${m[1]}.${tail}`);
  return err(new Error(`no GGUF tensor name for "${hfName}"`));
}
