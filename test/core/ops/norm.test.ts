// rmsNorm and layerNorm against float64 references, their backward (dx, dw, db) against finite
// differences, and the weight gradient's independence from the thread count.
import { describe, expect, test } from "bun:test";
import { native } from "../../../ffi/cpu/cpu.ts";
import { backward, cpuBackend, ops, tensor, tidy } from "../../../lft.ts";
import { expectClose } from "../../helpers/compare.ts";
import { numericGrad, rowwiseGrad } from "../../helpers/gradcheck.ts";
import { randomArray } from "../../helpers/random.ts";

const { layerNorm, rmsNorm } = ops;

function refRmsRow(x: ArrayLike<number>, w: ArrayLike<number>, eps: number, off: number): Float64Array {
  let ss = 0;
  for (let c = 0; c < x.length; c++) ss += x[c]! * x[c]!;
  const rstd = 1 / Math.sqrt(ss / x.length + eps);
  return Float64Array.from(x, (v, c) => v * rstd * (w[c]! + off));
}

function refLayerRow(x: ArrayLike<number>, w: ArrayLike<number>, b: ArrayLike<number>, eps: number): Float64Array {
  let mean = 0;
  for (let c = 0; c < x.length; c++) mean += x[c]!;
  mean /= x.length;
  let v = 0;
  for (let c = 0; c < x.length; c++) v += (x[c]! - mean) ** 2;
  const rstd = 1 / Math.sqrt(v / x.length + eps);
  return Float64Array.from(x, (xv, c) => (xv - mean) * rstd * w[c]! + b[c]!);
}

/** Applies a row function to every row of x [rows, cols]. */
function byRows(x: Float64Array, cols: number, fRow: (row: Float64Array) => Float64Array): Float64Array {
  const out = new Float64Array(x.length);
  for (let r = 0; r < x.length / cols; r++) out.set(fRow(x.subarray(r * cols, (r + 1) * cols)), r * cols);
  return out;
}

/** Central differences of sum(f(p) * proj) for the parameter entries p[i], i in idx (a weight shared by all rows). */
function paramGrad(f: (p: Float64Array) => Float64Array, p: Float64Array, idx: number[], proj: ArrayLike<number>, h = 1e-6): Float64Array {
  const loss = (): number => f(p).reduce((s, v, i) => s + v * proj[i]!, 0);
  return Float64Array.from(idx, (i) => {
    const keep = p[i]!;
    p[i] = keep + h;
    const up = loss();
    p[i] = keep - h;
    const down = loss();
    p[i] = keep;
    return (up - down) / (2 * h);
  });
}

const pick = (a: ArrayLike<number>, idx: number[]): Float64Array => Float64Array.from(idx, (i) => a[i]!);
const columns = (cols: number, every: number): number[] => Array.from({ length: cols }, (_, c) => c).filter((c) => c % every === 0 || c === cols - 1);
const live = (): number => cpuBackend.allocator.stats().liveBytes;

// Odd widths, one row and many; [700, 33] and [64, 4097] exceed the threading threshold (16384 elements).
const FORWARD: [number, number][] = [
  [1, 1],
  [1, 7],
  [5, 33],
  [3, 4097],
  [300, 7],
  [700, 33],
  [64, 4097],
];
const BACKWARD: [number, number][] = [
  [1, 1],
  [1, 7],
  [5, 33],
  [3, 4097],
  [700, 33],
];

