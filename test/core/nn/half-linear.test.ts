// The frozen half-weight linear: a few rows (decode steps) go through the backend's halfLinear, which reads
// the bf16/f16 weight as stored; more rows cast it to f32 and run a GEMM. Both are checked against a float64
// product of the stored values, the input gradient against finite differences of that product, and bad
// arguments are refused before native code.
import { expect, test } from "bun:test";
import { backward, linearForward, ops, randn, ShapeError, type Tensor, tensor, tidy } from "../../../core/index.ts";
import { cpuBackend } from "../../../ffi/cpu/cpu.ts";

/** The weight's stored values (after rounding to half) in double. */
function stored(w: Tensor): Float64Array {
  return tidy(() => Float64Array.from(ops.cast(w, "f32").toArray()));
}

/** x [m, k] · Wᵀ in double. */
function reference(x: Float64Array, w: Float64Array, m: number, n: number, k: number): Float64Array {
  const out = new Float64Array(m * n);
  for (let r = 0; r < m; r++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let i = 0; i < k; i++) s += x[r * k + i]! * w[j * k + i]!;
      out[r * n + j] = s;
    }
  return out;
}

function maxRelError(got: ArrayLike<number>, want: Float64Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < want.length; i++) {
    num = Math.max(num, Math.abs(got[i]! - want[i]!));
    den = Math.max(den, Math.abs(want[i]!));
  }
  return num / den;
}

for (const dtype of ["bf16", "f16"] as const) {
  test(`${dtype}: halfLinear (1, 3 and 8 rows) and the cast path (9 rows) match the float64 product, odd widths included`, () => {
    for (const [n, k] of [
      [19, 37],
      [64, 80],
    ] as const) {
      const w = tidy(() => ops.cast(randn([n, k], { seed: 7 }), dtype));
      const W = stored(w);
      for (const m of [1, 3, 8, 9]) {
        const x = randn([m, k], { seed: m });
        const want = reference(Float64Array.from(x.toArray()), W, m, n, k);
        const direct = tensor(new Float32Array(m * n), [m, n]);
        if (m <= 8) {
          cpuBackend.halfLinear!(direct, x, w);
          expect(maxRelError(direct.toArray(), want)).toBeLessThan(1e-6);
        }
        const y = linearForward(x, w);
        expect(y.shape).toEqual([m, n]);
        expect(maxRelError(y.toArray(), want)).toBeLessThan(1e-6);
        for (const t of [x, direct, y]) t.dispose();
      }
      w.dispose();
    }
  });
}

test("a decode-sized input's gradient through a frozen bf16 weight matches finite differences of the float64 product", () => {
  const [n, k] = [5, 21];
  const w = tidy(() => ops.cast(randn([n, k], { seed: 3 }), "bf16"));
  const W = stored(w);
  const x0 = randn([1, k], { seed: 4 });
  const xs = Float64Array.from(x0.toArray());
  const coef = Float64Array.from({ length: n }, (_, j) => (j + 1) / n);
  // loss = Σ_j coef_j · y_j
  const loss = (xv: Float64Array) => reference(xv, W, 1, n, k).reduce((s, v, j) => s + v * coef[j]!, 0);
  const x = tensor(x0.toArray(), [1, k], { requiresGrad: true });
  tidy(() => backward(ops.sum(ops.mul(linearForward(x, w), tensor(coef, [1, n])))));
  const grad = x.grad!.toArray();
  for (const i of [0, 7, 20]) {
    const h = 1e-4;
    const up = Float64Array.from(xs);
    const down = Float64Array.from(xs);
    up[i] = up[i]! + h;
    down[i] = down[i]! - h;
    expect(Math.abs(grad[i]! - (loss(up) - loss(down)) / (2 * h))).toBeLessThan(1e-5);
  }
  for (const t of [w, x0, x]) t.dispose();
});

test("halfLinear refuses a mismatched input, a 3-D or f32 weight and a wrong output before native code", () => {
  const w = tidy(() => ops.cast(randn([4, 6], { seed: 6 }), "bf16"));
  const x = randn([1, 5], { seed: 2 });
  const out = tensor(new Float32Array(4), [1, 4]);
  expect(() => cpuBackend.halfLinear!(out, x, w)).toThrow(ShapeError);
  const x6 = randn([1, 6], { seed: 3 });
  expect(() => cpuBackend.halfLinear!(tensor(new Float32Array(5), [1, 5]), x6, w)).toThrow(/out/);
  expect(() => cpuBackend.halfLinear!(out, x6, randn([4, 6], { seed: 1 }))).toThrow(/bf16|f16/);
  const w3 = tidy(() => ops.cast(randn([1, 4, 6], { seed: 5 }), "bf16"));
  expect(() => cpuBackend.halfLinear!(out, x6, w3)).toThrow(/2-D/);
  for (const t of [w, x, out, x6, w3]) t.dispose();
});
