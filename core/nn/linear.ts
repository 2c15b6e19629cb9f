// Linear (y = x W^T + b, W [out, in] as HF stores it) with an adapter slot, and Embedding. Frozen weights
// may be stored in bf16/f16: they are cast to f32 inside the op and re-cast in backward, so a half
// weight is never kept as an f32 copy between forward and backward.

import { err, ok, type Result } from "neverthrow";
import * as ops from "../autograd/ops/index.ts";
import { defineOp } from "../autograd/tape.ts";
import type { Backend } from "../backend/backend.ts";
import { expectArray } from "../backend/check.ts";
import { formatShape, ShapeError } from "../tensor/shape.ts";
import { Tensor } from "../tensor/tensor.ts";
import { Module, ModuleError, type ParamSlot } from "./module.ts";

/**
 * What LoRA-style methods put in a Linear's slot: given the layer input and the base output, return
 * the adapted output. An adapter that is a Module has its parameters listed under the Linear's path
 * (`...q_proj.lora_A.weight`, the PEFT names).
 */
export interface LinearAdapter {
  forward(x: Tensor, baseOut: Tensor): Tensor;
}

/**
 * A frozen base weight [rows = out, cols = in] held in a form only its owner understands (a quantised
 * format, say): the Linear calls it for y = x·Wᵀ and for the input gradient g·W, and never sees the
 * values. The format belongs to the plugin that installs it (Linear.freezeWeight); no weight gradient.
 */
export interface FrozenWeight {
  readonly rows: number;
  readonly cols: number;
  /** A short name of the storage format, for messages and reports ("nf4", "int8", ...). */
  readonly format: string;
  /** Bytes this weight holds. */
  readonly bytes: number;
  readonly backend: Backend;
  /** out [..., rows] = x [..., cols] · Wᵀ (preallocated f32 out). */
  forward(out: Tensor, x: Tensor): void;
  /** out [..., cols] = g [..., rows] · W. */
  backwardInput(out: Tensor, g: Tensor): void;
  /** The weight's values as a fresh f32 tensor [rows, cols] (caller disposes): for merging and export. */
  dequantize(): Tensor;
  dispose(): void;
}

/** x [..., in] @ Wᵀ for a FrozenWeight: gradient to x only. */
const frozenLinear = defineOp<[Tensor, FrozenWeight], { w: FrozenWeight }>({
  name: "frozenLinear",
  forward(ctx, x, w) {
    expectArray("linear", "input", x, "f32");
    if (x.shape[x.ndim - 1] !== w.cols)
      throw new ShapeError(`linear: input ${formatShape(x.shape)} does not end in the ${w.format} weight's in-features (${w.cols})`);
    const out = Tensor.alloc(x.backend, [...x.shape.slice(0, -1), w.rows], "f32");
    w.forward(out, x);
    ctx.state = { w };
    return out;
  },
  backward(ctx, g) {
    const { w } = ctx.state;
    const dx = Tensor.alloc(g.backend, [...g.shape.slice(0, -1), w.cols], "f32");
    w.backwardInput(dx, g);
    return [dx];
  },
});

/** Casts half storage to a fresh f32 tensor outside autograd (caller disposes). */
function castToF32(w: Tensor): Tensor {
  const wf = Tensor.alloc(w.backend, w.shape, "f32", false);
  w.backend.cast(wf, w);
  return wf;
}

/**
 * Up to this many rows (a decode step, a small batch of them) a backend with `halfLinear` reads the half
 * weight as stored; past it, one cast to f32 and a GEMM are faster.
 */
const HALF_DIRECT_ROWS = 8;

/** x [..., in] @ w^T for a frozen half weight w [out, in]: gradient to x only, w re-cast in backward. */
const halfLinear = defineOp<[Tensor, Tensor], { w: Tensor }>({
  name: "halfLinear",
  forward(ctx, x, w) {
    expectArray("linear", "input", x, "f32");
    if (x.shape[x.ndim - 1] !== w.shape[1])
      throw new ShapeError(`linear: input ${formatShape(x.shape)} does not end in the weight's in-features (${formatShape(w.shape)})`);
    const out = Tensor.alloc(x.backend, [...x.shape.slice(0, -1), w.shape[0]!], "f32");
    const rows = x.numel / w.shape[1]!;
    if (rows <= HALF_DIRECT_ROWS && x.backend.halfLinear) x.backend.halfLinear(out, x, w);
    else {
      const wf = castToF32(w);
      try {
        x.backend.matmul(out, x, wf, { transB: true });
      } finally {
        wf.dispose();
      }
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
  private frozenWeight: FrozenWeight | null = null;

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
    if (this.frozenWeight)
      throw new ModuleError(`this linear layer's weight is stored as ${this.frozenWeight.format}: use dequantize() for its values (or thaw the layer first)`);
    return this.tensorOf(this.w, "linear weight");
  }

  /** The frozen weight installed by freezeWeight, if any. */
  get frozen(): FrozenWeight | null {
    return this.frozenWeight;
  }

  /** Where this layer's weight lives. */
  get backend(): Backend {
    return this.frozenWeight?.backend ?? this.weight.backend;
  }

  /**
   * Replaces the weight by a FrozenWeight of the same shape (the layer takes ownership; the dense
   * tensor, if any, is freed). The weight slot is then empty and hidden: saving needs thawWeight first.
   */
  freezeWeight(w: FrozenWeight): Result<void, ModuleError> {
    if (w.rows !== this.outFeatures || w.cols !== this.inFeatures)
      return err(new ModuleError(`a ${w.format} weight [${w.rows}, ${w.cols}] does not fit a linear layer [${this.outFeatures}, ${this.inFeatures}]`));
    this.frozenWeight?.dispose();
    this.w.tensor?.dispose();
    this.w.tensor = null;
    this.w.trainable = false;
    this.frozenWeight = w;
    return ok(undefined);
  }

  /** Turns a frozen weight back into a dense one of `dtype` (for merging adapters and export). */
  thawWeight(dtype: "f32" | "bf16" | "f16" = "f32"): void {
    const w = this.frozenWeight;
    if (!w) return;
    const dense = w.dequantize();
    this.frozenWeight = null;
    w.dispose();
    if (dtype === "f32") {
      this.setParameter("weight", dense)._unsafeUnwrap();
      return;
    }
    const half = Tensor.alloc(dense.backend, dense.shape, dtype, false);
    dense.backend.cast(half, dense);
    dense.dispose();
    this.setParameter("weight", half)._unsafeUnwrap();
  }

  protected override localSlots(): Iterable<[string, ParamSlot]> {
    const own = [...super.localSlots()];
    return this.frozenWeight ? own.filter(([name]) => name !== "weight") : own;
  }

  protected override releaseOwned(): void {
    this.frozenWeight?.dispose();
    this.frozenWeight = null;
  }

  /** Whether the layer has a bias slot (known before any tensor is loaded). */
  get hasBias(): boolean {
    return this.b !== null;
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
    const y = this.frozenWeight ? frozenLinear(x, this.frozenWeight) : linearForward(x, this.weight);
    const bias = this.bias;
    const yb = bias ? ops.add(y, asF32(bias)) : y;
    const out = this.adapter ? this.adapter.forward(x, yb) : yb;
    // Intermediates this layer made and did not return are dead (an op keeps what its backward needs as
    // its own view): free them now rather than when the step's scope ends.
    if (yb !== y) y.dispose();
    if (out !== yb) yb.dispose();
    return out;
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
