// The smollm3 family (SmolLM3-3B and its base): Llama's blocks, GQA and tied embeddings, with NoPE layers:
// `no_rope_layers` lists 1 for a layer that applies RoPE and 0 for one that attends without any position
// encoding (by default every `no_rope_layer_interval`-th layer, 4 in the release). With use_sliding_window
// the NoPE layers are the sliding ones unless `layer_types` says otherwise.
import { Attention, type ConfigReader, defineModelFamily, modelFamilyPlugin } from "../../core/index.ts";
import { LlamaForCausalLM, llamaAttentionConfig } from "./llama.ts";
import { type LlamaSpec, layerWindows, readLlamaConfig, readWindow } from "./llama-config.ts";

export interface SmolLM3Spec extends LlamaSpec {
  /** One per layer: true = RoPE on q and k, false = a NoPE layer. */
  ropeLayers: boolean[];
}

/** SmolLM3Config: `no_rope_layers` when given, else a NoPE layer every `no_rope_layer_interval` layers. */
function readRopeLayers(r: ConfigReader, numLayers: number): boolean[] {
  const list = r.config.no_rope_layers;
  if (list === undefined || list === null) {
    const interval = r.int("no_rope_layer_interval", 4, 1);
    return Array.from({ length: numLayers }, (_, i) => (i + 1) % interval !== 0);
  }
  // transformers indexes the list by layer, so it may be longer than the model; never shorter.
  if (!Array.isArray(list) || list.length < numLayers || !list.every((v) => v === 0 || v === 1)) {
    r.fail(`"no_rope_layers" must list 0 (NoPE) or 1 (RoPE) for each of the ${numLayers} layers, got ${JSON.stringify(list)}`);
    return new Array<boolean>(numLayers).fill(true);
  }
  return (list as number[]).slice(0, numLayers).map((v) => v === 1);
}

export const smollm3 = defineModelFamily<SmolLM3Spec>({
  name: "smollm3",
  doc: "SmolLM3 (Llama blocks with NoPE layers: no_rope_layers / no_rope_layer_interval; GQA; tied embeddings)",
  modelTypes: ["smollm3"],
  fromConfig: (config, where) =>
    readLlamaConfig<SmolLM3Spec>(config, "smollm3", {
      where,
      extend: (r, base) => {
        const ropeLayers = readRopeLayers(r, base.numLayers);
        const sliding = r.bool("use_sliding_window", false) && r.config.sliding_window != null;
        const windows = sliding ? layerWindows(r, base.numLayers, readWindow(r, 0), (i) => !ropeLayers[i]) : new Array<number>(base.numLayers).fill(0);
        return { ropeLayers, slidingWindows: windows, tieWordEmbeddings: r.bool("tie_word_embeddings", true) };
      },
    }),
  build: (spec) => new LlamaForCausalLM(spec, { attention: (s, i) => new Attention({ ...llamaAttentionConfig(s, i), rope: s.ropeLayers[i]! }, i) }),
  adapterTargets: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
  tiny: {
    // SmolLM3's tokenizer is Llama 3's vocabulary (128,256 tokens) with its own chat tokens: Llama 3's fixture.
    tokenizer: "llama3",
    config: {
      architectures: ["SmolLM3ForCausalLM"],
      model_type: "smollm3",
      attention_bias: false,
      attention_dropout: 0.0,
      bos_token_id: null,
      eos_token_id: 128001,
      hidden_act: "silu",
      hidden_size: 32,
      initializer_range: 0.02,
      intermediate_size: 64,
      max_position_embeddings: 65536,
      max_window_layers: 4,
      mlp_bias: false,
      no_rope_layer_interval: 4,
      // The release's pattern [1, 1, 1, 0] repeating: the fourth layer attends without RoPE.
      no_rope_layers: [1, 1, 1, 0],
      num_attention_heads: 4,
      num_hidden_layers: 4,
      num_key_value_heads: 2,
      pad_token_id: 128004,
      pretraining_tp: 1,
      rms_norm_eps: 1e-6,
      rope_scaling: null,
      rope_theta: 5000000.0,
      sliding_window: null,
      tie_word_embeddings: true,
      torch_dtype: "float32",
      use_cache: true,
      use_sliding_window: false,
      vocab_size: 128256,
    },
  },
});

export default modelFamilyPlugin(smollm3);
