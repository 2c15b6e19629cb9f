// RMSNorm as a module: weight [dim], eps, and an optional weight offset (scale by (1 + w), stored as w).
import * as ops from "../autograd/ops/index.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { asF32 } from "./linear.ts";
import { Module, type ParamSlot } from "./module.ts";

export interface RMSNormOptions {
  eps: number;
  /** 1 scales by (1 + w); its weights then start at 0. Default 0. */
  weightOffset?: number;
}

export class RMSNorm extends Module {
  private readonly w: ParamSlot;
  readonly eps: number;
  readonly weightOffset: number;

  constructor(
    readonly dim: number,
    opts: RMSNormOptions,
  ) {
    super();
    this.eps = opts.eps;
    this.weightOffset = opts.weightOffset ?? 0;
    // Initialised so the scale starts at 1 either way.
    this.w = this.declareParameter("weight", [dim], this.weightOffset === 0 ? "ones" : "zeros");
  }

  get weight(): Tensor {
    return this.tensorOf(this.w, "norm weight");
  }

  /** Normalises over the last dim (any rank: per-head q/k norms run on [B, T, H, headDim]). */
  forward(x: Tensor): Tensor {
    return ops.rmsNorm(x, asF32(this.weight), { eps: this.eps, weightOffset: this.weightOffset });
  }
}
