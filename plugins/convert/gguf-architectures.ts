// The GGUF architecture tables by HF model_type, each as convert_hf_to_gguf.py writes that family:
// Llama (and Mistral, written as "llama" as the converter registers MistralForCausalLM) with its q/k
// rows permuted for llama.cpp's interleaved RoPE and Llama 3.1's rope_freqs; Qwen2 and Qwen3; Gemma with
// its norm weights stored as 1 + w.
import { commonHyperparameters, type GgufArchitecture, halvesToInterleaved, num } from "./gguf-arch.ts";
import { type GgufValue, u32 } from "./gguf-file.ts";

type Json = Record<string, unknown>;

/** q_proj/k_proj rows (and biases) permuted per head, k with its own head count (LlamaModel.permute). */
function permuteQk(hfName: string, data: Float32Array, shape: readonly number[], config: Json): Float32Array {
  const heads = num(config, "num_attention_heads")!;
  const kvHeads = num(config, "num_key_value_heads") ?? heads;
  const cols = shape.length > 1 ? shape[1]! : 1;
  if (/\.q_proj\.(weight|bias)$/.test(hfName)) return halvesToInterleaved(data, heads, shape[0]!, cols);
  if (/\.k_proj\.(weight|bias)$/.test(hfName)) return halvesToInterleaved(data, kvHeads, shape[0]!, cols);
  return data;
}

/** LlamaModel.set_gguf_parameters' own keys: vocab_size and the rotary dimension count. */
function llamaKeys(arch: string, config: Json) {
  return (m: Map<string, GgufValue>) => {
    m.set(`${arch}.vocab_size`, u32(num(config, "vocab_size") ?? 0));
    m.set(`${arch}.rope.dimension_count`, u32(num(config, "head_dim") ?? num(config, "hidden_size")! / num(config, "num_attention_heads")!));
  };
}

const llama: GgufArchitecture = {
  name: "llama",
  hyperparameters: (config) => commonHyperparameters("llama", config, llamaKeys("llama", config), { ropeFreqs: true }),
  edit: permuteQk,
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
