// Gradient norm and clipping over all parameters together (torch.nn.utils.clip_grad_norm_): the norm
// is sqrt(Σ sumSquares(grad)) accumulated in f64; grads are scaled by maxNorm / (norm + 1e-6) when
// that is below 1. A NaN or Inf anywhere makes the norm non-finite, which is how the loop's guard sees it.
import type { Tensor } from "../tensor/tensor.ts";

export function globalGradNorm(params: readonly Tensor[]): number {
  let sq = 0;
  for (const p of params) if (p.grad) sq += p.backend.sumSquares(p.grad);
  return Math.sqrt(sq);
}

/** Scales every gradient by `factor` in place. */
export function scaleGradients(params: readonly Tensor[], factor: number): void {
  for (const p of params) if (p.grad) p.backend.scale(p.grad, p.grad, factor);
}

/** Clips to maxNorm given the norm already measured; returns the factor applied (1 when none). */
export function clipGradients(params: readonly Tensor[], norm: number, maxNorm: number): number {
  if (!(maxNorm > 0)) throw new RangeError(`clipGradients: maxNorm must be > 0, got ${maxNorm}`);
  const coef = maxNorm / (norm + 1e-6);
  if (!(coef < 1)) return 1;
  scaleGradients(params, coef);
  return coef;
}
