// An Optimizer for tests that records the gradients train() hands it (as host copies) and then
// applies plain SGD, so tests can see exactly what accumulation, clipping and the guard produced.
import { ok } from "neverthrow";
import type { Optimizer, OptimizerMeta, ParamGroup, Tensor } from "../../../core/index.ts";

export class GradRecorder implements Optimizer {
  readonly kind = "recorder";
  readonly params: readonly Tensor[];
  step = 0;
  /** grads[k][i]: gradient of parameter i at the k-th update. */
  readonly grads: Float32Array[][] = [];
  readonly lrs: number[] = [];
  constructor(
    readonly groups: readonly ParamGroup[],
    public lr = 0.1,
  ) {
    this.params = groups.flatMap((g) => g.params);
  }
  update(): void {
    this.step++;
    this.lrs.push(this.lr);
    this.grads.push(this.params.map((p) => (p.grad ? (p.grad.toArray() as Float32Array) : new Float32Array(0))));
    for (const p of this.params) if (p.grad) p.backend.axpy(p, p.grad, -this.lr);
  }
  zeroGrad(): void {
    for (const p of this.params) {
      p.grad?.dispose();
      p.grad = null;
    }
  }
  exportState() {
    const meta: OptimizerMeta = { kind: this.kind, step: this.step, paramCount: this.params.length, params: [], hyper: {} };
    return { meta, tensors: new Map<string, Tensor>() };
  }
  importState() {
    return ok(undefined);
  }
  dispose(): void {}
}

export function norm(gs: Float32Array[]): number {
  let s = 0;
  for (const g of gs) for (const x of g) s += x * x;
  return Math.sqrt(s);
}
