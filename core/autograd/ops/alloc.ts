// Output allocation for ops: an f32 tensor on the same backend as the op's first input.
import type { Shape } from "../../tensor/shape.ts";
import { Tensor } from "../../tensor/tensor.ts";

export function allocLike(x: Tensor, shape: Shape = x.shape, dtype: Tensor["dtype"] = "f32"): Tensor {
  return Tensor.alloc(x.backend, shape, dtype);
}

/** A zero-filled f32 tensor like x (for gradients that are accumulated into). */
export function zerosLike(x: Tensor, shape: Shape = x.shape): Tensor {
  const t = Tensor.alloc(x.backend, shape, "f32");
  t.backend.fill(t, 0);
  return t;
}
