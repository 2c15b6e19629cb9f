// sum and mean (to shape []), sumLastDim and meanLastDim: forward against a float64 reference at odd
// sizes (1, 7, 4097 = one past the kernel's block, 100003 for precision), backward against finite
// differences of the reference.
import { describe, expect, test } from "bun:test";
import { backward, ops, tensor, tidy } from "../../../core/index.ts";
import { expectClose } from "../../helpers/compare.ts";
import { numericGrad } from "../../helpers/gradcheck.ts";
import { randomArray } from "../../helpers/random.ts";

function refSum(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]!;
  return s;
}

/** Row sums over the last dim (cols), optionally divided by cols. */
function refLastDim(x: ArrayLike<number>, cols: number, mean: boolean): Float64Array {
  const rows = cols === 0 ? 0 : x.length / cols;
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let c = 0; c < cols; c++) s += x[r * cols + c]!;
    out[r] = mean ? s / cols : s;
  }
  return out;
}

/** Distance in f32 ulps at the reference's magnitude. */
function ulps(actual: number, expected: number): number {
  const e = Math.abs(Math.fround(expected)) || 2 ** -149;
  const ulp = 2 ** (Math.floor(Math.log2(e)) - 23);
  return Math.abs(actual - expected) / ulp;
}

describe("sum and mean over everything", () => {
  // The kernel accumulates f32 inputs in double (error ~ n * 1e-16, negligible) and rounds once to the
  // f32 output, so the result is within one f32 ulp of the exact f64 sum; mean adds one division in
  // double before that rounding. A naive f32 running sum over 1e5 elements is off by ~1e2 ulps, so the
  // 1-ulp bound is what tests the precision claim. Inputs in [0, 1) keep the sum far from cancellation;
  // a second case in [-1, 1) checks signs.
  for (const n of [1, 7, 4097, 100003]) {
    for (const [lo, seed] of [
      [0, 1],
      [-1, 2],
    ] as const) {
      test(`n=${n} inputs in [${lo}, 1)`, () => {
        tidy(() => {
          const x = randomArray(n, seed * 1000 + n, lo, 1);
          const xt = tensor(x, [n]);
          const s = ops.sum(xt);
          const m = ops.mean(xt);
          expect(s.shape).toEqual([]);
          expect(m.shape).toEqual([]);
          const ref = refSum(x);
          expect(ulps(s.item(), ref)).toBeLessThanOrEqual(1);
          expect(ulps(m.item(), ref / n)).toBeLessThanOrEqual(1);
        });
      });
    }
  }

  test("rank-3 input reduces to shape []", () => {
    tidy(() => {
      const x = randomArray(2 * 3 * 5, 9);
      const s = ops.sum(tensor(x, [2, 3, 5]));
      expect(s.shape).toEqual([]);
      expect(ulps(s.item(), refSum(x))).toBeLessThanOrEqual(1);
      expect(ulps(ops.mean(tensor(x, [2, 3, 5])).item(), refSum(x) / 30)).toBeLessThanOrEqual(1);
    });
  });

  test("an empty tensor sums to 0 (mean 0, not NaN) and backpropagates an empty gradient", () => {
    tidy(() => {
      const x = tensor([], [0, 3], { requiresGrad: true });
      expect(ops.sum(x).item()).toBe(0);
      expect(ops.mean(x).item()).toBe(0);
      backward(ops.sum(x));
      expect(x.grad!.shape).toEqual([0, 3]);
    });
  });

  // d sum(x) / dx = g (d mean = g / n) for every element: exact in f32 for sum, one rounding for mean.
  for (const n of [1, 7, 4097]) {
    test(`backward n=${n} vs finite differences`, () => {
      const x = randomArray(n, 100 + n);
      tidy(() => {
        const gOut = tensor([2.5], []);
        for (const mean of [false, true]) {
          const xt = tensor(x, [n], { requiresGrad: true });
          backward(mean ? ops.mean(xt) : ops.sum(xt), gOut);
          const f = (v: Float64Array[]) => [mean ? refSum(v[0]!) / n : refSum(v[0]!)];
          // FD of a linear function: error ~ n * 1e-16 / 1e-6 relative, well under 1e-6.
          expectClose(xt.grad!.toArray(), numericGrad(f, [x], 0, [2.5]), 1e-6, mean ? "d mean" : "d sum");
        }
      });
    });
  }

  test("backward n=100003 gives g (and g/n for mean) in every element", () => {
    tidy(() => {
      const n = 100003;
      const xt = tensor(randomArray(n, 7), [n], { requiresGrad: true });
      backward(ops.sum(xt), tensor([-1.75], []));
      const g = xt.grad!.toArray();
      expect(g.length).toBe(n);
      expect(g.every((v) => v === -1.75)).toBe(true);
      const xm = tensor(randomArray(n, 8), [n], { requiresGrad: true });
      backward(ops.mean(xm), tensor([3], []));
      const gm = xm.grad!.toArray();
      expect(gm.every((v) => v === Math.fround(Math.fround(1 / n) * 3))).toBe(true);
    });
  });
});

