// The qwen3_moe family (Qwen3-30B-A3B, Qwen3-235B-A22B): Qwen3's attention (an RMSNorm over each head of
// q and k before RoPE, attention_bias instead of a fixed q/k/v bias) with Qwen2-MoE's sparse `mlp` minus
// the shared expert: top-k routed experts of moe_intermediate_size (norm_topk_prob renormalises them; the
// released checkpoints set it), dense MLP layers where mlp_only_layers / decoder_sparse_step say.
import { Attention, defineModelFamily, modelFamilyPlugin } from "../../core/index.ts";
import { llamaAttentionConfig } from "./llama.ts";
import { type LlamaSpec, readLlamaConfig } from "./llama-config.ts";
import { buildQwenMoe, type QwenMoeSpec, readQwenMoeKeys } from "./qwen2_moe.ts";

/** Llama's attention with the per-head q/k RMSNorm (same eps as the other norms). */
function qwen3Attention(spec: LlamaSpec, layer: number): Attention {
  return new Attention(llamaAttentionConfig(spec, layer, { qkNorm: { eps: spec.rmsNormEps } }), layer);
}

export const qwen3_moe = defineModelFamily<QwenMoeSpec>({
  name: "qwen3_moe",
  doc: "Qwen3-MoE (per-head q/k RMSNorm, top-k routed experts with norm_topk_prob, no shared expert, dense layers by mlp_only_layers / decoder_sparse_step)",
  modelTypes: ["qwen3_moe"],
  fromConfig: (config, where) =>
    readLlamaConfig<QwenMoeSpec>(config, "qwen3_moe", {
      where,
      extend: (r, base) => ({ ...readQwenMoeKeys(r, base.numLayers, { numExperts: 128, topK: 8, moeSize: 768 }), sharedExpertSize: 0, mlpBias: false }),
    }),
  build: (spec) => buildQwenMoe(spec, { attention: qwen3Attention }),
  // The router (`gate`) is left out: name it to adapt it.
  adapterTargets: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
  tiny: {
    tokenizer: "qwen3",
    config: {
      architectures: ["Qwen3MoeForCausalLM"],
      model_type: "qwen3_moe",
      attention_bias: false,
      attention_dropout: 0.0,
      bos_token_id: 151643,
      decoder_sparse_step: 1,
      eos_token_id: 151645,
      // Not hidden_size / num_attention_heads (8): head_dim is its own key, as in the released configs.
      head_dim: 16,
      hidden_act: "silu",
      hidden_size: 32,
      initializer_range: 0.02,
      intermediate_size: 64,
      max_position_embeddings: 40960,
      max_window_layers: 48,
      mlp_only_layers: [],
      moe_intermediate_size: 16,
      norm_topk_prob: true,
      num_attention_heads: 4,
      num_experts: 8,
      num_experts_per_tok: 2,
      num_hidden_layers: 2,
      num_key_value_heads: 2,
      output_router_logits: false,
      rms_norm_eps: 1e-6,
      rope_scaling: null,
      rope_theta: 1000000.0,
      router_aux_loss_coef: 0.001,
      sliding_window: null,
      tie_word_embeddings: false,
      torch_dtype: "float32",
      use_cache: true,
      use_sliding_window: false,
      vocab_size: 151936,
    },
  },
});

export default modelFamilyPlugin(qwen3_moe);
