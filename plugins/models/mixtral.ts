// The mixtral family (Mixtral 8x7B, 8x22B): Mistral's attention with a sparse mixture of experts in place
// of the MLP (`block_sparse_moe`: router `gate`, `experts.N.w1/w2/w3`, top-2 routing), and a sliding
// window only when the config sets one.
import { CausalLM, ConfigReader, type ModelSpec, defineModelFamily, modelFamilyPlugin, readDecoderConfig } from "../../core/index.ts";
import { readWindow } from "./mistral.ts";
import { type SparseMoeConfig, SparseMoeBlock } from "./moe.ts";

/** num_local_experts (8) and num_experts_per_tok (2); router jitter is refused (lft has no training-time noise there). */
function readMoe(r: ConfigReader, spec: Pick<ModelSpec, "hiddenSize" | "intermediateSize" | "hiddenAct">): SparseMoeConfig {
  const numExperts = r.int("num_local_experts", 8);
  const topK = r.int("num_experts_per_tok", 2);
  if (topK > numExperts) r.fail(`num_experts_per_tok (${topK}) exceeds num_local_experts (${numExperts})`);
  if (r.num("router_jitter_noise", 0) !== 0) r.fail(`router_jitter_noise ${String(r.config.router_jitter_noise)} is not supported; set it to 0.0`);
  return { hiddenSize: spec.hiddenSize, intermediateSize: spec.intermediateSize, numExperts, topK, act: spec.hiddenAct };
}

export const mixtral = defineModelFamily({
  name: "mixtral",
  doc: "Mixtral 8x7B and 8x22B (sparse MoE, top-2 routing, GQA, optional sliding window); output_router_logits' auxiliary loss is not computed",
  modelTypes: ["mixtral"],
  fromConfig: (config, where) =>
    readDecoderConfig(config, "mixtral", {
      where,
      extend: (r, base) => {
        readMoe(r, base);
        return { slidingWindows: new Array<number>(base.numLayers).fill(readWindow(r, 0)), qkvBias: false, oBias: false, mlpBias: false };
      },
    }),
  build: (spec) => {
    // fromConfig has checked these keys; read again here since the spec has no MoE fields.
    const moe = readMoe(new ConfigReader(spec.config), spec);
    return new CausalLM(spec, { feedForward: () => ({ name: "block_sparse_moe", module: new SparseMoeBlock(moe) }) });
  },
  adapterTargets: ["q_proj", "k_proj", "v_proj", "o_proj", "w1", "w2", "w3", "gate"],
  tiny: {
    tokenizer: "mistral-7b",
    config: {
      architectures: ["MixtralForCausalLM"],
      model_type: "mixtral",
      attention_dropout: 0.0,
      bos_token_id: 1,
      eos_token_id: 2,
      hidden_act: "silu",
      hidden_size: 32,
      initializer_range: 0.02,
      intermediate_size: 48,
      max_position_embeddings: 32768,
      num_attention_heads: 4,
      num_experts_per_tok: 2,
      num_hidden_layers: 2,
      num_key_value_heads: 2,
      num_local_experts: 4,
      output_router_logits: false,
      rms_norm_eps: 1e-5,
      rope_theta: 1000000.0,
      router_aux_loss_coef: 0.02,
      router_jitter_noise: 0.0,
      sliding_window: null,
      tie_word_embeddings: false,
      torch_dtype: "float32",
      use_cache: true,
      vocab_size: 32000,
    },
  },
});

export default modelFamilyPlugin(mixtral);
