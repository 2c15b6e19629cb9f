// linearCrossEntropy (head and loss fused over row chunks) against the unfused matmul + crossEntropy:
// the loss and both gradients, with ignored rows, chunks that do not divide the rows, a scaled upstream
// gradient, a bf16 frozen weight, and a causal-LM loss that takes the fused path for a plain head.
import { describe, expect, test } from "bun:test";
import { backward, cpuBackend, ops, tensor, tidy } from "../../../lft.ts";
import { expectClose } from "../../helpers/compare.ts";
import { randomArray, randomInts } from "../../helpers/random.ts";

const { linearCrossEntropy, crossEntropy, matmul, chunkRows } = ops;

const N = 13;
const D = 8;
const V = 37;

function inputs(seed: number) {
  const h = Float32Array.from(randomArray(N * D, seed));
  const w = Float32Array.from(randomArray(V * D, seed + 1));
  const t = randomInts(N, seed + 2, V).map((x, r) => (r % 5 === 2 ? -100 : x));
  return { h, w, t };
}

/** Loss and gradients of scale * loss for the fused op (fused) or matmul + crossEntropy. */
function run(fused: boolean, seed: number, scale: number, chunkBytes?: number) {
  const { h, w, t } = inputs(seed);
  return tidy(() => {
    const ht = tensor(h, [N, D], { requiresGrad: true });
    const wt = tensor(w, [V, D], { requiresGrad: true });
    const tt = tensor(t, [N], { dtype: "i32" });
    const loss = fused ? linearCrossEntropy(ht, wt, tt, { chunkBytes }) : crossEntropy(matmul(ht, wt, { transB: true }), tt);
    const value = loss.toArray()[0]!;
    backward(ops.scale(loss, scale));
    return { value, dh: Float64Array.from(ht.grad!.toArray()), dw: Float64Array.from(wt.grad!.toArray()) };
  });
}

describe("linearCrossEntropy", () => {
  test("matches matmul + crossEntropy in value and both gradients, whatever the chunk size", () => {
    const ref = run(false, 3, 0.7);
    // 5 rows of logits per chunk (13 rows: chunks of 5, 5, 3), one row per chunk, all rows at once.
    for (const chunkBytes of [5 * V * 4, 1, undefined]) {
      const got = run(true, 3, 0.7, chunkBytes);
      expect(Math.abs(got.value - ref.value)).toBeLessThan(1e-5 * Math.abs(ref.value));
      expectClose(got.dh, ref.dh, 1e-4, "dhidden");
      expectClose(got.dw, ref.dw, 1e-4, "dweight");
    }
  });

  test("chunkRows keeps at least one row and at most all rows", () => {
    expect(chunkRows(100, 32000, 1)).toBe(1);
    expect(chunkRows(100, 10, 2 ** 30)).toBe(100);
    expect(chunkRows(100, 1000, 4000 * 7)).toBe(7);
  });

  test("all rows ignored gives loss 0 and zero gradients", () => {
    const { h, w } = inputs(5);
    tidy(() => {
      const ht = tensor(h, [N, D], { requiresGrad: true });
      const wt = tensor(w, [V, D], { requiresGrad: true });
      const loss = linearCrossEntropy(ht, wt, tensor(new Int32Array(N).fill(-100), [N], { dtype: "i32" }));
      expect(loss.toArray()[0]).toBe(0);
      backward(loss);
      expect(cpuBackend.sumSquares(ht.grad!)).toBe(0);
      expect(cpuBackend.sumSquares(wt.grad!)).toBe(0);
    });
  });

  test("a bf16 frozen weight (cast in vocab blocks) gives the loss and hidden gradient of its f32 values; asking it for a gradient is refused", () => {
    const { h, w, t } = inputs(7);
    tidy(() => {
      const wf = tensor(w, [V, D]);
      const wb = ops.cast(wf, "bf16");
      const wRounded = ops.cast(wb, "f32");
      const ref = run(false, 7, 1);
      const ht = tensor(h, [N, D], { requiresGrad: true });
      const tt = tensor(t, [N], { dtype: "i32" });
      // Chunks of 4 rows, the weight cast in blocks of 10 vocab rows (37 = 10 + 10 + 10 + 7).
      const loss = linearCrossEntropy(ht, wb, tt, { chunkBytes: 4 * V * 4, weightBlockBytes: 10 * D * 4 });
      backward(loss);
      const whole = tidy(() => {
        const h2 = tensor(h, [N, D], { requiresGrad: true });
        const l2 = linearCrossEntropy(h2, wb, tt);
        backward(l2);
        return { loss: l2.toArray()[0]!, dh: Float64Array.from(h2.grad!.toArray()) };
      });
      expect(Math.abs(whole.loss - loss.toArray()[0]!)).toBeLessThan(1e-6);
      expectClose(whole.dh, ht.grad!.toArray(), 1e-5, "dhidden, blocked vs one block");
      const hr = tensor(h, [N, D], { requiresGrad: true });
      const lr = crossEntropy(matmul(hr, wRounded, { transB: true }), tt);
      backward(lr);
      expect(Math.abs(loss.toArray()[0]! - lr.toArray()[0]!)).toBeLessThan(1e-5);
      expectClose(ht.grad!.toArray(), hr.grad!.toArray(), 1e-4, "dhidden");
      expect(Math.abs(loss.toArray()[0]! - ref.value)).toBeLessThan(0.05);
      const trainable = ops.cast(wf, "bf16");
      trainable.requiresGrad = true;
      expect(() => linearCrossEntropy(ht, trainable, tt)).toThrow(/cannot take a gradient/);
    });
  });

  test("without a gradient it only computes the loss", () => {
    const { h, w, t } = inputs(9);
    const ref = run(false, 9, 1);
    const value = tidy(() => linearCrossEntropy(tensor(h, [N, D]), tensor(w, [V, D]), tensor(t, [N], { dtype: "i32" }), { chunkBytes: 1 }).toArray()[0]!);
    expect(Math.abs(value - ref.value)).toBeLessThan(1e-5 * ref.value);
  });
});
