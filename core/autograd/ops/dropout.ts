// Dropout with a counter-based mask: the backward regenerates the mask from (seed, offset) instead of
// storing it, so dropout costs no activation memory.
import type { Tensor } from "../../tensor/tensor.ts";
import { defineOp } from "../tape.ts";
import { allocLike } from "./alloc.ts";

export interface DropoutOptions {
  p: number;
  seed: bigint;
  offset: bigint;
}

export const dropout = defineOp<[Tensor, DropoutOptions], DropoutOptions>({
  name: "dropout",
  forward(ctx, x, o) {
    const out = allocLike(x);
    x.backend.dropout(out, x, o.p, o.seed, o.offset);
    ctx.state = o;
    return out;
  },
  backward(ctx, g) {
    const dx = allocLike(g);
    g.backend.dropout(dx, g, ctx.state.p, ctx.state.seed, ctx.state.offset);
    return [dx];
  },
});
