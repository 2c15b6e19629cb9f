// An AppliedMethod drives core's one train() as a runner would: params, groups and noDecay go into
// TrainOptions, and the loss function starts each forward with beginForward(ctx.rng), so LoRA dropout
// draws from the run's stream: the loss falls, and a run resumed from a checkpoint repeats the
// uninterrupted run's losses exactly (dropout masks included).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { shuffledBatches, train } from "../../../../core/index.ts";
import { lora } from "../../../../plugins/methods/index.ts";
import { adamw } from "../../../../plugins/optimizers/index.ts";
import { family, loadStories, logitsOf, lossFnFor, ROWS } from "../helpers.ts";

let root = "";
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "lft-method-train-"));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function run(dir: string, steps: number, resume: boolean) {
  const model = loadStories();
  const applied = lora.apply(model, { rank: 4, alpha: 8, dropout: 0.2, targets: ["all"], loraplus_lr_ratio: 4 }, family, { seed: 7 })._unsafeUnwrap();
  const result = (
    await train({
      params: applied.params,
      groups: applied.groups,
      noDecay: applied.noDecay,
      optimizer: adamw({ lr: 3e-3 }),
      weightDecay: 0.01,
      steps,
      batches: shuffledBatches(ROWS, { batchSize: 2, seed: 1 }),
      lossFn: lossFnFor(model, applied),
      seed: 5,
      progress: false,
      checkpoint: { dir, every: 3, resume },
    })
  )._unsafeUnwrap();
  return { model, applied, result };
}

test("LoRA through train(): the loss falls; the trained adapter changes the model's output", async () => {
  const { model, applied, result } = await run(join(root, "a"), 12, false);
  expect(result.status).toBe("completed");
  const losses = result.losses;
  expect(losses.length).toBe(12);
  const head = (losses[0]! + losses[1]!) / 2;
  const tail = (losses[10]! + losses[11]!) / 2;
  expect(tail).toBeLessThan(head - 0.1);
  applied.training = false;
  const fresh = loadStories();
  expect(logitsOf(model).some((v, i) => Math.abs(v - logitsOf(fresh)[i]!) > 1e-3)).toBe(true);
  model.dispose();
  fresh.dispose();
});

test("a resumed LoRA run with dropout repeats the uninterrupted run's losses exactly", async () => {
  const whole = await run(join(root, "whole"), 6, false);
  const part = await run(join(root, "part"), 3, false);
  part.model.dispose();
  const resumed = await run(join(root, "part"), 6, true);
  expect(resumed.result.resumedFromStep).toBe(3);
  expect(resumed.result.losses).toEqual(whole.result.losses);
  whole.model.dispose();
  resumed.model.dispose();
});
