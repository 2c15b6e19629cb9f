// The llama family (Llama 2, Llama 3/3.1/3.2, and checkpoints in their layout), and the Llama blocks the
// families built on it reuse: pre-norm residual layers of self-attention and a gated MLP, then a final
// norm and an LM head (or the tied embeddings). Module paths are HF's weight names.
import {
  Attention,
  type AttentionConfig,
  type AttentionContext,
  CausalLM,
  type DecoderBlock,
  defineModelFamily,
  Embedding,
  type FeedForward,
  type ForwardOptions,
  Linear,
  lastPositions,
  linearForward,
  MLP,
  Module,
  ModuleList,
  modelFamilyPlugin,
  ops,
  RMSNorm,
  type SelfAttention,
  type Tensor,
} from "../../core/index.ts";
import { type LlamaSpec, readLlamaConfig } from "./llama-config.ts";

/** Layer `layer`'s attention as a Llama-style spec describes it; `over` changes module options (Qwen3's q/k norm). */
export function llamaAttentionConfig(spec: LlamaSpec, layer: number, over: Partial<AttentionConfig> = {}): AttentionConfig {
  return {
    hiddenSize: spec.hiddenSize,
    numHeads: spec.numHeads,
    numKvHeads: spec.numKvHeads,
    headDim: spec.headDim,
    qkvBias: spec.qkvBias,
    oBias: spec.oBias,
    qkNorm: null,
    window: spec.slidingWindows[layer] ?? 0,
    softcap: 0,
    scale: spec.attnScale,
    ...over,
  };
}

/** The dense gated MLP a spec describes. */
export function llamaMlp(spec: LlamaSpec): MLP {
  return new MLP({ hiddenSize: spec.hiddenSize, intermediateSize: spec.intermediateSize, act: spec.hiddenAct, bias: spec.mlpBias });
}

/** The parts of a layer a family may swap; each defaults to Llama's. */
export interface LlamaParts<S extends LlamaSpec> {
  /** `self_attn` of a layer. */
  attention?(spec: S, layer: number): SelfAttention;
  /** The feed-forward block and its HF module name (`mlp`; Mixtral's `block_sparse_moe`). */
  feedForward?(spec: S, layer: number): { name: string; module: FeedForward };
  /** Every RMSNorm over the hidden size (Gemma's scale by (1 + w)). */
  norm?(spec: S): RMSNorm;
}

export function llamaNorm(spec: LlamaSpec): RMSNorm {
  return new RMSNorm(spec.hiddenSize, { eps: spec.rmsNormEps });
}

export class LlamaDecoderLayer<S extends LlamaSpec = LlamaSpec> extends Module implements DecoderBlock {
  readonly self_attn: SelfAttention;
  readonly ff: FeedForward;
  readonly input_layernorm: RMSNorm;
  readonly post_attention_layernorm: RMSNorm;

  constructor(spec: S, layer: number, parts: LlamaParts<S> = {}) {
    super();
    const norm = () => (parts.norm ?? llamaNorm)(spec);
    const ff = parts.feedForward?.(spec, layer) ?? { name: "mlp", module: llamaMlp(spec) };
    this.self_attn = this.addModule("self_attn", parts.attention?.(spec, layer) ?? new Attention(llamaAttentionConfig(spec, layer), layer));
    this.ff = this.addModule(ff.name, ff.module);
    this.input_layernorm = this.addModule("input_layernorm", norm());
    this.post_attention_layernorm = this.addModule("post_attention_layernorm", norm());
  }

  /** x [B, T, hidden] -> [B, T, hidden] */
  forward(x: Tensor, ctx: AttentionContext): Tensor {
    const h = ops.add(x, this.self_attn.forward(this.input_layernorm.forward(x), ctx));
    return ops.add(h, this.ff.forward(this.post_attention_layernorm.forward(h)));
  }
}

