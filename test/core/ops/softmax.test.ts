// softmax over the last dim against a float64 reference, its backward against finite differences, and
// logits of magnitude 1e4 (where a naive exp overflows) staying finite.
import { describe, expect, test } from "bun:test";
import { backward, cpuBackend, ops, tensor, tidy } from "../../../lft.ts";
import { expectClose } from "../../helpers/compare.ts";
import { numericGrad, rowwiseGrad } from "../../helpers/gradcheck.ts";
import { randomArray } from "../../helpers/random.ts";

const { softmax } = ops;

function refSoftmaxRow(x: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < x.length; i++) max = Math.max(max, x[i]!);
  const e = new Float64Array(x.length);
  let s = 0;
  for (let i = 0; i < x.length; i++) s += e[i] = Math.exp(x[i]! - max);
  for (let i = 0; i < x.length; i++) e[i]! /= s;
  return e;
}

function refSoftmax(x: Float64Array, cols: number): Float64Array {
  const out = new Float64Array(x.length);
  for (let r = 0; r < x.length / cols; r++) out.set(refSoftmaxRow(x.subarray(r * cols, (r + 1) * cols)), r * cols);
  return out;
}

const pick = (a: ArrayLike<number>, idx: number[]): Float64Array => Float64Array.from(idx, (i) => a[i]!);

const live = (): number => cpuBackend.allocator.stats().liveBytes;

describe("softmax forward", () => {
  // One expf per element and a double row sum: errors of a few ulp (~3e-7) relative to the largest
  // probability; 1e-5 catches a missed max-shift or wrong normaliser (errors of O(1e-1)).
  // [700, 33] and [64, 4097] exceed the kernel's threading threshold (16384 elements).
  const shapes: [number, number][] = [
    [1, 1],
    [1, 7],
    [5, 33],
    [3, 4097],
    [300, 7],
    [700, 33],
    [64, 4097],
  ];
  for (const [rows, cols] of shapes) {
    test(`[${rows}, ${cols}]`, () => {
      tidy(() => {
        const x = randomArray(rows * cols, rows * 7 + cols, -6, 6);
        const y = softmax(tensor(x, [rows, cols]));
        expect(y.shape).toEqual([rows, cols]);
        expectClose(y.toArray(), refSoftmax(x, cols), 1e-5);
      });
    });
  }

  test("leading dims are rows", () => {
    tidy(() => {
      const x = randomArray(2 * 3 * 5, 4);
      const y = softmax(tensor(x, [2, 3, 5]));
      expect(y.shape).toEqual([2, 3, 5]);
      expectClose(y.toArray(), refSoftmax(x, 5), 1e-5);
    });
  });

  test("logits of magnitude 1e4 stay finite and exact", () => {
    tidy(() => {
      const [rows, cols] = [4, 33];
      const x = randomArray(rows * cols, 9, -1, 1).map((v, i) => Math.fround((i % 3 === 0 ? 1e4 : i % 3 === 1 ? -1e4 : 0) + v));
      const xt = tensor(x, [rows, cols], { requiresGrad: true });
      const y = softmax(xt);
      const got = y.toArray() as Float32Array;
      expectClose(got, refSoftmax(x, cols), 1e-5);
      for (let r = 0; r < rows; r++) expect(Math.abs(got.subarray(r * cols, (r + 1) * cols).reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-6);
      backward(y, tensor(randomArray(rows * cols, 10), [rows, cols]));
      for (const v of xt.grad!.toArray()) expect(Number.isFinite(v)).toBe(true);
      xt.grad!.dispose();
    });
  });
});

describe("softmax backward (finite differences of the float64 reference)", () => {
  // f32 analytic gradient vs f64 central differences (h = 1e-6, error ~1e-10 relative): kernel
  // rounding (~1e-7) dominates; 1e-5 is tight enough that dropping the dot term fails by O(1).
  test("the row-wise difference agrees with the general helper", () => {
    const x = randomArray(3 * 4, 1);
    const proj = randomArray(3 * 4, 2);
    expectClose(
      rowwiseGrad(refSoftmaxRow, x, 4, proj).grad,
      numericGrad((i) => refSoftmax(i[0]!, 4), [x], 0, proj),
      1e-9,
    );
  });

  // Rows of 4097 are differenced at every 31st column (and the last): the kernel's whole row still
  // enters each checked entry through the dot term.
  const shapes: [number, number][] = [
    [1, 1],
    [1, 7],
    [5, 33],
    [3, 4097],
    [700, 33],
  ];
  for (const [rows, cols] of shapes) {
    test(`[${rows}, ${cols}]`, () => {
      const before = live();
      tidy(() => {
        const x = randomArray(rows * cols, rows + cols, -3, 3);
        const proj = randomArray(rows * cols, rows + cols + 1);
        const xt = tensor(x, [rows, cols], { requiresGrad: true });
        backward(softmax(xt), tensor(proj, [rows, cols]));
        const fd = rowwiseGrad(refSoftmaxRow, x, cols, proj, cols > 512 ? 31 : 1);
        expectClose(pick(xt.grad!.toArray(), fd.idx), fd.grad, 1e-5);
        xt.grad!.dispose();
      });
      expect(live()).toBe(before);
    });
  }
});

describe("softmax input checks", () => {
  test("wrong dtype says what was expected", () => {
    tidy(() => {
      expect(() => softmax(tensor([1, 2], [2], { dtype: "i32" }))).toThrow(/softmax: input must be f32, got i32/);
    });
  });
});
