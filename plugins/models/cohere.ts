// The cohere family (Command-R, Command-R+, Aya 23/Expanse): attention and MLP side by side on one
// input_layernorm (x + attn(h) + mlp(h)), CohereLayerNorm (mean-centred, weight only) everywhere, RoPE
// on interleaved pairs (2i, 2i+1), optional per-head q/k LayerNorms (use_qk_norm, one weight per head),
// logits multiplied by logit_scale, embeddings tied by default.
import {
  type AttentionConfig,
  type AttentionContext,
  attendHeads,
  type DecoderBlock,
  defineModelFamily,
  type HfConfig,
  Linear,
  type MLP,
  Module,
  modelFamilyPlugin,
  ops,
  type SelfAttention,
  type Tensor,
} from "../../core/index.ts";
import { deinterleaveRotary } from "./interleaved-rope.ts";
import { LayerNorm } from "./layer-norm.ts";
import { LayerNormCausalLM } from "./layer-norm-lm.ts";
import { llamaAttentionConfig, llamaMlp } from "./llama.ts";
import { type LlamaSpec, readLlamaConfig } from "./llama-config.ts";

export interface CohereSpec extends LlamaSpec {
  /** every CohereLayerNorm's eps (layer_norm_eps) */
  layerNormEps: number;
  /** multiplies the logits */
  logitScale: number;
  /** per-head LayerNorms of q and k before RoPE */
  useQkNorm: boolean;
}

/** CohereConfig's defaults that differ from the shared reader's: tied embeddings, rope_theta 500000 (transformers 5). */
function cohereView(c: HfConfig): HfConfig {
  const defaults: HfConfig = { tie_word_embeddings: true, rope_theta: 500000 };
  return { ...c, ...Object.fromEntries(Object.entries(defaults).filter(([k]) => c[k] === undefined)) };
}

/** [B, T, heads * D] through a LayerNorm over each head's D dims (weight [heads, D]), back to [B, T, heads * D]. */
function perHead(norm: LayerNorm, x: Tensor, heads: number, d: number): Tensor {
  const [B, T] = x.shape as [number, number, number];
  return ops.reshape(norm.forward(ops.reshape(x, [B, T, heads, d])), [B, T, heads * d]);
}

/** CohereAttention: q/k/v/o (all biased when attention_bias), optional q_norm/k_norm, interleaved RoPE. */
export class CohereAttention extends Module implements SelfAttention {
  readonly cfg: AttentionConfig;
  readonly q_proj: Linear;
  readonly k_proj: Linear;
  readonly v_proj: Linear;
  readonly o_proj: Linear;
  readonly q_norm: LayerNorm | null = null;
  readonly k_norm: LayerNorm | null = null;

  constructor(
    spec: CohereSpec,
    /** This layer's index (its KV cache slot). */
    readonly layerIndex: number,
  ) {
    super();
    this.cfg = llamaAttentionConfig(spec, layerIndex);
    const { hiddenSize: h, numHeads: hq, numKvHeads: hkv, headDim: d } = this.cfg;
    this.q_proj = this.addModule("q_proj", new Linear(h, hq * d, { bias: spec.qkvBias }));
    this.k_proj = this.addModule("k_proj", new Linear(h, hkv * d, { bias: spec.qkvBias }));
    this.v_proj = this.addModule("v_proj", new Linear(h, hkv * d, { bias: spec.qkvBias }));
    this.o_proj = this.addModule("o_proj", new Linear(hq * d, h, { bias: spec.oBias }));
    if (spec.useQkNorm) {
      this.q_norm = this.addModule("q_norm", new LayerNorm([hq, d], { eps: spec.layerNormEps, bias: false }));
      this.k_norm = this.addModule("k_norm", new LayerNorm([hkv, d], { eps: spec.layerNormEps, bias: false }));
    }
  }

