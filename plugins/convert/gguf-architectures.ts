// The GGUF architecture tables by HF model_type, each as convert_hf_to_gguf.py writes that family:
// Llama (and Mistral, written as "llama" as the converter registers MistralForCausalLM) with its q/k
// rows permuted for llama.cpp's interleaved RoPE and Llama 3.1's rope_freqs; Qwen2 and Qwen3; Gemma with
// its norm weights stored as 1 + w.
import { commonHyperparameters, type GgufArchitecture, llamaKeys, num, permuteQk } from "./gguf-arch.ts";
import { commandR, gemma2, gemma3, glm4, granite, internlm3, olmo2, phi3, smollm3, starcoder2 } from "./gguf-arch-dense.ts";
import { mixtral, qwen2moe, qwen3moe } from "./gguf-arch-moe.ts";
import { u32 } from "./gguf-file.ts";

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
export const GGUF_ARCHITECTURES: Readonly<Record<string, GgufArchitecture>> = {
  llama,
  mistral: llama,
  qwen2,
  qwen3,
  gemma,
  mixtral,
  qwen2_moe: qwen2moe,
  qwen3_moe: qwen3moe,
  gemma2,
  gemma3_text: gemma3,
  phi3,
  olmo2,
  granite,
  starcoder2,
  smollm3,
  cohere: commandR,
  glm4,
  internlm3,
};
