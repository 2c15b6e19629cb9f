// onGradReady: a leaf's hook runs once per backward, after every op using it has added its share
// (a leaf used twice sees the sum), while later ops are still to run; removing it stops it.
import { describe, expect, test } from "bun:test";
import { backward, onGradReady, ops, tensor } from "../../../core/index.ts";
import { recompute } from "../../../core/nn/index.ts";

describe("onGradReady", () => {
  test("fires once, with the complete gradient of a leaf used by two ops", () => {
    const w = tensor([1, 2, 3], [3], { requiresGrad: true });
    const early = tensor([4, 5, 6], [3], { requiresGrad: true });
    const x = tensor([0.5, -1, 2], [3], { requiresGrad: true });
    const seen: string[] = [];
    const offW = onGradReady(w, (t) => seen.push(`w ${Array.from(t.grad!.toArray()).join(",")}`));
    const offE = onGradReady(early, (t) => seen.push(`early ${Array.from(t.grad!.toArray()).join(",")}`));
    // loss = Σ(w·x) + Σ(w·w) + 2·Σ(early·x): w is used by two ops.
    const a = ops.sum(ops.mul(w, x));
    const b = ops.sum(ops.mul(w, w));
    const c = ops.mul(ops.sum(ops.mul(early, x)), tensor([2], [1]));
    backward(ops.add(ops.add(ops.sum(c), b), a));
    // dL/dw = x + 2w; dL/dearly = 2x.
    expect(seen.sort()).toEqual(["early 1,-2,4", "w 2.5,3,8"]);
    offW();
    offE();
    w.grad = null;
    backward(ops.sum(ops.mul(w, x)));
    expect(seen.length).toBe(2);
  });

  test("a hook may free the gradient at once, before backward reaches the ops below it", () => {
    const w1 = tensor([1, 2], [2], { requiresGrad: true });
    const w2 = tensor([3, 4], [2], { requiresGrad: true });
    const x = tensor([1, 1], [2]);
    let w1Ready = true;
    const off = onGradReady(w2, (t) => {
      // w2 is applied last in forward, so its gradient is complete before w1's exists.
      w1Ready = w1.grad !== null;
      t.grad!.dispose();
      t.grad = null;
    });
    backward(ops.sum(ops.mul(ops.mul(x, w1), w2)));
    expect(w1Ready).toBe(false);
    expect(w2.grad).toBeNull();
    expect(Array.from(w1.grad!.toArray())).toEqual([3, 4]);
    off();
  });

  test("gradient checkpointing: a recomputed block's weight fires once, with its whole gradient", () => {
    const w = tensor([1, 2], [2], { requiresGrad: true });
    const x = tensor([3, 4], [2], { requiresGrad: true });
    const seen: number[][] = [];
    const off = onGradReady(w, (t) => seen.push(Array.from(t.grad!.toArray())));
    // h = (x·w)·w inside a recomputed block, so w is used twice in the inner graph: dL/dw = 2·x·w.
    const h = recompute((a) => ops.mul(ops.mul(a, w), w), [x], [w]);
    backward(ops.sum(h));
    expect(seen).toEqual([[6, 16]]);
    off();
  });

  test("a leaf that needs no gradient never fires", () => {
    const frozen = tensor([1, 2], [2]);
    const w = tensor([1, 1], [2], { requiresGrad: true });
    let fired = 0;
    const off = onGradReady(frozen, () => fired++);
    backward(ops.sum(ops.mul(frozen, w)));
    expect(fired).toBe(0);
    off();
  });
});
