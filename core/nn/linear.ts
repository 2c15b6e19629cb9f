// Linear (y = x W^T + b, W [out, in] as HF stores it) with an adapter slot, and Embedding. Frozen weights
// may be stored in bf16/f16: they are cast to f32 inside the op and re-cast in backward, so a half
// weight is never kept as an f32 copy between forward and backward.

import * as ops from "../autograd/ops/index.ts";
import { defineOp } from "../autograd/tape.ts";
import { expectArray } from "../backend/check.ts";
import { formatShape, ShapeError } from "../tensor/shape.ts";
import { Tensor } from "../tensor/tensor.ts";
import { Module, type ParamSlot } from "./module.ts";

/**
 * What LoRA-style methods put in a Linear's slot: given the layer input and the base output, return
 * the adapted output. An adapter that is a Module has its parameters listed under the Linear's path
 * (`...q_proj.lora_A.weight`, the PEFT names).
 */
export interface LinearAdapter {
  forward(x: Tensor, baseOut: Tensor): Tensor;
}

/** Casts half storage to a fresh f32 tensor outside autograd (caller disposes). */
function castToF32(w: Tensor): Tensor {
  const wf = Tensor.alloc(w.backend, w.shape, "f32", false);
  w.backend.cast(wf, w);
  return wf;
}

/** x [..., in] @ w^T for a frozen half weight w [out, in]: gradient to x only, w re-cast in backward. */
const halfLinear = defineOp<[Tensor, Tensor], { w: Tensor }>({
  name: "halfLinear",
  forward(ctx, x, w) {
    expectArray("linear", "input", x, "f32");
    if (x.shape[x.ndim - 1] !== w.shape[1])
      throw new ShapeError(`linear: input ${formatShape(x.shape)} does not end in the weight's in-features (${formatShape(w.shape)})`);
    const wf = castToF32(w);
    const out = Tensor.alloc(x.backend, [...x.shape.slice(0, -1), w.shape[0]!], "f32");
    try {
      x.backend.matmul(out, x, wf, { transB: true });
    } finally {
      wf.dispose();
    }
    ctx.state = { w: ctx.save(w) };
    return out;
  },
  backward(ctx, g) {
    const { w } = ctx.state;
    const wf = castToF32(w);
    const dx = Tensor.alloc(g.backend, [...g.shape.slice(0, -1), w.shape[1]!], "f32");
    try {
      g.backend.matmul(dx, g, wf, {});
    } finally {
      wf.dispose();
    }
    return [dx, null];
  },
});

/** x @ w^T whatever w's storage: f32 through the differentiable matmul, half through halfLinear. */
export function linearForward(x: Tensor, w: Tensor): Tensor {
  return w.dtype === "f32" ? ops.matmul(x, w, { transB: true }) : halfLinear(x, w);
}

/** t as f32 inside the graph (half storage is cast per use). */
export function asF32(t: Tensor): Tensor {
  return t.dtype === "f32" ? t : ops.cast(t, "f32");
}

export interface LinearOptions {
  bias?: boolean;
}

export class Linear extends Module {
  private readonly w: ParamSlot;
  private readonly b: ParamSlot | null;
  /** Set by a method (LoRA, DoRA, ...) to adapt this layer without replacing it. */
  adapter: LinearAdapter | null = null;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    opts: LinearOptions = {},
  ) {
    super();
    this.w = this.declareParameter("weight", [outFeatures, inFeatures]);
    this.b = opts.bias ? this.declareParameter("bias", [outFeatures], "zeros") : null;
  }

  get weight(): Tensor {
    return this.tensorOf(this.w, "linear weight");
  }

  get bias(): Tensor | null {
    return this.b ? this.tensorOf(this.b, "linear bias") : null;
  }

  override namedSlots(prefix = "", adapters = true): [string, ParamSlot][] {
    const own = super.namedSlots(prefix, adapters);
    return adapters && this.adapter instanceof Module ? [...own, ...this.adapter.namedSlots(prefix)] : own;
  }

  /** x [..., in] -> [..., out] */
  forward(x: Tensor): Tensor {
    let y = linearForward(x, this.weight);
    const bias = this.bias;
    if (bias) y = ops.add(y, asF32(bias));
    return this.adapter ? this.adapter.forward(x, y) : y;
  }
}

/**
 * Row gather from a half table without casting the table: a bf16/f16 row of D values is D/2 f32 words,
 * so gathering from the table reinterpreted as f32 [V, D/2] moves exactly the half rows.
 */
function gatherHalfRows(table: Tensor, ids: Tensor): Tensor {
  const [V, D] = table.shape as [number, number];
  if (D % 2 !== 0) {
    const wf = ops.cast(table, "f32");
    const out = ops.embedding(wf, ids);
    wf.dispose();
    return out;
  }
  table.storage.retain();
  const asWords = new Tensor([V, D / 2], "f32", table.storage, table.byteOffset, false);
  try {
    const words = ops.embedding(asWords, ids);
    words.storage.retain();
    const half = new Tensor([...ids.shape, D], table.dtype, words.storage, words.byteOffset, false);
    words.dispose();
    try {
      return ops.cast(half, "f32");
    } finally {
      half.dispose();
    }
  } finally {
    asWords.dispose();
  }
}

export class Embedding extends Module {
  private readonly w: ParamSlot;
  constructor(
    readonly numEmbeddings: number,
    readonly dim: number,
  ) {
    super();
    this.w = this.declareParameter("weight", [numEmbeddings, dim]);
  }

  get weight(): Tensor {
    return this.tensorOf(this.w, "embedding weight");
  }

  /** ids [...] i32 -> [..., dim] f32 */
  forward(ids: Tensor): Tensor {
    const w = this.weight;
    return w.dtype === "f32" ? ops.embedding(w, ids) : gatherHalfRows(w, ids);
  }
}
