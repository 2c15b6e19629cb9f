// Softmax over the last dim. The backward needs only the output y: dx = y * (dy - sum(dy * y)).
import { expectArray } from "../../backend/check.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import { defineOp } from "../tape.ts";
import { allocLike } from "./alloc.ts";

export const softmax = defineOp<[Tensor], { y: Tensor }>({
  name: "softmax",
  forward(ctx, x) {
    expectArray("softmax", "input", x, "f32");
    const out = allocLike(x);
    x.backend.softmaxForward(out, x);
    ctx.state = { y: ctx.save(out) };
    return out;
  },
  backward(ctx, g) {
    const { y } = ctx.state;
    const dx = allocLike(y);
    g.backend.softmaxBackward(dx, g, y);
    return [dx];
  },
});
