// Dropout: the keep mask against the TypeScript Philox (element i kept when uniform_i >= p), the keep
// rate within binomial bounds, reproducibility from (seed, offset), and a backward that applies the same
// mask to the gradient. p outside [0, 1) is refused.
import { describe, expect, test } from "bun:test";
import { backward, ops, Philox, tensor, tidy } from "../../../core/index.ts";
import { expectClose } from "../../helpers/compare.ts";
import { randomArray } from "../../helpers/random.ts";

/** Inputs bounded away from zero, so out == 0 exactly when the element was dropped. */
function nonzero(n: number, seed: number): Float64Array {
  return randomArray(n, seed, 0.5, 1.5).map((v, i) => (i % 3 ? v : -v));
}

/** The mask the kernel should draw: element i uses Philox word i of counter block `offset`. */
function refMask(n: number, p: number, seed: bigint, offset: bigint): Uint8Array {
  const rng = new Philox(seed, offset * 4n);
  return Uint8Array.from({ length: n }, () => (rng.nextFloat() >= p ? 1 : 0));
}

const maskOf = (out: Float32Array) => Uint8Array.from(out, (v) => (v !== 0 ? 1 : 0));

describe("dropout forward", () => {
  test("p = 0 is the identity", () => {
    tidy(() => {
      const x = nonzero(1001, 1);
      const y = ops.dropout(tensor(x, [7, 143]), { p: 0, seed: 5n, offset: 0n });
      expect(Array.from(y.toArray())).toEqual(Array.from(x));
    });
  });

  test("p = 0.5 keeps about half of 1e5 elements and doubles them", () => {
    tidy(() => {
      const n = 100000;
      const x = nonzero(n, 2);
      const y = ops.dropout(tensor(x, [n]), { p: 0.5, seed: 1234n, offset: 0n }).toArray() as Float32Array;
      let kept = 0;
      for (let i = 0; i < n; i++) {
        if (y[i] === 0) continue;
        kept++;
        // 1 / (1 - 0.5) = 2 exactly, and x * 2 is exact in f32.
        if (y[i] !== 2 * x[i]!) throw new Error(`element ${i}: ${y[i]} is not 2 * ${x[i]}`);
      }
      // Binomial(1e5, 0.5): sigma = sqrt(n p (1-p)) = 158; a fair mask lies within 3 sigma with 99.7%, and the
      // seed is fixed, so this is deterministic. A mask keyed wrongly (all kept, all dropped, p inverted
      // for p != 0.5) is off by thousands of sigma.
      const sigma = Math.sqrt(n * 0.25);
      expect(Math.abs(kept - n / 2)).toBeLessThanOrEqual(3 * sigma);
    });
  });

  test("p = 0.1 keeps ~90% and scales by 1/(1-p) in f32", () => {
    tidy(() => {
      const n = 100000;
      const x = nonzero(n, 3);
      const y = ops.dropout(tensor(x, [n]), { p: 0.1, seed: 9n, offset: 0n }).toArray() as Float32Array;
      const mask = maskOf(y);
      const kept = mask.reduce((a, b) => a + b, 0);
      expect(Math.abs(kept - 0.9 * n)).toBeLessThanOrEqual(3 * Math.sqrt(n * 0.09));
      // Kernel: x * fround(1 / 0.9f) (f32): two roundings, 1.2e-7 relative. 1e-6.
      const keep = Math.fround(1 / Math.fround(1 - Math.fround(0.1)));
      expectClose(
        y,
        Array.from(x, (v, i) => (mask[i] ? v * keep : 0)),
        1e-6,
        "kept values",
      );
    });
  });

  test("the mask is element i kept iff Philox uniform i >= p (TS reference, bit-exact)", () => {
    tidy(() => {
      const n = 4099; // not a multiple of 4: the last counter block is partly used
      for (const [p, seed, offset] of [
        [0.5, 1n, 0n],
        [0.3, 77n, 12345n],
        [0.9, 2n ** 63n + 5n, 2n ** 40n],
      ] as const) {
        const y = ops.dropout(tensor(nonzero(n, 4), [n]), { p, seed, offset }).toArray() as Float32Array;
        expect(Array.from(maskOf(y))).toEqual(Array.from(refMask(n, Math.fround(p), seed, offset)));
      }
    });
  });

  test("same seed and offset give the same mask; another offset or seed gives another", () => {
    tidy(() => {
      const n = 10000;
      const xt = tensor(nonzero(n, 5), [n]);
      const run = (seed: bigint, offset: bigint) => maskOf(ops.dropout(xt, { p: 0.5, seed, offset }).toArray() as Float32Array);
      const base = run(42n, 100n);
      expect(run(42n, 100n)).toEqual(base);
      const differing = (m: Uint8Array) => m.reduce((a, v, i) => a + (v !== base[i] ? 1 : 0), 0);
      // Independent masks at p = 0.5 differ in half the elements (sigma 50); a shifted counter that overlaps
      // would agree on most of them.
      expect(differing(run(42n, 101n))).toBeGreaterThan(4500);
      expect(differing(run(42n, 100n + BigInt(n / 4)))).toBeGreaterThan(4500);
      expect(differing(run(43n, 100n))).toBeGreaterThan(4500);
    });
  });
});

describe("dropout backward", () => {
  test("dx is g times the forward's mask over (1 - p)", () => {
    tidy(() => {
      const n = 30011;
      const p = 0.25;
      const x = nonzero(n, 6);
      const g = randomArray(n, 7);
      const xt = tensor(x, [n], { requiresGrad: true });
      const y = ops.dropout(xt, { p, seed: 31337n, offset: 7n });
      const mask = maskOf(y.toArray() as Float32Array);
      backward(y, tensor(g, [n]));
      const keep = Math.fround(1 / Math.fround(1 - p));
      // One f32 multiply per element on f32-exact inputs: 6e-8 relative; 1e-6.
      expectClose(
        xt.grad!.toArray(),
        Array.from(g, (v, i) => (mask[i] ? v * keep : 0)),
        1e-6,
        "dx",
      );
      // And the mask really is non-trivial.
      const kept = mask.reduce((a, b) => a + b, 0);
      expect(kept).toBeGreaterThan(0.7 * n);
      expect(kept).toBeLessThan(0.8 * n);
    });
  });
});

describe("dropout arguments", () => {
  test("p = 1, p < 0 and NaN are refused with the valid range", () => {
    tidy(() => {
      const xt = tensor(nonzero(8, 8), [8]);
      for (const p of [1, -0.1, 1.5, Number.NaN]) {
        expect(() => ops.dropout(xt, { p, seed: 1n, offset: 0n })).toThrow(/dropout: probability must be in \[0, 1\), got/);
      }
    });
  });

  test("a seed or offset outside unsigned 64 bits is refused", () => {
    tidy(() => {
      const xt = tensor(nonzero(8, 8), [8]);
      expect(() => ops.dropout(xt, { p: 0.5, seed: -1n, offset: 0n })).toThrow(/dropout: seed and offset must be unsigned 64-bit integers/);
      expect(() => ops.dropout(xt, { p: 0.5, seed: 1n, offset: 1n << 64n })).toThrow(/dropout: seed and offset must be unsigned 64-bit/);
    });
  });
});
