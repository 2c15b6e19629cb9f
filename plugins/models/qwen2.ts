// The qwen2 family (Qwen2, Qwen2.5 and their Coder/Math variants): Llama's decoder with biases on the
// q/k/v projections (none on o), and sliding windows on the layers from max_window_layers on when
// use_sliding_window is set.
import { type ConfigReader, defineModelFamily, modelFamilyPlugin } from "../../core/index.ts";
import { LlamaForCausalLM } from "./llama.ts";
import { type LlamaSpec, layerWindows, readLlamaConfig, readWindow } from "./llama-config.ts";

/** Qwen2Config/Qwen3Config: sliding_window (default 4096) only with use_sliding_window, on layers >= max_window_layers (28). */
export function qwenWindows(r: ConfigReader, numLayers: number): number[] {
  const window = r.bool("use_sliding_window", false) ? readWindow(r, 4096) : 0;
  const maxWindowLayers = r.int("max_window_layers", 28, 0);
  return layerWindows(r, numLayers, window, (i) => i >= maxWindowLayers);
}

export const qwen2 = defineModelFamily<LlamaSpec>({
  name: "qwen2",
  doc: "Qwen2 and Qwen2.5 (q/k/v bias, GQA, optional sliding windows from max_window_layers on, tied embeddings in the small sizes)",
  modelTypes: ["qwen2"],
  fromConfig: (config, where) =>
    readLlamaConfig(config, "qwen2", {
      where,
      extend: (r, base) => ({ qkvBias: true, oBias: false, mlpBias: false, slidingWindows: qwenWindows(r, base.numLayers) }),
    }),
  build: (spec) => new LlamaForCausalLM(spec),
  adapterTargets: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
  tiny: {
    // The Qwen3 tokenizer shares Qwen2.5's vocabulary (151,643 BPE tokens, ChatML special tokens).
    tokenizer: "qwen3",
    config: {
      architectures: ["Qwen2ForCausalLM"],
      model_type: "qwen2",
      attention_dropout: 0.0,
      bos_token_id: 151643,
      eos_token_id: 151645,
      hidden_act: "silu",
      hidden_size: 32,
      initializer_range: 0.02,
      intermediate_size: 64,
      max_position_embeddings: 32768,
      max_window_layers: 21,
      num_attention_heads: 4,
      num_hidden_layers: 2,
      num_key_value_heads: 2,
      rms_norm_eps: 1e-6,
      rope_scaling: null,
      rope_theta: 1000000.0,
      sliding_window: 32768,
      tie_word_embeddings: true,
      torch_dtype: "float32",
      use_cache: true,
      use_sliding_window: false,
      vocab_size: 151936,
    },
  },
});

export default modelFamilyPlugin(qwen2);
