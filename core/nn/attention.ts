// Grouped-query self-attention shared by the families: q/k/v/o projections (separate or fused qkv),
// optional q/k/v bias (Qwen2) and per-head q/k RMSNorm (Qwen3), RoPE at given position ids, sliding
// window, logit soft-capping, segment ids and a KV cache. Layout [B, T, H, D] throughout: no transposes.
import * as ops from "../autograd/ops/index.ts";
import type { Tensor } from "../tensor/tensor.ts";
import type { KVCache } from "./kv-cache.ts";
import { Linear } from "./linear.ts";
import { Module } from "./module.ts";
import { RMSNorm } from "./norm.ts";

export interface AttentionConfig {
  hiddenSize: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  /** bias on q, k and v (Qwen2; Llama's attention_bias) */
  qkvBias: boolean;
  /** bias on o (Llama's attention_bias) */
  oBias: boolean;
  /** RMSNorm over each head's dims of q and k before RoPE (Qwen3) */
  qkNorm: { eps: number; weightOffset: number } | null;
  /** one `qkv_proj` [(Hq + 2 Hkv) D, hidden] instead of q/k/v_proj (Phi-3) */
  fusedQkv: boolean;
  /** 0 = full causal; else query i sees keys i - window + 1 .. i */
  window: number;
  /** 0 = off; else scores become softcap * tanh(s / softcap) (Gemma 2) */
  softcap: number;
  /** multiplies q . k; 1/sqrt(headDim) for most families */
  scale: number;
}

/** What every layer of one forward shares. */
export interface AttentionContext {
  /** [B, T] i32 */
  positionIds: Tensor;
  /** [B, Tk] i32 over the whole attended sequence (cache included), or null */
  segmentIds: Tensor | null;
  /** [rotaryDim / 2] f32 */
  invFreq: Tensor;
  /** HF's attention_factor: multiplies the rotated q and k (1 for the supported RoPE types) */
  attentionScaling: number;
  cache: KVCache | null;
}

/** HF multiplies cos and sin by the attention factor: only the first rotaryDim dims of each head scale. */
function scaleRotated(x: Tensor, s: number, rotaryDim: number): Tensor {
  const d = x.shape[x.ndim - 1]!;
  if (rotaryDim >= d) return ops.scale(x, s);
  return ops.concat([ops.scale(ops.slice(x, -1, 0, rotaryDim), s), ops.slice(x, -1, rotaryDim, d)], -1);
}

export class Attention extends Module {
  readonly q_proj: Linear | null = null;
  readonly k_proj: Linear | null = null;
  readonly v_proj: Linear | null = null;
  readonly qkv_proj: Linear | null = null;
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
    if (cfg.fusedQkv) {
      this.qkv_proj = this.addModule("qkv_proj", new Linear(h, (hq + 2 * hkv) * d, { bias: cfg.qkvBias }));
    } else {
      this.q_proj = this.addModule("q_proj", new Linear(h, hq * d, { bias: cfg.qkvBias }));
      this.k_proj = this.addModule("k_proj", new Linear(h, hkv * d, { bias: cfg.qkvBias }));
      this.v_proj = this.addModule("v_proj", new Linear(h, hkv * d, { bias: cfg.qkvBias }));
    }
    this.o_proj = this.addModule("o_proj", new Linear(hq * d, h, { bias: cfg.oBias }));
    if (cfg.qkNorm) {
      this.q_norm = this.addModule("q_norm", new RMSNorm(d, cfg.qkNorm));
      this.k_norm = this.addModule("k_norm", new RMSNorm(d, cfg.qkNorm));
    }
  }

  private project(x: Tensor): [Tensor, Tensor, Tensor] {
    if (!this.qkv_proj) return [this.q_proj!.forward(x), this.k_proj!.forward(x), this.v_proj!.forward(x)];
    const { numHeads: hq, numKvHeads: hkv, headDim: d } = this.cfg;
    const qkv = this.qkv_proj.forward(x);
    return [ops.slice(qkv, -1, 0, hq * d), ops.slice(qkv, -1, hq * d, (hq + hkv) * d), ops.slice(qkv, -1, (hq + hkv) * d, (hq + 2 * hkv) * d)];
  }

  /** x [B, T, hidden] -> [B, T, hidden] */
  forward(x: Tensor, ctx: AttentionContext): Tensor {
    const [B, T] = x.shape as [number, number, number];
    const { numHeads: hq, numKvHeads: hkv, headDim: d } = this.cfg;
    const [q0, k0, v0] = this.project(x);
    let q = ops.reshape(q0, [B, T, hq, d]);
    let k = ops.reshape(k0, [B, T, hkv, d]);
    let v = ops.reshape(v0, [B, T, hkv, d]);
    if (this.q_norm && this.k_norm) {
      q = this.q_norm.forward(q);
      k = this.k_norm.forward(k);
    }
    q = ops.rope(q, ctx.positionIds, ctx.invFreq);
    k = ops.rope(k, ctx.positionIds, ctx.invFreq);
    if (ctx.attentionScaling !== 1) {
      q = scaleRotated(q, ctx.attentionScaling, ctx.invFreq.numel * 2);
      k = scaleRotated(k, ctx.attentionScaling, ctx.invFreq.numel * 2);
    }
    if (ctx.cache) ({ k, v } = ctx.cache.append(this.layerIndex, k, v));
    const out = ops.causalAttention(q, k, v, { scale: this.cfg.scale, window: this.cfg.window, softcap: this.cfg.softcap, segmentIds: ctx.segmentIds });
    return this.o_proj.forward(ops.reshape(out, [B, T, hq * d]));
  }
}
