// GRPO end to end on the shipped stories260K with LoRA: story openings whose next word is the
// checkable answer ("Once upon a time, there was a little" → "boy", where the base model says "girl"
// twice as often). Rollouts, exact_match rewards, the clipped KL-regularised loss and core's train()
// loop: the mean reward of the last steps is clearly above the first steps'. A resumed run continues
// with exactly the uninterrupted run's losses (the rollout cursor and sampling stream are checkpointed).
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type AppliedMethod, type Batch, type CausalLM, loadModel, loadTokenizer, train } from "../../../core/index.ts";
import { lora } from "../../../plugins/methods/index.ts";
import { llama } from "../../../plugins/models/llama.ts";
import { adamw } from "../../../plugins/optimizers/index.ts";
import { grpoLoss, grpoStage, type RolloutBatch } from "../../../plugins/stages/index.ts";
import { STORIES } from "../methods/helpers.ts";
import { registry, samples } from "./story-task.ts";

const options = { reward: "exact_match", answer_from: "first_word", group: 8, max_new_tokens: 3, temperature: 1, beta: 0.04, epsilon: 0.2, loss_type: "bnpo" };

interface Run {
  losses: readonly number[];
  rewards: number[];
}

async function run(dir: string, steps: number, o: { resume?: boolean; every?: number; iterations?: number } = {}): Promise<Run> {
  const stageOptions = { ...options, num_iterations: o.iterations ?? 1 };
  const model: CausalLM = loadModel(STORIES, registry)._unsafeUnwrap().model;
  const tok = loadTokenizer(STORIES)._unsafeUnwrap();
  const method: AppliedMethod = lora.apply(model, { rank: 8, alpha: 16, targets: ["all"] }, llama, { seed: 1 })._unsafeUnwrap();
  method.training = true;
  const batches = grpoStage.batches!({
    model,
    method,
    samples: samples(tok),
    options: stageOptions,
    batchSize: 4,
    seed: 7,
    tokenizer: tok,
    padId: 0,
    eosTokenIds: [2],
    registry,
  })._unsafeUnwrap();
  const rewards: number[] = [];
  const result = await train<Batch>({
    params: method.params,
    optimizer: adamw({ lr: Number(process.env.GRPO_LR ?? 5e-3) }),
    steps,
    batches,
    lossFn: (b, ctx) => {
      method.beginForward(ctx.rng);
      const out = grpoLoss(model, b as RolloutBatch, stageOptions);
      rewards.push(out.metrics!["reward/mean"]!);
      return out;
    },
    seed: 7,
    checkpoint: { dir, every: o.every ?? 0, resume: o.resume ?? false },
    progress: false,
  });
  model.dispose();
  return { losses: result._unsafeUnwrap().losses, rewards };
}

const dirs: string[] = [];
const scratch = () => {
  const d = mkdtempSync(join(tmpdir(), "lft-grpo-"));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test("grpo raises the mean exact-match reward on the story-word task", async () => {
  const steps = Number(process.env.GRPO_STEPS ?? 30);
  const t0 = performance.now();
  const { rewards } = await run(scratch(), steps);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const first = mean(rewards.slice(0, 3));
  const last = mean(rewards.slice(-5));
  console.log(`grpo: ${steps} steps in ${((performance.now() - t0) / 1000).toFixed(1)} s; reward first 3 ${first.toFixed(3)}, last 5 ${last.toFixed(3)}`);
  // Measured: 0.16 at step 1 (the base model), 0.34 over steps 1-3, 0.75 over the last 5 of 30.
  expect(rewards[0]!).toBeLessThan(0.35);
  expect(last).toBeGreaterThan(first + 0.3);
}, 120_000);

test("a resumed grpo run continues with exactly the uninterrupted run's losses (rollout cursor, sampling stream and a half-used rollout are checkpointed)", async () => {
  const whole = await run(scratch(), 6, { iterations: 2 });
  const dir = scratch();
  const first = await run(dir, 3, { iterations: 2 });
  const resumed = await run(dir, 6, { iterations: 2, resume: true });
  expect(first.losses).toEqual(whole.losses.slice(0, 3));
  expect(resumed.losses).toEqual(whole.losses);
  // num_iterations = 2 reuses each rollout for two steps, so the ratio moves off 1 on the second.
  expect(whole.rewards[0]).toBe(whole.rewards[1]!);
}, 120_000);
