// The parameter groups flattened to per-parameter arrays, for optimizers that walk parameters by their
// flat index (the index checkpoint slots use): each parameter's name, lr multiplier and weight decay.
import type { ParamGroup, Tensor } from "../../core/index.ts";

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
