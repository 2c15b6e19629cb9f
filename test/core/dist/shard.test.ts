// Each rank's share of the batch stream: batch `rank` of every group of `size`, a cursor shared by all
// ranks (so checkpoints do not depend on the rank count), and a partial last group dropped on all ranks.
import { expect, test } from "bun:test";
import { shardBatches, shuffledBatches } from "../../../core/index.ts";

const items = Array.from({ length: 7 }, (_, i) => i);
const take = (n: number, next: () => number[] | undefined) => Array.from({ length: n }, () => next());

test("rank r takes batch r of each group of size; the cursor is the global stream's", () => {
  const r0 = shardBatches(shuffledBatches(items, { batchSize: 1, epochs: 1 }), 0, 2);
  const r1 = shardBatches(shuffledBatches(items, { batchSize: 1, epochs: 1 }), 1, 2);
  expect(take(4, () => r0.next())).toEqual([[0], [2], [4], undefined]);
  expect(take(4, () => r1.next())).toEqual([[1], [3], [5], undefined]);
  const single = shuffledBatches(items, { batchSize: 1, epochs: 1 });
  take(8, () => single.next());
  // 7 items, groups of 2: the 7th has no partner, so both ranks stop after 3 batches each; the cursors
  // agree with each other and with one stream that read everything.
  expect(r0.state()).toEqual(r1.state());
  expect(JSON.stringify(single.state())).toBe(JSON.stringify(r0.state()));
});

test("a cursor saved by 2 ranks resumes on 1 at the same batch", () => {
  const two = shardBatches(shuffledBatches(items, { batchSize: 1, seed: 3 }), 0, 2);
  take(2, () => two.next());
  const one = shuffledBatches(items, { batchSize: 1, seed: 3 });
  expect(one.restore(two.state()).isOk()).toBe(true);
  const fresh = shuffledBatches(items, { batchSize: 1, seed: 3 });
  take(4, () => fresh.next());
  expect(one.next()).toEqual(fresh.next()!);
});

test("a rank outside 0..size-1 is refused", () => {
  expect(() => shardBatches(shuffledBatches(items, { batchSize: 1 }), 2, 2)).toThrow("rank 2 is not in 0..1");
});
