// gradientSync without MPI: a recording engine that pretends to be 2 identical ranks (a sum doubles)
// shows the buckets start during backward, in bucket order, and that finish() writes back the summed
// gradients and totals; unarmed micro-batches start nothing.
import { expect, test } from "bun:test";
import { ok } from "neverthrow";
import { backward, type Collectives, gradientSync, ops, singleCollectives, type Tensor, tensor } from "../../../core/index.ts";

function twoIdenticalRanks(log: string[]): Collectives {
  const double = (t: Tensor) => t.backend.scale(t, t, 2);
  return {
    ...singleCollectives(),
    size: 2,
    allReduce(t) {
      log.push(`allReduce ${t.numel}`);
      double(t);
      return ok(undefined);
    },
    allReduceStart(t) {
      log.push(`start ${t.numel}`);
      return ok({
        wait() {
          log.push(`wait ${t.numel}`);
          double(t);
          return ok(undefined);
        },
      });
    },
  };
}

test("buckets start inside backward in reverse parameter order; finish sums gradients and totals", () => {
  const log: string[] = [];
  // Sizes 1, 2, 3 elements: with 4-byte buckets each parameter is its own bucket.
  const params = [tensor([1]), tensor([1, 2]), tensor([1, 2, 3])];
  for (const p of params) p.requiresGrad = true;
  const sync = gradientSync(twoIdenticalRanks(log), params, 4);
  expect(sync.bucketBytes).toBe(6 * 4);
  const x = [tensor([2]), tensor([3, 4]), tensor([5, 6, 7])];
  // loss = Σ_i sum(p_i · x_i): ∂loss/∂p_i = x_i. Each term is its own chain, so gradients finish one by one.
  const loss = ops.add(ops.add(ops.sum(ops.mul(params[0]!, x[0]!)), ops.sum(ops.mul(params[1]!, x[1]!))), ops.sum(ops.mul(params[2]!, x[2]!)));
  sync.beforeBackward(true);
  backward(loss);
  const duringBackward = [...log];
  // Buckets are made from the last parameter backwards and must start in that order on every rank.
  expect(duringBackward).toEqual(["start 3", "start 2", "start 1"]);
  const totals = sync.finish({ weights: 3, weighted: 6, tokens: 5 })._unsafeUnwrap();
  expect(totals).toEqual({ weights: 6, weighted: 12, tokens: 10 });
  expect(log.slice(3)).toEqual(["allReduce 3", "wait 3", "wait 2", "wait 1"]);
  expect(params.map((p) => Array.from(p.grad!.toArray()))).toEqual([[4], [6, 8], [10, 12, 14]]);
  sync.dispose();
});

test("an unarmed backward starts nothing; finish then reduces every bucket itself", () => {
  const log: string[] = [];
  const p = tensor([1, 1]);
  p.requiresGrad = true;
  const sync = gradientSync(twoIdenticalRanks(log), [p]);
  sync.beforeBackward(false);
  backward(ops.sum(ops.mul(p, tensor([1, 2]))));
  expect(log).toEqual([]);
  sync.finish({ weights: 1, weighted: 1, tokens: 1 })._unsafeUnwrap();
  expect(log).toEqual(["start 2", "allReduce 3", "wait 2"]);
  expect(Array.from(p.grad!.toArray())).toEqual([2, 4]);
  sync.dispose();
});
