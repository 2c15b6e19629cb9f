// silu, geluTanh and swiglu against float64 references (forward) and finite differences of those
// references (backward), at sizes on both sides of the kernels' threading threshold.
import { describe, expect, test } from "bun:test";
import { backward, cpuBackend, ops, tensor, tidy } from "../../../lft.ts";
import { expectClose } from "../../helpers/compare.ts";
import { numericGrad } from "../../helpers/gradcheck.ts";
import { randomArray } from "../../helpers/random.ts";

const { geluTanh, silu, swiglu } = ops;

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));
const refSilu = (x: ArrayLike<number>): Float64Array => Float64Array.from(x, (v) => v * sigmoid(v));
const refGelu = (x: ArrayLike<number>): Float64Array =>
  Float64Array.from(x, (v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3))));
function refSwiglu(gate: ArrayLike<number>, up: ArrayLike<number>): Float64Array {
  return Float64Array.from(gate, (g, i) => g * sigmoid(g) * up[i]!);
}

const live = (): number => cpuBackend.allocator.stats().liveBytes;

// 1..4097 stay serial in the kernel; 70001 takes the OpenMP path (n > 32768).
const SIZES = [1, 7, 33, 4097, 70001];

describe("activation forward", () => {
  // One f32 expf/tanhf and a few multiplies per element: a few ulp (~3e-7) relative to the output's
  // scale; 1e-5 leaves headroom while a wrong formula errs by O(1e-2) or more.
  for (const n of SIZES) {
    test(`n=${n}`, () => {
      tidy(() => {
        const x = randomArray(n, n, -8, 8);
        const up = randomArray(n, n + 1, -2, 2);
        expectClose(silu(tensor(x)).toArray(), refSilu(x), 1e-5, "silu");
        expectClose(geluTanh(tensor(x)).toArray(), refGelu(x), 1e-5, "gelu");
        expectClose(swiglu(tensor(x), tensor(up)).toArray(), refSwiglu(x, up), 1e-5, "swiglu");
      });
    });
  }

  test("keeps the input's shape", () => {
    tidy(() => {
      const x = tensor(randomArray(2 * 3 * 5, 3), [2, 3, 5]);
      expect(silu(x).shape).toEqual([2, 3, 5]);
      expect(swiglu(x, x).shape).toEqual([2, 3, 5]);
    });
  });

  test("saturated inputs give the exact limits, never NaN (forward and backward)", () => {
    tidy(() => {
      const xs = [-1e30, -1e4, -100, 100, 1e4, 1e30];
      const x = tensor(xs, [6], { requiresGrad: true });
      // silu(-big) = -big * e^-big -> -0; silu(big) = big. gelu: 0 and big.
      // silu(-100) = -3.7e-42 is below f32's normal range; the kernel's e^100 overflows and gives -0.
      const y = Array.from(silu(x).toArray());
      expect(Math.abs(y[2]!)).toBeLessThan(1e-37);
      expect([...y.slice(0, 2), ...y.slice(3)]).toEqual([-0, -0, 100, 1e4, Math.fround(1e30)]);
      expect(Array.from(geluTanh(x).toArray()).map((v) => v + 0)).toEqual([0, 0, 0, 100, 1e4, Math.fround(1e30)]);
      const gs = tensor([1, 1, 1, 1, 1, 1]);
      backward(geluTanh(x), gs);
      expect(Array.from(x.grad!.toArray()).map((v) => v + 0)).toEqual([0, 0, 0, 1, 1, 1]);
      x.grad!.dispose();
      x.grad = null;
      backward(silu(x), gs);
      const ds = x.grad!.toArray();
      for (const v of ds) expect(Number.isFinite(v)).toBe(true);
      expect(Array.from(ds.slice(3))).toEqual([1, 1, 1]);
      x.grad!.dispose();
    });
  });
});

