// The parameter groups flattened to per-parameter arrays, for optimizers that walk parameters by their
// flat index (the index checkpoint slots use): each parameter's name, lr multiplier and weight decay.
// FlatOptimizer holds them with what every such optimizer keeps (lr, step count) and does alike
// (dropping gradients, the JSON part of its checkpoint state).
import type { Result } from "neverthrow";
import {
  checkMeta,
  dropGrads,
  firstNonFinite,
  type HostTensor,
  type NonFiniteParam,
  type Optimizer,
  type OptimizerMeta,
  type ParamGroup,
  type Tensor,
} from "../../core/index.ts";

export interface FlatParams {
  readonly params: readonly Tensor[];
  readonly names: readonly string[];
  /** Group lr multiplier of each parameter. */
  readonly lrScale: readonly number[];
  /** Group weight decay of each parameter. */
  readonly decay: readonly number[];
}

export function flatParams(groups: readonly ParamGroup[]): FlatParams {
  return {
    params: groups.flatMap((g) => g.params),
    names: groups.flatMap((g) => g.names),
    lrScale: groups.flatMap((g) => g.params.map(() => g.lrScale)),
    decay: groups.flatMap((g) => g.params.map(() => g.weightDecay)),
  };
}

export abstract class FlatOptimizer implements Optimizer {
  abstract readonly kind: string;
  readonly params: readonly Tensor[];
  readonly names: readonly string[];
  protected readonly lrScale: readonly number[];
  protected readonly decay: readonly number[];
  /** update() calls so far. */
  step = 0;

  constructor(
    readonly groups: readonly ParamGroup[],
    public lr: number,
  ) {
    ({ params: this.params, names: this.names, lrScale: this.lrScale, decay: this.decay } = flatParams(groups));
  }

  abstract update(): void;
  abstract exportState(): { meta: OptimizerMeta; tensors: Map<string, Tensor> };
  abstract importState(meta: unknown, tensors: ReadonlyMap<string, HostTensor>): Result<void, Error>;
  abstract dispose(): void;

  zeroGrad(): void {
    dropGrads(this.params);
  }

  /** After update(): one backend count over every parameter (AdamW overrides it with its kernel's count). */
  nonFinite(): NonFiniteParam | null {
    return firstNonFinite(this.groups);
  }

  /** The JSON part of this optimizer's state, with the per-parameter entries and its hyper-parameters. */
  protected stateMeta(params: OptimizerMeta["params"], hyper: OptimizerMeta["hyper"]): OptimizerMeta {
    return { kind: this.kind, step: this.step, paramCount: this.params.length, params, hyper };
  }

  /** A saved state's JSON part, checked against this optimizer (kind, parameter count). */
  protected checkState(raw: unknown): Result<OptimizerMeta, Error> {
    return checkMeta(raw, this.kind, this.params.length);
  }
}
