// c + alpha · (a @ op(b)) in one GEMM that accumulates into a copy of c (torch's addmm): what an adapter
// adds to its base layer's output (LoRA: base(x) + scale · (A x) Bᵀ). Against add(c, scale(matmul(a, b)))
// it saves the product's own buffer and two passes over [.., out] forward, and backward hands g to c as
// a view and folds alpha into the two gradient GEMMs rather than scaling g first.
// a [..., m, k] (leading dims flatten into rows), b 2-D [k, n] (or [n, k] with transB), c [..., m, n].
import { formatShape, ShapeError } from "../../tensor/shape.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import { defineOp } from "../tape.ts";
import { allocLike } from "./alloc.ts";

export interface AddmmOptions {
  transB?: boolean;
  /** The product's factor; default 1. */
  alpha?: number;
}

interface State {
  a: Tensor;
  b: Tensor;
  transB: boolean;
  alpha: number;
}

/** [..., r, c] as an untracked [(...)*r, c] view. */
function rows2d(t: Tensor): Tensor {
  const cols = t.shape[t.ndim - 1]!;
  return t.view([t.numel / Math.max(cols, 1), cols], t.byteOffset, false);
}

export const addmm = defineOp<[Tensor, Tensor, Tensor, AddmmOptions?], State>({
  name: "addmm",
  forward(ctx, c, a, b, opts = {}) {
    const transB = opts.transB ?? false;
    const alpha = opts.alpha ?? 1;
    if (a.ndim < 2 || b.ndim !== 2) throw new ShapeError(`addmm: a must have rank >= 2 and b rank 2, got ${formatShape(a.shape)} and ${formatShape(b.shape)}`);
    const n = transB ? b.shape[0]! : b.shape[1]!;
    const want = [...a.shape.slice(0, -1), n];
    if (c.ndim !== want.length || c.shape.some((d, i) => d !== want[i]))
      throw new ShapeError(`addmm: c ${formatShape(c.shape)} must have the product's shape ${formatShape(want)}`);
    if (!Number.isFinite(alpha)) throw new RangeError(`addmm: alpha must be a finite number, got ${alpha}`);
    const out = allocLike(c);
    c.backend.copy(out, c);
    const a2 = rows2d(a);
    const out2 = rows2d(out);
    try {
      c.backend.matmul(out2, a2, b, { transB, alpha, beta: 1 });
    } finally {
      a2.dispose();
      out2.dispose();
    }
    ctx.state = { a: ctx.needsGrad[2] ? ctx.save(a) : a, b: ctx.needsGrad[1] ? ctx.save(b) : b, transB, alpha };
    return out;
  },
  backward(ctx, g) {
    const { a, b, transB, alpha } = ctx.state;
    const g2 = rows2d(g);
    try {
      // d a = alpha · g @ op(b)ᵀ
      let da: Tensor | null = null;
      if (ctx.needsGrad[1]) {
        da = allocLike(a);
        const da2 = rows2d(da);
        try {
          g.backend.matmul(da2, g2, b, { transB: !transB, alpha });
        } finally {
          da2.dispose();
        }
      }
      // d b = alpha · aᵀ @ g, or its transpose (alpha · gᵀ @ a) when b is used transposed
      let db: Tensor | null = null;
      if (ctx.needsGrad[2]) {
        db = allocLike(b);
        const a2 = rows2d(a);
        try {
          if (transB) g.backend.matmul(db, g2, a2, { transA: true, alpha });
          else g.backend.matmul(db, a2, g2, { transA: true, alpha });
        } finally {
          a2.dispose();
        }
      }
      return [ctx.needsGrad[0] ? g.view(g.shape) : null, da, db];
    } finally {
      g2.dispose();
    }
  },
});