/** `model.*`: the embedding, the layers and the final norm. */
export class LlamaModel extends Module {
  readonly embed_tokens: Embedding;
  readonly layers: ModuleList<DecoderBlock>;
  readonly norm: RMSNorm;
  constructor(spec: LlamaSpec, layer: (i: number) => DecoderBlock, norm: RMSNorm) {
    super();
    this.embed_tokens = this.addModule("embed_tokens", new Embedding(spec.vocabSize, spec.hiddenSize));
    this.layers = this.addModule("layers", new ModuleList(Array.from({ length: spec.numLayers }, (_, i) => layer(i))));
    this.norm = this.addModule("norm", norm);
  }
}

/** embed -> layers -> norm -> lm_head (or the tied embedding matrix). */
export class LlamaForCausalLM<S extends LlamaSpec = LlamaSpec> extends CausalLM<S> {
  readonly model: LlamaModel;
  readonly lm_head: Linear | null = null;

  /** `layer` builds a family's own decoder layer (Gemma 2's); default Llama's with `parts`. */
  constructor(spec: S, parts: LlamaParts<S> = {}, layer: (i: number) => DecoderBlock = (i) => new LlamaDecoderLayer(spec, i, parts)) {
    super(spec);
    this.model = this.addModule("model", new LlamaModel(spec, layer, (parts.norm ?? llamaNorm)(spec)));
    if (!spec.tieWordEmbeddings) this.lm_head = this.addModule("lm_head", new Linear(spec.hiddenSize, spec.vocabSize));
  }

  /** ids [B, T] -> hidden states [B, T, hidden] (Gemma scales them). */
  protected embed(ids: Tensor): Tensor {
    return this.model.embed_tokens.forward(ids);
  }

  /** Final hidden states -> logits. */
  protected head(x: Tensor): Tensor {
    return this.lm_head ? this.lm_head.forward(x) : linearForward(x, this.model.embed_tokens.weight);
  }

  /** lm_head's (or the tied embedding's) weight while the head is that plain matrix: not for a family that overrides head() or forward(), nor a head with a bias, an adapter or a frozen (quantised) weight. */
  override outputWeight(): Tensor | null {
    if (!this.plainHead()) return null;
    return this.lm_head ? this.lm_head.weight : this.model.embed_tokens.weight;
  }

  override plainHead(): boolean {
    if (this.head !== LlamaForCausalLM.prototype.head || this.forward !== LlamaForCausalLM.prototype.forward) return false;
    const h = this.lm_head;
    return !h || !(h.adapter || h.frozen || h.hasBias);
  }

  forward(ids: Tensor, opts: ForwardOptions = {}): Tensor {
    const ctx = this.context(ids, opts);
    const x = this.runLayers(this.model.layers.items, this.embed(ids), ctx);
    const hidden = this.model.norm.forward(lastPositions(x, opts));
    return opts.hiddenOnly ? hidden : this.head(hidden);
  }
}

export const llama = defineModelFamily<LlamaSpec>({
  name: "llama",
  doc: "Llama 2 and 3 (rope_scaling: linear, dynamic, llama3; GQA; optional attention/MLP bias; tied embeddings)",
  modelTypes: ["llama"],
  fromConfig: (config, where) => readLlamaConfig(config, "llama", { where }),
  build: (spec) => new LlamaForCausalLM(spec),
  adapterTargets: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
  // Checkpoints saved by transformers < 4.31 carry the RoPE buffer `...self_attn.rotary_emb.inv_freq`.
  sanitize: (name) => (name.endsWith(".rotary_emb.inv_freq") ? null : name),
  tiny: {
    tokenizer: "llama2",
    config: {
      architectures: ["LlamaForCausalLM"],
      model_type: "llama",
      attention_bias: false,
      attention_dropout: 0.0,
      bos_token_id: 1,
      eos_token_id: 2,
      hidden_act: "silu",
      hidden_size: 64,
      initializer_range: 0.02,
      intermediate_size: 176,
      max_position_embeddings: 2048,
      mlp_bias: false,
      num_attention_heads: 4,
      num_hidden_layers: 2,
      num_key_value_heads: 2,
      pretraining_tp: 1,
      rms_norm_eps: 1e-5,
      rope_scaling: null,
      rope_theta: 10000.0,
      tie_word_embeddings: false,
      torch_dtype: "float32",
      use_cache: true,
      vocab_size: 32000,
    },
  },
});

export default modelFamilyPlugin(llama);
