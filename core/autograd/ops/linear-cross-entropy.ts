// The output layer and cross-entropy fused over row chunks: logits = hidden · Wᵀ exist one chunk of rows
// at a time, never as a whole [rows, vocab] matrix. With a gradient to compute, each chunk's softmax
// gradient is written over its logits right away and turned into dhidden (· W) and dW (ᵀ · hidden), so
// the backward only scales what the forward left; the [rows, vocab] logits and their gradient (twice
// the logits' bytes, the largest activations of a small model's step) are never held. The same GEMMs
// run as with matmul + crossEntropy. A half (bf16/f16) frozen weight is never cast whole: each GEMM runs
// over vocab blocks of it cast to f32 (32 MiB at a time), the block's logits copied into the chunk's rows.
import { expectArray, expectRank } from "../../backend/check.ts";
import { formatShape, ShapeError } from "../../tensor/shape.ts";
import { Tensor } from "../../tensor/tensor.ts";
import { defineOp } from "../tape.ts";
import { allocLike } from "./alloc.ts";

export interface LinearCrossEntropyOptions {
  /** targets equal to this are skipped; default -100. */
  ignoreIndex?: number;
  /** Bytes of logits held at once (one chunk of rows); default 256 MiB (512 MiB for a half weight), at least one row. */
  chunkBytes?: number;
  /** A half weight's f32 block in bytes (at least one row of it); default 32 MiB. */
  weightBlockBytes?: number;
}

interface State {
  /** dloss/dhidden and dloss/dW for a loss gradient of 1 (null: not asked for). */
  dhidden: Tensor | null;
  dweight: Tensor | null;
}

/**
 * 256 MiB of logits per chunk: each chunk's three GEMMs re-pack the whole head, so small chunks run them off
 * their best rate (a 32000 x 256 head: 524-row chunks at 156-197 GFLOP/s, 2048-row ones at 184-206 here).
 */
export const DEFAULT_CHUNK_BYTES = 256 * 2 ** 20;
/**
 * A half weight's chunks are larger: each chunk casts the whole weight twice (block by block), which
 * costs about as much as the chunk's GEMMs when a chunk holds a couple of hundred rows (Qwen3-0.6B's
 * 152k-row head at 128 MiB: 220 rows, the head ran at half the GEMM rate). 512 MiB holds 862 such rows.
 */
export const HALF_CHUNK_BYTES = 512 * 2 ** 20;
export const WEIGHT_BLOCK_BYTES = 32 * 2 ** 20;

/**
 * The weight as the GEMMs see it: f32 storage directly; half storage in vocab blocks cast to f32, with
 * each block's logits moved between the chunk's [rows, V] matrix and a contiguous [rows, block] buffer.
 */
class HeadWeight {
  private readonly blockRows: number;
  private readonly wBlock: Tensor | null = null;
  private readonly zBlock: Tensor | null = null;

  constructor(
    private readonly w: Tensor,
    maxRows: number,
    blockBytes = WEIGHT_BLOCK_BYTES,
  ) {
    const [V, D] = w.shape as [number, number];
    this.blockRows = Math.max(1, Math.min(V, Math.floor(blockBytes / (D * 4))));
    if (w.dtype !== "f32") {
      this.wBlock = Tensor.alloc(w.backend, [this.blockRows, D], "f32", false);
      this.zBlock = Tensor.alloc(w.backend, [maxRows * this.blockRows], "f32", false);
    }
  }

  /** Calls fn(v0, vb, W[v0 : v0 + vb] as f32) for each vocab block (one block: the f32 weight itself). */
  private blocks(fn: (v0: number, vb: number, wb: Tensor) => void): void {
    const [V, D] = this.w.shape as [number, number];
    const half = 2;
    for (let v0 = 0; v0 < V; v0 += this.blockRows) {
      const vb = Math.min(this.blockRows, V - v0);
      const src = this.w.view([vb, D], this.w.byteOffset + v0 * D * half, false);
      const wb = this.wBlock!.view([vb, D], this.wBlock!.byteOffset, false);
      try {
        this.w.backend.cast(wb, src);
        fn(v0, vb, wb);
      } finally {
        src.dispose();
        wb.dispose();
      }
    }
  }

  private zView(rows: number, vb: number): Tensor {
    return this.zBlock!.view([rows, vb], this.zBlock!.byteOffset, false);
  }

  /** z [rows, V] = h [rows, D] · Wᵀ */
  logits(z: Tensor, h: Tensor): void {
    const b = z.backend;
    if (this.w.dtype === "f32") {
      b.matmul(z, h, this.w, { transB: true });
      return;
    }
    const [rows, V] = z.shape as [number, number];
    this.blocks((v0, vb, wb) => {
      const zb = this.zView(rows, vb);
      try {
        b.matmul(zb, h, wb, { transB: true });
        b.copyRows(z, z.byteOffset + v0 * 4, V * 4, zb, zb.byteOffset, vb * 4, rows, vb * 4);
      } finally {
        zb.dispose();
      }
    });
  }

  /** dh [rows, D] = dz [rows, V] · W */
  inputGrad(dh: Tensor, dz: Tensor): void {
    const b = dz.backend;
    if (this.w.dtype === "f32") {
      b.matmul(dh, dz, this.w);
      return;
    }
    const [rows, V] = dz.shape as [number, number];
    this.blocks((v0, vb, wb) => {
      const zb = this.zView(rows, vb);
      try {
        b.copyRows(zb, zb.byteOffset, vb * 4, dz, dz.byteOffset + v0 * 4, V * 4, rows, vb * 4);
        b.matmul(dh, zb, wb, { beta: v0 > 0 ? 1 : 0 });
      } finally {
        zb.dispose();
      }
    });
  }

