// Grouped-query self-attention: `attendHeads` takes projected q/k/v through heads, an optional per-head
// q/k norm, RoPE at given position ids, the KV cache and the attention kernel (causal, sliding window,
// score soft-cap, segment ids); `Attention` is the module with separate q/k/v/o projections. A family
// with another projection layout (a fused qkv) writes its own module around attendHeads. Layout
// [B, T, H, D] throughout: no transposes.
import * as ops from "../autograd/ops/index.ts";
import type { Tensor } from "../tensor/tensor.ts";
import type { KVCache } from "./kv-cache.ts";
import { Linear } from "./linear.ts";
import { Module } from "./module.ts";
import { RMSNorm } from "./norm.ts";

/** How heads attend once projected: sizes and the kernel's options. */
export interface HeadsConfig {
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  /** 0 = full causal; else query i sees keys i - window + 1 .. i */
  window: number;
  /** 0 = off; else scores become softcap * tanh(s / softcap) */
  softcap: number;
  /** multiplies q . k; 1/sqrt(headDim) for most families */
  scale: number;
  /**
   * This layer's position encoding: absent or true = the model's own `rope`; the key of one of the model's
   * RoPE variants (ModelSpec.ropeVariants: Gemma 3's local layers name theirs); false = none (SmolLM3's NoPE layers).
   */
  rope?: string | boolean;
}

export interface AttentionConfig extends HeadsConfig {
  hiddenSize: number;
  /** bias on q, k and v */
  qkvBias: boolean;
  /** bias on o */
  oBias: boolean;
  /** RMSNorm over each head's dims of q and k before RoPE, or null */
  qkNorm: { eps: number; weightOffset?: number } | null;
}

/** One RoPE's frequencies for a forward. */
export interface RotaryFrequencies {
  /** [rotaryDim / 2] f32 */
  invFreq: Tensor;
  /** HF's attention_factor: multiplies the rotated q and k (1 for most RoPE types) */
  attentionScaling: number;
}

/** What every layer of one forward shares. */
export interface AttentionContext extends RotaryFrequencies {
  /** [B, T] i32 */
  positionIds: Tensor;
  /** [B, Tk] i32 over the whole attended sequence (cache included), or null */
  segmentIds: Tensor | null;
  /** The frequencies of each of the spec's `ropeVariants`, by the same keys (layers name theirs in HeadsConfig.rope). */
  ropeVariants?: Readonly<Record<string, RotaryFrequencies>>;
  cache: KVCache | null;
}

/** The frequencies a layer rotates with: its named variant, else the model's own. */
export function layerRope(ctx: AttentionContext, key: string | undefined): RotaryFrequencies {
  if (key === undefined) return ctx;
  const r = ctx.ropeVariants?.[key];
  if (!r)
    throw new RangeError(`attention: the layer names RoPE variant "${key}" but the model defines ${Object.keys(ctx.ropeVariants ?? {}).join(", ") || "none"}`);
  return r;
}

/** HF multiplies cos and sin by the attention factor: only the first rotaryDim dims of each head scale. */
function scaleRotated(x: Tensor, s: number, rotaryDim: number): Tensor {
  const d = x.shape[x.ndim - 1]!;
  if (rotaryDim >= d) return ops.scale(x, s);
  return ops.concat([ops.scale(ops.slice(x, -1, 0, rotaryDim), s), ops.slice(x, -1, rotaryDim, d)], -1);
}

/** Per-head norms of q and k (before RoPE), when a family has them. */
export interface QkNorms {
  q: RMSNorm;
  k: RMSNorm;
}

/**
 * q [B, T, Hq * D], k and v [B, T, Hkv * D] (the projections' outputs) -> [B, T, Hq * D]: split into
 * heads, q/k norms, RoPE, the cache (layer `layer`), the attention kernel (with per-head sinks when given).
 */
export function attendHeads(
  cfg: HeadsConfig,
  layer: number,
  q0: Tensor,
  k0: Tensor,
  v0: Tensor,
  ctx: AttentionContext,
  norms: QkNorms | null = null,
  /** [Hq] attention sinks (gpt-oss), or null */
  sinks: Tensor | null = null,
): Tensor {
  const [B, T] = q0.shape as [number, number, number];
  const { numHeads: hq, numKvHeads: hkv, headDim: d } = cfg;
  let q = ops.reshape(q0, [B, T, hq, d]);
  let k = ops.reshape(k0, [B, T, hkv, d]);
  let v = ops.reshape(v0, [B, T, hkv, d]);
  if (norms) {
    q = norms.q.forward(q);
    k = norms.k.forward(k);
  }
  if (cfg.rope !== false) {
    const { invFreq, attentionScaling } = layerRope(ctx, typeof cfg.rope === "string" ? cfg.rope : undefined);
    q = ops.rope(q, ctx.positionIds, invFreq);
    k = ops.rope(k, ctx.positionIds, invFreq);
    if (attentionScaling !== 1) {
      q = scaleRotated(q, attentionScaling, invFreq.numel * 2);
      k = scaleRotated(k, attentionScaling, invFreq.numel * 2);
    }
  }
  if (ctx.cache) ({ k, v } = ctx.cache.append(layer, k, v));
  const out = ops.causalAttention(q, k, v, { scale: cfg.scale, window: cfg.window, softcap: cfg.softcap, segmentIds: ctx.segmentIds, sinks });
  return ops.reshape(out, [B, T, hq * d]);
}

/** Any self-attention block a decoder layer can hold. */
export interface SelfAttention extends Module {
  forward(x: Tensor, ctx: AttentionContext): Tensor;
}

export class Attention extends Module implements SelfAttention {
  readonly q_proj: Linear;
  readonly k_proj: Linear;
  readonly v_proj: Linear;
  readonly o_proj: Linear;
  readonly q_norm: RMSNorm | null = null;
  readonly k_norm: RMSNorm | null = null;

  constructor(
    readonly cfg: AttentionConfig,
    /** This layer's index (its KV cache slot). */
    readonly layerIndex: number,
  ) {
    super();
    const { hiddenSize: h, numHeads: hq, numKvHeads: hkv, headDim: d } = cfg;
    if (hq % hkv !== 0) throw new RangeError(`attention: ${hq} query heads are not a multiple of ${hkv} key/value heads`);
    this.q_proj = this.addModule("q_proj", new Linear(h, hq * d, { bias: cfg.qkvBias }));
    this.k_proj = this.addModule("k_proj", new Linear(h, hkv * d, { bias: cfg.qkvBias }));
    this.v_proj = this.addModule("v_proj", new Linear(h, hkv * d, { bias: cfg.qkvBias }));
    this.o_proj = this.addModule("o_proj", new Linear(hq * d, h, { bias: cfg.oBias }));
    if (cfg.qkNorm) {
      this.q_norm = this.addModule("q_norm", new RMSNorm(d, cfg.qkNorm));
      this.k_norm = this.addModule("k_norm", new RMSNorm(d, cfg.qkNorm));
    }
  }

  /** x [B, T, hidden] -> [B, T, hidden] */
  forward(x: Tensor, ctx: AttentionContext): Tensor {
    const norms = this.q_norm && this.k_norm ? { q: this.q_norm, k: this.k_norm } : null;
    const out = attendHeads(this.cfg, this.layerIndex, this.q_proj.forward(x), this.k_proj.forward(x), this.v_proj.forward(x), ctx, norms);
    return this.o_proj.forward(out);
  }
}
