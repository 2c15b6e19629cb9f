// A second LoRA adapter set on the same base (PPO's model sharing): switched in, the model computes
// exactly what a fresh base with that adapter loaded computes; switched out, the trained adapter is
// back untouched; adapters off still gives the base. Errors name the file and keep nothing.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { noGrad } from "../../../../core/index.ts";
import { lora } from "../../../../plugins/methods/index.ts";
import { loadPeftAdapter } from "../../../../plugins/methods/lora/index.ts";
import { family, loadStories, logitsOf, perturbTrainable } from "../helpers.ts";

const dir = mkdtempSync(join(tmpdir(), "lft-adapter-sets-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0);

test("a reward adapter switched in on the policy's slots computes what the reward adapter alone computes", () => {
  // The reward adapter: rank 4 on q/v only, saved as PEFT.
  const rewardModel = loadStories();
  const reward = lora.apply(rewardModel, { rank: 4, alpha: 8, targets: ["q_proj", "v_proj"] }, family, { seed: 5 })._unsafeUnwrap();
  perturbTrainable(rewardModel, 9, 0.2);
  reward.saveTrainable(join(dir, "reward"))._unsafeUnwrap();
  reward.training = false;
  const rewardLogits = noGrad(() => logitsOf(rewardModel));
  const loaded = loadStories();
  loadPeftAdapter(loaded, join(dir, "reward"), family)._unsafeUnwrap();
  expect(
    maxDiff(
      noGrad(() => logitsOf(loaded)),
      rewardLogits,
    ),
  ).toBeLessThan(1e-5);

  // The policy: rank 8 on all linear layers, different weights.
  const model = loadStories();
  const base = noGrad(() => logitsOf(model));
  const policy = lora.apply(model, { rank: 8, alpha: 16, targets: ["all"] }, family, { seed: 1 })._unsafeUnwrap();
  perturbTrainable(model, 3, 0.2);
  policy.training = false;
  const policyLogits = noGrad(() => logitsOf(model));
  expect(maxDiff(policyLogits, rewardLogits)).toBeGreaterThan(1e-2);

  policy.loadAdapterSet!("reward", join(dir, "reward"))._unsafeUnwrap();
  const switched = policy.withAdapterSet!("reward", () => noGrad(() => logitsOf(model)))._unsafeUnwrap();
  expect(maxDiff(switched, rewardLogits)).toBeLessThan(1e-5);
  expect(
    maxDiff(
      noGrad(() => logitsOf(model)),
      policyLogits,
    ),
  ).toBe(0);
  const off = policy.withAdaptersDisabled!(() => noGrad(() => logitsOf(model)))._unsafeUnwrap();
  expect(maxDiff(off, base)).toBe(0);
  // Only the policy's matrices are trainable: the set adds no parameters.
  expect(Object.keys(policy.params).some((n) => n.includes("reward"))).toBe(false);
  expect(policy.withAdapterSet!("other", () => 0).isErr()).toBe(true);
  policy.dropAdapterSet!("reward");
  expect(policy.withAdapterSet!("reward", () => 0).isErr()).toBe(true);
  for (const m of [rewardModel, loaded, model]) m.dispose();
});

test("an adapter for layers the policy does not adapt, or of another base's shapes, is refused naming the file", () => {
  const model = loadStories();
  const policy = lora.apply(model, { rank: 8, targets: ["q_proj"] }, family, { seed: 1 })._unsafeUnwrap();
  const r = policy.loadAdapterSet!("reward", join(dir, "reward"));
  expect(r.isErr()).toBe(true);
  expect(r._unsafeUnwrapErr().message).toContain(join(dir, "reward", "adapter_model.safetensors"));
  expect(r._unsafeUnwrapErr().message).toContain("v_proj");
  expect(policy.withAdapterSet!("reward", () => 0).isErr()).toBe(true);
  const missing = policy.loadAdapterSet!("reward", join(dir, "nowhere"));
  expect(missing._unsafeUnwrapErr().message).toContain(join(dir, "nowhere"));
  model.dispose();
});
