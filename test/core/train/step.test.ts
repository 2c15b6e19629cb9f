// The step's arithmetic through train(): k micro-batches give the gradient of one big batch
// (token-weighted), global-norm clipping, and the NaN/Inf guard.
import { describe, expect, test } from "bun:test";
import { ok } from "neverthrow";
import { clipGradients, globalGradNorm, type LossFn, ops, type ResumableBatches, type StepEvent, shuffledBatches, tensor, train } from "../../../core/index.ts";
import { adamw } from "../../../plugins/optimizers/index.ts";
import { expectClose } from "../../helpers/compare.ts";
import { randomArray } from "../../helpers/random.ts";
import { TINY } from "../../helpers/tiny-decoder.ts";
import { GradRecorder, norm } from "./recorder.ts";
import { corpus, tinyRun } from "./tiny-run.ts";

const inOrder = <T>(items: T[], batchSize: number): ResumableBatches<T[]> => shuffledBatches(items, { batchSize });

describe("gradient accumulation", () => {
  test("2 micro-batches of 2 sequences = 1 batch of 4 (tiny decoder, same tokens each)", async () => {
    const seqs = corpus(4);
    const record = async (batch: number, accumulation: number) => {
      const run = tinyRun({ dims: { ...TINY, batch } });
      let rec!: GradRecorder;
      const r = await train({
        params: run.params,
        optimizer: (g) => {
          rec = new GradRecorder(g);
          return ok(rec);
        },
        steps: 1,
        batches: inOrder(seqs, batch),
        lossFn: run.lossFn,
        accumulation,
        progress: false,
      });
      run.dispose();
      return { grads: rec.grads[0]!, loss: r._unsafeUnwrap().losses[0]! };
    };
    const big = await record(4, 1);
    const acc = await record(2, 2);
    // Same sums in a different order (two halves, each scaled by its weight then by 1/total): f32
    // rounding only. A plain sum instead of a mean would be off by 2x; a mean of means is the same
    // here (equal tokens), which the next test rules out.
    for (const [i, g] of big.grads.entries()) expectClose(acc.grads[i]!, g, 1e-5, `grad ${i}`);
    expect(acc.loss).toBeCloseTo(big.loss, 6);
  });

  test("micro-batches with different token counts are weighted by tokens", async () => {
    // Least squares on rows (x, y): loss = mean over the batch's rows of (x·w - y)²; 3 rows then 1 row.
    const rows = Array.from({ length: 4 }, (_, i) => ({ x: randomArray(3, 10 + i), y: i - 1.5 }));
    const lossFn: LossFn<typeof rows> = (batch) => {
      const X = tensor(
        batch.flatMap((r) => Array.from(r.x)),
        [batch.length, 3],
      );
      const y = tensor(
        batch.map((r) => r.y),
        [batch.length, 1],
      );
      const d = ops.sub(ops.matmul(X, w), y);
      return { loss: ops.mean(ops.mul(d, d)), tokens: batch.length };
    };
    const w = tensor([0.3, -0.2, 0.5], [3, 1], { requiresGrad: true, name: "w" });
    const uneven: ResumableBatches<typeof rows> = {
      batches: [rows.slice(0, 3), rows.slice(3)],
      i: 0,
      next() {
        return this.batches[this.i++];
      },
      state: () => null,
      restore: () => ok(undefined),
    } as ResumableBatches<typeof rows> & { batches: (typeof rows)[]; i: number };
    let rec!: GradRecorder;
    (
      await train({
        params: { w },
        optimizer: (g) => {
          rec = new GradRecorder(g, 0);
          return ok(rec);
        },
        steps: 1,
        batches: uneven,
        lossFn,
        accumulation: 2,
        progress: false,
      })
    )._unsafeUnwrap();
    // f64 reference: d/dw mean_r (x_r·w - y_r)² = (2/4) Σ_r (x_r·w - y_r) x_r over all 4 rows.
    const wv = [0.3, -0.2, 0.5].map(Math.fround);
    const g = [0, 0, 0];
    for (const r of rows) {
      const e = r.x.reduce((s, xi, j) => s + xi * wv[j]!, 0) - r.y;
      for (const [j, xi] of r.x.entries()) g[j]! += (2 / 4) * e * xi;
    }
    expectClose(rec.grads[0]![0]!, g, 1e-6, "token-weighted gradient");
    w.dispose();
  });
});

