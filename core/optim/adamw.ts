// AdamW over a list of f32 parameters, one fused native step per tensor. Moments are f32 and live
// until dispose(). Parameters without a gradient this step are skipped (frozen or unused).
import { Tensor } from "../tensor/tensor.ts";

export interface AdamWOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
}

export class AdamW {
  private readonly moments = new Map<Tensor, [Tensor, Tensor]>();
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

  private momentsOf(p: Tensor): [Tensor, Tensor] {
    let mv = this.moments.get(p);
    if (!mv) {
      // Untracked: moments outlive the step scope they are first created in.
      const make = (): Tensor => {
        const z = Tensor.alloc(p.backend, p.shape, "f32", false);
        z.backend.fill(z, 0);
        return z;
      };
      mv = [make(), make()];
      this.moments.set(p, mv);
    }
    return mv;
  }

  /** One update with the current gradients. */
  update(): void {
    this.step++;
    for (const p of this.params) {
      if (!p.grad) continue;
      const [m, v] = this.momentsOf(p);
      p.backend.adamwStep(p, p.grad, m, v, { lr: this.lr, beta1: this.beta1, beta2: this.beta2, eps: this.eps, weightDecay: this.weightDecay, step: this.step });
    }
  }

  zeroGrad(): void {
    for (const p of this.params) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  dispose(): void {
    for (const [m, v] of this.moments.values()) {
      m.dispose();
      v.dispose();
    }
    this.moments.clear();
  }
}