  dispose(): void {
    this.wBlock?.dispose();
    this.zBlock?.dispose();
  }
}

/** Rows per chunk: the byte budget over one row of logits, at least 1. */
export function chunkRows(rows: number, vocab: number, chunkBytes = DEFAULT_CHUNK_BYTES): number {
  return Math.max(1, Math.min(rows, Math.floor(chunkBytes / (vocab * 4))));
}

/**
 * hidden [N, D] f32, weight [V, D] (f32, or bf16/f16 when it needs no gradient), targets [N] i32 ->
 * the mean cross-entropy over the rows whose target is not ignoreIndex (a scalar; 0 when none count),
 * equal to crossEntropy(matmul(hidden, weight, { transB: true }), targets).
 */
export const linearCrossEntropy = defineOp<[Tensor, Tensor, Tensor, LinearCrossEntropyOptions?], State>({
  name: "linearCrossEntropy",
  forward(ctx, hidden, weight, targets, opts = {}) {
    const op = "linearCrossEntropy";
    const ignoreIndex = opts.ignoreIndex ?? -100;
    expectArray(op, "hidden", hidden, "f32");
    expectRank(op, "hidden", hidden, 2);
    expectRank(op, "weight", weight, 2);
    const [N, D] = hidden.shape as [number, number];
    const [V, Dw] = weight.shape as [number, number];
    if (Dw !== D) throw new ShapeError(`${op}: weight ${formatShape(weight.shape)} does not match hidden ${formatShape(hidden.shape)} (in-features ${D})`);
    if (weight.dtype !== "f32" && ctx.needsGrad[1]) throw new RangeError(`${op}: a ${weight.dtype} weight cannot take a gradient; train it in f32`);
    expectArray(op, "targets", targets, "i32", [N]);
    let counted = 0;
    for (const t of targets.toArray()) if (t !== ignoreIndex) counted++;
    const rowScale = counted > 0 ? 1 / counted : 0;
    const wantHidden = ctx.needsGrad[0]!;
    const wantWeight = ctx.needsGrad[1]!;
    const backend = hidden.backend;

    const dhidden = wantHidden ? allocLike(hidden) : null;
    const dweight = wantWeight ? allocLike(weight, weight.shape) : null;
    const loss = allocLike(hidden, [N]);
    const lse = allocLike(hidden, [N]);
    const step = chunkRows(N, V, opts.chunkBytes ?? (weight.dtype === "f32" ? DEFAULT_CHUNK_BYTES : HALF_CHUNK_BYTES));
    const head = new HeadWeight(weight, step, opts.weightBlockBytes);
    const logits = Tensor.alloc(backend, [step, V], "f32", false);
    const grow = Tensor.alloc(backend, [step], "f32", false);
    const views: Tensor[] = [];
    const rowsOf = (t: Tensor, start: number, rows: number): Tensor => {
      const width = t.ndim === 2 ? t.shape[1]! : 1;
      const v = t.view(t.ndim === 2 ? [rows, width] : [rows], t.byteOffset + start * width * 4, false);
      views.push(v);
      return v;
    };
    try {
      if (wantWeight) backend.fill(dweight!, 0);
      if (wantHidden || wantWeight) backend.fill(grow, rowScale);
      for (let start = 0; start < N; start += step) {
        const rows = Math.min(step, N - start);
        const h = rowsOf(hidden, start, rows);
        const z = rows === step ? logits : rowsOf(logits, 0, rows);
        const t = rowsOf(targets, start, rows);
        head.logits(z, h);
        const l = rowsOf(lse, start, rows);
        const lossRows = rowsOf(loss, start, rows);
        const g = rows === step ? grow : rowsOf(grow, 0, rows);
        if (!wantHidden && !wantWeight) {
          backend.crossEntropyForward(lossRows, l, z, t, ignoreIndex);
          continue;
        }
        // The softmax gradient replaces the chunk's logits (an elementwise pass: in place is safe), in the
        // same pass as the loss where the backend fuses the two.
        if (backend.crossEntropyFused) backend.crossEntropyFused(lossRows, l, z, g, z, t, ignoreIndex);
        else {
          backend.crossEntropyForward(lossRows, l, z, t, ignoreIndex);
          backend.crossEntropyBackward(z, g, z, l, t, ignoreIndex);
        }
        if (wantHidden) head.inputGrad(rowsOf(dhidden!, start, rows), z);
        if (wantWeight) backend.matmul(dweight!, z, h, { transA: true, beta: 1 });
      }
    } catch (e) {
      dhidden?.dispose();
      dweight?.dispose();
      throw e;
    } finally {
      for (const v of views) v.dispose();
      logits.dispose();
      grow.dispose();
      lse.dispose();
      head.dispose();
    }
    const out = allocLike(hidden, []);
    backend.fill(out, N > 0 ? backend.sum(loss) * rowScale : 0);
    loss.dispose();
    ctx.state = { dhidden: dhidden && ctx.save(dhidden), dweight: dweight && ctx.save(dweight) };
    dhidden?.dispose();
    dweight?.dispose();
    return out;
  },
  backward(ctx, g) {
    const { dhidden, dweight } = ctx.state;
    const s = g.toArray()[0]!;
    // In place: the node's saved gradients are read once, then released.
    const scaled = (t: Tensor | null): Tensor | null => {
      if (!t) return null;
      if (s !== 1) t.backend.scale(t, t, s);
      return t.view(t.shape, t.byteOffset, true);
    };
    return [scaled(dhidden), scaled(dweight), null];
  },
});
