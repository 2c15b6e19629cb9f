// Each rank's share of the batch stream: every rank walks the same global stream and keeps batch
// `rank` of each group of `size` consecutive batches. The cursor is the global stream's, the same on
// every rank, so a checkpoint does not depend on the number of ranks (resume 2 ranks → 1 continues
// from the same batch; the global batch is per-rank batch × ranks × accumulation).
import type { ResumableBatches } from "../train/batches.ts";

export function shardBatches<B>(inner: ResumableBatches<B>, rank: number, size: number): ResumableBatches<B> {
  if (!(Number.isInteger(size) && size >= 1 && Number.isInteger(rank) && rank >= 0 && rank < size)) {
    throw new RangeError(`shardBatches: rank ${rank} is not in 0..${size - 1}`);
  }
  const sharded: ResumableBatches<B> = {
    next() {
      let mine: B | undefined;
      for (let r = 0; r < size; r++) {
        const b = inner.next();
        // A group the data cannot fill is dropped on every rank alike: ranks step together or not at all.
        if (b === undefined) return undefined;
        if (r === rank) mine = b;
      }
      return mine;
    },
    state: () => inner.state(),
    restore: (s) => inner.restore(s),
  };
  if (inner.epoch) {
    const epoch = inner.epoch.bind(inner);
    sharded.epoch = () => epoch();
  }
  return sharded;
}
