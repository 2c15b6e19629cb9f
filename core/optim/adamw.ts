// AdamW over a list of f32 parameters, one fused native step per tensor. Moments are f32 and live
// until dispose(). Parameters without a gradient this step are skipped (frozen or unused): as in
// torch.optim.AdamW, each keeps its own step count, so its bias correction counts only its own updates.
import { Tensor } from "../tensor/tensor.ts";

export interface AdamWOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
}

/** Per-parameter state: the two moments and how many updates this parameter has had. */
interface ParamState {
  m: Tensor;
  v: Tensor;
  step: number;
}

export class AdamW {
  private readonly state = new Map<Tensor, ParamState>();
  /** update() calls so far (a parameter's own bias-correction count may be lower: see ParamState). */
  step = 0;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  lr: number;

  constructor(
    readonly params: readonly Tensor[],
    o: AdamWOptions,
  ) {
    this.lr = o.lr;
    this.beta1 = o.beta1 ?? 0.9;
    this.beta2 = o.beta2 ?? 0.999;
    this.eps = o.eps ?? 1e-8;
    this.weightDecay = o.weightDecay ?? 0;
  }

  private stateOf(p: Tensor): ParamState {
    let st = this.state.get(p);
    if (!st) {
      // Untracked: moments outlive the step scope they are first created in.
      const make = (): Tensor => {
        const z = Tensor.alloc(p.backend, p.shape, "f32", false);
        z.backend.fill(z, 0);
        return z;
      };
      st = { m: make(), v: make(), step: 0 };
      this.state.set(p, st);
    }
    return st;
  }

  /** One update with the current gradients. */
  update(): void {
    this.step++;
    for (const p of this.params) {
      if (!p.grad) continue;
      const st = this.stateOf(p);
      const hyper = { lr: this.lr, beta1: this.beta1, beta2: this.beta2, eps: this.eps, weightDecay: this.weightDecay, step: st.step + 1 };
      p.backend.adamwStep(p, p.grad, st.m, st.v, hyper);
      st.step++;
    }
  }

  zeroGrad(): void {
    for (const p of this.params) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  dispose(): void {
    for (const { m, v } of this.state.values()) {
      m.dispose();
      v.dispose();
    }
    this.state.clear();
  }
}
