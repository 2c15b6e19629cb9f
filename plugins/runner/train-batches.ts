// How a train action feeds the loop: the step count its duration means, and the samples as resumable,
// per-epoch shuffled batches (the cursor is what checkpoints save), plus the fixed held-out batches.

import type { TrainAction } from "../../core/index.ts";
import { type Batch, type ResumableBatches, shuffledBatches } from "../../core/index.ts";

/** Optimizer steps for the duration: an epoch is every sample once, `accumulate` micro-batches a step. */
export function stepsFor(action: TrainAction, samples: number, ranks = 1): number {
  if (action.duration.unit === "steps") return action.duration.amount;
  const batch = Number(action.options.batch);
  const accumulate = Number(action.options.accumulate);
  // With data parallelism a step consumes batch × accumulate × ranks samples.
  const perEpoch = Math.max(1, Math.floor(Math.ceil(samples / batch) / (accumulate * ranks)));
  return Math.max(1, Math.ceil(action.duration.amount * perEpoch));
}

export function trainBatches(samples: readonly unknown[], collate: (s: readonly unknown[]) => Batch, batchSize: number, seed: number): ResumableBatches<Batch> {
  const shuffled = shuffledBatches(samples, { batchSize, seed });
  return {
    next: () => {
      const b = shuffled.next();
      return b === undefined ? undefined : collate(b);
    },
    state: () => shuffled.state(),
    restore: (s) => shuffled.restore(s),
    epoch: () => shuffled.epoch!(),
  };
}

export function fixedBatches(samples: readonly unknown[], collate: (s: readonly unknown[]) => Batch, batchSize: number): Batch[] {
  const out: Batch[] = [];
  for (let i = 0; i < samples.length; i += batchSize) out.push(collate(samples.slice(i, i + batchSize)));
  return out;
}
