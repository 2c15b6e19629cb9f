// The CPU backend's quantised matmul (ffi/cpu/src/quant_matmul.c): forward and input gradient against a
// float64 reference over the dequantised values, across several tiles; a finite-difference gradient check
// through a Linear holding the frozen weight; bad sizes rejected before native code.
import { expect, test } from "bun:test";
import { backward, defaultBackend, Linear, ShapeError, tensor, tidy } from "../../core/index.ts";
import { dequantize4, dequantizeAbsmax, dequantizeInt8, doubleQuantize, quantize4, quantizeInt8 } from "../../plugins/methods/qlora/blockwise.ts";
import { Int8Weight, Quant4Weight } from "../../plugins/methods/qlora/quantized-weight.ts";
import { normals } from "../plugins/methods/qlora/normals.ts";

/** float64 x [m, k] · w[n, k]ᵀ (inputGrad false) or x [m, n] · w [n, k] (true). */
function reference(x: Float32Array, w: Float32Array, m: number, n: number, k: number, inputGrad: boolean): Float64Array {
  const out = new Float64Array(m * (inputGrad ? k : n));
  for (let i = 0; i < m; i++)
    for (let r = 0; r < n; r++)
      for (let c = 0; c < k; c++) {
        if (inputGrad) out[i * k + c] = out[i * k + c]! + x[i * n + r]! * w[r * k + c]!;
        else out[i * n + r] = out[i * n + r]! + x[i * k + c]! * w[r * k + c]!;
      }
  return out;
}

function expectClose(got: Float32Array, want: Float64Array, tol: number): void {
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) {
    worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
    scale = Math.max(scale, Math.abs(want[i]!));
  }
  expect(worst).toBeLessThanOrEqual(tol * Math.max(1, scale));
}

// 300 rows of 1000: more than one 2^18-element tile; 300 000 values end mid-block.
const [N, K, M] = [300, 1000, 6];

for (const [type, dq] of [
  ["nf4", false],
  ["nf4", true],
  ["fp4", true],
] as const) {
  test(`4-bit ${type}${dq ? " double-quantised" : ""}: forward and input gradient match float64 over the dequantised weight`, () => {
    const values = normals(N * K, 21, 0.02);
    const q = quantize4(values, type);
    const nested = dq ? doubleQuantize(q.absmax) : null;
    const dense = dequantize4(q, N * K, nested ? dequantizeAbsmax(nested) : q.absmax);
    const w = Quant4Weight.fromParts(N, K, q, nested);
    const x = normals(M * K, 3);
    const g = normals(M * N, 4);
    tidy(() => {
      const out = tensor(new Float32Array(M * N), [2, 3, N]);
      w.forward(out, tensor(x, [2, 3, K]));
      expectClose(out.toArray() as Float32Array, reference(x, dense, M, N, K, false), 1e-5);
      const dx = tensor(new Float32Array(M * K), [M, K]);
      w.backwardInput(dx, tensor(g, [M, N]));
      expectClose(dx.toArray() as Float32Array, reference(g, dense, M, N, K, true), 1e-5);
      const full = w.dequantize();
      expect(Array.from(full.toArray() as Float32Array)).toEqual(Array.from(dense));
    });
    w.dispose();
  });
}

test("int8 rows: forward and input gradient match float64, dequantise matches the host", () => {
  const values = normals(N * K, 8);
  const q = quantizeInt8(values, N, K);
  const dense = dequantizeInt8(q, N, K);
  const w = Int8Weight.fromParts(N, K, q);
  const x = normals(M * K, 5);
  const g = normals(M * N, 6);
  tidy(() => {
    const out = tensor(new Float32Array(M * N), [M, N]);
    w.forward(out, tensor(x, [M, K]));
    expectClose(out.toArray() as Float32Array, reference(x, dense, M, N, K, false), 1e-5);
    const dx = tensor(new Float32Array(M * K), [M, K]);
    w.backwardInput(dx, tensor(g, [M, N]));
    expectClose(dx.toArray() as Float32Array, reference(g, dense, M, N, K, true), 1e-5);
    expect(Array.from(w.dequantize().toArray() as Float32Array)).toEqual(Array.from(dense));
  });
  w.dispose();
});

test("gradient check: a Linear with a frozen NF4 weight, finite differences on x", () => {
  const [out, inF, n] = [7, 130, 3];
  const lin = new Linear(inF, out);
  lin.freezeWeight(Quant4Weight.quantize(normals(out * inF, 1, 0.1), out, inF, "nf4", true))._unsafeUnwrap();
  const x = normals(n * inF, 2);
  const proj = normals(n * out, 3);
  const loss = (xs: Float32Array): number =>
    tidy(() => {
      const y = lin.forward(tensor(xs, [n, inF])).toArray() as Float32Array;
      return y.reduce((s, v, i) => s + v * proj[i]!, 0);
    });
  const grad = tidy(() => {
    const xt = tensor(x, [n, inF], { requiresGrad: true });
    backward(lin.forward(xt), tensor(proj, [n, out]));
    return xt.grad!.toArray() as Float32Array;
  });
  const h = 1e-2;
  for (const i of [0, 5, 129, 200, 389]) {
    const plus = Float32Array.from(x);
    const minus = Float32Array.from(x);
    plus[i] = plus[i]! + h;
    minus[i] = minus[i]! - h;
    expect(grad[i]!).toBeCloseTo((loss(plus) - loss(minus)) / (2 * h), 2);
  }
  expect(lin.namedSlots().map(([p]) => p)).toEqual([]);
  expect(lin.trainableParameters()).toEqual([]);
  lin.dispose();
});

test("bad sizes never reach native code", () => {
  const q = quantize4(normals(64 * 4, 1), "nf4");
  const w = Quant4Weight.fromParts(4, 64, q, null);
  const backend = defaultBackend();
  tidy(() => {
    const out = tensor(new Float32Array(8), [2, 4]);
    expect(() => w.forward(out, tensor(new Float32Array(2 * 63), [2, 63]))).toThrow(ShapeError);
    expect(() => w.forward(tensor(new Float32Array(10), [2, 5]), tensor(new Float32Array(128), [2, 64]))).toThrow(ShapeError);
    const packed = tensor([0, 0], [2], { dtype: "i32" });
    const code = tensor(new Float32Array(16), [16]);
    const absmax = tensor(new Float32Array(4), [4]);
    const arrays = { rows: 4, cols: 64, blockSize: 64, packed, code, absmax, nested: null };
    expect(() => backend.quant4Linear!(out, tensor(new Float32Array(128), [2, 64]), arrays, false)).toThrow(/packed weight holds 8 bytes/);
    expect(() => backend.quant4Linear!(out, tensor(new Float32Array(128), [2, 64]), { ...arrays, blockSize: 63 }, false)).toThrow(/even/);
  });
  expect(() =>
    Quant4Weight.fromParts(4, 64, { ...q, absmax: q.absmax.slice(1) }, null).forward(
      tensor(new Float32Array(8), [2, 4]),
      tensor(new Float32Array(128), [2, 64]),
    ),
  ).toThrow(/absmax must have 4 elements/);
  w.dispose();
});
