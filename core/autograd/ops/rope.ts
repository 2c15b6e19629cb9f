// Rotary position embedding (HF rotate_half layout) as an autograd op, and the inverse frequencies
// that feed it. The backward is the same kernel rotating by the opposite angle.
import { expectArray, expectRank } from "../../backend/check.ts";
import { formatShape, ShapeError } from "../../tensor/shape.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import { defineOp } from "../tape.ts";
import { allocLike } from "./alloc.ts";

/**
 * inv_freq[i] = theta^(-2i / rotaryDim) for i < rotaryDim / 2, as HF's default rope init. Computed in
 * double and rounded once to f32. Scaled variants (Llama 3, YaRN) transform this array in their plugin.
 */
export function ropeInvFreq(headDim: number, theta: number, rotaryDim = headDim): Float32Array {
  if (!Number.isInteger(headDim) || headDim <= 0) throw new RangeError(`ropeInvFreq: headDim must be a positive integer, got ${headDim}`);
  if (!Number.isInteger(rotaryDim) || rotaryDim <= 0 || rotaryDim % 2 !== 0 || rotaryDim > headDim) {
    throw new RangeError(`ropeInvFreq: rotaryDim must be a positive even integer <= headDim (${headDim}), got ${rotaryDim}`);
  }
  if (!(theta > 0) || !Number.isFinite(theta)) throw new RangeError(`ropeInvFreq: theta must be a positive finite number, got ${theta}`);
  const out = new Float32Array(rotaryDim / 2);
  for (let i = 0; i < out.length; i++) out[i] = 1 / theta ** ((2 * i) / rotaryDim);
  return out;
}

/**
 * x [B, T, H, D] rotated by positionIds [B, T] (i32) times invFreq [nFreq] (f32): dims i and i + nFreq
 * form a pair for i < nFreq; dims from 2 * nFreq on pass through. Gradient flows to x only.
 */
export const rope = defineOp<[Tensor, Tensor, Tensor], { pos: Tensor; invFreq: Tensor }>({
  name: "rope",
  forward(ctx, x, positionIds, invFreq) {
    expectArray("rope", "input", x, "f32");
    expectRank("rope", "input", x, 4);
    expectArray("rope", "position ids", positionIds, "i32", x.shape.slice(0, 2));
    expectArray("rope", "inverse frequencies", invFreq, "f32");
    expectRank("rope", "inverse frequencies", invFreq, 1);
    if (2 * invFreq.shape[0]! > x.shape[3]!) {
      throw new ShapeError(`rope: ${invFreq.shape[0]} frequencies rotate ${2 * invFreq.shape[0]!} dims, more than the head dim of ${formatShape(x.shape)}`);
    }
    const out = allocLike(x);
    x.backend.rope(out, x, positionIds, invFreq, 1);
    ctx.state = { pos: ctx.save(positionIds), invFreq: ctx.save(invFreq) };
    return out;
  },
  backward(ctx, g) {
    const { pos, invFreq } = ctx.state;
    const dx = allocLike(g);
    g.backend.rope(dx, g, pos, invFreq, -1);
    return [dx, null, null];
  },
});
