// GLM-4 and Cohere rotate RoPE pairs (2i, 2i+1) ("interleaved"); the rope op rotates pairs (i, i + n/2)
// (HF's rotate_half). Reordering each head's rotary dims evens-then-odds turns the one into the other;
// applied to q and k alike it leaves every q . k unchanged, so attention needs no reorder back and the KV
// cache simply holds keys in the reordered layout. The pass-through dims past rotaryDim stay where they are.
import { ops, type Tensor } from "../../core/index.ts";

/** x [B, T, heads * headDim] -> same shape, each head's first rotaryDim dims reordered 0, 2, 4, ..., 1, 3, 5, ... */
export function deinterleaveRotary(x: Tensor, heads: number, headDim: number, rotaryDim: number): Tensor {
  const [B, T] = x.shape as [number, number, number];
  const h = ops.reshape(x, [B, T, heads, headDim]);
  const rot = rotaryDim === headDim ? h : ops.slice(h, -1, 0, rotaryDim);
  // [.., rot / 2 pairs, 2] -> [.., 2, rot / 2]: the first of every pair, then the second.
  const pairs = ops.permute(ops.reshape(rot, [B, T, heads, rotaryDim / 2, 2]), [0, 1, 2, 4, 3]);
  const split = ops.reshape(pairs, [B, T, heads, rotaryDim]);
  const out = rotaryDim === headDim ? split : ops.concat([split, ops.slice(h, -1, rotaryDim, headDim)], -1);
  return ops.reshape(out, [B, T, heads * headDim]);
}
