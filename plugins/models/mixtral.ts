// The mixtral family (Mixtral 8x7B, 8x22B): Mistral's attention with a sparse mixture of experts in place
// of the MLP (`block_sparse_moe`: a router `gate` scores every token, each token's top-k experts
// `experts.N.w1/w2/w3` run on the tokens routed to them only, their outputs summed with the router
// weights), and a sliding window only when the config sets one. The block is built from differentiable
// ops (moe.ts, shared with the Qwen MoE families), so gradients reach the router and every chosen expert.
import {
  type ConfigReader,
  defineModelFamily,
  type GatedActivation,
  gatedActivation,
  Linear,
  Module,
  modelFamilyPlugin,
  type Tensor,
} from "../../core/index.ts";
import { LlamaForCausalLM } from "./llama.ts";
import { type LlamaSpec, readLlamaConfig, readWindow } from "./llama-config.ts";
import { RouterLogits, readAuxLossCoef, SparseMoe } from "./moe.ts";

/** A sparse MoE block's sizes and routing. */
export interface SparseMoeConfig {
  hiddenSize: number;
  /** each expert's inner size (Mixtral's intermediate_size) */
  intermediateSize: number;
  numExperts: number;
  /** experts per token (num_experts_per_tok) */
  topK: number;
  act: GatedActivation;
}

/** One expert: Mixtral's `MixtralBlockSparseTop2MLP` (w1 = gate, w3 = up, w2 = down). */
export class MoeExpert extends Module {
  readonly w1: Linear;
  readonly w2: Linear;
  readonly w3: Linear;
  constructor(
    hidden: number,
    inner: number,
    readonly act: GatedActivation,
  ) {
    super();
    this.w1 = this.addModule("w1", new Linear(hidden, inner));
    this.w2 = this.addModule("w2", new Linear(inner, hidden));
    this.w3 = this.addModule("w3", new Linear(hidden, inner));
  }

  /** x [n, hidden] -> [n, hidden] */
  forward(x: Tensor): Tensor {
    const g = this.w1.forward(x);
    const u = this.w3.forward(x);
    return this.w2.forward(gatedActivation(this.act, g, u));
  }
}

/** Mixtral's `block_sparse_moe`: the shared sparse block with w1/w2/w3 experts, always renormalised top-k. */
export class SparseMoeBlock extends SparseMoe<MoeExpert> {
  constructor(
    readonly cfg: SparseMoeConfig,
    recorder: RouterLogits | null = null,
  ) {
    const routing = { numExperts: cfg.numExperts, topK: cfg.topK, normTopK: true };
    super(cfg.hiddenSize, routing, () => new MoeExpert(cfg.hiddenSize, cfg.intermediateSize, cfg.act), recorder);
  }
}

export interface MixtralSpec extends LlamaSpec {
  /** num_local_experts */
  numExperts: number;
  /** num_experts_per_tok */
  topK: number;
  /** router_aux_loss_coef when output_router_logits is set, else 0: the load-balancing loss a recipe gets by default. */
  auxLossCoef: number;
}

/** num_local_experts (8) and num_experts_per_tok (2); router jitter is refused (lft has no training-time noise there). */
function readMoeKeys(r: ConfigReader): Pick<MixtralSpec, "numExperts" | "topK" | "auxLossCoef"> {
  const numExperts = r.int("num_local_experts", 8);
  const topK = r.int("num_experts_per_tok", 2);
  if (topK > numExperts) r.fail(`num_experts_per_tok (${topK}) exceeds num_local_experts (${numExperts})`);
  if (r.num("router_jitter_noise", 0) !== 0) r.fail(`router_jitter_noise ${String(r.config.router_jitter_noise)} is not supported; set it to 0.0`);
  return { numExperts, topK, auxLossCoef: readAuxLossCoef(r) };
}

/** Mixtral with every layer's router logits recorded for the load-balancing loss. */
function buildMixtral(spec: MixtralSpec): LlamaForCausalLM<MixtralSpec> {
  const router = new RouterLogits(spec.numExperts, spec.topK, spec.auxLossCoef);
  const cfg = { hiddenSize: spec.hiddenSize, intermediateSize: spec.intermediateSize, numExperts: spec.numExperts, topK: spec.topK, act: spec.hiddenAct };
  const model = new LlamaForCausalLM(spec, { feedForward: () => ({ name: "block_sparse_moe", module: new SparseMoeBlock(cfg, router) }) });
  model.auxiliaryLoss = router;
  return model;
}

export const mixtral = defineModelFamily<MixtralSpec>({
  name: "mixtral",
  doc: "Mixtral 8x7B and 8x22B (sparse MoE, top-2 routing, GQA, optional sliding window; the router load-balancing loss with moe_aux_loss_coef or output_router_logits)",
  modelTypes: ["mixtral"],
  fromConfig: (config, where) =>
    readLlamaConfig<MixtralSpec>(config, "mixtral", {
      where,
      extend: (r, base) => ({
        ...readMoeKeys(r),
        slidingWindows: new Array<number>(base.numLayers).fill(readWindow(r, 0)),
        qkvBias: false,
        oBias: false,
        mlpBias: false,
      }),
    }),
  build: buildMixtral,
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
