// add, sub, mul, div with b broadcast over a's leading dims (b's shape is a suffix of a's), and scale.
// add and mul are symmetric, so either operand may be the broadcast one.
import type { BinaryOp } from "../../backend/backend.ts";
import { formatShape, isSuffixShape, ShapeError } from "../../tensor/shape.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import { defineOp } from "../tape.ts";
import { allocLike } from "./alloc.ts";

function binary(op: BinaryOp) {
  return defineOp<[Tensor, Tensor], { a: Tensor; b: Tensor }>({
    name: op,
    forward(ctx, a, b) {
      if (!isSuffixShape(a.shape, b.shape)) {
        throw new ShapeError(
          `${op}: b ${formatShape(b.shape)} must equal a ${formatShape(a.shape)} or its trailing dims (it broadcasts over a's leading dims)`,
        );
      }
      const out = allocLike(a);
      a.backend.binaryForward(op, out, a, b);
      const needsValues = op === "mul" || op === "div";
      ctx.state = { a: needsValues ? ctx.save(a) : a, b: needsValues ? ctx.save(b) : b };
      return out;
    },
    backward(ctx, g) {
      const { a, b } = ctx.state;
      const needsValues = op === "mul" || op === "div";
      // add/sub pass g through to a unchanged (a has g's shape): a view of it, as reshape's backward
      // returns, saves a copy of the residual stream's gradient per layer; b gets its own buffer.
      if (!needsValues && ctx.needsGrad[0]) {
        const db = ctx.needsGrad[1] ? allocLike(b) : null;
        if (db) g.backend.binaryBackward(op, null, db, g, g, shapeOnly(g, b));
        return [g.view(g.shape), db];
      }
      const da = ctx.needsGrad[0] ? allocLike(a) : null;
      const db = ctx.needsGrad[1] ? allocLike(b) : null;
      // add/sub read neither value: pass g for both so no saved tensor is needed.
      g.backend.binaryBackward(op, da, db, g, needsValues ? a : g, needsValues ? b : shapeOnly(g, b));
      return [da, db];
    },
  });
}

/** For add/sub the kernel reads only b's size: a view of g with b's shape carries it without saving b. */
function shapeOnly(g: Tensor, b: Tensor): Tensor {
  return g.view(b.shape, g.byteOffset, true);
}

const addOp = binary("add");
const subOp = binary("sub");
const mulOp = binary("mul");
const divOp = binary("div");

/** True when only a broadcasts (a is a proper suffix of b): swap so the broadcast operand comes second.
 * Otherwise keep the caller's order, so a shape error names the operands as they were passed. */
function swapForBroadcast(a: Tensor, b: Tensor): boolean {
  return !isSuffixShape(a.shape, b.shape) && isSuffixShape(b.shape, a.shape);
}

/** a + b; either may broadcast over the other's leading dims. */
export function add(a: Tensor, b: Tensor): Tensor {
  return swapForBroadcast(a, b) ? addOp(b, a) : addOp(a, b);
}

export function sub(a: Tensor, b: Tensor): Tensor {
  return subOp(a, b);
}

/** a * b; either may broadcast over the other's leading dims. */
export function mul(a: Tensor, b: Tensor): Tensor {
  return swapForBroadcast(a, b) ? mulOp(b, a) : mulOp(a, b);
}

export function div(a: Tensor, b: Tensor): Tensor {
  return divOp(a, b);
}

export const scale = defineOp<[Tensor, number], number>({
  name: "scale",
  forward(ctx, x, s) {
    const out = allocLike(x);
    x.backend.scale(out, x, s);
    ctx.state = s;
    return out;
  },
  backward(ctx, g) {
    const dx = allocLike(g);
    g.backend.scale(dx, g, ctx.state);
    return [dx];
  },
});
