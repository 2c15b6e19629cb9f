// The olmo2 family (OLMo 2 7B/13B/32B and 1B): Llama's blocks with the norms moved after each sublayer
// (RMSNorm of the attention and MLP outputs before the residual add, no pre-norms) and an RMSNorm over
// the whole projected q and k (not per head) before RoPE; untied embeddings.
import {
  type AttentionConfig,
  type AttentionContext,
  attendHeads,
  type DecoderBlock,
  defineModelFamily,
  Linear,
  type MLP,
  Module,
  modelFamilyPlugin,
  ops,
  RMSNorm,
  type SelfAttention,
  type Tensor,
} from "../../core/index.ts";
import { LlamaForCausalLM, llamaAttentionConfig, llamaMlp, llamaNorm } from "./llama.ts";
import { type LlamaSpec, readLlamaConfig } from "./llama-config.ts";

/** Olmo2Attention: q_norm over all Hq * D dims of q, k_norm over all Hkv * D dims of k, then heads and RoPE. */
export class Olmo2Attention extends Module implements SelfAttention {
  readonly cfg: AttentionConfig;
  readonly q_proj: Linear;
  readonly k_proj: Linear;
  readonly v_proj: Linear;
  readonly o_proj: Linear;
  readonly q_norm: RMSNorm;
  readonly k_norm: RMSNorm;

  constructor(
    spec: LlamaSpec,
    /** This layer's index (its KV cache slot). */
    readonly layerIndex: number,
  ) {
    super();
    this.cfg = llamaAttentionConfig(spec, layerIndex);
    const { hiddenSize: h, numHeads: hq, numKvHeads: hkv, headDim: d } = this.cfg;
    this.q_proj = this.addModule("q_proj", new Linear(h, hq * d, { bias: this.cfg.qkvBias }));
    this.k_proj = this.addModule("k_proj", new Linear(h, hkv * d, { bias: this.cfg.qkvBias }));
    this.v_proj = this.addModule("v_proj", new Linear(h, hkv * d, { bias: this.cfg.qkvBias }));
    this.o_proj = this.addModule("o_proj", new Linear(hq * d, h, { bias: this.cfg.oBias }));
    this.q_norm = this.addModule("q_norm", new RMSNorm(hq * d, { eps: spec.rmsNormEps }));
    this.k_norm = this.addModule("k_norm", new RMSNorm(hkv * d, { eps: spec.rmsNormEps }));
  }

  /** x [B, T, hidden] -> [B, T, hidden] */
  forward(x: Tensor, ctx: AttentionContext): Tensor {
    const q = this.q_norm.forward(this.q_proj.forward(x));
    const k = this.k_norm.forward(this.k_proj.forward(x));
    return this.o_proj.forward(attendHeads(this.cfg, this.layerIndex, q, k, this.v_proj.forward(x), ctx));
  }
}

/** Olmo2DecoderLayer: h = x + norm(attn(x)); out = h + norm(mlp(h)). */
export class Olmo2DecoderLayer extends Module implements DecoderBlock {
  readonly self_attn: Olmo2Attention;
  readonly mlp: MLP;
  readonly post_attention_layernorm: RMSNorm;
  readonly post_feedforward_layernorm: RMSNorm;

  constructor(spec: LlamaSpec, layer: number) {
    super();
    this.self_attn = this.addModule("self_attn", new Olmo2Attention(spec, layer));
    this.mlp = this.addModule("mlp", llamaMlp(spec));
    this.post_attention_layernorm = this.addModule("post_attention_layernorm", llamaNorm(spec));
    this.post_feedforward_layernorm = this.addModule("post_feedforward_layernorm", llamaNorm(spec));
  }

  /** x [B, T, hidden] -> [B, T, hidden] */
  forward(x: Tensor, ctx: AttentionContext): Tensor {
    const h = ops.add(x, this.post_attention_layernorm.forward(this.self_attn.forward(x, ctx)));
    return ops.add(h, this.post_feedforward_layernorm.forward(this.mlp.forward(h)));
  }
}

export const olmo2 = defineModelFamily<LlamaSpec>({
  name: "olmo2",
  doc: "OLMo 2 (post-norms after attention and MLP, RMSNorm over the full q and k projections, untied embeddings)",
  modelTypes: ["olmo2"],
  fromConfig: (config, where) => readLlamaConfig(config, "olmo2", { where, extend: () => ({ mlpBias: false }) }),
  build: (spec) => new LlamaForCausalLM(spec, {}, (i) => new Olmo2DecoderLayer(spec, i)),
  adapterTargets: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
  tiny: {
    // OLMo 2's own tokenizer (dolma2, cl100k-based) is not among the fixtures: Llama 3's, at its vocabulary.
    tokenizer: "llama3",
    config: {
      architectures: ["Olmo2ForCausalLM"],
      model_type: "olmo2",
      attention_bias: false,
      attention_dropout: 0.0,
      bos_token_id: 128000,
      eos_token_id: 128001,
      hidden_act: "silu",
      hidden_size: 32,
      initializer_range: 0.02,
      intermediate_size: 64,
      max_position_embeddings: 4096,
      num_attention_heads: 4,
      num_hidden_layers: 2,
      num_key_value_heads: 2,
      pad_token_id: null,
      rms_norm_eps: 1e-6,
      rope_scaling: null,
      rope_theta: 500000,
      tie_word_embeddings: false,
      torch_dtype: "float32",
      use_cache: true,
      vocab_size: 128256,
    },
  },
});

export default modelFamilyPlugin(olmo2);
