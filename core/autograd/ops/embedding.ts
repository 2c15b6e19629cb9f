// Token embedding lookup: a gather of weight rows; the backward scatter-adds into a zeroed dw
// (deterministic: the kernel sums repeated ids in token order).
import { expectArray, expectRank } from "../../backend/check.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import { defineOp } from "../tape.ts";
import { allocLike, zerosLike } from "./alloc.ts";

/** weight [V, D] f32, ids [...] i32 with values in [0, V) -> [..., D]. Gradient flows to weight only. */
export const embedding = defineOp<[Tensor, Tensor], { ids: Tensor; weightShape: readonly number[] }>({
  name: "embedding",
  forward(ctx, weight, ids) {
    expectArray("embedding", "weight", weight, "f32");
    expectRank("embedding", "weight", weight, 2);
    expectArray("embedding", "ids", ids, "i32");
    const out = allocLike(weight, [...ids.shape, weight.shape[1]!]);
    try {
      // No ids, nothing to gather (and no id buffer for the binding to scan).
      if (ids.numel > 0) weight.backend.embeddingForward(out, weight, ids);
    } catch (e) {
      out.dispose();
      throw e;
    }
    ctx.state = { ids: ctx.save(ids), weightShape: weight.shape };
    return out;
  },
  backward(ctx, g) {
    const { ids, weightShape } = ctx.state;
    const dw = zerosLike(g, weightShape);
    if (ids.numel > 0) g.backend.embeddingBackward(dw, g, ids);
    return [dw, null];
  },
});
