// The glm4 family (GLM-4-0414: GLM-4-9B/32B-0414, GLM-Z1; and the earlier GLM-4-9B / glm-4-9b-chat-hf as
// model_type glm): Llama-style attention with q/k/v biases, RoPE on half of each head
// (partial_rotary_factor 0.5) rotating interleaved pairs (2i, 2i+1), a fused gate_up_proj MLP, and (glm4
// only) "sandwich" norms: each sublayer's output is RMS-normed again before its residual add.
import {
  type AttentionConfig,
  type AttentionContext,
  attendHeads,
  type DecoderBlock,
  defineModelFamily,
  type HfConfig,
  Linear,
  Module,
  modelFamilyPlugin,
  ops,
  type RMSNorm,
  type SelfAttention,
  type Tensor,
} from "../../core/index.ts";
import { deinterleaveRotary } from "./interleaved-rope.ts";
import { LlamaForCausalLM, llamaAttentionConfig, llamaNorm } from "./llama.ts";
import { type LlamaSpec, readLlamaConfig } from "./llama-config.ts";
import { Phi3MLP } from "./phi3.ts";

export interface Glm4Spec extends LlamaSpec {
  /** glm4's post_self_attn_layernorm and post_mlp_layernorm (GlmDecoderLayer, model_type glm, has neither) */
  sandwichNorms: boolean;
}

/**
 * Glm4Config's (and GlmConfig's) class defaults where a config leaves a key out: head_dim 128, partial_rotary_factor 0.5
 * (transformers 5 may put it in rope_parameters), attention_bias true, rms_norm_eps 1.5625e-7.
 */
function glm4View(c: HfConfig): HfConfig {
  const rp = c.rope_parameters as Record<string, unknown> | null | undefined;
  const partial = rp && typeof rp === "object" && rp.partial_rotary_factor !== undefined ? rp.partial_rotary_factor : 0.5;
  const defaults: HfConfig = { head_dim: 128, partial_rotary_factor: partial, attention_bias: true, rms_norm_eps: 1.5625e-7 };
  return { ...c, ...Object.fromEntries(Object.entries(defaults).filter(([k]) => c[k] === undefined)) };
}

/** Glm4Attention: q/k/v (biased when attention_bias) and o (never biased); RoPE on interleaved pairs. */
export class Glm4Attention extends Module implements SelfAttention {
  readonly cfg: AttentionConfig;
  readonly q_proj: Linear;
  readonly k_proj: Linear;
  readonly v_proj: Linear;
  readonly o_proj: Linear;

  constructor(
    private readonly spec: LlamaSpec,
    /** This layer's index (its KV cache slot). */
    readonly layerIndex: number,
  ) {
    super();
    this.cfg = llamaAttentionConfig(spec, layerIndex);
    const { hiddenSize: h, numHeads: hq, numKvHeads: hkv, headDim: d } = this.cfg;
    this.q_proj = this.addModule("q_proj", new Linear(h, hq * d, { bias: spec.qkvBias }));
    this.k_proj = this.addModule("k_proj", new Linear(h, hkv * d, { bias: spec.qkvBias }));
    this.v_proj = this.addModule("v_proj", new Linear(h, hkv * d, { bias: spec.qkvBias }));
    this.o_proj = this.addModule("o_proj", new Linear(hq * d, h, { bias: false }));
  }

  /** x [B, T, hidden] -> [B, T, hidden] */
  forward(x: Tensor, ctx: AttentionContext): Tensor {
    const { numHeads: hq, numKvHeads: hkv, headDim: d } = this.cfg;
    const rot = this.spec.rope.rotaryDim;
    const q = deinterleaveRotary(this.q_proj.forward(x), hq, d, rot);
    const k = deinterleaveRotary(this.k_proj.forward(x), hkv, d, rot);
    return this.o_proj.forward(attendHeads(this.cfg, this.layerIndex, q, k, this.v_proj.forward(x), ctx));
  }
}

