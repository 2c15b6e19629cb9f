// The gemma family (Gemma 1 2B/7B, CodeGemma): RMSNorms scale by (1 + w), the embeddings are multiplied
// by sqrt(hidden_size), the MLP gate is the tanh GELU named by `hidden_activation`, and the LM head is
// the embedding matrix. Gemma 2 builds on the same config view, norms and embedding.
import { type DecoderBlock, defineModelFamily, type HfConfig, modelFamilyPlugin, ops, RMSNorm, type Tensor } from "../../core/index.ts";
import { LlamaForCausalLM } from "./llama.ts";
import { type LlamaSpec, readLlamaConfig } from "./llama-config.ts";

/**
 * GemmaConfig's keys as the shared reader should see them. transformers 4.x builds Gemma's MLP from
 * `hidden_activation` and ignores `hidden_act` (early gemma-7b configs said "gelu" and still ran the
 * tanh GELU), defaulting to gelu_pytorch_tanh; head_dim defaults to 256, embeddings to tied, and the
 * token ids to pad 0, eos 1, bos 2.
 */
export function gemmaView(c: HfConfig): HfConfig {
  return {
    ...c,
    hidden_act: c.hidden_activation ?? "gelu_pytorch_tanh",
    head_dim: c.head_dim ?? 256,
    tie_word_embeddings: c.tie_word_embeddings ?? true,
    pad_token_id: c.pad_token_id === undefined ? 0 : c.pad_token_id,
    eos_token_id: c.eos_token_id === undefined ? 1 : c.eos_token_id,
    bos_token_id: c.bos_token_id === undefined ? 2 : c.bos_token_id,
  };
}

/** Gemma's spec: Llama's plus the embedding scale. */
export interface GemmaSpec extends LlamaSpec {
  /** multiplies the token embeddings: sqrt(hidden_size) rounded to f32 */
  embedScale: number;
}

/**
 * Gemma's own keys. HF multiplies by `torch.tensor(hidden_size ** 0.5, dtype=hidden dtype)`: lft's
 * activations are f32, so the scale is sqrt(hidden) rounded to f32 (as HF in float32). No MLP bias.
 */
export function readGemmaKeys(base: LlamaSpec): Omit<GemmaSpec, keyof LlamaSpec> & Partial<LlamaSpec> {
  return { embedScale: Math.fround(Math.sqrt(base.hiddenSize)), mlpBias: false };
}

/** Gemma's RMSNorm scales by (1 + w), with w stored (and initialised at 0). */
export function gemmaNorm(spec: LlamaSpec): RMSNorm {
  return new RMSNorm(spec.hiddenSize, { eps: spec.rmsNormEps, weightOffset: 1 });
}

/** Llama's decoder with (1 + w) norms and scaled embeddings; Gemma 2 brings its own layer. */
export class GemmaForCausalLM<S extends GemmaSpec = GemmaSpec> extends LlamaForCausalLM<S> {
  constructor(spec: S, layer?: (i: number) => DecoderBlock) {
    super(spec, { norm: gemmaNorm }, layer);
  }

  protected override embed(ids: Tensor): Tensor {
    return ops.scale(this.model.embed_tokens.forward(ids), this.spec.embedScale);
  }
}

export const gemma = defineModelFamily<GemmaSpec>({
  name: "gemma",
  doc: "Gemma 1 and CodeGemma ((1 + w) RMSNorm, sqrt(hidden) embedding scale, tanh-GELU MLP, tied embeddings)",
  modelTypes: ["gemma"],
  fromConfig: (config, where) => readLlamaConfig<GemmaSpec>(config, "gemma", { where, view: gemmaView, extend: (_r, base) => readGemmaKeys(base) }),
  build: (spec) => new GemmaForCausalLM(spec),
  adapterTargets: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
  tiny: {
    tokenizer: "gemma",
    config: {
      architectures: ["GemmaForCausalLM"],
      model_type: "gemma",
      attention_bias: false,
      attention_dropout: 0.0,
      bos_token_id: 2,
      eos_token_id: 1,
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
      rms_norm_eps: 1e-6,
      rope_scaling: null,
      rope_theta: 10000.0,
      tie_word_embeddings: true,
      torch_dtype: "float32",
      use_cache: true,
      vocab_size: 256000,
    },
  },
});

export default modelFamilyPlugin(gemma);
