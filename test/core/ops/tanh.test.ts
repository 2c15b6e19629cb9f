// tanh and softcap (cap * tanh(x / cap)) against float64 references (forward, including small |x| where
// 1 - 2 / (e^2x + 1) cancels), finite differences of those references (backward), their saturation, and
// what softcap allocates: its output in forward, one gradient in backward.
import { describe, expect, test } from "bun:test";
import { backward, cpuBackend, ops, tensor, tidy } from "../../../lft.ts";
import { expectClose } from "../../helpers/compare.ts";
import { randomArray } from "../../helpers/random.ts";

const refSoftcap = (x: ArrayLike<number>, cap: number): Float64Array => Float64Array.from(x, (v) => cap * Math.tanh(v / cap));
const live = (): number => cpuBackend.allocator.stats().liveBytes;

// 1..4097 stay serial in the kernel; 70001 takes the OpenMP path (n > 32768).
const SIZES = [1, 7, 33, 4097, 70001];

/** Largest |a - b| / |b| over the elements (b != 0). */
function worstRelative(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / Math.abs(b[i]!));
  return worst;
}

describe("tanh and softcap forward", () => {
  for (const n of SIZES) {
    test(`n=${n}`, () => {
      tidy(() => {
        const x = randomArray(n, n, -8, 8);
        // A few ulp of f32 relative to the output's scale (1, or the cap); a wrong formula errs by O(1e-2).
        expectClose(ops.tanh(tensor(x)).toArray(), refSoftcap(x, 1), 1e-6, "tanh");
        expectClose(ops.softcap(tensor(x), 3).toArray(), refSoftcap(x, 3), 1e-6, "softcap 3");
        expectClose(
          ops.softcap(tensor(x.map((v) => v * 10)), 30).toArray(),
          refSoftcap(
            x.map((v) => v * 10),
            30,
          ),
          1e-6,
          "softcap 30",
        );
      });
    });
  }

  test("small arguments keep their relative precision (x = 1e-4: ~1e-7, where 1 - 2 / (e^2x + 1) kept ~1e-3)", () => {
    tidy(() => {
      // Every decade from 1e-30 to 1, both signs; inputs rounded to f32 first so only the kernel errs.
      const xs = Float64Array.from({ length: 61 }, (_, i) => Math.fround((i % 2 ? -1 : 1) * 10 ** (-30 + i / 2)));
      const got = ops.tanh(tensor(xs)).toArray();
      // f32 rounding of the result alone is up to 6e-8; the polynomial adds ~1e-7.
      expect(worstRelative(got, refSoftcap(xs, 1))).toBeLessThan(2.5e-7);
      const at = Math.fround(1e-4);
      expect(Math.abs(ops.tanh(tensor([at])).item() - Math.tanh(at)) / Math.tanh(at)).toBeLessThan(1.5e-7);
      // The soft-cap divides by the cap first: logits near 0 stay precise too.
      const caps = Float64Array.from(xs, (v) => v * 30);
      expect(worstRelative(ops.softcap(tensor(caps), 30).toArray(), refSoftcap(Float64Array.from(caps, Math.fround), 30))).toBeLessThan(3e-7);
      // Around the branch point (|x| = 0.625) both sides agree with tanh.
      const edge = Float64Array.from({ length: 201 }, (_, i) => Math.fround(0.6 + i * 0.00025));
      expect(worstRelative(ops.tanh(tensor(edge)).toArray(), refSoftcap(edge, 1))).toBeLessThan(2.5e-7);
    });
  });

  test("saturates at exactly +-cap with zero gradient, never NaN", () => {
    tidy(() => {
      const x = tensor([-1e30, -1e4, -100, 100, 1e4, 1e30], [6], { requiresGrad: true });
      const y = ops.softcap(x, 2);
      expect(Array.from(y.toArray())).toEqual([-2, -2, -2, 2, 2, 2]);
      backward(y, tensor([1, 1, 1, 1, 1, 1]));
      expect(Array.from(x.grad!.toArray()).map((v) => v + 0)).toEqual([0, 0, 0, 0, 0, 0]);
      x.grad!.dispose();
    });
  });

  test("a cap that is not finite and positive is refused", () => {
    tidy(() => {
      const x = tensor([1, 2]);
      expect(() => ops.softcap(x, 0)).toThrow("softcap: cap must be a finite number > 0, got 0");
      expect(() => ops.softcap(x, Number.POSITIVE_INFINITY)).toThrow("got Infinity");
      expect(() => cpuBackend.tanhForward(x, x, -1)).toThrow("tanh: cap must be a finite number > 0, got -1");
      expect(() => ops.tanh(tensor([1, 2], [2], { dtype: "i32" }))).toThrow();
    });
  });
});

describe("tanh and softcap backward (finite differences of the float64 reference)", () => {
  // Pointwise functions: perturbing every element at once is exact. h = 1e-6 gives differences good to
  // ~1e-10; the f32 kernel's own rounding (~1e-7) dominates, so 1e-5 is tight.
  const fd = (x: Float64Array, cap: number, proj: Float64Array, h = 1e-6): Float64Array => {
    const up = refSoftcap(
      x.map((v) => v + h),
      cap,
    );
    const down = refSoftcap(
      x.map((v) => v - h),
      cap,
    );
    return up.map((u, i) => ((u - down[i]!) / (2 * h)) * proj[i]!);
  };
  for (const n of SIZES) {
    test(`n=${n}`, () => {
      const before = live();
      tidy(() => {
        const x = randomArray(n, 10 + n, -4, 4);
        const proj = randomArray(n, 30 + n);
        for (const cap of [1, 0.5, 30]) {
          const xs = x.map((v) => v * cap);
          const xt = tensor(xs, [n], { requiresGrad: true });
          backward(cap === 1 ? ops.tanh(xt) : ops.softcap(xt, cap), tensor(proj));
          expectClose(xt.grad!.toArray(), fd(xs, cap, proj), 1e-5, `cap ${cap} dx`);
          xt.grad!.dispose();
          xt.grad = null;
        }
      });
      // The saved output is released after backward and every temporary is gone.
      expect(live()).toBe(before);
    });
  }

  test("softcap allocates only its output in forward and one gradient in backward", () => {
    tidy(() => {
      const n = 1024 * 64; // a multiple of the allocator's alignment, so bytes are exact
      const bytes = n * 4;
      const x = tensor(randomArray(n, 5, -60, 60), [1024, 64], { requiresGrad: true });
      const g = tensor(randomArray(n, 6), [1024, 64]);
      const alloc = cpuBackend.allocator;
      const base = live();
      alloc.resetPeak();
      const y = ops.softcap(x, 30);
      // The output, saved for backward as it is: no copy, no temporaries.
      expect(alloc.stats().peakBytes - base).toBe(bytes);
      expect(live() - base).toBe(bytes);
      alloc.resetPeak();
      backward(y, g);
      // dx, accumulated into x.grad: one more logits-sized tensor at the peak.
      expect(alloc.stats().peakBytes - base).toBeLessThanOrEqual(2 * bytes);
      x.grad!.dispose();
    });
  });
});
