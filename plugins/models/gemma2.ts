// The gemma2 family (Gemma 2 2B/9B/27B): Gemma's norms, embedding scale, GELU and tied head, plus norms
// after attention and after the MLP (sandwich), tanh soft-capping of the attention scores and of the
// final logits, scores scaled by query_pre_attn_scalar^-0.5, and a sliding window on even layers.
import { CausalLM, type ConfigReader, defineModelFamily, modelFamilyPlugin, readDecoderConfig } from "../../core/index.ts";
import { gemmaOverrides, gemmaView } from "./gemma.ts";
import { layerWindows, readWindow } from "./mistral.ts";

/** A soft-cap key: the class default when absent, off (0) when null. */
function softcap(r: ConfigReader, key: string, fallback: number): number {
  if (r.config[key] === null) return 0;
  const v = r.num(key, fallback);
  if (v < 0) r.fail(`"${key}" must be positive (or null for none), got ${v}`);
  return Math.max(v, 0);
}

export const gemma2 = defineModelFamily({
  name: "gemma2",
  doc: "Gemma 2 (sandwich norms, attention and final logit soft-capping, sliding window on even layers, query_pre_attn_scalar)",
  modelTypes: ["gemma2"],
  fromConfig: (config, where) =>
    readDecoderConfig(config, "gemma2", {
      where,
      view: gemmaView,
      extend: (r, base) => {
        const scalar = r.num("query_pre_attn_scalar", 256);
        if (!(scalar > 0)) r.fail(`"query_pre_attn_scalar" must be positive, got ${scalar}`);
        if (r.bool("use_bidirectional_attention", false)) r.fail(`use_bidirectional_attention is not supported (the decoder is causal)`);
        return {
          ...gemmaOverrides(base.hiddenSize),
          sandwichNorms: true,
          attnScale: scalar > 0 ? scalar ** -0.5 : base.attnScale,
          attnSoftcap: softcap(r, "attn_logit_softcapping", 50),
          finalSoftcap: softcap(r, "final_logit_softcapping", 30),
          // Gemma2Config: layer i slides when (i + 1) % 2, i.e. layers 0, 2, 4, ...
          slidingWindows: layerWindows(r, base.numLayers, readWindow(r, 4096), (i) => i % 2 === 0),
        };
      },
    }),
  build: (spec) => new CausalLM(spec),
  adapterTargets: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
  tiny: {
    tokenizer: "gemma",
    config: {
      architectures: ["Gemma2ForCausalLM"],
      model_type: "gemma2",
      attention_bias: false,
      attention_dropout: 0.0,
      attn_logit_softcapping: 50.0,
      bos_token_id: 2,
      cache_implementation: "hybrid",
      eos_token_id: 1,
      final_logit_softcapping: 30.0,
      head_dim: 16,
      hidden_act: "gelu_pytorch_tanh",
      hidden_activation: "gelu_pytorch_tanh",
      hidden_size: 32,
      initializer_range: 0.02,
      intermediate_size: 64,
      max_position_embeddings: 8192,
      num_attention_heads: 2,
      num_hidden_layers: 2,
      num_key_value_heads: 1,
      pad_token_id: 0,
      // Not head_dim (16), as in Gemma 2 27B, so the tests see which one scales the scores.
      query_pre_attn_scalar: 24,
      rms_norm_eps: 1e-6,
      rope_theta: 10000.0,
      sliding_window: 4096,
      tie_word_embeddings: true,
      torch_dtype: "float32",
      use_cache: true,
      vocab_size: 256000,
    },
  },
});

export default modelFamilyPlugin(gemma2);
