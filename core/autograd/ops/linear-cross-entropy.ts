// The output layer and cross-entropy fused over row chunks: logits = hidden · Wᵀ exist one chunk of rows
// at a time, never as a whole [rows, vocab] matrix. With a gradient to compute, each chunk's softmax
// gradient is written over its logits right away and turned into dhidden (· W) and dW (ᵀ · hidden), so
// the backward only scales what the forward left; the [rows, vocab] logits and their gradient (twice
// the logits' bytes, the largest activations of a small model's step) are never held. The same GEMMs
// run as with matmul + crossEntropy; a half (bf16/f16) frozen weight is cast to f32 once, not twice.
import { expectArray, expectRank } from "../../backend/check.ts";
import { formatShape, ShapeError } from "../../tensor/shape.ts";
import { Tensor } from "../../tensor/tensor.ts";
import { defineOp } from "../tape.ts";
import { allocLike } from "./alloc.ts";

export interface LinearCrossEntropyOptions {
  /** targets equal to this are skipped; default -100. */
  ignoreIndex?: number;
  /** Bytes of logits held at once (one chunk of rows); default 64 MiB, at least one row. */
  chunkBytes?: number;
}

interface State {
  /** dloss/dhidden and dloss/dW for a loss gradient of 1 (null: not asked for). */
  dhidden: Tensor | null;
  dweight: Tensor | null;
}

const DEFAULT_CHUNK_BYTES = 64 * 2 ** 20;

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

    const wf = weight.dtype === "f32" ? weight : Tensor.alloc(backend, weight.shape, "f32", false);
    if (wf !== weight) backend.cast(wf, weight);
    const dhidden = wantHidden ? allocLike(hidden) : null;
    const dweight = wantWeight ? allocLike(weight, weight.shape) : null;
    const loss = allocLike(hidden, [N]);
    const lse = allocLike(hidden, [N]);
    const step = chunkRows(N, V, opts.chunkBytes);
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
        backend.matmul(z, h, wf, { transB: true });
        const l = rowsOf(lse, start, rows);
        backend.crossEntropyForward(rowsOf(loss, start, rows), l, z, t, ignoreIndex);
        if (!wantHidden && !wantWeight) continue;
        // The softmax gradient replaces the chunk's logits (an elementwise pass: in place is safe).
        backend.crossEntropyBackward(z, rows === step ? grow : rowsOf(grow, 0, rows), z, l, t, ignoreIndex);
        if (wantHidden) backend.matmul(rowsOf(dhidden!, start, rows), z, wf);
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
      if (wf !== weight) wf.dispose();
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
