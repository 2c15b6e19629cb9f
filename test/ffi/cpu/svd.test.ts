// cpuSvd (LAPACK sgesdd through OpenBLAS): reconstructs the matrix, orthonormal factors, singular values
// as the float64 Jacobi SVD gives them, for tall, wide and square shapes; bad sizes are errors, not
// crashes; and it is installed as core's native SVD at start-up.
import { describe, expect, test } from "bun:test";
import { nativeSvd, svdJacobi } from "../../../core/index.ts";
import { cpuSvd } from "../../../ffi/cpu/cpu.ts";
import { randomArray } from "../../helpers/random.ts";

describe("cpuSvd", () => {
  for (const [m, n] of [
    [7, 4],
    [4, 9],
    [12, 12],
    [1, 5],
  ] as const) {
    test(`[${m}, ${n}]: a = u·diag(s)·vt, orthonormal u and vt, s as Jacobi's`, () => {
      const a = randomArray(m * n, m * 31 + n);
      const d = cpuSvd(Float32Array.from(a), m, n)._unsafeUnwrap();
      const k = Math.min(m, n);
      expect(d.k).toBe(k);
      let worst = 0;
      for (let i = 0; i < m; i++)
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let c = 0; c < k; c++) s += d.u[i * k + c]! * d.s[c]! * d.vt[c * n + j]!;
          worst = Math.max(worst, Math.abs(s - a[i * n + j]!));
        }
      expect(worst).toBeLessThan(1e-5);
      for (let c = 0; c < k; c++)
        for (let e = 0; e < k; e++) {
          let uu = 0;
          let vv = 0;
          for (let i = 0; i < m; i++) uu += d.u[i * k + c]! * d.u[i * k + e]!;
          for (let j = 0; j < n; j++) vv += d.vt[c * n + j]! * d.vt[e * n + j]!;
          expect(Math.abs(uu - (c === e ? 1 : 0))).toBeLessThan(1e-5);
          expect(Math.abs(vv - (c === e ? 1 : 0))).toBeLessThan(1e-5);
        }
      const ref = svdJacobi(a, m, n);
      for (let c = 0; c < k; c++) expect(Math.abs(d.s[c]! - ref.s[c]!)).toBeLessThan(1e-5 * Math.max(1, ref.s[0]!));
    });
  }

  test("bad sizes are errors that say what is wrong", () => {
    expect(cpuSvd(new Float32Array(6), 2, 4)._unsafeUnwrapErr().message).toBe("svd: the matrix has 6 values but [2, 4] needs 8");
    expect(cpuSvd(new Float32Array(0), 0, 3)._unsafeUnwrapErr().message).toContain("sizes must be positive integers");
    expect(cpuSvd(new Float32Array(1), 70000, 70000)._unsafeUnwrapErr().message).toContain("too large");
  });

  test("installed as core's native SVD", () => {
    expect(nativeSvd()).toBe(cpuSvd);
  });
});
