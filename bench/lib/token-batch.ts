// Random token rows for the training benches: a causal-LM batch of `batch` rows × `seq` tokens drawn
// from Philox, labels equal to the inputs, full attention mask. The step's cost does not depend on the ids.
import type { Philox } from "../../core/random/philox.ts";
import type { Batch } from "../../lft.ts";

export function randomTokenBatch(shape: { readonly batch: number; readonly seq: number; readonly vocab: number }, rng: Philox): Batch {
  const n = shape.batch * shape.seq;
  const ids = Int32Array.from({ length: n }, () => rng.nextInt(shape.vocab));
  return {
    batchSize: shape.batch,
    seqLen: shape.seq,
    inputIds: ids,
    labels: ids,
    attentionMask: new Int32Array(n).fill(1),
    positionIds: Int32Array.from({ length: n }, (_, k) => k % shape.seq),
    segmentIds: null,
  };
}
