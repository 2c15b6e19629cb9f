// The gated feed-forward block: down(act(gate(x)) * up(x)) with SiLU (Llama, Qwen, Mistral) or the
// tanh GELU (Gemma); gate and up separate or fused into `gate_up_proj` (Phi-3).
import * as ops from "../autograd/ops/index.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { Linear } from "./linear.ts";
import { Module } from "./module.ts";

/** Any feed-forward block a decoder layer can hold (the dense MLP here; a sparse MoE in its family). */
export interface FeedForward extends Module {
  forward(x: Tensor): Tensor;
}

export type GatedActivation = "silu" | "gelu_tanh";

export interface MLPConfig {
  hiddenSize: number;
  intermediateSize: number;
  act: GatedActivation;
  bias: boolean;
  fusedGateUp: boolean;
}

export class MLP extends Module implements FeedForward {
  readonly gate_proj: Linear | null = null;
  readonly up_proj: Linear | null = null;
  readonly gate_up_proj: Linear | null = null;
  readonly down_proj: Linear;

  constructor(readonly cfg: MLPConfig) {
    super();
    const { hiddenSize: h, intermediateSize: i, bias } = cfg;
    if (cfg.fusedGateUp) {
      this.gate_up_proj = this.addModule("gate_up_proj", new Linear(h, 2 * i, { bias }));
    } else {
      this.gate_proj = this.addModule("gate_proj", new Linear(h, i, { bias }));
      this.up_proj = this.addModule("up_proj", new Linear(h, i, { bias }));
    }
    this.down_proj = this.addModule("down_proj", new Linear(i, h, { bias }));
  }

  /** x [..., hidden] -> [..., hidden] */
  forward(x: Tensor): Tensor {
    let gate: Tensor;
    let up: Tensor;
    if (this.gate_up_proj) {
      const gu = this.gate_up_proj.forward(x);
      const i = this.cfg.intermediateSize;
      gate = ops.slice(gu, -1, 0, i);
      up = ops.slice(gu, -1, i, 2 * i);
    } else {
      gate = this.gate_proj!.forward(x);
      up = this.up_proj!.forward(x);
    }
    const h = this.cfg.act === "silu" ? ops.swiglu(gate, up) : ops.mul(ops.geluTanh(gate), up);
    return this.down_proj.forward(h);
  }
}
