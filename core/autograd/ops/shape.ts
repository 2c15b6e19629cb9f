// Shape ops: reshape (a free view), transpose/permute (copies), concat and slice along any axis
// (row copies: one native call per operand). They work for every dtype; gradients flow for f32.
import { DTYPE_BYTES } from "../../tensor/dtype.ts";
import { checkedNumel, formatShape, normAxis, numel, ShapeError } from "../../tensor/shape.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import { defineOp } from "../tape.ts";
import { allocLike, zerosLike } from "./alloc.ts";

/** Resolves one -1 dimension; every other dim must be a non-negative safe integer (products checked). */
function resolveShape(x: Tensor, shape: readonly number[]): number[] {
  const known = shape.filter((d) => d !== -1);
  const free = shape.length - known.length;
  if (free > 1) throw new ShapeError(`reshape: at most one -1 allowed in ${formatShape(shape)}`);
  const out = [...shape];
  if (free === 1) {
    const k = checkedNumel(known, `reshape to ${formatShape(shape)}`);
    if (k === 0 || x.numel % k !== 0)
      throw new ShapeError(`reshape: cannot infer -1 in ${formatShape(shape)} for ${x.numel} elements of ${formatShape(x.shape)}`);
    out[out.indexOf(-1)] = x.numel / k;
  } else checkedNumel(shape, "reshape");
  if (numel(out) !== x.numel)
    throw new ShapeError(`reshape: ${formatShape(x.shape)} (${x.numel} elements) cannot become ${formatShape(shape)} (${numel(out)})`);
  return out;
}

export const reshape = defineOp<[Tensor, readonly number[]], readonly number[]>({
  name: "reshape",
  forward(ctx, x, shape) {
    ctx.state = x.shape;
    return x.view(resolveShape(x, shape));
  },
  backward(ctx, g) {
    return [g.view(ctx.state)];
  },
});

export const permute = defineOp<[Tensor, readonly number[]], readonly number[]>({
  name: "permute",
  forward(ctx, x, perm) {
    const p = perm.map((a) => normAxis(a, x.ndim, "permute"));
    const out = allocLike(
      x,
      p.map((a) => x.shape[a]!),
      x.dtype,
    );
    x.backend.permute(out, x, p);
    ctx.state = p;
    return out;
  },
  backward(ctx, g) {
    const inv = new Array<number>(ctx.state.length);
    ctx.state.forEach((a, i) => {
      inv[a] = i;
    });
    const dx = allocLike(
      g,
      inv.map((a) => g.shape[a]!),
    );
    g.backend.permute(dx, g, inv);
    return [dx];
  },
});

export function transpose(x: Tensor, dim0 = -2, dim1 = -1): Tensor {
  const a = normAxis(dim0, x.ndim, "transpose");
  const b = normAxis(dim1, x.ndim, "transpose");
  const perm = x.shape.map((_, i) => i);
  [perm[a], perm[b]] = [perm[b]!, perm[a]!];
  return permute(x, perm);
}

/** Rows before the axis, and bytes per row from the axis on. */
function split(shape: readonly number[], axis: number, bytes: number): [number, number] {
  return [numel(shape.slice(0, axis)), numel(shape.slice(axis)) * bytes];
}

export const concat = defineOp<[readonly Tensor[], number], { axis: number; sizes: number[]; shape: readonly number[] }>({
  name: "concat",
  forward(ctx, xs, axisIn) {
    if (xs.length === 0) throw new ShapeError("concat: needs at least one tensor");
    const first = xs[0]!;
    const axis = normAxis(axisIn, first.ndim, "concat");
    for (const [i, x] of xs.entries()) {
      const ok = x.ndim === first.ndim && x.dtype === first.dtype && x.shape.every((d, j) => j === axis || d === first.shape[j]);
      if (!ok)
        throw new ShapeError(
          `concat: tensor ${i} ${formatShape(x.shape)} ${x.dtype} does not match tensor 0 ${formatShape(first.shape)} ${first.dtype} outside axis ${axis}`,
        );
    }
    const sizes = xs.map((x) => x.shape[axis]!);
    const shape = [...first.shape];
    shape[axis] = sizes.reduce((a, b) => a + b, 0);
    const out = allocLike(first, shape, first.dtype);
    const bytes = DTYPE_BYTES[first.dtype];
    const [rows, outRow] = split(shape, axis, bytes);
    let off = 0;
    for (const x of xs) {
      const [, row] = split(x.shape, axis, bytes);
      out.backend.copyRows(out, off, outRow, x, 0, row, rows, row);
      off += row;
    }
    ctx.state = { axis, sizes, shape };
    return out;
  },
  backward(ctx, g) {
    const { axis, sizes } = ctx.state;
    const [rows, gRow] = split(g.shape, axis, 4);
    let off = 0;
    return sizes.map((size, i) => {
      const shape = [...g.shape];
      shape[axis] = size;
      const [, row] = split(shape, axis, 4);
      const start = off;
      off += row;
      if (!ctx.needsGrad[i]) return null;
      const dx = allocLike(g, shape);
      g.backend.copyRows(dx, 0, row, g, start, gRow, rows, row);
      return dx;
    });
  },
});

export const slice = defineOp<[Tensor, number, number, number], { axis: number; start: number; shape: readonly number[] }>({
  name: "slice",
  forward(ctx, x, axisIn, start, end) {
    const axis = normAxis(axisIn, x.ndim, "slice");
    const len = x.shape[axis]!;
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > len || start > end) {
      throw new ShapeError(`slice: [${start}, ${end}) is not a valid range of axis ${axis} (length ${len}) of ${formatShape(x.shape)}`);
    }
    const shape = [...x.shape];
    shape[axis] = end - start;
    const out = allocLike(x, shape, x.dtype);
    const bytes = DTYPE_BYTES[x.dtype];
    const [rows, inRow] = split(x.shape, axis, bytes);
    const [, outRow] = split(shape, axis, bytes);
    const inner = outRow / Math.max(end - start, 1);
    x.backend.copyRows(out, 0, outRow, x, start * inner, inRow, rows, outRow);
    ctx.state = { axis, start, shape: x.shape };
    return out;
  },
  backward(ctx, g) {
    const { axis, start, shape } = ctx.state;
    const dx = zerosLike(g, shape);
    const [rows, inRow] = split(shape, axis, 4);
    const [, outRow] = split(g.shape, axis, 4);
    const inner = outRow / Math.max(g.shape[axis]!, 1);
    g.backend.copyRows(dx, start * inner, inRow, g, 0, outRow, rows, outRow);
    return [dx];
  },
});