describe("rmsNorm", () => {
  // Forward: double row statistics, then 3 f32 multiplies per element: ~2e-7 relative; 1e-5 catches a
  // wrong eps placement (eps = 1e-2 below) or mean-vs-sum error by orders of magnitude.
  for (const [rows, cols] of FORWARD) {
    for (const [eps, off] of [
      [1e-6, 0],
      [1e-2, 1],
    ] as const) {
      test(`forward [${rows}, ${cols}] eps=${eps} weightOffset=${off}`, () => {
        tidy(() => {
          const x = randomArray(rows * cols, rows * 3 + cols, -2, 2);
          const w = randomArray(cols, cols + 1, off === 0 ? 0.5 : -0.5, 1.5 - off);
          const y = rmsNorm(tensor(x, [rows, cols]), tensor(w), { eps, weightOffset: off });
          expect(y.shape).toEqual([rows, cols]);
          expectClose(
            y.toArray(),
            byRows(x, cols, (row) => refRmsRow(row, w, eps, off)),
            1e-5,
          );
        });
      });
    }
  }

  // Backward: f32 analytic dx, dw vs f64 central differences (h = 1e-6, error ~1e-10): kernel rounding
  // (~1e-7; dw sums rows in double) dominates; dropping the rstd^3 term fails by O(1).
  // Columns of 4097 are differenced at every 31st column and the last.
  for (const [rows, cols] of BACKWARD) {
    test(`backward [${rows}, ${cols}]: dx and dw`, () => {
      const before = live();
      tidy(() => {
        // One column: dx = g * wo * eps * rstd^3 is a difference of two nearly equal O(1) terms, so its
        // f32 error is ~1e-7 / eps relative; a large eps makes the gradient O(1) and the check meaningful.
        const [eps, off] = [cols === 1 ? 0.5 : 1e-5, 1];
        const x = randomArray(rows * cols, 100 + rows + cols, -2, 2);
        const w = randomArray(cols, 200 + cols, -0.5, 0.5);
        const proj = randomArray(rows * cols, 300 + rows);
        const xt = tensor(x, [rows, cols], { requiresGrad: true });
        const wt = tensor(w, [cols], { requiresGrad: true });
        backward(rmsNorm(xt, wt, { eps, weightOffset: off }), tensor(proj, [rows, cols]));
        const every = cols > 512 ? 31 : 1;
        const fd = rowwiseGrad((row) => refRmsRow(row, w, eps, off), x, cols, proj, every);
        expectClose(pick(xt.grad!.toArray(), fd.idx), fd.grad, 1e-5, "dx");
        const wi = columns(cols, every);
        const dw = paramGrad((p) => byRows(x, cols, (row) => refRmsRow(row, p, eps, off)), w, wi, proj);
        expectClose(pick(wt.grad!.toArray(), wi), dw, 1e-5, "dw");
        xt.grad!.dispose();
        wt.grad!.dispose();
      });
      expect(live()).toBe(before);
    });
  }

  test("the general finite-difference helper agrees with the row-wise one", () => {
    const x = randomArray(3 * 5, 1);
    const w = randomArray(5, 2);
    const proj = randomArray(15, 3);
    const f = (i: Float64Array[]): Float64Array => byRows(i[0]!, 5, (row) => refRmsRow(row, i[1]!, 1e-6, 0));
    expectClose(rowwiseGrad((row) => refRmsRow(row, w, 1e-6, 0), x, 5, proj).grad, numericGrad(f, [x, w], 0, proj), 1e-9);
    expectClose(
      paramGrad((p) => f([x, p]), w, [0, 1, 2, 3, 4], proj),
      numericGrad(f, [x, w], 1, proj),
      1e-9,
    );
  });

  test("frozen weight: only dx is returned", () => {
    tidy(() => {
      const xt = tensor(randomArray(12, 1), [3, 4], { requiresGrad: true });
      const wt = tensor(randomArray(4, 2), [4]);
      backward(rmsNorm(xt, wt), tensor(randomArray(12, 3), [3, 4]));
      expect(wt.grad).toBeNull();
      expect(xt.grad!.shape).toEqual([3, 4]);
      xt.grad!.dispose();
    });
  });

  test("dw is bit-identical for 1, 2, 3 and 7 threads", () => {
    const threads = native.lft_num_threads();
    const [rows, cols] = [301, 300];
    const [x, w, proj] = [randomArray(rows * cols, 1), randomArray(cols, 2), randomArray(rows * cols, 3)];
    const results: Float32Array[] = [];
    try {
      for (const n of [1, 2, 3, 7]) {
        native.lft_set_num_threads(n);
        tidy(() => {
          const wt = tensor(w, [cols], { requiresGrad: true });
          backward(rmsNorm(tensor(x, [rows, cols]), wt), tensor(proj, [rows, cols]));
          results.push(wt.grad!.toArray() as Float32Array);
          wt.grad!.dispose();
        });
      }
    } finally {
      native.lft_set_num_threads(threads);
    }
    for (const r of results.slice(1)) expect(r).toEqual(results[0]!);
  });
});

