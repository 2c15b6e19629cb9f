// The granite family (IBM Granite 3.x dense models): Llama's decoder with four scalar multipliers from
// config.json: `embedding_multiplier` scales the token embeddings, `residual_multiplier` scales each
// block's attention and MLP output before its residual add, `attention_multiplier` is the softmax scale
// (instead of 1/sqrt(head_dim)), and the logits are divided by `logits_scaling`.
import { type AttentionContext, defineModelFamily, modelFamilyPlugin, ops, type Tensor } from "../../core/index.ts";
import { LlamaDecoderLayer, LlamaForCausalLM } from "./llama.ts";
import { type LlamaSpec, readLlamaConfig } from "./llama-config.ts";

export interface GraniteSpec extends LlamaSpec {
  /** multiplies the token embeddings */
  embeddingMultiplier: number;
  /** multiplies each block's attention and MLP output before the residual add */
  residualMultiplier: number;
  /** the logits are divided by it */
  logitsScaling: number;
}

/** Llama's layer with both branch outputs scaled by residual_multiplier before they join the stream. */
export class GraniteDecoderLayer extends LlamaDecoderLayer<GraniteSpec> {
  constructor(
    private readonly spec: GraniteSpec,
    layer: number,
  ) {
    super(spec, layer);
  }

  /** x [B, T, hidden] -> [B, T, hidden] */
  override forward(x: Tensor, ctx: AttentionContext): Tensor {
    const m = this.spec.residualMultiplier;
    const h = ops.add(x, ops.scale(this.self_attn.forward(this.input_layernorm.forward(x), ctx), m));
    return ops.add(h, ops.scale(this.ff.forward(this.post_attention_layernorm.forward(h)), m));
  }
}

/** embed x embedding_multiplier -> Granite layers -> norm -> head / logits_scaling. */
export class GraniteForCausalLM extends LlamaForCausalLM<GraniteSpec> {
  constructor(spec: GraniteSpec) {
    super(spec, {}, (i) => new GraniteDecoderLayer(spec, i));
  }

  protected override embed(ids: Tensor): Tensor {
    return ops.scale(this.model.embed_tokens.forward(ids), this.spec.embeddingMultiplier);
  }

  protected override head(x: Tensor): Tensor {
    return ops.scale(super.head(x), 1 / this.spec.logitsScaling);
  }
}

export const granite = defineModelFamily<GraniteSpec>({
  name: "granite",
  doc: "IBM Granite 3.x (Llama with embedding, residual, attention and logits multipliers; GQA; tied embeddings)",
  modelTypes: ["granite"],
  fromConfig: (config, where) =>
    readLlamaConfig<GraniteSpec>(config, "granite", {
      where,
      // GraniteConfig's defaults: every multiplier 1.0.
      extend: (r) => {
        const logitsScaling = r.num("logits_scaling", 1);
        if (logitsScaling === 0) r.fail(`"logits_scaling" must not be 0`);
        return {
          embeddingMultiplier: r.num("embedding_multiplier", 1),
          residualMultiplier: r.num("residual_multiplier", 1),
          attnScale: r.num("attention_multiplier", 1),
          logitsScaling,
        };
      },
    }),
  build: (spec) => new GraniteForCausalLM(spec),
  adapterTargets: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
  tiny: {
    // No Granite tokenizer fixture ships: the tiny model uses Llama 2's (Granite's own has 49,155 ids).
    tokenizer: "llama2",
    config: {
      architectures: ["GraniteForCausalLM"],
      model_type: "granite",
      attention_bias: false,
      attention_dropout: 0.0,
      // 1 / head_dim as Granite 3 checkpoints set it, not HF's default 1 / sqrt(head_dim).
      attention_multiplier: 0.125,
      bos_token_id: 1,
      embedding_multiplier: 12.0,
      eos_token_id: 2,
      hidden_act: "silu",
      hidden_size: 32,
      initializer_range: 0.02,
      intermediate_size: 64,
      logits_scaling: 8.0,
      max_position_embeddings: 4096,
      mlp_bias: false,
      num_attention_heads: 4,
      num_hidden_layers: 2,
      num_key_value_heads: 2,
      pad_token_id: 0,
      residual_multiplier: 0.22,
      rms_norm_eps: 1e-5,
      rope_scaling: null,
      rope_theta: 10000000.0,
      tie_word_embeddings: true,
      torch_dtype: "float32",
      use_cache: true,
      vocab_size: 32000,
    },
  },
});

export default modelFamilyPlugin(granite);
