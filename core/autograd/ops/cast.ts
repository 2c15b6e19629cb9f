// dtype conversion as an op: bf16/f16 storage to f32 compute and back. Gradients are always f32.
import type { DType } from "../../tensor/dtype.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import { defineOp } from "../tape.ts";
import { allocLike } from "./alloc.ts";

export const cast = defineOp<[Tensor, DType], DType>({
  name: "cast",
  forward(ctx, x, dtype) {
    const out = allocLike(x, x.shape, dtype);
    x.backend.cast(out, x);
    ctx.state = x.dtype;
    return out;
  },
  backward(_ctx, g) {
    if (g.dtype === "f32") return [g.view(g.shape)];
    const dx = allocLike(g);
    g.backend.cast(dx, g);
    return [dx];
  },
});
