// The starcoder2 family (StarCoder 2 3B/7B/15B and their fine-tunes): Mistral-style grouped-query
// attention with a sliding window, but LayerNorms with bias (norm_epsilon), a plain (ungated) GELU MLP
// `c_fc` -> gelu_pytorch_tanh -> `c_proj`, biases on every linear layer (use_bias) and tied embeddings.
import {
  Attention,
  type AttentionContext,
  type DecoderBlock,
  defineModelFamily,
  type FeedForward,
  type HfConfig,
  Linear,
  Module,
  modelFamilyPlugin,
  ops,
  type Tensor,
} from "../../core/index.ts";
import { LayerNorm } from "./layer-norm.ts";
import { LayerNormCausalLM } from "./layer-norm-lm.ts";
import { llamaAttentionConfig } from "./llama.ts";
import { type LlamaSpec, readLlamaConfig, readWindow } from "./llama-config.ts";

export interface Starcoder2Spec extends LlamaSpec {
  /** every LayerNorm's eps (norm_epsilon) */
  normEps: number;
}

/**
 * Starcoder2Config's defaults where the shared reader's differ: 2 key/value heads, the tanh GELU, tied
 * embeddings; `use_bias` (default true) stands for attention_bias, which the config does not have.
 */
function starcoder2View(c: HfConfig): HfConfig {
  const defaults: HfConfig = { num_key_value_heads: 2, hidden_act: "gelu_pytorch_tanh", tie_word_embeddings: true };
  // The released checkpoints set attention/residual/embedding dropout to 0.1 for pre-training; lft's
  // decoder has no dropout, so fine-tuning runs without it (as most fine-tuning recipes set it anyway).
  return {
    ...c,
    ...Object.fromEntries(Object.entries(defaults).filter(([k]) => c[k] === undefined)),
    attention_bias: c.use_bias ?? true,
    attention_dropout: 0,
  };
}

/** Starcoder2MLP: c_proj(act(c_fc(x))), both biased when use_bias. */
export class Starcoder2MLP extends Module implements FeedForward {
  readonly c_fc: Linear;
  readonly c_proj: Linear;

  constructor(readonly spec: Starcoder2Spec) {
    super();
    this.c_fc = this.addModule("c_fc", new Linear(spec.hiddenSize, spec.intermediateSize, { bias: spec.mlpBias }));
    this.c_proj = this.addModule("c_proj", new Linear(spec.intermediateSize, spec.hiddenSize, { bias: spec.mlpBias }));
  }

  /** x [..., hidden] -> [..., hidden] */
  forward(x: Tensor): Tensor {
    const h = this.c_fc.forward(x);
    return this.c_proj.forward(this.spec.hiddenAct === "gelu_tanh" ? ops.geluTanh(h) : ops.silu(h));
  }
}

/** Pre-norm residual layer with LayerNorms: h = x + attn(ln1(x)); out = h + mlp(ln2(h)). */
export class Starcoder2DecoderLayer extends Module implements DecoderBlock {
  readonly self_attn: Attention;
  readonly mlp: Starcoder2MLP;
  readonly input_layernorm: LayerNorm;
  readonly post_attention_layernorm: LayerNorm;

  constructor(spec: Starcoder2Spec, layer: number) {
    super();
    this.self_attn = this.addModule("self_attn", new Attention(llamaAttentionConfig(spec, layer), layer));
    this.mlp = this.addModule("mlp", new Starcoder2MLP(spec));
    const norm = () => new LayerNorm([spec.hiddenSize], { eps: spec.normEps, bias: true });
    this.input_layernorm = this.addModule("input_layernorm", norm());
    this.post_attention_layernorm = this.addModule("post_attention_layernorm", norm());
  }

  /** x [B, T, hidden] -> [B, T, hidden] */
  forward(x: Tensor, ctx: AttentionContext): Tensor {
    const h = ops.add(x, this.self_attn.forward(this.input_layernorm.forward(x), ctx));
    return ops.add(h, this.mlp.forward(this.post_attention_layernorm.forward(h)));
  }
}

export const starcoder2 = defineModelFamily<Starcoder2Spec>({
  name: "starcoder2",
  doc: "StarCoder 2 (LayerNorm with bias, GELU MLP c_fc/c_proj, biases everywhere, GQA, sliding window, tied)",
  modelTypes: ["starcoder2"],
  fromConfig: (config, where) =>
    readLlamaConfig<Starcoder2Spec>(config, "starcoder2", {
      where,
      view: starcoder2View,
      extend: (r, base) => {
        for (const k of ["residual_dropout", "embedding_dropout"]) r.num(k, 0);
        return {
          mlpBias: r.bool("use_bias", true),
          normEps: r.num("norm_epsilon", 1e-5),
          slidingWindows: new Array<number>(base.numLayers).fill(readWindow(r, 0)),
        };
      },
    }),
  build: (spec) => new LayerNormCausalLM(spec, (i) => new Starcoder2DecoderLayer(spec, i), { eps: spec.normEps, bias: true }),
  adapterTargets: ["q_proj", "k_proj", "v_proj", "o_proj", "c_fc", "c_proj"],
  tiny: {
    // StarCoder 2's own tokenizer (49,152 ids) is not among the fixtures: Llama 2's, at its vocabulary.
    tokenizer: "llama2",
    config: {
      architectures: ["Starcoder2ForCausalLM"],
      model_type: "starcoder2",
      attention_dropout: 0.0,
      bos_token_id: 1,
      embedding_dropout: 0.0,
      eos_token_id: 2,
      hidden_act: "gelu_pytorch_tanh",
      hidden_size: 32,
      initializer_range: 0.018042,
      intermediate_size: 128,
      max_position_embeddings: 16384,
      norm_epsilon: 1e-5,
      num_attention_heads: 4,
      num_hidden_layers: 2,
      num_key_value_heads: 2,
      residual_dropout: 0.0,
      rope_theta: 999999.4420358813,
      sliding_window: 4096,
      tie_word_embeddings: true,
      torch_dtype: "float32",
      use_bias: true,
      use_cache: true,
      vocab_size: 32000,
    },
  },
});

export default modelFamilyPlugin(starcoder2);
