// Matrix multiply with optional transposes and leading batch dims on a; b is 2-D (shared across the
// batch, as a Linear weight is) or carries the same batch dims. Backward is two more matmuls.
import { formatShape, numel, ShapeError } from "../../tensor/shape.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import { defineOp } from "../tape.ts";
import { allocLike } from "./alloc.ts";

export interface MatmulFlags {
  transA?: boolean;
  transB?: boolean;
}

function outShape(a: Tensor, b: Tensor, f: MatmulFlags): number[] {
  if (a.ndim < 2 || b.ndim < 2) throw new ShapeError(`matmul: operands need rank >= 2, got ${formatShape(a.shape)} and ${formatShape(b.shape)}`);
  const [ar, ac] = a.shape.slice(-2) as [number, number];
  const [br, bc] = b.shape.slice(-2) as [number, number];
  return [...a.shape.slice(0, -2), f.transA ? ac : ar, f.transB ? br : bc];
}

/** c[i] = op(b) @ op(a[i]) with b 2-D and shared: the backend wants the batched operand first, so loop. */
function batchedShared(c: Tensor, a: Tensor, b: Tensor, f: MatmulFlags): void {
  const batch = numel(a.shape.slice(0, -2));
  const aItem = a.shape.slice(-2);
  const itemBytes = numel(aItem) * 4;
  for (let i = 0; i < batch; i++) {
    const ai = a.view(aItem, a.byteOffset + i * itemBytes, false);
    try {
      const ci = c.view(c.shape.slice(-2), c.byteOffset + i * numel(c.shape.slice(-2)) * 4, false);
      try {
        c.backend.matmul(ci, b, ai, f);
      } finally {
        ci.dispose();
      }
    } finally {
      ai.dispose();
    }
  }
}

/** Flattens a [..., r, c] tensor to [(...)*r, c] as an untracked view. */
function flat2d(t: Tensor): Tensor {
  const c = t.shape[t.ndim - 1]!;
  return t.view([numel(t.shape) / c, c], t.byteOffset, false);
}

export const matmul = defineOp<[Tensor, Tensor, MatmulFlags?], { a: Tensor; b: Tensor; f: MatmulFlags }>({
  name: "matmul",
  forward(ctx, a, b, f = {}) {
    const c = allocLike(a, outShape(a, b, f));
    a.backend.matmul(c, a, b, f);
    ctx.state = { a: ctx.needsGrad[1] ? ctx.save(a) : a, b: ctx.needsGrad[0] ? ctx.save(b) : b, f };
    return c;
  },
  backward(ctx, g) {
    const { a, b, f } = ctx.state;
    const shared = b.ndim === 2 && a.ndim > 2;
    let da: Tensor | null = null;
    let db: Tensor | null = null;
    if (ctx.needsGrad[0]) {
      da = allocLike(a);
      if (!f.transA) {
        g.backend.matmul(da, g, b, { transB: !f.transB });
      } else if (!shared) {
        g.backend.matmul(da, b, g, { transA: f.transB, transB: true });
      } else {
        // dA[i] = op(B) @ G[i]^T with B shared: the backend wants the batched operand first.
        batchedShared(da, g, b, { transA: f.transB, transB: true });
      }
    }
    if (ctx.needsGrad[1]) {
      db = allocLike(b);
      if (shared && !f.transA) {
        // Sum over the batch = one GEMM over the flattened rows.
        const a2 = flat2d(a);
        const g2 = flat2d(g);
        try {
          if (!f.transB) g.backend.matmul(db, a2, g2, { transA: true });
          else g.backend.matmul(db, g2, a2, { transA: true });
        } finally {
          a2.dispose();
          g2.dispose();
        }
      } else if (shared) {
        // Here a is transposed: dB = sum_i A[i] @ G[i] (or its transpose when b is).
        if (!f.transB) batchedSum(db, a, g, { transA: false, transB: false });
        else batchedSum(db, g, a, { transA: true, transB: true });
      } else if (!f.transB) {
        g.backend.matmul(db, a, g, { transA: !f.transA });
      } else {
        g.backend.matmul(db, g, a, { transA: true, transB: f.transA });
      }
    }
    return [da, db];
  },
});

/** c = sum_i op(x[i]) @ op(y[i]) over the batch dims of x and y (both batched). */
function batchedSum(c: Tensor, x: Tensor, y: Tensor, f: MatmulFlags): void {
  const batch = numel(x.shape.slice(0, -2));
  const xs = x.shape.slice(-2);
  const ys = y.shape.slice(-2);
  for (let i = 0; i < batch; i++) {
    const xi = x.view(xs, x.byteOffset + i * numel(xs) * 4, false);
    const yi = y.view(ys, y.byteOffset + i * numel(ys) * 4, false);
    try {
      c.backend.matmul(c, xi, yi, { ...f, beta: i > 0 ? 1 : 0 });
    } finally {
      xi.dispose();
      yi.dispose();
    }
  }
}
