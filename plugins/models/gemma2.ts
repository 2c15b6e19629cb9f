// The gemma2 family (Gemma 2 2B/9B/27B): Gemma's norms, embedding scale, GELU and tied head, plus norms
// after attention and after the MLP (sandwich), tanh soft-capping of the attention scores and of the
// final logits, scores scaled by query_pre_attn_scalar^-0.5, and a sliding window on even layers.
import {
  Attention,
  type AttentionConfig,
  type AttentionContext,
  type ConfigReader,
  type DecoderBlock,
  defineModelFamily,
  type ForwardOptions,
  type MLP,
  Module,
  modelFamilyPlugin,
  ops,
  type RMSNorm,
  type Tensor,
} from "../../core/index.ts";
import { GemmaForCausalLM, type GemmaSpec, gemmaNorm, gemmaView, readGemmaKeys } from "./gemma.ts";
import { llamaAttentionConfig, llamaMlp } from "./llama.ts";
import { layerWindows, readLlamaConfig, readWindow } from "./llama-config.ts";

export interface Gemma2Spec extends GemmaSpec {
  /** attention scores become cap * tanh(s / cap); 0 = off */
  attnSoftcap: number;
  /** logits become cap * tanh(logits / cap); 0 = off */
  finalSoftcap: number;
}

/** A soft-cap key: the class default when absent, off (0) when null. */
export function softcap(r: ConfigReader, key: string, fallback: number): number {
  if (r.config[key] === null) return 0;
  const v = r.num(key, fallback);
  if (v < 0) r.fail(`"${key}" must be positive (or null for none), got ${v}`);
  return Math.max(v, 0);
}

/** Gemma2DecoderLayer: each sublayer's output is normed before it joins the residual stream. */
export class Gemma2DecoderLayer extends Module implements DecoderBlock {
  readonly self_attn: Attention;
  readonly mlp: MLP;
  readonly input_layernorm: RMSNorm;
  readonly post_attention_layernorm: RMSNorm;
  readonly pre_feedforward_layernorm: RMSNorm;
  readonly post_feedforward_layernorm: RMSNorm;

  /** `attention` is the layer's attention as a Gemma 2 spec describes it unless a family says otherwise (Gemma 3). */
  constructor(spec: Gemma2Spec, layer: number, attention: AttentionConfig = llamaAttentionConfig(spec, layer, { softcap: spec.attnSoftcap })) {
    super();
    this.self_attn = this.addModule("self_attn", new Attention(attention, layer));
    this.mlp = this.addModule("mlp", llamaMlp(spec));
    this.input_layernorm = this.addModule("input_layernorm", gemmaNorm(spec));
    this.post_attention_layernorm = this.addModule("post_attention_layernorm", gemmaNorm(spec));
    this.pre_feedforward_layernorm = this.addModule("pre_feedforward_layernorm", gemmaNorm(spec));
    this.post_feedforward_layernorm = this.addModule("post_feedforward_layernorm", gemmaNorm(spec));
  }

  /** x [B, T, hidden] -> [B, T, hidden] */
  forward(x: Tensor, ctx: AttentionContext): Tensor {
    const a = this.post_attention_layernorm.forward(this.self_attn.forward(this.input_layernorm.forward(x), ctx));
    const h = ops.add(x, a);
    const m = this.post_feedforward_layernorm.forward(this.mlp.forward(this.pre_feedforward_layernorm.forward(h)));
    return ops.add(h, m);
  }
}

/** Gemma's model with Gemma 2 layers; the logits are soft-capped by one fused op (one extra logits tensor). */
export class Gemma2ForCausalLM<S extends Gemma2Spec = Gemma2Spec> extends GemmaForCausalLM<S> {
  constructor(spec: S, layer: (i: number) => DecoderBlock = (i) => new Gemma2DecoderLayer(spec, i)) {
    super(spec, layer);
  }

  override forward(ids: Tensor, opts: ForwardOptions = {}): Tensor {
    const logits = super.forward(ids, opts);
    return this.spec.finalSoftcap > 0 && !opts.hiddenOnly ? ops.softcap(logits, this.spec.finalSoftcap) : logits;
  }
}

export const gemma2 = defineModelFamily<Gemma2Spec>({
  name: "gemma2",
  doc: "Gemma 2 (sandwich norms, attention and final logit soft-capping, sliding window on even layers, query_pre_attn_scalar)",
  modelTypes: ["gemma2"],
  fromConfig: (config, where) =>
    readLlamaConfig<Gemma2Spec>(config, "gemma2", {
      where,
      view: gemmaView,
      extend: (r, base) => {
        const scalar = r.num("query_pre_attn_scalar", 256);
        if (!(scalar > 0)) r.fail(`"query_pre_attn_scalar" must be positive, got ${scalar}`);
        if (r.bool("use_bidirectional_attention", false)) r.fail(`use_bidirectional_attention is not supported (the decoder is causal)`);
        return {
          ...readGemmaKeys(base),
          attnScale: scalar > 0 ? scalar ** -0.5 : base.attnScale,
          attnSoftcap: softcap(r, "attn_logit_softcapping", 50),
          finalSoftcap: softcap(r, "final_logit_softcapping", 30),
          // Gemma2Config: layer i slides when (i + 1) % 2, i.e. layers 0, 2, 4, ...
          slidingWindows: layerWindows(r, base.numLayers, readWindow(r, 4096), (i) => i % 2 === 0),
        };
      },
    }),
  build: (spec) => new Gemma2ForCausalLM(spec),
  adapterTargets: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
  tiny: {
    tokenizer: "gemma",
    config: {
      architectures: ["Gemma2ForCausalLM"],
      model_type: "gemma2",
      attention_bias: false,
      attention_dropout: 0.0,
      attn_logit_softcapping: 50.0,
      bos_token_id: 2,
      cache_implementation: "hybrid",
      eos_token_id: 1,
      final_logit_softcapping: 30.0,
      head_dim: 16,
      hidden_act: "gelu_pytorch_tanh",
      hidden_activation: "gelu_pytorch_tanh",
      hidden_size: 32,
      initializer_range: 0.02,
      intermediate_size: 64,
      max_position_embeddings: 8192,
      num_attention_heads: 2,
      num_hidden_layers: 2,
      num_key_value_heads: 1,
      pad_token_id: 0,
      // Not head_dim (16), as in Gemma 2 27B, so the tests see which one scales the scores.
      query_pre_attn_scalar: 24,
      rms_norm_eps: 1e-6,
      rope_theta: 10000.0,
      sliding_window: 4096,
      tie_word_embeddings: true,
      torch_dtype: "float32",
      use_cache: true,
      vocab_size: 256000,
    },
  },
});

export default modelFamilyPlugin(gemma2);
