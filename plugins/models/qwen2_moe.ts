// The qwen2_moe family (Qwen1.5-MoE-A2.7B, Qwen2-57B-A14B): Qwen2's attention (q/k/v bias) with a sparse
// mixture of experts as the `mlp` of the layers decoder_sparse_step and mlp_only_layers pick (the others
// keep a dense MLP of intermediate_size): a softmax router `gate` sends each token to its top-k experts
// `experts.N.{gate,up,down}_proj` (moe_intermediate_size; weights renormalised with norm_topk_prob), and
// a shared expert every token goes through, scaled by sigmoid(shared_expert_gate(x)). The Qwen3-MoE family
// reads the same MoE keys (readQwenMoeKeys).
import { type ConfigReader, defineModelFamily, type FeedForward, Linear, MLP, modelFamilyPlugin, ops, type Tensor, tensor } from "../../core/index.ts";
import { LlamaForCausalLM, type LlamaParts, llamaMlp } from "./llama.ts";
import { type LlamaSpec, readLlamaConfig } from "./llama-config.ts";
import { type MoeRouting, RouterLogits, readAuxLossCoef, SparseMoe, scaleRows } from "./moe.ts";

/** The MoE keys Qwen2-MoE and Qwen3-MoE share. */
export interface QwenMoeSpec extends LlamaSpec {
  /** num_experts, num_experts_per_tok, norm_topk_prob */
  routing: MoeRouting;
  /** moe_intermediate_size: each routed expert's inner size */
  moeIntermediateSize: number;
  /** shared_expert_intermediate_size; 0 = no shared expert (Qwen3-MoE) */
  sharedExpertSize: number;
  /** One per layer: true where the layer's mlp is the sparse block. */
  sparseLayers: boolean[];
  /** router_aux_loss_coef when output_router_logits, else 0 */
  auxLossCoef: number;
}

/**
 * num_experts, num_experts_per_tok, norm_topk_prob, moe_intermediate_size, decoder_sparse_step and
 * mlp_only_layers (a layer is sparse when it is not listed and (i + 1) % step == 0), the aux-loss keys;
 * sliding windows are refused (the MoE checkpoints never set them, and transformers' rule for which
 * layers slide has changed between versions).
 */
export function readQwenMoeKeys(r: ConfigReader, numLayers: number, defaults: { numExperts: number; topK: number; moeSize: number }) {
  const numExperts = r.int("num_experts", defaults.numExperts);
  const topK = r.int("num_experts_per_tok", defaults.topK);
  if (topK > numExperts) r.fail(`num_experts_per_tok (${topK}) exceeds num_experts (${numExperts})`);
  const step = r.int("decoder_sparse_step", 1);
  const only = r.config.mlp_only_layers ?? [];
  const onlyOk = Array.isArray(only) && only.every((i) => Number.isInteger(i) && i >= 0 && i < numLayers);
  if (!onlyOk) r.fail(`"mlp_only_layers" must list layer indices within 0..${numLayers - 1}, got ${JSON.stringify(only)}`);
  const dense = new Set(onlyOk ? (only as number[]) : []);
  if (r.bool("use_sliding_window", false)) r.fail("use_sliding_window true is not supported for MoE Qwen models; set it to false");
  return {
    routing: { numExperts, topK: Math.min(topK, numExperts), normTopK: r.bool("norm_topk_prob", false) },
    moeIntermediateSize: r.int("moe_intermediate_size", defaults.moeSize),
    sparseLayers: Array.from({ length: numLayers }, (_, i) => !dense.has(i) && (i + 1) % step === 0),
    auxLossCoef: readAuxLossCoef(r),
  };
}

/** sigmoid(z) = (1 + tanh(z / 2)) / 2, from differentiable ops. */
function sigmoid(z: Tensor): Tensor {
  const half = tensor([0.5], [1]);
  const out = ops.add(ops.scale(ops.tanh(ops.scale(z, 0.5)), 0.5), half);
  half.dispose();
  return out;
}

/** Qwen2MoeSparseMoeBlock: routed experts plus, when the config has one, the gated shared expert. */
export class QwenSparseMoeBlock extends SparseMoe<MLP> {
  readonly shared_expert: MLP | null = null;
  readonly shared_expert_gate: Linear | null = null;

