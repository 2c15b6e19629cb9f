// Reductions: sum and mean over everything (to a scalar of shape []) or over the last dim.
import type { Tensor } from "../../tensor/tensor.ts";
import { defineOp } from "../tape.ts";
import { allocLike } from "./alloc.ts";

function total(name: string, mean: boolean) {
  return defineOp<[Tensor], { shape: readonly number[]; s: number }>({
    name,
    forward(ctx, x) {
      const out = allocLike(x, []);
      const v = x.backend.sum(x);
      out.backend.fill(out, mean ? v / Math.max(x.numel, 1) : v);
      ctx.state = { shape: x.shape, s: mean ? 1 / Math.max(x.numel, 1) : 1 };
      return out;
    },
    backward(ctx, g) {
      const dx = allocLike(g, ctx.state.shape);
      if (dx.numel === 0) return [dx];
      // Viewed as one row: every element gets g * s.
      const row = dx.view([1, dx.numel], dx.byteOffset, true);
      g.backend.expandRows(row, g, ctx.state.s);
      return [dx];
    },
  });
}

export const sum = total("sum", false);
export const mean = total("mean", true);

function lastDim(name: string, mean: boolean) {
  return defineOp<[Tensor], { shape: readonly number[]; s: number }>({
    name,
    forward(ctx, x) {
      const cols = x.shape[x.ndim - 1] ?? 1;
      const out = allocLike(x, x.shape.slice(0, -1));
      // An empty last dim sums to 0 per row (the backend's [rows, cols] view has no rows when cols is 0).
      if (cols === 0) out.backend.fill(out, 0);
      else x.backend.sumRows(out, x);
      const s = mean ? 1 / Math.max(cols, 1) : 1;
      if (mean) out.backend.scale(out, out, s);
      ctx.state = { shape: x.shape, s };
      return out;
    },
    backward(ctx, g) {
      const dx = allocLike(g, ctx.state.shape);
      if (dx.numel > 0) g.backend.expandRows(dx, g, ctx.state.s);
      return [dx];
    },
  });
}

/** Sum over the last dim: [..., n] -> [...]. */
export const sumLastDim = lastDim("sumLastDim", false);
export const meanLastDim = lastDim("meanLastDim", true);
