// Activations a decoder block keeps between forward and backward, counted tensor by tensor from what
// each autograd op saves (core/autograd/ops: rmsNorm keeps its input and rstd, causalAttention keeps
// q, k, v, its output and the log-sum-exp, swiglu keeps gate and up, a matmul keeps its input only when
// its weight trains); tensors shared by two ops count once. Every size is rounded to the allocator's
// size class (core/tensor/allocator.ts), which is where its slack comes from.
import { sizeClass } from "../tensor/allocator.ts";
import type { PlanLinearUse } from "./types.ts";

/** The sizes of a gated-MLP, grouped-query decoder read from config.json. */
export interface BlockShape {
  readonly hidden: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly headDim: number;
  readonly intermediate: number;
  readonly vocab: number;
  readonly layers: number;
  /** Per-head q/k RMSNorm (Qwen3, Gemma 3). */
  readonly qkNorm: boolean;
}

/** One kept tensor: bytes as the allocator reserves them. */
export const f32Bytes = (elements: number): number => sizeClass(4 * elements);

/** Input width of a block's linear modules (q/k/v/gate/up read the normed hidden state). */
function inputWidth(s: BlockShape, module: string): { width: number; shared: string } {
  if (module === "o_proj") return { width: s.heads * s.headDim, shared: "attn-out" };
  if (module === "down_proj") return { width: s.intermediate, shared: "act" };
  if (module === "gate_proj" || module === "up_proj") return { width: s.hidden, shared: "xn2" };
  return { width: s.hidden, shared: "xn1" };
}

/** Bytes one block keeps for backward over `tokens` positions in `rows` rows (no recompute). */
export function blockActivationBytes(s: BlockShape, rows: number, tokens: number, linears: readonly PlanLinearUse[]): number {
  const n = rows * tokens;
  const q = s.heads * s.headDim;
  const kv = s.kvHeads * s.headDim;
  // Always kept: the block input and rstd (input norm), q/k/v/out/lse (attention), the residual and
  // rstd (post-attention norm), gate and up (swiglu).
  let bytes = f32Bytes(n * s.hidden) * 2 + f32Bytes(n) * 2;
  bytes += f32Bytes(n * q) * 2 + f32Bytes(n * kv) * 2 + f32Bytes(rows * s.heads * tokens);
  bytes += f32Bytes(n * s.intermediate) * 2;
  if (s.qkNorm) bytes += f32Bytes(n * q) + f32Bytes(n * kv) + f32Bytes(n * s.heads) + f32Bytes(n * s.kvHeads);
  const shared = new Set<string>();
  for (const l of linears) {
    const { width, shared: key } = inputWidth(s, l.module);
    const keepsInput = l.weightTrainable || l.adapterRank > 0;
    // The attention output is kept by attention already; the normed states and the activation are not.
    if (keepsInput && key !== "attn-out" && !shared.has(key)) {
      shared.add(key);
      bytes += f32Bytes(n * width);
    }
    if (l.adapterRank > 0) {
      bytes += f32Bytes(n * l.adapterRank);
      if (l.adapterCopiesInput) bytes += f32Bytes(n * width);
    }
  }
  return bytes;
}

/** The largest transient a block's backward allocates beside what is kept: its output gradient and the widest intermediate's. */
export function blockBackwardTransientBytes(s: BlockShape, rows: number, tokens: number): number {
  const n = rows * tokens;
  return f32Bytes(n * s.hidden) * 2 + f32Bytes(n * s.intermediate) * 2;
}