describe("layerNorm", () => {
  // Forward as rmsNorm: double mean/variance, f32 output (~2e-7); 1e-5 catches an unbiased variance
  // (a factor n/(n-1), 3% at n = 33) or a missing bias.
  for (const [rows, cols] of FORWARD) {
    test(`forward [${rows}, ${cols}]`, () => {
      tidy(() => {
        const x = randomArray(rows * cols, rows * 5 + cols, -2, 3);
        const w = randomArray(cols, cols + 2, 0.5, 1.5);
        const b = randomArray(cols, cols + 3);
        const y = layerNorm(tensor(x, [rows, cols]), tensor(w), tensor(b), { eps: 1e-5 });
        expectClose(
          y.toArray(),
          byRows(x, cols, (row) => refLayerRow(row, w, b, 1e-5)),
          1e-5,
        );
      });
    });
  }

  test("forward with |mean| = 1000 x std keeps full precision (no E[x^2] - E[x]^2 cancellation)", () => {
    tidy(() => {
      const [rows, cols] = [4, 257];
      const x = randomArray(rows * cols, 8, 999, 1001);
      const w = randomArray(cols, 9, 0.5, 1.5);
      const b = randomArray(cols, 10);
      const y = layerNorm(tensor(x, [rows, cols]), tensor(w), tensor(b));
      expectClose(
        y.toArray(),
        byRows(x, cols, (row) => refLayerRow(row, w, b, 1e-5)),
        1e-5,
      );
    });
  });

  // Backward: as rmsNorm; the tolerance catches a missing mean(dy * w) term by O(1).
  for (const [rows, cols] of BACKWARD) {
    test(`backward [${rows}, ${cols}]: dx, dw and db`, () => {
      const before = live();
      tidy(() => {
        const eps = 1e-5;
        const x = randomArray(rows * cols, 400 + rows + cols, -2, 2);
        const w = randomArray(cols, 500 + cols, 0.5, 1.5);
        const b = randomArray(cols, 600 + cols);
        const proj = randomArray(rows * cols, 700 + rows);
        const xt = tensor(x, [rows, cols], { requiresGrad: true });
        const wt = tensor(w, [cols], { requiresGrad: true });
        const bt = tensor(b, [cols], { requiresGrad: true });
        backward(layerNorm(xt, wt, bt, { eps }), tensor(proj, [rows, cols]));
        const every = cols > 512 ? 31 : 1;
        const fd = rowwiseGrad((row) => refLayerRow(row, w, b, eps), x, cols, proj, every);
        // cols = 1 normalises to exactly 0: dx is 0 up to f32 rounding of x - mean.
        expectClose(pick(xt.grad!.toArray(), fd.idx), fd.grad, 1e-5, "dx");
        const ci = columns(cols, every);
        const dw = paramGrad((p) => byRows(x, cols, (row) => refLayerRow(row, p, b, eps)), w, ci, proj);
        const db = paramGrad((p) => byRows(x, cols, (row) => refLayerRow(row, w, p, eps)), b, ci, proj);
        expectClose(pick(wt.grad!.toArray(), ci), dw, 1e-5, "dw");
        expectClose(pick(bt.grad!.toArray(), ci), db, 1e-5, "db");
        for (const t of [xt, wt, bt]) t.grad!.dispose();
      });
      expect(live()).toBe(before);
    });
  }
});

describe("norm input checks", () => {
  test("wrong weight/bias shape, dtype or rank say what was expected", () => {
    tidy(() => {
      const x = tensor(randomArray(2 * 33, 1), [2, 33]);
      const w = tensor(randomArray(33, 2));
      expect(() => rmsNorm(x, tensor(randomArray(32, 3)))).toThrow(/rmsNorm: weight must have shape \[33\], got \[32\]/);
      expect(() => rmsNorm(tensor([1, 2], [2], { dtype: "i32" }), w)).toThrow(/rmsNorm: input must be f32, got i32/);
      expect(() => rmsNorm(tensor([1], []), tensor([1]))).toThrow(/rmsNorm: input must have rank >= 1/);
      expect(() => layerNorm(x, w, tensor(randomArray(34, 3)))).toThrow(/layerNorm: bias must have shape \[33\], got \[34\]/);
      expect(() => layerNorm(x, tensor(randomArray(33, 3), [1, 33]), w)).toThrow(/layerNorm: weight must have shape \[33\], got \[1, 33\]/);
    });
  });
});
