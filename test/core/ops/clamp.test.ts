// clamp (gpt-oss's clamped SwiGLU): min(max(x, lo), hi) on both sides of the kernel's threading threshold,
// one-sided with infinite bounds, the gradient passing exactly where the value was kept, and bad bounds.
import { describe, expect, test } from "bun:test";
import { backward, cpuBackend, DTypeError, ops, tensor, tidy } from "../../../lft.ts";
import { randomArray } from "../../helpers/random.ts";

// 1..4097 stay serial in the kernel; 70001 takes the OpenMP path (n > 32768).
const SIZES = [1, 7, 4097, 70001];

describe("clamp", () => {
  for (const n of SIZES) {
    test(`n=${n}: values and gradient against the definition`, () => {
      const x = randomArray(n, 40 + n, -9, 9);
      const g = randomArray(n, 41 + n);
      for (const [lo, hi] of [
        [-7, 7],
        [Number.NEGATIVE_INFINITY, 7],
        [-0.5, Number.POSITIVE_INFINITY],
        [2, 2],
      ] as const) {
        tidy(() => {
          const tx = tensor(x, [n], { requiresGrad: true });
          const y = ops.clamp(tx, lo, hi);
          backward(y, tensor(g, [n]));
          const xf = Float32Array.from(x);
          // Exact: clamp only selects an f32 value or a bound.
          expect(Array.from(y.toArray())).toEqual(Array.from(xf, (v) => Math.fround(Math.min(Math.max(v, lo), hi))));
          const gf = Float32Array.from(g);
          expect(Array.from(tx.grad!.toArray())).toEqual(Array.from(xf, (v, i) => (v >= lo && v <= hi ? gf[i]! : 0)));
          tx.grad!.dispose();
        });
      }
    });
  }

  test("the limits bind on the side asked for only, and a value equal to a bound keeps its gradient", () => {
    tidy(() => {
      const x = tensor([-9, -7, -1, 0, 3, 7, 8], [7], { requiresGrad: true });
      const y = ops.clamp(x, Number.NEGATIVE_INFINITY, 7);
      expect(Array.from(y.toArray())).toEqual([-9, -7, -1, 0, 3, 7, 7]);
      backward(y, tensor([1, 1, 1, 1, 1, 1, 1], [7]));
      expect(Array.from(x.grad!.toArray())).toEqual([1, 1, 1, 1, 1, 1, 0]);
      x.grad!.dispose();
    });
  });

  test("bad bounds and dtypes are refused before the kernel", () => {
    tidy(() => {
      const x = tensor([1, 2], [2]);
      expect(() => ops.clamp(x, 3, 1)).toThrow(/clamp: bounds must satisfy lo <= hi \(infinite for one side\), got \[3, 1\]/);
      expect(() => ops.clamp(x, Number.NaN, 1)).toThrow(RangeError);
      expect(() => ops.clamp(tensor([1, 2], [2], { dtype: "i32" }), 0, 1)).toThrow(DTypeError);
      const out = tensor([0, 0, 0], [3]);
      expect(() => cpuBackend.clampForward(out, x, 0, 1)).toThrow(/out must have shape \[2\], got \[3\]/);
    });
  });
});
