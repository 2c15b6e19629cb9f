// The causal LM shell of the families normed by LayerNorm instead of RMSNorm (Cohere, StarCoder 2):
// `model.embed_tokens`, `model.layers`, a final `model.norm` LayerNorm, and `lm_head` or the tied
// embeddings. A family brings its decoder layers and may reshape the logits (Cohere's logit_scale).
import {
  CausalLM,
  type DecoderBlock,
  Embedding,
  type ForwardOptions,
  Linear,
  lastPositions,
  linearForward,
  Module,
  ModuleList,
  type Tensor,
} from "../../core/index.ts";
import { LayerNorm, type LayerNormOptions } from "./layer-norm.ts";
import type { LlamaSpec } from "./llama-config.ts";

/** `model.*`: the embedding, the layers and the final LayerNorm. */
export class LayerNormModel extends Module {
  readonly embed_tokens: Embedding;
  readonly layers: ModuleList<DecoderBlock>;
  readonly norm: LayerNorm;
  constructor(spec: LlamaSpec, layer: (i: number) => DecoderBlock, norm: LayerNormOptions) {
    super();
    this.embed_tokens = this.addModule("embed_tokens", new Embedding(spec.vocabSize, spec.hiddenSize));
    this.layers = this.addModule("layers", new ModuleList(Array.from({ length: spec.numLayers }, (_, i) => layer(i))));
    this.norm = this.addModule("norm", new LayerNorm([spec.hiddenSize], norm));
  }
}

/** embed -> layers -> LayerNorm -> lm_head (or the tied embedding matrix). */
export class LayerNormCausalLM<S extends LlamaSpec = LlamaSpec> extends CausalLM<S> {
  readonly model: LayerNormModel;
  readonly lm_head: Linear | null = null;

  constructor(spec: S, layer: (i: number) => DecoderBlock, finalNorm: LayerNormOptions) {
    super(spec);
    this.model = this.addModule("model", new LayerNormModel(spec, layer, finalNorm));
    if (!spec.tieWordEmbeddings) this.lm_head = this.addModule("lm_head", new Linear(spec.hiddenSize, spec.vocabSize));
  }

  /** Final hidden states -> logits. */
  protected head(x: Tensor): Tensor {
    return this.lm_head ? this.lm_head.forward(x) : linearForward(x, this.model.embed_tokens.weight);
  }

  forward(ids: Tensor, opts: ForwardOptions = {}): Tensor {
    const ctx = this.context(ids, opts);
    const x = this.runLayers(this.model.layers.items, this.model.embed_tokens.forward(ids), ctx);
    const hidden = this.model.norm.forward(lastPositions(x, opts));
    return opts.hiddenOnly ? hidden : this.head(hidden);
  }
}