describe("clipping", () => {
  test("global norm over all gradients, scaled to maxNorm when above it", () => {
    const a = tensor(randomArray(7, 1, -3, 3), [7], { requiresGrad: true });
    const b = tensor(randomArray(5, 2, -3, 3), [5], { requiresGrad: true });
    try {
      a.grad = tensor(randomArray(7, 3, -2, 2), [7]);
      b.grad = tensor(randomArray(5, 4, -2, 2), [5]);
      const before = [a.grad!.toArray() as Float32Array, b.grad!.toArray() as Float32Array];
      const n = globalGradNorm([a, b]);
      expect(n).toBeCloseTo(norm(before), 12);
      expect(clipGradients([a, b], n, 2 * n)).toBe(1);
      expect(Array.from(a.grad!.toArray())).toEqual(Array.from(before[0]!));
      const f = clipGradients([a, b], n, 0.5);
      expect(f).toBeCloseTo(0.5 / (n + 1e-6), 12);
      const after = [a.grad!.toArray() as Float32Array, b.grad!.toArray() as Float32Array];
      expect(norm(after)).toBeCloseTo(0.5, 5);
      // Direction kept: each component scaled by the same factor.
      expectClose(
        after[1]!,
        Array.from(before[1]!, (x) => x * f),
        1e-6,
        "scaled b",
      );
    } finally {
      a.grad?.dispose();
      b.grad?.dispose();
      a.dispose();
      b.dispose();
    }
  });

  test("train() reports the pre-clip norm and hands the optimizer clipped gradients", async () => {
    const run = tinyRun();
    let rec!: GradRecorder;
    const events: StepEvent[] = [];
    const r = await train({
      params: run.params,
      optimizer: (g) => {
        rec = new GradRecorder(g, 0.01);
        return ok(rec);
      },
      steps: 3,
      batches: inOrder(corpus(6), 2),
      lossFn: run.lossFn,
      clipNorm: 0.25,
      progress: false,
      handlers: [{ name: "t", onStep: (e) => void events.push(e) }],
    });
    r._unsafeUnwrap();
    for (const [k, e] of events.entries()) {
      expect(e.gradNorm!).toBeGreaterThan(0.25);
      expect(norm(rec.grads[k]!)).toBeCloseTo(0.25, 5);
    }
    run.dispose();
  });
});

describe("NaN/Inf guard", () => {
  const poisoned = (bad: (step: number) => boolean, inf = false): { run: ReturnType<typeof tinyRun>; lossFn: LossFn<Int32Array[]> } => {
    const run = tinyRun();
    return {
      run,
      lossFn: (batch, ctx) => {
        const out = run.lossFn(batch, ctx);
        return bad(ctx.step) ? { ...out, loss: ops.mul(out.loss, tensor([inf ? Number.POSITIVE_INFINITY : Number.NaN], [])) } : out;
      },
    };
  };

  test("a NaN step is skipped and counted; parameters and optimizer state are untouched", async () => {
    const { run, lossFn } = poisoned((s) => s === 3);
    let rec!: GradRecorder;
    const snapshots: Float32Array[][] = [];
    const res = await train({
      params: run.params,
      optimizer: (g) => {
        rec = new GradRecorder(g, 0.05);
        return ok(rec);
      },
      steps: 5,
      batches: inOrder(corpus(10), 2),
      lossFn,
      progress: false,
      handlers: [{ name: "snap", onStep: () => void snapshots.push(Object.values(run.params).map((p) => p.toArray() as Float32Array)) }],
    });
    const r = res._unsafeUnwrap();
    expect(r.status).toBe("completed");
    expect(r.skippedSteps).toBe(1);
    expect(Number.isNaN(r.losses[2]!)).toBe(true);
    expect(r.losses.filter(Number.isFinite)).toHaveLength(4);
    // 4 updates, not 5; and step 3 changed no parameter.
    expect(rec.step).toBe(4);
    for (const [i, p] of snapshots[2]!.entries()) expect(Array.from(p)).toEqual(Array.from(snapshots[1]![i]!));
    expect(Array.from(snapshots[3]![0]!)).not.toEqual(Array.from(snapshots[2]![0]!));
    run.dispose();
  });

  test("N consecutive bad steps stop the run with a clear message, reported as failed", async () => {
    const { run, lossFn } = poisoned((s) => s >= 2, true);
    const ends: string[] = [];
    const res = await train({
      params: run.params,
      optimizer: adamw({ lr: 1e-3 }),
      steps: 20,
      batches: inOrder(corpus(10), 2),
      lossFn,
      maxBadSteps: 3,
      progress: false,
      handlers: [{ name: "end", onRunEnd: (e) => void ends.push(`${e.status}@${e.step}`) }],
    });
    const e = res._unsafeUnwrapErr();
    expect(e.reason).toBe("non-finite");
    expect(e.message).toMatch(/stopped after 3 consecutive steps with a non-finite loss or gradient \(steps 2-4/);
    expect(e.step).toBe(4);
    expect(ends).toEqual(["failed@4"]);
    run.dispose();
  });
});
