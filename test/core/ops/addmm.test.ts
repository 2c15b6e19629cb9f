// addmm (c + alpha · a @ op(b) in one accumulating GEMM) against add(c, scale(matmul(a, b), alpha)): the value
// and the gradients of c, a and b, with leading batch dims and b used as stored or transposed; its shape
// and alpha checks; and that gradients flow only where asked.
import { describe, expect, test } from "bun:test";
import { backward, ops, tensor, tidy } from "../../../lft.ts";
import { expectClose } from "../../helpers/compare.ts";
import { randomArray } from "../../helpers/random.ts";

const [B, T, K, N] = [2, 5, 7, 19];

function run(fused: boolean, transB: boolean, alpha: number) {
  return tidy(() => {
    const c = tensor(randomArray(B * T * N, 1), [B, T, N], { requiresGrad: true });
    const a = tensor(randomArray(B * T * K, 2), [B, T, K], { requiresGrad: true });
    const b = tensor(randomArray(K * N, 3), transB ? [N, K] : [K, N], { requiresGrad: true });
    const out = fused ? ops.addmm(c, a, b, { transB, alpha }) : ops.add(c, ops.scale(ops.matmul(a, b, { transB }), alpha));
    const value = Float64Array.from(out.toArray());
    backward(out, tensor(randomArray(out.numel, 4), out.shape));
    return { value, dc: Float64Array.from(c.grad!.toArray()), da: Float64Array.from(a.grad!.toArray()), db: Float64Array.from(b.grad!.toArray()) };
  });
}

describe("addmm", () => {
  for (const transB of [false, true])
    for (const alpha of [1, -0.75])
      test(`equals add(c, scale(matmul(a, b), alpha)) with transB=${transB}, alpha=${alpha}`, () => {
        const got = run(true, transB, alpha);
        const want = run(false, transB, alpha);
        expectClose(got.value, want.value, 1e-6, "value");
        expectClose(got.dc, want.dc, 1e-6, "dc");
        expectClose(got.da, want.da, 1e-6, "da");
        expectClose(got.db, want.db, 1e-6, "db");
      });

  test("only inputs that require a gradient get one", () => {
    tidy(() => {
      const c = tensor(randomArray(T * N, 5), [T, N]);
      const a = tensor(randomArray(T * K, 6), [T, K], { requiresGrad: true });
      const b = tensor(randomArray(N * K, 7), [N, K]);
      backward(ops.addmm(c, a, b, { transB: true, alpha: 2 }), tensor(randomArray(T * N, 8), [T, N]));
      expect(c.grad).toBeNull();
      expect(b.grad).toBeNull();
      expect(a.grad!.shape).toEqual([T, K]);
    });
  });

  test("shapes that do not chain, and a non-finite alpha, are refused with what was expected", () => {
    tidy(() => {
      const a = tensor(randomArray(T * K, 9), [T, K]);
      const b = tensor(randomArray(K * N, 10), [K, N]);
      expect(() => ops.addmm(tensor(randomArray(T * (N + 1), 11), [T, N + 1]), a, b)).toThrow(/c \[5, 20\] must have the product's shape \[5, 19\]/);
      expect(() => ops.addmm(tensor(randomArray(T * N, 12), [T, N]), a, tensor(randomArray(K * N, 13), [1, K, N]))).toThrow(/b rank 2/);
      expect(() => ops.addmm(tensor(randomArray(T * N, 14), [T, N]), a, b, { alpha: Number.NaN })).toThrow(/alpha must be a finite number/);
    });
  });
});
