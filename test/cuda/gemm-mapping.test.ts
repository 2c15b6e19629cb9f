// The row-major -> column-major cuBLAS mapping (C^T = B^T A^T) without a GPU: a float64 emulation of
// cublasGemmStridedBatchedEx's column-major semantics, fed the call columnMajorCall() builds, must equal a
// plain row-major matmul for every transpose, batch and stride combination (exact in float64 on integers).
import { describe, expect, test } from "bun:test";
import { type ColumnMajorCall, CUBLAS_OP, columnMajorCall, type RowMajorGemm } from "../../ffi/cuda/cublas.ts";
import { randomInts } from "../helpers/random.ts";

/** What cuBLAS computes: C[b] = alpha op(A[b]) op(B[b]) + beta C[b], all column-major (A is cuBLAS's first operand). */
function cublasEmulate(c: ColumnMajorCall, A: Float64Array, B: Float64Array, C: Float64Array, alpha: number, beta: number): void {
  const opA = (b: number, i: number, l: number) => (c.transa === CUBLAS_OP.T ? A[b * c.strideA + l + i * c.lda]! : A[b * c.strideA + i + l * c.lda]!);
  const opB = (b: number, l: number, j: number) => (c.transb === CUBLAS_OP.T ? B[b * c.strideB + j + l * c.ldb]! : B[b * c.strideB + l + j * c.ldb]!);
  for (let b = 0; b < c.batch; b++)
    for (let j = 0; j < c.n; j++)
      for (let i = 0; i < c.m; i++) {
        let s = 0;
        for (let l = 0; l < c.k; l++) s += opA(b, i, l) * opB(b, l, j);
        const at = b * c.strideC + i + j * c.ldc;
        C[at] = alpha * s + beta * C[at]!;
      }
}

/** Row-major reference: C[b] (m x n) = alpha op(A[b]) op(B[b]) + beta C[b]. */
function rowMajor(g: RowMajorGemm, A: Float64Array, B: Float64Array, C: Float64Array, alpha: number, beta: number): void {
  const a = (b: number, i: number, l: number) => (g.transA ? A[b * g.strideA + l * g.m + i]! : A[b * g.strideA + i * g.k + l]!);
  const bb = (b: number, l: number, j: number) => (g.transB ? B[b * g.strideB + j * g.k + l]! : B[b * g.strideB + l * g.n + j]!);
  for (let b = 0; b < g.batch; b++)
    for (let i = 0; i < g.m; i++)
      for (let j = 0; j < g.n; j++) {
        let s = 0;
        for (let l = 0; l < g.k; l++) s += a(b, i, l) * bb(b, l, j);
        const at = b * g.strideC + i * g.n + j;
        C[at] = alpha * s + beta * C[at]!;
      }
}

const ints = (n: number, seed: number) => Float64Array.from(randomInts(n, seed, 9), (x) => x - 4);

describe("columnMajorCall", () => {
  let seed = 1;
  for (const transA of [false, true])
    for (const transB of [false, true])
      for (const [batch, sharedB] of [
        [1, false],
        [3, false],
        [3, true],
      ] as const)
        test(`transA=${transA} transB=${transB} batch=${batch}${sharedB ? " (shared B)" : ""}`, () => {
          const [m, n, k] = [5, 3, 4];
          const g: RowMajorGemm = { m, n, k, transA, transB, batch, strideA: m * k, strideB: sharedB ? 0 : k * n, strideC: m * n };
          const A = ints(batch * m * k, seed++);
          const B = ints((sharedB ? 1 : batch) * k * n, seed++);
          const C0 = ints(batch * m * n, seed++);
          const want = C0.slice();
          rowMajor(g, A, B, want, 2, 0.5);
          const got = C0.slice();
          // cuBLAS's first operand is our B, its second our A
          cublasEmulate(columnMajorCall(g), B, A, got, 2, 0.5);
          expect([...got]).toEqual([...want]);
        });

  test("a shared B with an untransposed A folds into one tall GEMM (batch 1, batch * m rows)", () => {
    const c = columnMajorCall({ m: 128, n: 64, k: 32, transA: false, transB: true, batch: 8, strideA: 128 * 32, strideB: 0, strideC: 128 * 64 });
    expect(c).toMatchObject({ batch: 1, m: 64, n: 1024, k: 32, transa: CUBLAS_OP.T, transb: CUBLAS_OP.N, lda: 32, ldb: 32, ldc: 64 });
  });

  test("dimensions beyond cuBLAS's 32-bit int are refused", () => {
    expect(() => columnMajorCall({ m: 2 ** 31, n: 1, k: 1, transA: false, transB: false, batch: 1, strideA: 0, strideB: 0, strideC: 0 })).toThrow("32-bit");
  });
});
