// Causal grouped-query attention as one fused op (flash style on the backend: no T x T matrix is stored).
// Saves q, k, v, out and the per-row logsumexp; the backward recomputes the probabilities from them.
// Optional attention sinks (gpt-oss): a learned logit per query head in every softmax denominator,
// passed as a tensor input so it gets a gradient.
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
  /** [Hq] f32 attention sinks (gpt-oss): exp(sink_h) joins each row's softmax denominator, with no value. */
  sinks?: Tensor | null;
}

interface Saved {
  q: Tensor;
  k: Tensor;
  v: Tensor;
  out: Tensor;
  lse: Tensor;
  seg: Tensor | null;
  sinks: Tensor | null;
  opts: AttentionOptions;
}

// The sinks ride as a fifth argument (a tensor input, so the tape sees it); without them the op has three inputs.
const op = defineOp<[Tensor, Tensor, Tensor, CausalAttentionOptions, Tensor?], Saved>({
  name: "causalAttention",
  forward(ctx, q, k, v, o, sinks) {
    if (q.ndim !== 4) throw new ShapeError(`causalAttention: q must have rank 4 [B, T, Hq, D], got shape ${formatShape(q.shape)}`);
    const [B, T, Hq, D] = q.shape as [number, number, number, number];
    const seg = o.segmentIds ?? null;
    const opts: AttentionOptions = { scale: o.scale ?? 1 / Math.sqrt(D), window: o.window ?? 0, softcap: o.softcap ?? 0 };
    const out = Tensor.alloc(q.backend, q.shape, "f32");
    // lse lives only as the saved view below: untracked, and disposed here so nothing leaks when not recording.
    const lse = Tensor.alloc(q.backend, [B, Hq, T], "f32", false);
    try {
      q.backend.attentionForward(out, lse, q, k, v, seg, opts, sinks ?? null);
      if (ctx.needsGrad.some(Boolean)) {
        const saved = { q: ctx.save(q), k: ctx.save(k), v: ctx.save(v), out: ctx.save(out), lse: ctx.save(lse) };
        ctx.state = { ...saved, seg: seg && ctx.save(seg), sinks: sinks ? ctx.save(sinks) : null, opts };
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
    const { q, k, v, out, lse, seg, sinks, opts } = ctx.state;
    const dq = Tensor.alloc(q.backend, q.shape, "f32");
    const dk = Tensor.alloc(q.backend, k.shape, "f32");
    const dv = Tensor.alloc(q.backend, v.shape, "f32");
    const dsinks = sinks && ctx.needsGrad[3] ? Tensor.alloc(q.backend, sinks.shape, "f32") : null;
    q.backend.attentionBackward(dq, dk, dv, g, out, lse, q, k, v, seg, opts, sinks, dsinks);
    // The kernel computes all three together; hand back only the ones asked for.
    const grads = [dq, dk, dv].map((t, i) => {
      if (ctx.needsGrad[i]) return t;
      t.dispose();
      return null;
    });
    return sinks ? [...grads, dsinks] : grads;
  },
});

/**
 * softmax(q k^T * scale, causal) v for q [B, Tq, Hq, D] and k, v [B, Tk, Hkv, D] (Hq a multiple of Hkv;
 * query head h reads kv head floor(h / (Hq / Hkv))). Tq <= Tk: the queries are the last Tq positions, as
 * when decoding against a KV cache. With `sinks` [Hq], each row's softmax denominator also holds
 * exp(sinks[h]). Returns [B, Tq, Hq, D].
 */
export function causalAttention(q: Tensor, k: Tensor, v: Tensor, opts: CausalAttentionOptions = {}): Tensor {
  return opts.sinks ? op(q, k, v, opts, opts.sinks) : op(q, k, v, opts);
}
