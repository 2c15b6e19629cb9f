// BAdam, Adam-mini and Muon driving core's train() on the tiny decoder: the loss falls, and a run
// resumed from a checkpoint (BAdam's taken mid-block, before a switch) reproduces the uninterrupted
// run's losses and final weights bit for bit — the optimizer state round-trips through the checkpoint.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ModelSpec, optimizerFactory, train } from "../../../core/index.ts";
import { adamMiniEntry, badamEntry, muonEntry } from "../../../plugins/optimizers/index.ts";
import { tinyBatches, tinyRun } from "../../core/train/tiny-run.ts";
import { hfParams } from "./hf-names.ts";

// TINY: dim 16, 4 heads.
const MODEL = { hiddenSize: 16, config: { num_attention_heads: 4 } } as unknown as ModelSpec;

const CASES = [
  { name: "badam layer", factory: () => optimizerFactory(badamEntry, 2e-2, { switch_interval: 3 }) },
  { name: "badam ratio", factory: () => optimizerFactory(badamEntry, 2e-2, { mode: "ratio", update_ratio: 0.5, mask_mode: "scatter", switch_interval: 3 }) },
  { name: "adam_mini", factory: () => optimizerFactory(adamMiniEntry, 1e-2, {}, MODEL) },
  { name: "muon", factory: () => optimizerFactory(muonEntry, 1e-2, {}) },
];

async function run(factory: ReturnType<(typeof CASES)[number]["factory"]>, dir: string, stopAfter?: number) {
  const stop = new AbortController();
  const tiny = tinyRun();
  const params = hfParams(tiny.params);
  const r = await train({
    params,
    optimizer: factory,
    weightDecay: 0.01,
    schedule: { kind: "linear", warmupSteps: 1 },
    steps: 10,
    batches: tinyBatches(12, 5),
    lossFn: tiny.lossFn,
    seed: 42,
    checkpoint: { dir, every: 4, keep: 5 },
    progress: false,
    signal: stop.signal,
    handlers: [{ name: "stop", onStep: (e) => (e.step === stopAfter ? stop.abort() : undefined) }],
  });
  const result = r._unsafeUnwrap();
  const weights = Object.fromEntries(Object.entries(params).map(([k, t]) => [k, Array.from(t.toArray() as Float32Array)]));
  const requires = Object.values(params).every((t) => t.requiresGrad);
  tiny.dispose();
  return { result, weights, requires };
}

describe("optimizer plugins in train()", () => {
  for (const c of CASES) {
    test(`${c.name}: loss falls; resuming at step 4 (mid-block) is bit-exact`, async () => {
      const a = mkdtempSync(join(tmpdir(), "lft-opt-"));
      const b = mkdtempSync(join(tmpdir(), "lft-opt-"));
      try {
        const whole = await run(c.factory(), a);
        const losses = [...whole.result.losses];
        expect(losses.slice(-3).reduce((x, y) => x + y) / 3).toBeLessThan(losses.slice(0, 3).reduce((x, y) => x + y) / 3);
        // dispose() gives every parameter back its requiresGrad (BAdam turns it off outside the active block).
        expect(whole.requires).toBe(true);
        const stopped = await run(c.factory(), b, 4);
        expect(stopped.result.status).toBe("interrupted");
        const resumed = await run(c.factory(), b);
        expect(resumed.result.resumedFromStep).toBe(4);
        expect([...resumed.result.losses]).toEqual(losses);
        expect(resumed.weights).toEqual(whole.weights);
      } finally {
        rmSync(a, { recursive: true, force: true });
        rmSync(b, { recursive: true, force: true });
      }
    });
  }
});
