// Activation bytes of a training step, counted tensor by tensor. What is live at the peak follows from
// how core frees memory: a train step runs in one tidy() scope (core/train/step.ts), so every tensor
// the forward allocates stays live until the step returns (saved or not); backward frees a gradient
// as soon as its node has consumed it. So the peak holds the whole forward, plus the gradients of the
// moment. Every size is rounded to the allocator's size class (core/tensor/allocator.ts): that
// rounding is the allocator's slack, counted exactly.
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

/** One f32 tensor of `elements`, as the allocator reserves it. */
export const f32Bytes = (elements: number): number => sizeClass(4 * elements);

/** Output and input width of a block's linear module. */
export function linearWidths(s: BlockShape, module: string): { in: number; out: number } {
  const q = s.heads * s.headDim;
  const kv = s.kvHeads * s.headDim;
  switch (module) {
    case "q_proj":
      return { in: s.hidden, out: q };
    case "k_proj":
    case "v_proj":
      return { in: s.hidden, out: kv };
    case "o_proj":
      return { in: q, out: s.hidden };
    case "gate_proj":
    case "up_proj":
      return { in: s.hidden, out: s.intermediate };
    case "down_proj":
      return { in: s.intermediate, out: s.hidden };
    default:
      return { in: s.hidden, out: s.hidden };
  }
}

/**
 * Bytes one decoder block's forward allocates over `rows` x `tokens`: the two norms (output + rstd),
 * q/k/v, the rotated q and k, the attention output and log-sum-exp, o_proj, two residual sums, gate,
 * up, their SwiGLU product and down_proj; per adapted linear, LoRA's A·x, B·A·x, its scaling and the
 * sum with the base output (a dropout copy of the input; DoRA's extra [.., out] terms).
 */
export function blockForwardBytes(s: BlockShape, rows: number, tokens: number, linears: readonly PlanLinearUse[]): number {
  const n = rows * tokens;
  const q = s.heads * s.headDim;
  const kv = s.kvHeads * s.headDim;
  let bytes = 6 * f32Bytes(n * s.hidden) + 2 * f32Bytes(n);
  bytes += 3 * f32Bytes(n * q) + 3 * f32Bytes(n * kv) + f32Bytes(rows * s.heads * tokens);
  bytes += 3 * f32Bytes(n * s.intermediate);
  if (s.qkNorm) bytes += f32Bytes(n * q) + f32Bytes(n * kv) + f32Bytes(n * s.heads) + f32Bytes(n * s.kvHeads);
  for (const l of linears) {
    if (l.adapterRank <= 0) continue;
    const w = linearWidths(s, l.module);
    // A·x stays for B's gradient; the adapter's B·A·x, its scaled copy and the base output are freed once
    // added (core/nn/linear.ts, lora-linear.ts). DoRA keeps them: its magnitude path reads them in backward
    // (its adds and subs hand their first gradient on as a view).
    bytes += f32Bytes(n * l.adapterRank);
    if (l.adapterCopiesInput) bytes += f32Bytes(n * w.in);
    if (l.dora) bytes += 3 * f32Bytes(n * w.out) + 2 * f32Bytes(n * w.out) + 2 * f32Bytes(w.out);
  }
  return bytes;
}

/** The widest gradients a block's backward holds at once beside its forward: the residual stream's (a residual
 * add hands it on as a view, not a copy) and an MLP-wide pair. */
export function blockBackwardBytes(s: BlockShape, rows: number, tokens: number): number {
  const n = rows * tokens;
  return f32Bytes(n * s.hidden) + 2 * f32Bytes(n * s.intermediate);
}

/**
 * The gradients an adapted layer holds pending in backward, times the layers: its SwiGLU pair's, two residual
 * sums' (two each) and rotated q/k gradients. Under DoRA, backward's order (reverse post-order of a
 * first-input-first DFS, core/autograd/tape.ts graphOrder) reaches the adapters' branches of every layer
 * before the base path consumes its gradients, so all layers' are pending at once; LoRA's addmm keeps it to
 * one layer (plan-memory.ts divides). Measured from the allocator's live set at the peak (bench/plan.ts).
 */
export function adapterPendingBytes(s: BlockShape, rows: number, tokens: number): number {
  const n = rows * tokens;
  return s.layers * (2 * f32Bytes(n * s.intermediate) + 4 * f32Bytes(n * s.hidden) + f32Bytes(n * s.heads * s.headDim) + f32Bytes(n * s.kvHeads * s.headDim));
}
