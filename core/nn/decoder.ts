// The decoder shared by the families: DecoderLayer (pre-norm residual blocks, optionally Gemma 2's
// extra post-norms) and CausalLM (embed -> layers -> norm -> lm_head or tied embeddings), with module
// paths equal to HF weight names. A family supplies a ModelSpec and, where it differs, its own
// feed-forward block (a sparse MoE).
import * as ops from "../autograd/ops/index.ts";
import { isGradEnabled } from "../autograd/tape.ts";
import { full, tensor } from "../tensor/create.ts";
import { keep } from "../tensor/scope.ts";
import { ShapeError, formatShape } from "../tensor/shape.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { Attention, type AttentionConfig, type AttentionContext } from "./attention.ts";
import { recompute } from "./recompute.ts";
import type { KVCache } from "./kv-cache.ts";
import { Embedding, Linear, linearForward } from "./linear.ts";
import { type FeedForward, MLP } from "./mlp.ts";
import { Module, ModuleList } from "./module.ts";
import { RMSNorm } from "./norm.ts";
import { ropeDependsOnLength, ropeParameters } from "./rope.ts";
import type { ModelSpec } from "./spec.ts";

export function attentionConfig(spec: ModelSpec, layer: number): AttentionConfig {
  return {
    hiddenSize: spec.hiddenSize,
    numHeads: spec.numHeads,
    numKvHeads: spec.numKvHeads,
    headDim: spec.headDim,
    qkvBias: spec.qkvBias,
    oBias: spec.oBias,
    qkNorm: spec.qkNorm ? { eps: spec.rmsNormEps, weightOffset: spec.normWeightOffset } : null,
    fusedQkv: spec.fusedQkv,
    window: spec.slidingWindows[layer] ?? 0,
    softcap: spec.attnSoftcap,
    scale: spec.attnScale,
  };
}

/** The dense gated MLP a spec describes (the default feed-forward block). */
export function denseMlp(spec: ModelSpec): MLP {
  return new MLP({ hiddenSize: spec.hiddenSize, intermediateSize: spec.intermediateSize, act: spec.hiddenAct, bias: spec.mlpBias, fusedGateUp: spec.fusedGateUp });
}

/** A layer's feed-forward block and its HF module name (`mlp`, Mixtral's `block_sparse_moe`). */
export interface FeedForwardPart {
  name: string;
  module: FeedForward;
}

export class DecoderLayer extends Module {
  readonly self_attn: Attention;
  readonly ff: FeedForward;
  readonly input_layernorm: RMSNorm;
  /** Llama: the norm before the MLP. Gemma 2 (sandwich): the norm after attention. */
  readonly post_attention_layernorm: RMSNorm;
  readonly pre_feedforward_layernorm: RMSNorm | null = null;
  readonly post_feedforward_layernorm: RMSNorm | null = null;

  constructor(
    readonly spec: ModelSpec,
    readonly index: number,
    ff: FeedForwardPart = { name: "mlp", module: denseMlp(spec) },
  ) {
    super();
    const norm = () => new RMSNorm(spec.hiddenSize, { eps: spec.rmsNormEps, weightOffset: spec.normWeightOffset });
    this.self_attn = this.addModule("self_attn", new Attention(attentionConfig(spec, index), index));
    this.ff = this.addModule(ff.name, ff.module);
    this.input_layernorm = this.addModule("input_layernorm", norm());
    this.post_attention_layernorm = this.addModule("post_attention_layernorm", norm());
    if (spec.sandwichNorms) {
      this.pre_feedforward_layernorm = this.addModule("pre_feedforward_layernorm", norm());
      this.post_feedforward_layernorm = this.addModule("post_feedforward_layernorm", norm());
    }
  }

  /** x [B, T, hidden] -> [B, T, hidden] */
  forward(x: Tensor, ctx: AttentionContext): Tensor {
    let a = this.self_attn.forward(this.input_layernorm.forward(x), ctx);
    if (this.pre_feedforward_layernorm) {
      a = this.post_attention_layernorm.forward(a);
      const h = ops.add(x, a);
      const m = this.post_feedforward_layernorm!.forward(this.ff.forward(this.pre_feedforward_layernorm.forward(h)));
      return ops.add(h, m);
    }
    const h = ops.add(x, a);
    return ops.add(h, this.ff.forward(this.post_attention_layernorm.forward(h)));
  }
}

/** `model.*`: the embedding, the layers and the final norm. */
export class DecoderModel extends Module {
  readonly embed_tokens: Embedding;
  readonly layers: ModuleList<DecoderLayer>;
  readonly norm: RMSNorm;
  constructor(spec: ModelSpec, feedForward?: (spec: ModelSpec, layer: number) => FeedForwardPart) {
    super();
    this.embed_tokens = this.addModule("embed_tokens", new Embedding(spec.vocabSize, spec.hiddenSize));
    const layers = Array.from({ length: spec.numLayers }, (_, i) => new DecoderLayer(spec, i, feedForward?.(spec, i)));
    this.layers = this.addModule("layers", new ModuleList(layers));
    this.norm = this.addModule("norm", new RMSNorm(spec.hiddenSize, { eps: spec.rmsNormEps, weightOffset: spec.normWeightOffset }));
  }
}

