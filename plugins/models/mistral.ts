// The mistral family (Mistral 7B v0.1-v0.3, Nemo, Small): Llama's decoder with a sliding window on every
// layer. Also home of the window helpers the other families read their `sliding_window` keys with.
import { CausalLM, type ConfigReader, defineModelFamily, modelFamilyPlugin, readDecoderConfig } from "../../core/index.ts";

/**
 * `sliding_window` as an HF config class resolves it: `fallback` (the class default) when the key is
 * absent, 0 (full attention) when it is null, else a positive window.
 */
export function readWindow(r: ConfigReader, fallback: number): number {
  if (r.config.sliding_window === null) return 0;
  return r.int("sliding_window", fallback, 0);
}

/**
 * One window per layer: `layer_types` ("sliding_attention" / "full_attention") when the config lists
 * them (transformers >= 4.53 writes it), else `sliding(i)`; a sliding layer gets `window` (0 = none).
 */
export function layerWindows(r: ConfigReader, numLayers: number, window: number, sliding: (layer: number) => boolean): number[] {
  const types = r.config.layer_types;
  if (types === undefined || types === null) return Array.from({ length: numLayers }, (_, i) => (sliding(i) ? window : 0));
  const ok = Array.isArray(types) && types.length === numLayers && types.every((t) => t === "sliding_attention" || t === "full_attention");
  if (!ok) {
    r.fail(`"layer_types" must list "sliding_attention" or "full_attention" for each of the ${numLayers} layers, got ${JSON.stringify(types)}`);
    return new Array<number>(numLayers).fill(0);
  }
  return (types as string[]).map((t) => (t === "sliding_attention" ? window : 0));
}

export const mistral = defineModelFamily({
  name: "mistral",
  doc: "Mistral 7B, Nemo, Small (sliding window on every layer, GQA, explicit head_dim)",
  modelTypes: ["mistral"],
  fromConfig: (config, where) =>
    readDecoderConfig(config, "mistral", {
      where,
      // MistralConfig defaults sliding_window to 4096 and windows every layer (layer_types is ignored, as
      // transformers does); its layers have no biases whatever the config says.
      extend: (r, base) => ({ slidingWindows: new Array<number>(base.numLayers).fill(readWindow(r, 4096)), qkvBias: false, oBias: false, mlpBias: false }),
    }),
  build: (spec) => new CausalLM(spec),
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
