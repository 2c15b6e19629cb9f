// Deterministic release: a training step of a small decoder inside tidy() returns every byte it
// allocated, so 1,000 steps keep live bytes flat and the caching allocator stops asking the system.
import { expect, test } from "bun:test";
import { backward, cpuBackend, ops, scopeDepth, tensor, tidy } from "../../lft.ts";
import { AdamW } from "../../plugins/optimizers/index.ts";
import { randomInts } from "../helpers/random.ts";
import { TINY, tinyLoss, tinyParams } from "../helpers/tiny-decoder.ts";

test("1,000 training steps of a small decoder keep live bytes flat", () => {
  const alloc = cpuBackend.allocator;
  const before = alloc.stats().liveBytes;
  const w = tinyParams(TINY);
  const params = Object.values(w);
  const opt = new AdamW(params, { lr: 1e-2 });
  const positions = tensor(
    Int32Array.from({ length: TINY.batch * TINY.seq }, (_, i) => i % TINY.seq),
    [TINY.batch, TINY.seq],
    { dtype: "i32" },
  );
  const invFreq = tensor(ops.ropeInvFreq(TINY.dim / TINY.heads, 10000), [TINY.dim / TINY.heads / 2]);
  const ids = randomInts(TINY.batch * TINY.seq, 5, TINY.vocab);
  const step = (): number =>
    tidy(() => {
      const loss = tinyLoss(TINY, w, ids, positions, invFreq);
      backward(loss);
      opt.update();
      opt.zeroGrad();
      return loss.item();
    });

  const losses: number[] = [];
  for (let i = 0; i < 10; i++) losses.push(step());
  const warm = alloc.stats();
  for (let i = 10; i < 1000; i++) losses.push(step());
  const after = alloc.stats();

  // Same live bytes after step 10 and step 1000, and no new system allocations: nothing leaks per step.
  expect(after.liveBytes).toBe(warm.liveBytes);
  expect(after.systemAllocs).toBe(warm.systemAllocs);
  expect(scopeDepth()).toBe(0);
  // The step really trains (memorising one batch): the loss falls a lot.
  expect(losses[999]!).toBeLessThan(losses[0]! * 0.2);

  opt.dispose();
  for (const p of params) p.dispose();
  positions.dispose();
  invFreq.dispose();
  expect(alloc.stats().liveBytes).toBe(before);
}, 120_000);

test("a step that throws half-way still releases what it allocated", () => {
  const alloc = cpuBackend.allocator;
  const before = alloc.stats().liveBytes;
  expect(() =>
    tidy(() => {
      const a = tensor(new Float32Array(64), [8, 8], { requiresGrad: true });
      const b = ops.matmul(a, a);
      ops.matmul(b, tensor(new Float32Array(3), [3, 1])); // shape error
    }),
  ).toThrow(/inner dimensions differ/);
  expect(alloc.stats().liveBytes).toBe(before);
  expect(scopeDepth()).toBe(0);
});

test("using releases a tensor at the end of its block", () => {
  const alloc = cpuBackend.allocator;
  const before = alloc.stats().liveBytes;
  {
    using t = tensor(new Float32Array(1000), [1000]);
    expect(alloc.stats().liveBytes).toBeGreaterThanOrEqual(before + 4000);
    expect(t.disposed).toBe(false);
  }
  expect(alloc.stats().liveBytes).toBe(before);
});
