// A stage's own metrics (StageLoss.metrics): averaged over a step's micro-batches with the loss's
// weights, they reach the step event, the run store, trainer_state.json's loss history (and back on
// resume), the progress line and evaluation.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stateFromJson } from "../../../core/train/trainer-state.ts";
import { evalLoss, type LossFn, RunStore, type StepEvent, storeHooks, train } from "../../../lft.ts";
import { adamw } from "../../../plugins/optimizers/index.ts";
import { tinyBatches, tinyRun } from "./tiny-run.ts";

describe("stage metrics", () => {
  test("weighted means over micro-batches reach the event, the store, trainer_state.json and the progress line", async () => {
    const root = mkdtempSync(join(tmpdir(), "lft-metrics-"));
    try {
      const run = tinyRun();
      // Micro-batch m of step s reports margin = 10s + m with weight m + 1; only micro-batch 1 reports "only/odd".
      const lossFn: LossFn<Int32Array[]> = (b, ctx) => {
        const out = run.lossFn(b, ctx);
        const metrics: Record<string, number> = { "rewards/margins": 10 * ctx.step + ctx.micro };
        if (ctx.micro === 1) metrics["only/odd"] = 7;
        return { ...out, weight: ctx.micro + 1, metrics };
      };
      const events: StepEvent[] = [];
      const db = join(root, "runs.db");
      const store = RunStore.open(db)._unsafeUnwrap();
      let printed = "";
      const r = await train({
        runId: "metrics-test",
        params: run.params,
        optimizer: adamw({ lr: 1e-3 }),
        steps: 3,
        accumulation: 2,
        batches: tinyBatches(16),
        lossFn,
        checkpoint: { dir: join(root, "out"), every: 0 },
        handlers: [{ name: "events", onStep: (e) => void events.push(e) }, storeHooks(store)],
        progress: {
          stream: {
            write: (s: string) => {
              printed += s;
            },
            isTTY: false,
          },
          every: 1,
        },
      });
      expect(r.isOk()).toBe(true);
      // (10s·1 + (10s + 1)·2) / 3 = 10s + 2/3
      const expected = [1, 2, 3].map((s) => 10 * s + 2 / 3);
      expect(events.map((e) => e.metrics!["rewards/margins"]!)).toEqual(expected.map((x) => expect.closeTo(x, 10) as unknown as number));
      expect(events.every((e) => e.metrics!["only/odd"] === 7)).toBe(true);
      expect(store.metric("metrics-test", "rewards/margins").map((p) => p.value)).toEqual(expected.map((x) => expect.closeTo(x, 10) as unknown as number));
      store.close();
      const raw = JSON.parse(readFileSync(join(root, "out", "checkpoint-3", "trainer_state.json"), "utf8"));
      expect(raw.lossHistory[1].metrics["rewards/margins"]).toBeCloseTo(expected[1]!, 10);
      const state = stateFromJson(raw, "trainer_state.json")._unsafeUnwrap();
      expect(state.lossHistory[2]!.metrics!["only/odd"]).toBe(7);
      expect(printed).toMatch(/step 2\/3 {2}loss [\d.]+ {2}rewards\/margins 20\.6667 {2}only\/odd 7\.0000 {2}lr/);
      run.dispose();
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test("a step whose loss reports no metrics has none", async () => {
    const run = tinyRun();
    const events: StepEvent[] = [];
    await train({
      params: run.params,
      optimizer: adamw({ lr: 1e-3 }),
      steps: 1,
      batches: tinyBatches(16),
      lossFn: run.lossFn,
      handlers: [{ name: "e", onStep: (e) => void events.push(e) }],
      progress: false,
    });
    expect(events[0]!.metrics).toBeUndefined();
    run.dispose();
  });

  test("evaluation averages them too", () => {
    const run = tinyRun();
    const source = tinyBatches(16);
    const batches = [source.next()!, source.next()!];
    let i = 0;
    const out = evalLoss(batches, (b, ctx) => ({ ...run.lossFn(b, ctx), weight: 1, metrics: { acc: i++ } }));
    expect(out.metrics).toEqual({ acc: 0.5 });
    run.dispose();
  });
});