/**
 * h = x + post_self_attn_norm(attn(input_norm(x))); out = h + post_mlp_norm(mlp(post_attention_norm(h))).
 * Without sandwich norms (model_type glm) the two post-norms are absent: Llama's pre-norm layer.
 */
export class Glm4DecoderLayer extends Module implements DecoderBlock {
  readonly self_attn: Glm4Attention;
  readonly mlp: Phi3MLP;
  readonly input_layernorm: RMSNorm;
  readonly post_attention_layernorm: RMSNorm;
  readonly post_self_attn_layernorm: RMSNorm | null = null;
  readonly post_mlp_layernorm: RMSNorm | null = null;

  constructor(spec: Glm4Spec, layer: number) {
    super();
    this.self_attn = this.addModule("self_attn", new Glm4Attention(spec, layer));
    // Glm4MLP is Phi-3's: one gate_up_proj (gate rows first), act(gate) * up, down_proj; no biases.
    this.mlp = this.addModule("mlp", new Phi3MLP(spec));
    this.input_layernorm = this.addModule("input_layernorm", llamaNorm(spec));
    this.post_attention_layernorm = this.addModule("post_attention_layernorm", llamaNorm(spec));
    if (spec.sandwichNorms) {
      this.post_self_attn_layernorm = this.addModule("post_self_attn_layernorm", llamaNorm(spec));
      this.post_mlp_layernorm = this.addModule("post_mlp_layernorm", llamaNorm(spec));
    }
  }

  /** x [B, T, hidden] -> [B, T, hidden] */
  forward(x: Tensor, ctx: AttentionContext): Tensor {
    const attn = this.self_attn.forward(this.input_layernorm.forward(x), ctx);
    const h = ops.add(x, this.post_self_attn_layernorm ? this.post_self_attn_layernorm.forward(attn) : attn);
    const mlp = this.mlp.forward(this.post_attention_layernorm.forward(h));
    return ops.add(h, this.post_mlp_layernorm ? this.post_mlp_layernorm.forward(mlp) : mlp);
  }
}

export const glm4 = defineModelFamily<Glm4Spec>({
  name: "glm4",
  doc: "GLM-4-0414 and GLM-4-9B (glm: no sandwich norms): fused gate_up_proj, q/k/v bias, interleaved partial RoPE, GQA",
  modelTypes: ["glm4", "glm"],
  fromConfig: (config, where) =>
    readLlamaConfig<Glm4Spec>(config, "glm4", {
      where,
      view: glm4View,
      extend: () => ({ oBias: false, mlpBias: false, sandwichNorms: config.model_type !== "glm" }),
    }),
  build: (spec) => new LlamaForCausalLM(spec, {}, (i) => new Glm4DecoderLayer(spec, i)),
  adapterTargets: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_up_proj", "down_proj"],
  tiny: {
    // GLM-4's own tokenizer (151,552 ids) is not among the fixtures: Qwen3's byte-level BPE, at Qwen's vocabulary.
    tokenizer: "qwen3",
    config: {
      architectures: ["Glm4ForCausalLM"],
      model_type: "glm4",
      attention_bias: true,
      attention_dropout: 0.0,
      bos_token_id: 151643,
      eos_token_id: [151645, 151643],
      head_dim: 16,
      hidden_act: "silu",
      hidden_size: 32,
      initializer_range: 0.02,
      intermediate_size: 64,
      max_position_embeddings: 32768,
      num_attention_heads: 4,
      num_hidden_layers: 2,
      num_key_value_heads: 2,
      pad_token_id: 151643,
      partial_rotary_factor: 0.5,
      rms_norm_eps: 1e-5,
      rope_theta: 10000.0,
      tie_word_embeddings: false,
      torch_dtype: "float32",
      use_cache: true,
      vocab_size: 151936,
    },
  },
});

export default modelFamilyPlugin(glm4);