  constructor(spec: QwenMoeSpec, recorder: RouterLogits | null) {
    const expert = (size: number) => new MLP({ hiddenSize: spec.hiddenSize, intermediateSize: size, act: spec.hiddenAct, bias: false });
    super(spec.hiddenSize, spec.routing, () => expert(spec.moeIntermediateSize), recorder);
    if (spec.sharedExpertSize > 0) {
      this.shared_expert = this.addModule("shared_expert", expert(spec.sharedExpertSize));
      this.shared_expert_gate = this.addModule("shared_expert_gate", new Linear(spec.hiddenSize, 1));
    }
  }

  /** x [..., hidden] -> [..., hidden] */
  override forward(x: Tensor): Tensor {
    const x2 = ops.reshape(x, [x.numel / this.hiddenSize, this.hiddenSize]);
    let y = this.routed(x2);
    if (this.shared_expert && this.shared_expert_gate) {
      y = ops.add(y, scaleRows(this.shared_expert.forward(x2), sigmoid(this.shared_expert_gate.forward(x2))));
    }
    return ops.reshape(y, x.shape);
  }
}

/** A Qwen MoE model: each sparse layer's `mlp` is the sparse block (router logits recorded), the others dense. */
export function buildQwenMoe<S extends QwenMoeSpec>(spec: S, parts: Pick<LlamaParts<S>, "attention"> = {}) {
  const router = new RouterLogits(spec.routing.numExperts, spec.routing.topK, spec.auxLossCoef);
  const feedForward = (s: S, layer: number): { name: string; module: FeedForward } => ({
    name: "mlp",
    module: s.sparseLayers[layer] ? new QwenSparseMoeBlock(s, router) : llamaMlp(s),
  });
  const model = new LlamaForCausalLM<S>(spec, { ...parts, feedForward });
  model.auxiliaryLoss = router;
  return model;
}

export const qwen2_moe = defineModelFamily<QwenMoeSpec>({
  name: "qwen2_moe",
  doc: "Qwen1.5-MoE and Qwen2-MoE (q/k/v bias, top-k routed experts plus a sigmoid-gated shared expert, dense layers by mlp_only_layers / decoder_sparse_step)",
  modelTypes: ["qwen2_moe"],
  fromConfig: (config, where) =>
    readLlamaConfig<QwenMoeSpec>(config, "qwen2_moe", {
      where,
      extend: (r, base) => ({
        ...readQwenMoeKeys(r, base.numLayers, { numExperts: 60, topK: 4, moeSize: 1408 }),
        sharedExpertSize: r.int("shared_expert_intermediate_size", 5632),
        qkvBias: r.bool("qkv_bias", true),
        oBias: false,
        mlpBias: false,
      }),
    }),
  build: (spec) => buildQwenMoe(spec),
  // The routers (`gate`, `shared_expert_gate`) are left out: name them to adapt them.
  adapterTargets: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
  tiny: {
    // Qwen1.5-MoE's tokenizer is Qwen2's vocabulary (151,643 BPE tokens, ChatML specials): the Qwen3 fixture.
    tokenizer: "qwen3",
    config: {
      architectures: ["Qwen2MoeForCausalLM"],
      model_type: "qwen2_moe",
      attention_dropout: 0.0,
      bos_token_id: 151643,
      decoder_sparse_step: 1,
      eos_token_id: 151643,
      hidden_act: "silu",
      hidden_size: 32,
      initializer_range: 0.02,
      intermediate_size: 64,
      max_position_embeddings: 8192,
      max_window_layers: 21,
      mlp_only_layers: [1],
      moe_intermediate_size: 16,
      norm_topk_prob: false,
      num_attention_heads: 4,
      num_experts: 6,
      num_experts_per_tok: 2,
      num_hidden_layers: 3,
      num_key_value_heads: 2,
      output_router_logits: false,
      rms_norm_eps: 1e-6,
      rope_theta: 1000000.0,
      router_aux_loss_coef: 0.001,
      shared_expert_intermediate_size: 48,
      sliding_window: 32768,
      tie_word_embeddings: false,
      torch_dtype: "float32",
      use_cache: true,
      use_sliding_window: false,
      vocab_size: 151936,
    },
  },
});

export default modelFamilyPlugin(qwen2_moe);