/**
 * Central differences for a pointwise f: every element is perturbed at once, which is exact for a
 * pointwise function (output i depends on input i only) and O(n) instead of the helper's O(n^2).
 */
function pointwiseGrad(f: (x: Float64Array[]) => Float64Array, inputs: Float64Array[], which: number, proj: ArrayLike<number>, h = 1e-6): Float64Array {
  const shifted = (d: number): Float64Array => {
    const args = inputs.map((a, i) => (i === which ? a.map((v) => v + d) : a));
    return f(args);
  };
  const up = shifted(h);
  const down = shifted(-h);
  return up.map((u, i) => ((u - down[i]!) / (2 * h)) * proj[i]!);
}

describe("activation backward (finite differences of the float64 reference)", () => {
  // f32 analytic gradients against f64 central differences (h = 1e-6, error ~1e-10): the kernel's own
  // rounding (~1e-7 relative) dominates, so 1e-5 is tight and a wrong derivative fails by O(1e-2).
  test("the pointwise difference agrees with the general helper", () => {
    const x = randomArray(9, 5, -3, 3);
    const proj = randomArray(9, 6);
    expectClose(
      pointwiseGrad((i) => refGelu(i[0]!), [x], 0, proj),
      numericGrad((i) => refGelu(i[0]!), [x], 0, proj),
      1e-9,
    );
  });

  for (const n of SIZES) {
    test(`n=${n}`, () => {
      const before = live();
      tidy(() => {
        const x = randomArray(n, 10 + n, -6, 6);
        const up = randomArray(n, 20 + n, -2, 2);
        const proj = randomArray(n, 30 + n);
        const xt = tensor(x, [n], { requiresGrad: true });
        const ut = tensor(up, [n], { requiresGrad: true });
        const p = tensor(proj);

        backward(silu(xt), p);
        expectClose(
          xt.grad!.toArray(),
          pointwiseGrad((i) => refSilu(i[0]!), [x], 0, proj),
          1e-5,
          "silu dx",
        );
        xt.grad!.dispose();
        xt.grad = null;

        backward(geluTanh(xt), p);
        expectClose(
          xt.grad!.toArray(),
          pointwiseGrad((i) => refGelu(i[0]!), [x], 0, proj),
          1e-5,
          "gelu dx",
        );
        xt.grad!.dispose();
        xt.grad = null;

        backward(swiglu(xt, ut), p);
        const f = (i: Float64Array[]): Float64Array => refSwiglu(i[0]!, i[1]!);
        expectClose(xt.grad!.toArray(), pointwiseGrad(f, [x, up], 0, proj), 1e-5, "swiglu dgate");
        expectClose(ut.grad!.toArray(), pointwiseGrad(f, [x, up], 1, proj), 1e-5, "swiglu dup");
        xt.grad!.dispose();
        ut.grad!.dispose();
      });
      // Saved inputs are released after backward and every temporary is gone.
      expect(live()).toBe(before);
    });
  }

  test("swiglu with a frozen up returns only dgate", () => {
    tidy(() => {
      const g = tensor(randomArray(5, 1), [5], { requiresGrad: true });
      const u = tensor(randomArray(5, 2), [5]);
      backward(swiglu(g, u), tensor(randomArray(5, 3)));
      expect(g.grad).not.toBeNull();
      expect(u.grad).toBeNull();
      g.grad!.dispose();
    });
  });
});

describe("activation input checks", () => {
  test("wrong dtype and shape say what was expected", () => {
    tidy(() => {
      const ids = tensor([1, 2, 3], [3], { dtype: "i32" });
      expect(() => silu(ids)).toThrow(/silu: input must be f32, got i32/);
      expect(() => geluTanh(ids)).toThrow(/gelu: input must be f32, got i32/);
      expect(() => swiglu(tensor([1, 2, 3]), tensor([1, 2], [2]))).toThrow(/swiglu: up must have shape \[3\], got \[2\]/);
    });
  });
});
