// Checkpoint retention, the best checkpoint and early stopping in train(): a scripted evaluation (its
// held-out loss falls to a minimum at step 6, then rises) makes each decision deterministic.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BestSpec, listCheckpoints, type Tensor, train } from "../../../core/index.ts";
import { adamw } from "../../../plugins/optimizers/index.ts";
import { tinyBatches, tinyRun } from "./tiny-run.ts";

/** Held-out loss by step: best (0.27) at step 6, then rising 0.28, 0.29, 0.30, … */
const scripted = (step: number) => (step <= 6 ? [0.5, 0.4, 0.27][step / 2 - 1]! : 0.27 + (step - 6) / 200);

function snapshot(params: Readonly<Record<string, Tensor>>): Map<string, Float32Array> {
  return new Map(Object.entries(params).map(([k, t]) => [k, Float32Array.from(t.toArray())]));
}

async function run(o: {
  dir: string;
  steps: number;
  best?: BestSpec;
  keep?: number;
  metrics?: (step: number) => Record<string, number>;
  onEval?: (step: number, params: Readonly<Record<string, Tensor>>) => void;
  signal?: AbortSignal;
  onEnd?: (stopReason: string | undefined) => void;
}) {
  const tiny = tinyRun();
  try {
    const r = await train({
      params: tiny.params,
      optimizer: adamw({ lr: 1e-2 }),
      steps: o.steps,
      batches: tinyBatches(),
      lossFn: tiny.lossFn,
      eval: {
        every: 2,
        fn: ({ step }) => {
          o.onEval?.(step, tiny.params);
          return { loss: scripted(step), ...(o.metrics ? { metrics: o.metrics(step) } : {}) };
        },
      },
      ...(o.best ? { best: o.best } : {}),
      checkpoint: { dir: o.dir, every: 2, keep: o.keep ?? 3 },
      progress: false,
      ...(o.signal ? { signal: o.signal } : {}),
      ...(o.onEnd ? { handlers: [{ name: "test", onRunEnd: (e: { stopReason?: string }) => o.onEnd!(e.stopReason) }] } : {}),
    });
    return { r: r._unsafeUnwrap(), final: snapshot(tiny.params) };
  } finally {
    tiny.dispose();
  }
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "lft-best-"));
}

describe("checkpoint retention", () => {
  test("keeps the newest N, plus the best one with load_best_model_at_end", async () => {
    const a = tempDir();
    const b = tempDir();
    try {
      // Early stopping alone tracks a best but does not keep its checkpoint.
      await run({ dir: a, steps: 12, keep: 2, best: { patience: 10 } });
      expect(listCheckpoints(a).map((c) => c.step)).toEqual([10, 12]);
      const { r } = await run({ dir: b, steps: 12, keep: 2, best: { loadAtEnd: true } });
      expect(r.best).toEqual({ metric: "eval_loss", value: 0.27, step: 6 });
      expect(listCheckpoints(b).map((c) => c.step)).toEqual([6, 10, 12]);
    } finally {
      rmSync(a, { recursive: true, force: true });
      rmSync(b, { recursive: true, force: true });
    }
  }, 60_000);

  test("keep = 0 keeps every checkpoint", async () => {
    const dir = tempDir();
    try {
      await run({ dir, steps: 8, keep: 0 });
      expect(listCheckpoints(dir).map((c) => c.step)).toEqual([2, 4, 6, 8]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe("best checkpoint", () => {
  test("load_best_model_at_end leaves the best step's weights in the parameters", async () => {
    const dir = tempDir();
    const seen = new Map<number, Map<string, Float32Array>>();
    try {
      const { r, final } = await run({ dir, steps: 12, best: { loadAtEnd: true }, onEval: (step, p) => seen.set(step, snapshot(p)) });
      expect(r.loadedBestStep).toBe(6);
      expect(r.step).toBe(12);
      expect(final).toEqual(seen.get(6)!);
      expect(final).not.toEqual(seen.get(12)!);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  test("another logged metric, greater is better", async () => {
    const dir = tempDir();
    try {
      const acc = (step: number) => ({ accuracy: [0.1, 0.5, 0.4, 0.3, 0.2, 0.1][step / 2 - 1]! });
      const { r, final } = await run({ dir, steps: 12, metrics: acc, best: { metric: "eval_accuracy", loadAtEnd: true } });
      expect(r.best).toEqual({ metric: "eval_accuracy", value: 0.5, step: 4 });
      expect(r.loadedBestStep).toBe(4);
      expect(listCheckpoints(dir).map((c) => c.step)).toContain(4);
      expect(final.size).toBeGreaterThan(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  test("a metric the evaluation does not log is an error naming the logged ones", async () => {
    const dir = tempDir();
    const tiny = tinyRun();
    try {
      const r = await train({
        params: tiny.params,
        optimizer: adamw({ lr: 1e-2 }),
        steps: 4,
        batches: tinyBatches(),
        lossFn: tiny.lossFn,
        eval: { every: 2, fn: () => ({ loss: 1 }) },
        best: { metric: "eval_bleu" },
        checkpoint: { dir, every: 2 },
        progress: false,
      });
      expect(r._unsafeUnwrapErr().message).toContain('"eval_bleu" is not logged by the evaluation (it logs eval_loss, eval_perplexity)');
    } finally {
      tiny.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe("early stopping", () => {
  test("stops when the held-out loss has not improved for N evaluations, and says why", async () => {
    const dir = tempDir();
    try {
      const ends: (string | undefined)[] = [];
      const { r } = await run({ dir, steps: 30, best: { patience: 3 }, onEnd: (reason) => ends.push(reason) });
      expect(r.step).toBe(12);
      expect(r.status).toBe("completed");
      expect(r.stopReason).toBe("early stopping: eval_loss did not improve for 3 evaluations; best 0.2700 at step 6");
      expect(listCheckpoints(dir).at(-1)?.step).toBe(12);
      expect(ends).toEqual([r.stopReason]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  test("a resumed run keeps its patience counter and stops at the same step with the same losses", async () => {
    const whole = tempDir();
    const split = tempDir();
    try {
      const best: BestSpec = { patience: 3, loadAtEnd: true };
      const uninterrupted = await run({ dir: whole, steps: 30, best });
      // Interrupted after step 8: one evaluation (step 8) without improvement is in the checkpoint.
      const ac = new AbortController();
      const first = await run({ dir: split, steps: 30, best, signal: ac.signal, onEval: (step) => step === 8 && ac.abort() });
      expect(first.r.status).toBe("interrupted");
      expect(first.r.step).toBe(8);
      const resumed = await run({ dir: split, steps: 30, best });
      expect(resumed.r.resumedFromStep).toBe(8);
      // Without the saved counter it would stop at step 14.
      expect(resumed.r.step).toBe(12);
      expect(resumed.r.stopReason).toBe(uninterrupted.r.stopReason!);
      expect(resumed.r.losses).toEqual(uninterrupted.r.losses);
      expect(resumed.final).toEqual(uninterrupted.final);
      expect(resumed.r.loadedBestStep).toBe(6);
      // Resuming a run that stopped early does not train on.
      const again = await run({ dir: split, steps: 30, best });
      expect(again.r.step).toBe(12);
      expect(again.r.losses).toEqual(uninterrupted.r.losses);
    } finally {
      rmSync(whole, { recursive: true, force: true });
      rmSync(split, { recursive: true, force: true });
    }
  }, 120_000);
});
