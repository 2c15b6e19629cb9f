// train() with more than one rank refuses an optimizer that steps inside backward (layerwise GaLore):
// its gradients would be used before the ranks average them.
import { expect, test } from "bun:test";
import { type Collectives, optimizerFactory, singleCollectives, train } from "../../../core/index.ts";
import { galoreEntry } from "../../../plugins/optimizers/index.ts";
import { tinyBatches, tinyRun } from "../train/tiny-run.ts";

test("layerwise GaLore is refused on 2 ranks before any collective runs", async () => {
  const untouched = (): never => {
    throw new Error("no collective may run");
  };
  const two: Collectives = {
    ...singleCollectives(),
    size: 2,
    rank: 0,
    allReduce: untouched,
    barrier: untouched,
    broadcast: untouched,
    allReduceStart: untouched,
  };
  const run = tinyRun();
  const optimizer = optimizerFactory(galoreEntry, 1e-2, { layerwise: true, target: "all" });
  const r = await train({ params: run.params, optimizer, steps: 2, batches: tinyBatches(8), lossFn: run.lossFn, collectives: two, progress: false });
  expect(r._unsafeUnwrapErr().message).toContain("during backward (layerwise), before 2 ranks can average its gradient");
  run.dispose();
});
