// train() end to end on the tiny decoder: it learns, live bytes stay flat across steps, events reach
// registry hooks (with their declared kinds) and handlers, evaluation and the progress bar report,
// and bad options or a broken loss function come back as TrainErrors that say what to fix.
import { describe, expect, test } from "bun:test";
import {
  cpuBackend,
  createRegistry,
  definePlugin,
  type EvalEvent,
  evalLoss,
  ops,
  type StepEvent,
  scopeDepth,
  shuffledBatches,
  tensor,
  train,
} from "../../../lft.ts";
import { adamw, sgd } from "../../../plugins/optimizers/index.ts";
import { corpus, tinyBatches, tinyRun } from "./tiny-run.ts";

describe("train()", () => {
  test("the tiny decoder's loss falls below 0.5 within 150 steps (from ~3.5 = ln 32)", async () => {
    const run = tinyRun();
    const r = (
      await train({
        params: run.params,
        optimizer: adamw({ lr: 1e-2 }),
        weightDecay: 0.01,
        schedule: { kind: "cosine", warmupSteps: 10, minLr: 1e-3 },
        steps: 150,
        batches: tinyBatches(16),
        lossFn: run.lossFn,
        clipNorm: 1,
        progress: false,
      })
    )._unsafeUnwrap();
    expect(r.losses[0]!).toBeGreaterThan(3);
    // Mean of the last 10 steps: the corpus is a deterministic map, so this is memorisation of it.
    const tail = r.losses.slice(-10).reduce((a, b) => a + b, 0) / 10;
    expect(tail).toBeLessThan(0.5);
    run.dispose();
  });

  test("SGD with momentum trains too", async () => {
    const run = tinyRun();
    const r = (
      await train({
        params: run.params,
        optimizer: sgd({ lr: 0.3, momentum: 0.9 }),
        steps: 60,
        batches: tinyBatches(16),
        lossFn: run.lossFn,
        clipNorm: 1,
        progress: false,
      })
    )._unsafeUnwrap();
    expect(r.losses.slice(-5).reduce((a, b) => a + b, 0) / 5).toBeLessThan(r.losses[0]! * 0.6);
    run.dispose();
  });

  test("live bytes are flat across steps and return to the start when the run ends", async () => {
    const alloc = cpuBackend.allocator;
    const start = alloc.stats().liveBytes;
    const run = tinyRun({ dropout: 0.1 });
    const live: number[] = [];
    const system: number[] = [];
    const r = await train({
      params: run.params,
      optimizer: adamw({ lr: 1e-2 }),
      steps: 40,
      batches: tinyBatches(16),
      lossFn: run.lossFn,
      accumulation: 2,
      clipNorm: 1,
      progress: false,
      eval: { every: 10, fn: () => evalLoss([corpus(2)], run.lossFn) },
      handlers: [
        {
          name: "mem",
          onStep: () => {
            live.push(alloc.stats().liveBytes);
            system.push(alloc.stats().systemAllocs);
          },
        },
      ],
    });
    r._unsafeUnwrap();
    // After step 1 the optimizer's moments exist; from then on every step returns what it took.
    expect(new Set(live.slice(1)).size).toBe(1);
    expect(system.at(-1)).toBe(system[2]);
    expect(scopeDepth()).toBe(0);
    run.dispose();
    expect(alloc.stats().liveBytes).toBe(start);
  });

  test("events go to registry hooks with their declared kinds and to handlers, in order", async () => {
    const registry = createRegistry();
    const seen: string[] = [];
    registry
      .use(
        definePlugin({
          name: "watcher",
          setup(api) {
            api.on("onRunStart", (e) => void seen.push(`start total=${e.totalSteps}`));
            api.on("onStep", (e) => void seen.push(`step ${e.step}`));
            api.on("onEval", (e) => void seen.push(`eval ${e.step} ${e.split} ppl=${e.metrics.perplexity!.toFixed(3)}`));
            api.on("onRunEnd", (e) => void seen.push(`end ${e.status} ${e.step}`));
          },
        }),
      )
      ._unsafeUnwrap();
    const run = tinyRun();
    const evals: EvalEvent[] = [];
    const steps: StepEvent[] = [];
    const r = await train({
      runId: "hooks",
      params: run.params,
      optimizer: adamw({ lr: 1e-2 }),
      schedule: { kind: "linear", warmupSteps: 2 },
      steps: 4,
      batches: tinyBatches(8),
      lossFn: run.lossFn,
      hooks: registry,
      progress: false,
      eval: { every: 2, split: "val", fn: () => evalLoss([corpus(2)], run.lossFn) },
      handlers: [{ name: "h", onStep: (e) => void steps.push(e), onEval: (e) => void evals.push(e) }],
    });
    r._unsafeUnwrap();
    expect(seen.map((s) => s.replace(/ppl=\S+/, "ppl"))).toEqual([
      "start total=4",
      "step 1",
      "step 2",
      "eval 2 val ppl",
      "step 3",
      "step 4",
      "eval 4 val ppl",
      "end completed 4",
    ]);
    expect(evals.map((e) => e.step)).toEqual([2, 4]);
    for (const e of evals) expect(e.metrics.perplexity).toBeCloseTo(Math.exp(e.metrics.loss!), 10);
    expect(steps.map((e) => [e.step, e.lr, e.tokens])).toEqual([
      [1, 0, 14],
      [2, 0.005, 14],
      [3, 0.01, 14],
      [4, 0.005, 14],
    ]);
    expect(steps.every((e) => e.runId === "hooks" && Number.isFinite(e.gradNorm!) && e.elapsedMs >= 0)).toBe(true);
    run.dispose();
  });

  test("a failing handler fails the run with its name, and the end is still reported", async () => {
    const run = tinyRun();
    const ends: string[] = [];
    const r = await train({
      params: run.params,
      optimizer: adamw({ lr: 1e-2 }),
      steps: 5,
      batches: tinyBatches(8),
      lossFn: run.lossFn,
      progress: false,
      handlers: [
        {
          name: "flaky-store",
          onStep: (e) => {
            if (e.step === 2) throw new Error("disk full");
          },
        },
        { name: "end", onRunEnd: (e) => void ends.push(`${e.status}@${e.step}: ${e.error?.message}`) },
      ],
    });
    const e = r._unsafeUnwrapErr();
    expect(e.reason).toBe("hook");
    expect(e.message).toBe('handler "flaky-store" failed in onStep: disk full');
    expect(ends).toEqual(['failed@2: handler "flaky-store" failed in onStep: disk full']);
    run.dispose();
  });

  test("a loss function breaking its contract is reported with the step and what was expected", async () => {
    const run = tinyRun();
    const base = { params: run.params, optimizer: adamw({ lr: 1e-2 }), steps: 3, batches: tinyBatches(8), progress: false as const };
    const notScalar = await train({ ...base, lossFn: (b, c) => ({ loss: ops.reshape(ops.add(run.lossFn(b, c).loss, tensor([0, 0], [2])), [2]), tokens: 1 }) });
    expect(notScalar._unsafeUnwrapErr().message).toMatch(/step 1 failed: lossFn returned a loss of shape \[2\] at step 1, micro-batch 0; expected a scalar/);
    const noGraph = await train({ ...base, lossFn: () => ({ loss: tensor([1], []), tokens: 3 }) });
    expect(noGraph._unsafeUnwrapErr().message).toMatch(/has no graph to the parameters/);
    const noTokens = await train({ ...base, lossFn: (b, c) => ({ ...run.lossFn(b, c), tokens: 0 }) });
    expect(noTokens._unsafeUnwrapErr().message).toMatch(/weight 0 at step 1, micro-batch 0 must be > 0/);
    expect(scopeDepth()).toBe(0);
    expect(Object.values(run.params).every((p) => p.grad === null)).toBe(true);
    run.dispose();
  });

  test("bad options are refused before anything runs", async () => {
    const run = tinyRun();
    const base = { params: run.params, optimizer: adamw({ lr: 1e-2 }), steps: 3, batches: tinyBatches(8), lossFn: run.lossFn, progress: false as const };
    const msg = async (o: Partial<Parameters<typeof train<Int32Array[]>>[0]>) => (await train({ ...base, ...o }))._unsafeUnwrapErr().message;
    expect(await msg({ steps: 0 })).toMatch(/steps must be a positive integer, found 0/);
    expect(await msg({ accumulation: 1.5 })).toMatch(/accumulation must be a positive integer/);
    expect(await msg({ schedule: { kind: "constant", minLr: 1e-4 } })).toMatch(/minLr has no effect/);
    expect(await msg({ optimizer: adamw({ lr: 1e-2, beta1: 1 }) })).toMatch(/beta1 must be in \[0, 1\)/);
    expect(await msg({ weightDecay: -1 })).toMatch(/weightDecay must be a finite number >= 0, found -1/);
    expect(await msg({ params: { frozen: tensor([1], [1]) } })).toMatch(/"frozen" .* does not require a gradient/);
    run.dispose();
  });

  test("the run ends early (completed, dataExhausted) when the batches run out", async () => {
    const finite = tinyRun();
    const once = shuffledBatches(corpus(6), { batchSize: 2, epochs: 1, seed: 3 });
    const r2 = (
      await train({ params: finite.params, optimizer: adamw({ lr: 1e-2 }), steps: 100, batches: once, lossFn: finite.lossFn, accumulation: 2, progress: false })
    )._unsafeUnwrap();
    // 3 batches with accumulation 2: one full step, then one step from the last single batch.
    expect(r2.step).toBe(2);
    expect(r2.dataExhausted).toBe(true);
    expect(r2.status).toBe("completed");
    expect(r2.losses.every(Number.isFinite)).toBe(true);
    // Running out exactly at a step boundary still gets the end-of-run evaluation.
    const evals: number[] = [];
    const even = shuffledBatches(corpus(8), { batchSize: 2, epochs: 1, seed: 3 });
    const r3 = (
      await train({
        params: finite.params,
        optimizer: adamw({ lr: 1e-2 }),
        steps: 100,
        batches: even,
        lossFn: finite.lossFn,
        accumulation: 2,
        progress: false,
        eval: { every: 0, fn: () => evalLoss([corpus(2)], finite.lossFn) },
        handlers: [{ name: "e", onEval: (e) => void evals.push(e.step) }],
      })
    )._unsafeUnwrap();
    expect([r3.step, r3.dataExhausted]).toEqual([2, true]);
    expect(evals).toEqual([2]);
    finite.dispose();
  });
});