export interface ForwardOptions {
  /** [B, T] i32; default cache length + 0 .. T-1 for every row. */
  positionIds?: Tensor | null;
  /** [B, T] i32 for these tokens (left padding, packed samples): a token sees keys of its own id only. */
  segmentIds?: Tensor | null;
  /** Decoding: keys/values of earlier steps, extended by this call (inference only). */
  cache?: KVCache | null;
  /** Logits for each row's last position only, [B, 1, V] (what generation needs). */
  lastOnly?: boolean;
}

export interface CausalLMParts {
  /** The feed-forward block of each layer (default: the dense MLP, named `mlp`). */
  feedForward?: (spec: ModelSpec, layer: number) => FeedForwardPart;
}

/** cap * tanh(x / cap), composed from softmax over [a, -a] pairs: softmax's first entry is sigmoid(2a). */
function softcapLogits(x: Tensor, cap: number): Tensor {
  const n = x.numel;
  const a = ops.reshape(ops.scale(x, 1 / cap), [n, 1]);
  const pair = ops.concat([a, ops.scale(a, -1)], 1);
  const sig = ops.slice(ops.softmax(pair), 1, 0, 1);
  const minusCap = full([1], -cap);
  const out = ops.add(ops.scale(sig, 2 * cap), minusCap);
  minusCap.dispose();
  return ops.reshape(out, x.shape);
}

/** The largest position id (given ids are read back to the host; dynamic NTK RoPE needs it). */
function maxPosition(pos: Tensor | null, fallback: number): number {
  if (!pos) return fallback;
  let m = 0;
  for (const p of pos.toArray()) if (p > m) m = p;
  return m;
}

export class CausalLM extends Module {
  readonly model: DecoderModel;
  readonly lm_head: Linear | null = null;
  /** Recompute each decoder layer in backward instead of keeping its activations. */
  gradientCheckpointing = false;
  private staticInvFreq: Tensor | null = null;

  constructor(
    readonly spec: ModelSpec,
    parts: CausalLMParts = {},
  ) {
    super();
    this.model = this.addModule("model", new DecoderModel(spec, parts.feedForward));
    if (!spec.tieWordEmbeddings) this.lm_head = this.addModule("lm_head", new Linear(spec.hiddenSize, spec.vocabSize));
  }

  /** RoPE frequencies for a forward whose positions are below seqLen (only dynamic NTK depends on it). */
  private invFreq(seqLen: number): { invFreq: Tensor; attentionScaling: number } {
    if (ropeDependsOnLength(this.spec.rope)) {
      const p = ropeParameters(this.spec.rope, seqLen);
      return { invFreq: tensor(p.invFreq), attentionScaling: p.attentionScaling };
    }
    const p = ropeParameters(this.spec.rope);
    this.staticInvFreq ??= keep(tensor(p.invFreq));
    return { invFreq: this.staticInvFreq, attentionScaling: p.attentionScaling };
  }

  /** ids [B, T] i32 -> logits [B, T, vocab] f32 ([B, 1, vocab] with lastOnly). */
  forward(ids: Tensor, opts: ForwardOptions = {}): Tensor {
    if (ids.ndim !== 2 || ids.dtype !== "i32") throw new ShapeError(`CausalLM.forward: ids must be [B, T] i32, got ${formatShape(ids.shape)} ${ids.dtype}`);
    const [B, T] = ids.shape as [number, number];
    const cache = opts.cache ?? null;
    const start = cache?.length ?? 0;
    const pos = opts.positionIds ?? tensor(Int32Array.from({ length: B * T }, (_, i) => start + (i % T)), [B, T], { dtype: "i32" });
    if (pos.dtype !== "i32" || pos.ndim !== 2 || pos.shape[0] !== B || pos.shape[1] !== T) throw new ShapeError(`CausalLM.forward: positionIds must be [${B}, ${T}] i32, got ${formatShape(pos.shape)} ${pos.dtype}`);
    const seqLen = ropeDependsOnLength(this.spec.rope) ? maxPosition(opts.positionIds ? pos : null, start + T - 1) + 1 : 0;
    const rope = this.invFreq(seqLen);
    const segmentIds = cache ? cache.beginStep(T, opts.segmentIds ?? null) : (opts.segmentIds ?? null);
    const ctx: AttentionContext = { positionIds: pos, segmentIds, invFreq: rope.invFreq, attentionScaling: rope.attentionScaling, cache };

    let x = this.model.embed_tokens.forward(ids);
    if (this.spec.embedScale !== 1) x = ops.scale(x, this.spec.embedScale);
    const recompute = this.gradientCheckpointing && !cache && isGradEnabled();
    for (const layer of this.model.layers.items) {
      if (!recompute) {
        x = layer.forward(x, ctx);
        continue;
      }
      // Everything the block reads besides its weights is an input, so the recomputation sees live views.
      const inputs = segmentIds ? [x, pos, rope.invFreq, segmentIds] : [x, pos, rope.invFreq];
      x = recompute((h, p, f, s) => layer.forward(h, { ...ctx, positionIds: p!, invFreq: f!, segmentIds: s ?? null }), inputs, layer.parameters());
    }
    if (opts.lastOnly && T > 1) x = ops.slice(x, 1, T - 1, T);
    x = this.model.norm.forward(x);
    let logits = this.lm_head ? this.lm_head.forward(x) : linearForward(x, this.model.embed_tokens.weight);
    if (this.spec.finalSoftcap > 0) logits = softcapLogits(logits, this.spec.finalSoftcap);
    return logits;
  }

  override dispose(): void {
    super.dispose();
    this.staticInvFreq?.dispose();
    this.staticInvFreq = null;
  }
}
