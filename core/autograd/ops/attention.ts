// Causal grouped-query attention as one fused op (flash style on the backend: no T x T matrix is stored).
// Saves q, k, v, out and the per-row logsumexp; the backward recomputes the probabilities from them.
import type { AttentionOptions } from "../../backend/backend.ts";
import { formatShape, ShapeError } from "../../tensor/shape.ts";
import { Tensor } from "../../tensor/tensor.ts";
import { defineOp } from "../tape.ts";

export interface CausalAttentionOptions {
  /** Multiplies q . k before the softmax; default 1 / sqrt(head dim). */
  scale?: number;
  /** Sliding window: 0 (default) = full causal; otherwise query i sees keys i - window + 1 .. i. */
  window?: number;
  /** Logit soft cap (Gemma 2): 0 (default) = off; otherwise s = softcap * tanh(s / softcap). */
  softcap?: number;
  /** [B, Tk] i32 segment ids (packed samples, left padding): a query sees only keys with its own id. No gradient. */
  segmentIds?: Tensor | null;
}

interface Saved {
  q: Tensor;
  k: Tensor;
  v: Tensor;
  out: Tensor;
  lse: Tensor;
  seg: Tensor | null;
  opts: AttentionOptions;
}

const op = defineOp<[Tensor, Tensor, Tensor, CausalAttentionOptions?], Saved>({
  name: "causalAttention",
  forward(ctx, q, k, v, o = {}) {
    if (q.ndim !== 4) throw new ShapeError(`causalAttention: q must have rank 4 [B, T, Hq, D], got shape ${formatShape(q.shape)}`);
    const [B, T, Hq, D] = q.shape as [number, number, number, number];
    const seg = o.segmentIds ?? null;
    const opts: AttentionOptions = { scale: o.scale ?? 1 / Math.sqrt(D), window: o.window ?? 0, softcap: o.softcap ?? 0 };
    const out = Tensor.alloc(q.backend, q.shape, "f32");
    // lse lives only as the saved view below: untracked, and disposed here so nothing leaks when not recording.
    const lse = Tensor.alloc(q.backend, [B, Hq, T], "f32", false);
    try {
      q.backend.attentionForward(out, lse, q, k, v, seg, opts);
      if (ctx.needsGrad.some(Boolean)) {
        ctx.state = { q: ctx.save(q), k: ctx.save(k), v: ctx.save(v), out: ctx.save(out), lse: ctx.save(lse), seg: seg && ctx.save(seg), opts };
      }
    } catch (e) {
      out.dispose();
      throw e;
    } finally {
      lse.dispose();
    }
    return out;
  },
  backward(ctx, g) {
    const { q, k, v, out, lse, seg, opts } = ctx.state;
    const dq = Tensor.alloc(q.backend, q.shape, "f32");
    const dk = Tensor.alloc(q.backend, k.shape, "f32");
    const dv = Tensor.alloc(q.backend, v.shape, "f32");
    q.backend.attentionBackward(dq, dk, dv, g, out, lse, q, k, v, seg, opts);
    // The kernel computes all three together; hand back only the ones asked for.
    return [dq, dk, dv].map((t, i) => {
      if (ctx.needsGrad[i]) return t;
      t.dispose();
      return null;
    });
  },
});

/**
 * softmax(q k^T * scale, causal) v for q [B, Tq, Hq, D] and k, v [B, Tk, Hkv, D] (Hq a multiple of Hkv;
 * query head h reads kv head floor(h / (Hq / Hkv))). Tq <= Tk: the queries are the last Tq positions, as
 * when decoding against a KV cache. Returns [B, Tq, Hq, D].
 */
export function causalAttention(q: Tensor, k: Tensor, v: Tensor, opts: CausalAttentionOptions = {}): Tensor {
  return op(q, k, v, opts);
}
