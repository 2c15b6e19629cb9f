// RMSNorm and LayerNorm over the last dim, one fused kernel each way. The forward saves the per-row
// rstd (and mean) so the backward never recomputes row statistics.
import { expectArray } from "../../backend/check.ts";
import { formatShape, ShapeError } from "../../tensor/shape.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import { defineOp } from "../tape.ts";
import { allocLike } from "./alloc.ts";

export interface RmsNormOptions {
  /** added to mean(x^2) before the square root; default 1e-6 */
  eps?: number;
  /** the scale is (w + weightOffset): Gemma stores w - 1 and uses 1 here; default 0 */
  weightOffset?: number;
}

export interface LayerNormOptions {
  /** added to the (biased) variance; default 1e-5, as torch.nn.LayerNorm */
  eps?: number;
}

/** Per-row statistics shape: x's leading dims (a [rows] buffer the kernels see by element count). */
function rowShape(x: Tensor): number[] {
  return x.ndim === 0 ? [] : x.shape.slice(0, -1);
}

function checkNormInputs(op: string, x: Tensor, params: [string, Tensor][]): void {
  expectArray(op, "input", x, "f32");
  if (x.ndim === 0) throw new ShapeError(`${op}: input must have rank >= 1 (it is normalised over its last dim), got shape ${formatShape(x.shape)}`);
  for (const [role, p] of params) expectArray(op, role, p, "f32", [x.shape[x.ndim - 1]!]);
}

/** y = x * rstd * (w + weightOffset), rstd = 1 / sqrt(mean(x^2) + eps) over the last dim; w [cols]. */
export const rmsNorm = defineOp<[Tensor, Tensor, RmsNormOptions?], { x: Tensor; w: Tensor; rstd: Tensor; wOffset: number }>({
  name: "rmsNorm",
  forward(ctx, x, w, opts = {}) {
    checkNormInputs("rmsNorm", x, [["weight", w]]);
    const eps = opts.eps ?? 1e-6;
    const wOffset = opts.weightOffset ?? 0;
    const out = allocLike(x);
    const rstd = allocLike(x, rowShape(x));
    x.backend.rmsNormForward(out, rstd, x, w, eps, wOffset);
    ctx.state = { x: ctx.save(x), w: ctx.save(w), rstd: ctx.save(rstd), wOffset };
    rstd.dispose();
    return out;
  },
  backward(ctx, g) {
    const { x, w, rstd, wOffset } = ctx.state;
    // dx is always computed (the kernel's main pass); a frozen weight skips the dw pass.
    const dx = allocLike(x);
    const dw = ctx.needsGrad[1] ? allocLike(w) : null;
    g.backend.rmsNormBackward(dx, dw, g, x, w, rstd, wOffset);
    if (!ctx.needsGrad[0]) dx.dispose();
    return [ctx.needsGrad[0] ? dx : null, dw];
  },
});

/** y = (x - mean) * rstd * w + b over the last dim, biased variance (as PyTorch); w, b [cols]. */
export const layerNorm = defineOp<[Tensor, Tensor, Tensor, LayerNormOptions?], { x: Tensor; w: Tensor; mean: Tensor; rstd: Tensor }>({
  name: "layerNorm",
  forward(ctx, x, w, b, opts = {}) {
    checkNormInputs("layerNorm", x, [
      ["weight", w],
      ["bias", b],
    ]);
    const out = allocLike(x);
    const mean = allocLike(x, rowShape(x));
    const rstd = allocLike(x, rowShape(x));
    x.backend.layerNormForward(out, mean, rstd, x, w, b, opts.eps ?? 1e-5);
    ctx.state = { x: ctx.save(x), w: ctx.save(w), mean: ctx.save(mean), rstd: ctx.save(rstd) };
    mean.dispose();
    rstd.dispose();
    return out;
  },
  backward(ctx, g) {
    const { x, w, mean, rstd } = ctx.state;
    const dx = allocLike(x);
    const dw = ctx.needsGrad[1] ? allocLike(w) : null;
    const db = ctx.needsGrad[2] ? allocLike(w) : null;
    g.backend.layerNormBackward(dx, dw, db, g, x, w, mean, rstd);
    if (!ctx.needsGrad[0]) dx.dispose();
    return [ctx.needsGrad[0] ? dx : null, dw, db];
  },
});
