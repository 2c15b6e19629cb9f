// The gated feed-forward block: down(act(gate(x)) * up(x)) with SiLU (fused with the product: swiglu)
// or the tanh GELU. `gatedActivation` is the product alone, for families whose projections differ.
import * as ops from "../autograd/ops/index.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { Linear } from "./linear.ts";
import { Module } from "./module.ts";

/** Any feed-forward block a decoder layer can hold (the dense MLP here; a sparse MoE in its family). */
export interface FeedForward extends Module {
  forward(x: Tensor): Tensor;
}

export type GatedActivation = "silu" | "gelu_tanh";

/** act(gate) * up, same shapes. */
export function gatedActivation(act: GatedActivation, gate: Tensor, up: Tensor): Tensor {
  return act === "silu" ? ops.swiglu(gate, up) : ops.mul(ops.geluTanh(gate), up);
}

export interface MLPConfig {
  hiddenSize: number;
  intermediateSize: number;
  act: GatedActivation;
  bias: boolean;
}

export class MLP extends Module implements FeedForward {
  readonly gate_proj: Linear;
  readonly up_proj: Linear;
  readonly down_proj: Linear;

  constructor(readonly cfg: MLPConfig) {
    super();
    const { hiddenSize: h, intermediateSize: i, bias } = cfg;
    this.gate_proj = this.addModule("gate_proj", new Linear(h, i, { bias }));
    this.up_proj = this.addModule("up_proj", new Linear(h, i, { bias }));
    this.down_proj = this.addModule("down_proj", new Linear(i, h, { bias }));
  }

  /** x [..., hidden] -> [..., hidden] */
  forward(x: Tensor): Tensor {
    return this.down_proj.forward(gatedActivation(this.cfg.act, this.gate_proj.forward(x), this.up_proj.forward(x)));
  }
}