  /** x [B, T, hidden] -> [B, T, hidden] */
  forward(x: Tensor, ctx: AttentionContext): Tensor {
    const { numHeads: hq, numKvHeads: hkv, headDim: d } = this.cfg;
    let q = this.q_proj.forward(x);
    let k = this.k_proj.forward(x);
    if (this.q_norm && this.k_norm) {
      q = perHead(this.q_norm, q, hq, d);
      k = perHead(this.k_norm, k, hkv, d);
    }
    // After the norms: their weights are laid out in the checkpoint's (interleaved) dim order.
    q = deinterleaveRotary(q, hq, d, d);
    k = deinterleaveRotary(k, hkv, d, d);
    return this.o_proj.forward(attendHeads(this.cfg, this.layerIndex, q, k, this.v_proj.forward(x), ctx));
  }
}

/** h = input_layernorm(x); out = x + attn(h) + mlp(h). */
export class CohereDecoderLayer extends Module implements DecoderBlock {
  readonly self_attn: CohereAttention;
  readonly mlp: MLP;
  readonly input_layernorm: LayerNorm;

  constructor(spec: CohereSpec, layer: number) {
    super();
    this.self_attn = this.addModule("self_attn", new CohereAttention(spec, layer));
    this.mlp = this.addModule("mlp", llamaMlp(spec));
    this.input_layernorm = this.addModule("input_layernorm", new LayerNorm([spec.hiddenSize], { eps: spec.layerNormEps, bias: false }));
  }

  /** x [B, T, hidden] -> [B, T, hidden] */
  forward(x: Tensor, ctx: AttentionContext): Tensor {
    const h = this.input_layernorm.forward(x);
    return ops.add(ops.add(x, this.self_attn.forward(h, ctx)), this.mlp.forward(h));
  }
}

/** Cohere layers -> final CohereLayerNorm -> head x logit_scale. */
export class CohereForCausalLM extends LayerNormCausalLM<CohereSpec> {
  constructor(spec: CohereSpec) {
    super(spec, (i) => new CohereDecoderLayer(spec, i), { eps: spec.layerNormEps, bias: false });
  }

  protected override head(x: Tensor): Tensor {
    return ops.scale(super.head(x), this.spec.logitScale);
  }
}

export const cohere = defineModelFamily<CohereSpec>({
  name: "cohere",
  doc: "Cohere Command-R/R+ and Aya (parallel attention and MLP, bias-free LayerNorm, interleaved RoPE, q/k norms, logit_scale, tied)",
  modelTypes: ["cohere"],
  fromConfig: (config, where) =>
    readLlamaConfig<CohereSpec>(config, "cohere", {
      where,
      view: cohereView,
      extend: (r) => {
        const logitScale = r.has("logit_scale") && r.config.logit_scale !== null ? r.num("logit_scale") : 0.0625;
        return { mlpBias: false, layerNormEps: r.num("layer_norm_eps", 1e-5), logitScale, useQkNorm: r.bool("use_qk_norm", false) };
      },
    }),
  build: (spec) => new CohereForCausalLM(spec),
  adapterTargets: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
  tiny: {
    // Cohere's own tokenizer (256,000 ids, byte-level BPE) is not among the fixtures: Llama 3's, at its vocabulary.
    tokenizer: "llama3",
    config: {
      // Command R+'s layout (per-head q/k norms, GQA) at tiny sizes.
      architectures: ["CohereForCausalLM"],
      model_type: "cohere",
      attention_bias: false,
      attention_dropout: 0.0,
      bos_token_id: 128000,
      eos_token_id: 128001,
      hidden_act: "silu",
      hidden_size: 32,
      initializer_range: 0.02,
      intermediate_size: 64,
      layer_norm_eps: 1e-5,
      logit_scale: 0.8333333333333334,
      max_position_embeddings: 8192,
      num_attention_heads: 4,
      num_hidden_layers: 2,
      num_key_value_heads: 2,
      pad_token_id: 128001,
      rope_theta: 75000000.0,
      tie_word_embeddings: true,
      torch_dtype: "float32",
      use_cache: true,
      use_qk_norm: true,
      vocab_size: 128256,
    },
  },
});

export default modelFamilyPlugin(cohere);
