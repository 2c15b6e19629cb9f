// A one-block Llama-shaped decoder built straight from core ops (embedding, RMSNorm, RoPE, GQA
// attention, SwiGLU, tied-free LM head, cross-entropy): exercises every saved-activation path.
import { ops, randn, type Tensor, tensor } from "../../core/index.ts";

export interface TinyDims {
  vocab: number;
  dim: number;
  heads: number;
  kvHeads: number;
  hidden: number;
  seq: number;
  batch: number;
}

export const TINY: TinyDims = { vocab: 32, dim: 16, heads: 4, kvHeads: 2, hidden: 24, seq: 8, batch: 2 };

export function tinyParams(d: TinyDims, seed = 1): Record<string, Tensor> {
  const hd = d.dim / d.heads;
  const p = (name: string, shape: number[], i: number, std = 0.2) => randn(shape, { seed, offset: i * 1_000_000, std, requiresGrad: true, name });
  const ones = (name: string) => tensor(new Float32Array(d.dim).fill(1), [d.dim], { requiresGrad: true, name });
  return {
    embed: p("embed", [d.vocab, d.dim], 1),
    norm1: ones("norm1"),
    wq: p("wq", [d.heads * hd, d.dim], 2),
    wk: p("wk", [d.kvHeads * hd, d.dim], 3),
    wv: p("wv", [d.kvHeads * hd, d.dim], 4),
    wo: p("wo", [d.dim, d.heads * hd], 5),
    norm2: ones("norm2"),
    gate: p("gate", [d.hidden, d.dim], 6),
    up: p("up", [d.hidden, d.dim], 7),
    down: p("down", [d.dim, d.hidden], 8),
    normF: ones("normF"),
    head: p("head", [d.vocab, d.dim], 9),
  };
}

/** Mean next-token loss of ids [B, T] (targets = ids shifted left, last position ignored). */
export function tinyLoss(d: TinyDims, w: Record<string, Tensor>, ids: Int32Array, positions: Tensor, invFreq: Tensor): Tensor {
  const hd = d.dim / d.heads;
  const { batch: B, seq: T } = d;
  const idsT = tensor(ids, [B, T], { dtype: "i32" });
  const targets = new Int32Array(B * T).fill(-100);
  for (let b = 0; b < B; b++) for (let t = 0; t + 1 < T; t++) targets[b * T + t] = ids[b * T + t + 1]!;
  const linear = (x: Tensor, weight: Tensor) => ops.matmul(x, weight, { transB: true });
  const x0 = ops.embedding(w.embed!, idsT);
  const h = ops.rmsNorm(x0, w.norm1!, { eps: 1e-5 });
  const q = ops.rope(ops.reshape(linear(h, w.wq!), [B, T, d.heads, hd]), positions, invFreq);
  const k = ops.rope(ops.reshape(linear(h, w.wk!), [B, T, d.kvHeads, hd]), positions, invFreq);
  const v = ops.reshape(linear(h, w.wv!), [B, T, d.kvHeads, hd]);
  const att = ops.reshape(ops.causalAttention(q, k, v), [B, T, d.heads * hd]);
  const x1 = ops.add(x0, linear(att, w.wo!));
  const h2 = ops.rmsNorm(x1, w.norm2!, { eps: 1e-5 });
  const mlp = linear(ops.swiglu(linear(h2, w.gate!), linear(h2, w.up!)), w.down!);
  const x2 = ops.add(x1, mlp);
  const logits = linear(ops.rmsNorm(x2, w.normF!, { eps: 1e-5 }), w.head!);
  return ops.crossEntropy(ops.reshape(logits, [B * T, d.vocab]), tensor(targets, [B * T], { dtype: "i32" }));
}
