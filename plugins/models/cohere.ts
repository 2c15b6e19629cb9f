// The cohere family (Command-R, Command-R+, Aya 23/Expanse; and Command R7B / Command A as model_type
// cohere2): attention and MLP side by side on one input_layernorm (x + attn(h) + mlp(h)), CohereLayerNorm
// (mean-centred, weight only) everywhere, RoPE on interleaved pairs (2i, 2i+1), optional per-head q/k
// LayerNorms (use_qk_norm, one weight per head), logits multiplied by logit_scale, embeddings tied by
// default. cohere2 interleaves sliding-window layers (with RoPE) and full-attention layers with no
// position encoding at all (every sliding_window_pattern-th layer, or layer_types).
import {
  type AttentionConfig,
  type AttentionContext,
  attendHeads,
  type ConfigReader,
  type DecoderBlock,
  defineModelFamily,
  full,
  type HfConfig,
  keep,
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
import { type LlamaSpec, layerWindows, readLlamaConfig, readWindow } from "./llama-config.ts";

export interface CohereSpec extends LlamaSpec {
  /** every CohereLayerNorm's eps (layer_norm_eps) */
  layerNormEps: number;
  /** multiplies the logits */
  logitScale: number;
  /** per-head LayerNorms of q and k before RoPE */
  useQkNorm: boolean;
  /** One per layer: whether it applies RoPE (cohere: all; cohere2: its sliding-window layers only). */
  ropeLayers: boolean[];
}

/**
 * CohereConfig's defaults that differ from the shared reader's: tied embeddings, rope_theta 500000
 * (transformers 5). Cohere2Config always derives head_dim as hidden_size / num_attention_heads.
 */
function cohereView(c: HfConfig): HfConfig {
  const defaults: HfConfig = { tie_word_embeddings: true, rope_theta: 500000 };
  const out = { ...c, ...Object.fromEntries(Object.entries(defaults).filter(([k]) => c[k] === undefined)) };
  const [h, n] = [c.hidden_size, c.num_attention_heads];
  if (c.model_type === "cohere2" && typeof h === "number" && typeof n === "number" && n > 0) return { ...out, head_dim: Math.floor(h / n) };
  return out;
}

/**
 * cohere2's layers: sliding (window and RoPE) unless every `sliding_window_pattern`-th (default 4), or as
 * `layer_types` lists them; a null sliding_window leaves every layer without RoPE, as Cohere2Attention does.
 */
function cohere2Layers(r: ConfigReader, numLayers: number): Pick<CohereSpec, "slidingWindows" | "ropeLayers"> {
  const pattern = r.int("sliding_window_pattern", 4, 1);
  const sliding = layerWindows(r, numLayers, 1, (i) => (i + 1) % pattern !== 0).map((w) => w === 1);
  const window = readWindow(r, 4096);
  return { slidingWindows: sliding.map((s) => (s ? window : 0)), ropeLayers: sliding.map((s) => s && window > 0) };
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
  private readonly rope: boolean;
  /** zero frequencies: RoPE by them is the identity (cohere2's layers without position encoding) */
  private noRotation: Tensor | null = null;

  constructor(
    private readonly spec: CohereSpec,
    /** This layer's index (its KV cache slot). */
    readonly layerIndex: number,
  ) {
    super();
    this.cfg = llamaAttentionConfig(spec, layerIndex);
    this.rope = spec.ropeLayers[layerIndex] ?? true;
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
    if (!this.rope) {
      this.noRotation ??= keep(full([this.spec.rope.rotaryDim / 2], 0));
      return this.o_proj.forward(
        attendHeads(this.cfg, this.layerIndex, q, k, this.v_proj.forward(x), { ...ctx, invFreq: this.noRotation, attentionScaling: 1 }),
      );
    }
    // After the norms: their weights are laid out in the checkpoint's (interleaved) dim order.
    q = deinterleaveRotary(q, hq, d, d);
    k = deinterleaveRotary(k, hkv, d, d);
    return this.o_proj.forward(attendHeads(this.cfg, this.layerIndex, q, k, this.v_proj.forward(x), ctx));
  }

  override dispose(): void {
    super.dispose();
    this.noRotation?.dispose();
    this.noRotation = null;
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
  doc: "Cohere Command-R/R+, Aya, R7B/Command A (parallel attention and MLP, bias-free LayerNorm, interleaved RoPE, q/k norms, logit_scale, tied; cohere2: sliding layers with RoPE, global layers without)",
  modelTypes: ["cohere", "cohere2"],
  fromConfig: (config, where) =>
    readLlamaConfig<CohereSpec>(config, "cohere", {
      where,
      view: cohereView,
      extend: (r, base) => {
        const logitScale = r.has("logit_scale") && r.config.logit_scale !== null ? r.num("logit_scale") : 0.0625;
        const common = { mlpBias: false, layerNormEps: r.num("layer_norm_eps", 1e-5), logitScale };
        // Cohere's apply_rotary_pos_emb rotates the whole head; a partial rotary factor has no meaning there.
        if (base.rope.rotaryDim !== base.headDim)
          r.fail(`partial_rotary_factor ${String(r.config.partial_rotary_factor)} is not supported by Cohere (RoPE spans the whole head)`);
        // Cohere2Attention has no q/k norms whatever the config says.
        if (config.model_type === "cohere2") return { ...common, useQkNorm: false, ...cohere2Layers(r, base.numLayers) };
        return { ...common, useQkNorm: r.bool("use_qk_norm", false), ropeLayers: new Array<boolean>(base.numLayers).fill(true) };
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
