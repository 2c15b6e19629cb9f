// matmul against a float64 reference at many shapes (odd ones included) with the BLAS kernels chosen at
// load time, and its backward against finite differences for every transpose and batching combination.
import { describe, expect, test } from "bun:test";
import { backward, blasInfo, ops, tensor, tidy } from "../../../lft.ts";
import { expectClose } from "../../helpers/compare.ts";
import { numericGrad } from "../../helpers/gradcheck.ts";
import { randomArray } from "../../helpers/random.ts";

/** Reference: out[b] = op(A[b]) @ op(B[b or shared]) in float64. */
function refMatmul(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  batch: number,
  m: number,
  n: number,
  k: number,
  transA: boolean,
  transB: boolean,
  sharedB: boolean,
): Float64Array {
  const out = new Float64Array(batch * m * n);
  for (let bi = 0; bi < batch; bi++) {
    const ao = bi * m * k;
    const bo = sharedB ? 0 : bi * k * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) {
          const av = transA ? a[ao + p * m + i]! : a[ao + i * k + p]!;
          const bv = transB ? b[bo + j * k + p]! : b[bo + p * n + j]!;
          s += av * bv;
        }
        out[bi * m * n + i * n + j] = s;
      }
    }
  }
  return out;
}

function shapes(batch: number[], rows: number, cols: number, trans: boolean): number[] {
  return [...batch, ...(trans ? [cols, rows] : [rows, cols])];
}

describe("matmul forward", () => {
  // f32 accumulation over k terms of magnitude <= 1: error grows ~ sqrt(k) * 6e-8 relative to the output
  // scale; 1e-5 leaves headroom to k = 1000 while any indexing bug gives errors of order 1.
  const cases: [number, number, number][] = [
    [1, 1, 1],
    [3, 5, 7],
    [17, 1, 33],
    [64, 64, 64],
    [127, 129, 65],
    [1, 1000, 3],
    // One row (a decode step's Linear) runs as GEMV: both layouts of B, and k, n past a kernel tile.
    [1, 300, 257],
    [300, 17, 257],
  ];
  for (const [m, n, k] of cases) {
    for (const [transA, transB] of [
      [false, false],
      [false, true],
      [true, false],
      [true, true],
    ] as const) {
      test(`m=${m} n=${n} k=${k} transA=${transA} transB=${transB} (${blasInfo().corename} kernels)`, () => {
        tidy(() => {
          const a = randomArray(m * k, m * 1000 + k);
          const b = randomArray(k * n, n * 1000 + k + 1);
          const c = ops.matmul(tensor(a, shapes([], m, k, transA)), tensor(b, shapes([], k, n, transB)), { transA, transB });
          expect(c.shape).toEqual([m, n]);
          expectClose(c.toArray(), refMatmul(a, b, 1, m, n, k, transA, transB, true), 1e-5);
        });
      });
    }
  }

  test("batched a with shared and with batched b", () => {
    tidy(() => {
      const [bt, m, n, k] = [3, 5, 6, 7];
      const a = randomArray(2 * bt * m * k, 1);
      const bShared = randomArray(k * n, 2);
      const bBatched = randomArray(2 * bt * k * n, 3);
      const c1 = ops.matmul(tensor(a, [2, bt, m, k]), tensor(bShared, [k, n]));
      expect(c1.shape).toEqual([2, bt, m, n]);
      expectClose(c1.toArray(), refMatmul(a, bShared, 2 * bt, m, n, k, false, false, true), 1e-5);
      const c2 = ops.matmul(tensor(a, [2, bt, m, k]), tensor(bBatched, [2, bt, n, k]), { transB: true });
      expectClose(c2.toArray(), refMatmul(a, bBatched, 2 * bt, m, n, k, false, true, false), 1e-5);
    });
  });

  test("one-row products per batch (GEMV) with batched and shared b, into a NaN-filled output's place", () => {
    tidy(() => {
      const [bt, n, k] = [4, 37, 70];
      const a = randomArray(bt * k, 4);
      const bBatched = randomArray(bt * n * k, 5);
      // Fill the allocator's cache with NaN blocks of the output's size, so a kernel that reads its output
      // before writing (0 * NaN) would show.
      ops.mul(tensor(new Float32Array(bt * n).fill(Number.NaN), [bt, n]), tensor(new Float32Array(bt * n).fill(1), [bt, n])).dispose();
      const c = ops.matmul(tensor(a, [bt, 1, k]), tensor(bBatched, [bt, n, k]), { transB: true });
      expectClose(c.toArray(), refMatmul(a, bBatched, bt, 1, n, k, false, true, false), 1e-5);
      const bShared = randomArray(k * n, 6);
      const d = ops.matmul(tensor(a.slice(0, k), [1, 1, k]), tensor(bShared, [k, n]));
      expectClose(d.toArray(), refMatmul(a, bShared, 1, 1, n, k, false, false, true), 1e-5);
    });
  });

  test("mismatched inner dims and batch dims are reported with both shapes", () => {
    tidy(() => {
      expect(() => ops.matmul(tensor(randomArray(6, 1), [2, 3]), tensor(randomArray(8, 2), [4, 2]))).toThrow(/inner dimensions differ: \[2, 3\] @ \[4, 2\]/);
      expect(() => ops.matmul(tensor(randomArray(12, 1), [2, 2, 3]), tensor(randomArray(18, 2), [3, 3, 2]))).toThrow(/batch dims/);
      expect(() => ops.matmul(tensor(randomArray(3, 1), [3]), tensor(randomArray(3, 2), [3, 1]))).toThrow(/rank >= 2/);
    });
  });
});

describe("matmul backward (finite differences of the float64 reference)", () => {
  // Analytic f32 gradients vs f64 central differences (h=1e-6, truncation ~1e-12): the f32 GEMM's
  // rounding (~1e-7 relative) dominates; 1e-5 is tight enough that a wrong transpose fails by O(1).
  const combos = [
    { batch: [], shared: true },
    { batch: [2, 3], shared: true },
    { batch: [2], shared: false },
  ];
  for (const { batch, shared } of combos) {
    for (const [transA, transB] of [
      [false, false],
      [false, true],
      [true, false],
      [true, true],
    ] as const) {
      test(`batch=${JSON.stringify(batch)} shared=${shared} transA=${transA} transB=${transB}`, () => {
        const [m, n, k] = [3, 4, 5];
        const bt = batch.reduce((x, y) => x * y, 1);
        const a = randomArray(bt * m * k, 11);
        const b = randomArray((shared ? 1 : bt) * k * n, 12);
        const proj = randomArray(bt * m * n, 13);
        const aShape = shapes(batch, m, k, transA);
        const bShape = shapes(shared ? [] : batch, k, n, transB);
        tidy(() => {
          const at = tensor(a, aShape, { requiresGrad: true });
          const bt2 = tensor(b, bShape, { requiresGrad: true });
          const c = ops.matmul(at, bt2, { transA, transB });
          backward(ops.sum(ops.mul(c, tensor(proj, c.shape))));
          const f = (x: Float64Array[]) => refMatmul(x[0]!, x[1]!, bt, m, n, k, transA, transB, shared);
          expectClose(at.grad!.toArray(), numericGrad(f, [a, b], 0, proj), 1e-5, "dA");
          expectClose(bt2.grad!.toArray(), numericGrad(f, [a, b], 1, proj), 1e-5, "dB");
          at.grad!.dispose();
          bt2.grad!.dispose();
        });
      });
    }
  }
});
