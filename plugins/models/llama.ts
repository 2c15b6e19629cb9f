// The llama family (Llama 2, Llama 3/3.1/3.2, and checkpoints in their layout): the shared decoder as is.
// Only the config mapping's defaults, the adapter targets, a stale-buffer filter and the tiny preset live here.
import { CausalLM, defineModelFamily, modelFamilyPlugin, readDecoderConfig } from "../../core/index.ts";

export const llama = defineModelFamily({
  name: "llama",
  doc: "Llama 2 and 3 (rope_scaling: linear, dynamic, llama3; GQA; optional attention/MLP bias; tied embeddings)",
  modelTypes: ["llama"],
  fromConfig: (config, where) => readDecoderConfig(config, "llama", { where }),
  build: (spec) => new CausalLM(spec),
  adapterTargets: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
  // Checkpoints saved by transformers < 4.31 carry the RoPE buffer `...self_attn.rotary_emb.inv_freq`.
  sanitize: (name) => (name.endsWith(".rotary_emb.inv_freq") ? null : name),
  tiny: {
    tokenizer: "llama2",
    config: {
      architectures: ["LlamaForCausalLM"],
      model_type: "llama",
      attention_bias: false,
      attention_dropout: 0.0,
      bos_token_id: 1,
      eos_token_id: 2,
      hidden_act: "silu",
      hidden_size: 64,
      initializer_range: 0.02,
      intermediate_size: 176,
      max_position_embeddings: 2048,
      mlp_bias: false,
      num_attention_heads: 4,
      num_hidden_layers: 2,
      num_key_value_heads: 2,
      pretraining_tp: 1,
      rms_norm_eps: 1e-5,
      rope_scaling: null,
      rope_theta: 10000.0,
      tie_word_embeddings: false,
      torch_dtype: "float32",
      use_cache: true,
      vocab_size: 32000,
    },
  },
});

export default modelFamilyPlugin(llama);
