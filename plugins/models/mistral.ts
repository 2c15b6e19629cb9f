// The mistral family (Mistral 7B v0.1-v0.3, Nemo, Small): Llama's decoder with a sliding window on every
// layer and no biases.
import { defineModelFamily, modelFamilyPlugin } from "../../core/index.ts";
import { LlamaForCausalLM } from "./llama.ts";
import { type LlamaSpec, readLlamaConfig, readWindow } from "./llama-config.ts";

export const mistral = defineModelFamily<LlamaSpec>({
  name: "mistral",
  doc: "Mistral 7B, Nemo, Small (sliding window on every layer, GQA, explicit head_dim)",
  modelTypes: ["mistral"],
  fromConfig: (config, where) =>
    readLlamaConfig(config, "mistral", {
      where,
      // MistralConfig defaults sliding_window to 4096 and windows every layer (layer_types is ignored, as
      // transformers does); its layers have no biases whatever the config says.
      extend: (r, base) => ({ slidingWindows: new Array<number>(base.numLayers).fill(readWindow(r, 4096)), qkvBias: false, oBias: false, mlpBias: false }),
    }),
  build: (spec) => new LlamaForCausalLM(spec),
  adapterTargets: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
  tiny: {
    tokenizer: "mistral-7b",
    config: {
      architectures: ["MistralForCausalLM"],
      model_type: "mistral",
      attention_dropout: 0.0,
      bos_token_id: 1,
      eos_token_id: 2,
      head_dim: 8,
      hidden_act: "silu",
      hidden_size: 32,
      initializer_range: 0.02,
      intermediate_size: 64,
      max_position_embeddings: 32768,
      num_attention_heads: 4,
      num_hidden_layers: 2,
      num_key_value_heads: 2,
      rms_norm_eps: 1e-5,
      rope_theta: 1000000.0,
      sliding_window: 4096,
      tie_word_embeddings: false,
      torch_dtype: "float32",
      use_cache: true,
      vocab_size: 32000,
    },
  },
});

export default modelFamilyPlugin(mistral);
