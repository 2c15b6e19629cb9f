// The contract for a training loss term a model computes from what its modules record during a forward
// (a mixture of experts' router load-balancing loss): the trainer opens a recording around one
// micro-batch's loss and adds coefficient x the term. Core knows the contract only; families implement it.
import type { Tensor } from "../tensor/tensor.ts";

export interface AuxiliaryLoss {
  /** The metric the term is logged under (e.g. `aux_loss`). */
  readonly name: string;
  /** The coefficient the checkpoint's config asks for when a recipe gives none (0: off). */
  readonly defaultCoefficient: number;
  /** Records the gradient-enabled forwards that follow (earlier records are dropped). */
  begin(): void;
  /**
   * Stops recording and returns the term over what was recorded (a scalar with a graph to the
   * parameters), or null when nothing was. `tokenMask` (1 = real token, 0 = padding, one per token of
   * the batch, row-major) leaves padding out when it matches the recorded forwards.
   */
  end(tokenMask?: ArrayLike<number>): Tensor | null;
}