describe("sumLastDim and meanLastDim", () => {
  const SHAPES: number[][] = [[1], [7], [3, 1], [5, 7], [2, 3, 5], [2, 4097], [1, 100003], [300, 129]];
  // Each row is summed in double and rounded once to f32 (<= 2^-24 relative); the mean then rounds 1/cols
  // and the product in f32: <= 3 roundings, 2e-7 relative. 1e-6 of the output scale catches any row or
  // column mix-up by O(1).
  for (const shape of SHAPES) {
    test(`forward ${JSON.stringify(shape)}`, () => {
      tidy(() => {
        const n = shape.reduce((a, b) => a * b, 1);
        const cols = shape[shape.length - 1]!;
        const x = randomArray(n, n + 17, 0, 1);
        for (const mean of [false, true]) {
          const out = (mean ? ops.meanLastDim : ops.sumLastDim)(tensor(x, shape));
          expect(out.shape).toEqual(shape.slice(0, -1));
          expectClose(out.toArray(), refLastDim(x, cols, mean), 1e-6, mean ? "meanLastDim" : "sumLastDim");
        }
      });
    });
  }

  test("an empty last dim gives zeros over the leading dims", () => {
    tidy(() => {
      const x = tensor([], [3, 0], { requiresGrad: true });
      const s = ops.sumLastDim(x);
      expect(s.shape).toEqual([3]);
      expect(Array.from(s.toArray())).toEqual([0, 0, 0]);
      backward(s, tensor([1, 2, 3], [3]));
      expect(x.grad!.shape).toEqual([3, 0]);
    });
  });

  const GRAD_SHAPES: number[][] = [[7], [3, 1], [5, 7], [2, 3, 5], [2, 4097]];
  // Gradients are g[row] (times 1/cols for the mean), broadcast along the row: one f32 rounding at most.
  // FD of the linear f64 reference is exact to ~1e-9; 1e-6 flags a gradient routed to the wrong row.
  for (const shape of GRAD_SHAPES) {
    test(`backward ${JSON.stringify(shape)} vs finite differences`, () => {
      const n = shape.reduce((a, b) => a * b, 1);
      const cols = shape[shape.length - 1]!;
      const x = randomArray(n, n + 31);
      const proj = randomArray(n / cols, n + 32);
      tidy(() => {
        for (const mean of [false, true]) {
          const xt = tensor(x, shape, { requiresGrad: true });
          const out = (mean ? ops.meanLastDim : ops.sumLastDim)(xt);
          backward(out, tensor(proj, out.shape));
          const f = (v: Float64Array[]) => refLastDim(v[0]!, cols, mean);
          expectClose(xt.grad!.toArray(), numericGrad(f, [x], 0, proj), 1e-6, mean ? "d meanLastDim" : "d sumLastDim");
        }
      });
    });
  }
});
