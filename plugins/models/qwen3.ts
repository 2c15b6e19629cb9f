// The qwen3 family (Qwen3 dense models): Qwen2's layout with an RMSNorm over each head of q and k
// before RoPE (`q_norm`, `k_norm`), attention_bias instead of Qwen2's fixed q/k/v bias, and head_dim
// stated in the config (the class default is 128, not hidden_size / heads).
import { Attention, defineModelFamily, modelFamilyPlugin } from "../../core/index.ts";
import { LlamaForCausalLM, llamaAttentionConfig } from "./llama.ts";
import { type LlamaSpec, readLlamaConfig } from "./llama-config.ts";
import { qwenWindows } from "./qwen2.ts";

/** Llama's attention with the per-head q/k RMSNorm (same eps as the other norms). */
function qwen3Attention(spec: LlamaSpec, layer: number): Attention {
  return new Attention(llamaAttentionConfig(spec, layer, { qkNorm: { eps: spec.rmsNormEps } }), layer);
}

export const qwen3 = defineModelFamily<LlamaSpec>({
  name: "qwen3",
  doc: "Qwen3 (per-head q/k RMSNorm, explicit head_dim, optional attention bias and sliding windows)",
  modelTypes: ["qwen3"],
  fromConfig: (config, where) =>
    readLlamaConfig(config, "qwen3", {
      where,
      view: (c) => ({ ...c, head_dim: c.head_dim ?? 128 }),
      extend: (r, base) => ({ mlpBias: false, slidingWindows: qwenWindows(r, base.numLayers) }),
    }),
  build: (spec) => new LlamaForCausalLM(spec, { attention: qwen3Attention }),
  adapterTargets: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
  tiny: {
    tokenizer: "qwen3",
    config: {
      architectures: ["Qwen3ForCausalLM"],
      model_type: "qwen3",
      attention_bias: false,
      attention_dropout: 0.0,
      bos_token_id: 151643,
      eos_token_id: 151645,
      // Not hidden_size / num_attention_heads (8): Qwen3's head_dim is its own key.
      head_dim: 16,
      hidden_act: "silu",
      hidden_size: 32,
      initializer_range: 0.02,
      intermediate_size: 64,
      max_position_embeddings: 40960,
      max_window_layers: 28,
      num_attention_heads: 4,
      num_hidden_layers: 2,
      num_key_value_heads: 2,
      rms_norm_eps: 1e-6,
      rope_scaling: null,
      rope_theta: 1000000,
      sliding_window: null,
      tie_word_embeddings: true,
      torch_dtype: "float32",
      use_cache: true,
      use_sliding_window: false,
      vocab_size: 151936,
    },
  },
});

export default modelFamilyPlugin(qwen3);
