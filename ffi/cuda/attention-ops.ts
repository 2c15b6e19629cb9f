// The CUDA backend's attention ops: the flash-style forward (causal, sliding window, soft-cap, segment ids,
// sinks) and its backward in three kernels (the dO·O row dots, dq, then dk/dv), plus the sinks' gradient.
// Sizes are checked before any launch.
import { attentionScalars, attentionSinks, type Block, expectArray, type NativeArray } from "../../core/index.ts";
import { ATT_ROWS, ATT_TILE, attentionDpl, BLOCK, type CudaBackend, cudaAttentionDims, F32, n, sfx } from "./backend-parts.ts";
import type { KernelModule } from "./kernels.ts";

/** What the attention ops need of the backend being built. */
export interface AttentionOpsContext {
  readonly launch: KernelModule["launch"];
  readonly scratch: (bytes: number) => Block;
  readonly done: (...blocks: (Block | null)[]) => void;
  readonly fillZero: (t: NativeArray) => void;
}

type AttentionOps = Pick<CudaBackend, "attentionForward" | "attentionBackward">;

export function cudaAttentionOps({ launch, scratch, done, fillZero }: AttentionOpsContext): AttentionOps {
  return {
    attentionForward(out, lse, q, k, v, seg, opts, sinks = null) {
      const op = "attention";
      const { B, Tq, Tk, Hq, Hkv, D } = cudaAttentionDims(op, q, k, v, seg);
      attentionScalars(op, opts);
      attentionSinks(op, Hq, sinks);
      expectArray(op, "out", out, q.dtype, q.shape);
      expectArray(op, "lse", lse, F32, [B, Hq, Tq]);
      if (B * Tq * Hq === 0) return;
      const S = D | 1;
      const smem = 4 * (ATT_ROWS + 2 * ATT_TILE) * S;
      launch(
        `lft_attention_fwd_d${attentionDpl(D)}_${sfx(q)}`,
        [Math.ceil(Tq / ATT_ROWS), Hq, B],
        [128, 1, 1],
        smem,
        out.ptr,
        lse.ptr,
        q.ptr,
        k.ptr,
        v.ptr,
        seg?.ptr ?? 0,
        Tq,
        Tk,
        Hq,
        Hkv,
        D,
        opts.scale,
        opts.window,
        opts.softcap,
        sinks?.ptr ?? 0,
      );
    },
    attentionBackward(dq, dk, dv, dout, out, lse, q, k, v, seg, opts, sinks = null, dsinks = null) {
      const op = "attention backward";
      const { B, Tq, Tk, Hq, Hkv, D } = cudaAttentionDims(op, q, k, v, seg);
      attentionScalars(op, opts);
      attentionSinks(op, Hq, sinks, dsinks);
      expectArray(op, "out", out, q.dtype, q.shape);
      expectArray(op, "dout", dout, q.dtype, q.shape);
      expectArray(op, "lse", lse, F32, [B, Hq, Tq]);
      expectArray(op, "dq", dq, q.dtype, q.shape);
      expectArray(op, "dk", dk, q.dtype, k.shape);
      expectArray(op, "dv", dv, q.dtype, k.shape);
      if (B * Tq * Hq === 0 || D === 0) {
        if (n(dk) > 0) fillZero(dk);
        if (n(dv) > 0) fillZero(dv);
        if (n(dq) > 0) fillZero(dq);
        if (dsinks && n(dsinks) > 0) fillZero(dsinks);
        return;
      }
      const S = D | 1;
      const dpl = attentionDpl(D);
      const Dl = scratch(4 * B * Hq * Tq);
      launch(`lft_attention_bwd_dot_${sfx(q)}`, [Math.ceil((B * Tq * Hq) / 8), 1, 1], [BLOCK, 1, 1], 0, Dl.ptr, dout.ptr, out.ptr, B, Tq, Hq, D);
      // The dq and dk/dv kernels read the same inputs after their outputs.
      const inputs = [dout.ptr, lse.ptr, Dl.ptr, q.ptr, k.ptr, v.ptr, seg?.ptr ?? 0, Tq, Tk, Hq, Hkv, D, opts.scale, opts.window, opts.softcap] as const;
      launch(`lft_attention_bwd_dq_d${dpl}_${sfx(q)}`, [Math.ceil(Tq / ATT_ROWS), Hq, B], [128, 1, 1], 4 * 2 * (ATT_ROWS + ATT_TILE) * S, dq.ptr, ...inputs);
      const dkdvSmem = 4 * ((2 * ATT_ROWS + 2 * ATT_TILE) * S + 2 * ATT_TILE);
      launch(`lft_attention_bwd_dkdv_d${dpl}_${sfx(q)}`, [Math.ceil(Tk / ATT_ROWS), Hkv, B], [128, 1, 1], dkdvSmem, dk.ptr, dv.ptr, ...inputs);
      if (sinks && dsinks) launch("lft_attention_bwd_sinks", [Hq, 1, 1], [256, 1, 1], 0, dsinks.ptr, sinks.ptr, lse.ptr, Dl.ptr, B, Tq, Hq);
      done(Dl);
    },
  };
}
