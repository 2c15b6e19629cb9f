// Row scatter-add, the other direction of `embedding`: out[ids[i]] += src[i] into a zeroed [rows, D].
// The forward is the embedding kernel's backward (deterministic: repeated ids sum in order) and the
// backward its forward (a row gather), so a sparse MoE can route token rows to experts and back.
import { expectArray, expectRank } from "../../backend/check.ts";
import { formatShape, ShapeError } from "../../tensor/shape.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import { defineOp } from "../tape.ts";
import { allocLike, zerosLike } from "./alloc.ts";

/** src [n, D] f32, ids [n] i32 with values in [0, rows) -> [rows, D]. Gradient flows to src only. */
export const scatterAddRows = defineOp<[Tensor, Tensor, number], { ids: Tensor; srcShape: readonly number[] }>({
  name: "scatterAddRows",
  forward(ctx, src, ids, rows) {
    expectArray("scatterAddRows", "src", src, "f32");
    expectRank("scatterAddRows", "src", src, 2);
    expectArray("scatterAddRows", "ids", ids, "i32");
    if (ids.ndim !== 1 || ids.shape[0] !== src.shape[0])
      throw new ShapeError(`scatterAddRows: ids must be [${src.shape[0]}] (one per src row), got ${formatShape(ids.shape)}`);
    if (!Number.isInteger(rows) || rows < 0) throw new ShapeError(`scatterAddRows: rows must be a non-negative integer, got ${rows}`);
    const out = zerosLike(src, [rows, src.shape[1]!]);
    try {
      if (ids.numel > 0) src.backend.embeddingBackward(out, src, ids);
    } catch (e) {
      out.dispose();
      throw e;
    }
    ctx.state = { ids: ctx.save(ids), srcShape: src.shape };
    return out;
  },
  backward(ctx, g) {
    const { ids, srcShape } = ctx.state;
    const dsrc = allocLike(g, srcShape);
    if (ids.numel > 0) g.backend.embeddingForward(dsrc, g, ids);
    return [dsrc, null];
  },
});
