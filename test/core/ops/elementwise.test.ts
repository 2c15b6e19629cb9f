// add/sub/mul/div (equal shapes and b broadcast over a's leading dims), add/mul with a as the broadcast
// operand, and scale: forward against a float64 reference, gradients of both operands against finite
// differences of that reference (db summed over the broadcast rows).
import { describe, expect, test } from "bun:test";
import { type BinaryOp, backward, ops, tensor, tidy } from "../../../core/index.ts";
import { expectClose } from "../../helpers/compare.ts";
import { numericGrad } from "../../helpers/gradcheck.ts";
import { randomArray } from "../../helpers/random.ts";

const REF: Record<BinaryOp, (x: number, y: number) => number> = { add: (x, y) => x + y, sub: (x, y) => x - y, mul: (x, y) => x * y, div: (x, y) => x / y };

/** out[i] = a[i] op b[i % b.length]: b broadcast over a's leading rows. */
function refBinary(op: BinaryOp, a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = REF[op](a[i]!, b[i % b.length]!);
  return out;
}

/** Divisors kept away from zero (|b| in [0.5, 1.5]) so div's f32 error and FD curvature stay bounded. */
function divisor(n: number, seed: number): Float64Array {
  const x = randomArray(n, seed, 0.5, 1.5);
  return x.map((v, i) => Math.fround(i % 2 ? -v : v));
}

const numelOf = (s: readonly number[]) => s.reduce((x, y) => x * y, 1);

const CASES: { a: number[]; b: number[] }[] = [
  { a: [3, 5], b: [3, 5] },
  { a: [7], b: [7] },
  { a: [2, 3, 4], b: [4] },
  { a: [2, 3, 4], b: [3, 4] },
  { a: [4097], b: [4097] },
  { a: [5, 1], b: [1] },
  { a: [2, 3], b: [] },
  { a: [], b: [] },
  { a: [300, 129], b: [129] }, // above the kernels' parallel threshold
];

describe("binary forward", () => {
  // One f32 operation on f32-exact inputs: the result is the f64 value correctly rounded, error <= 2^-24
  // relative per element (div's ratio is bounded by |a|/|b| <= 2, so at most 1.2e-7 of the output
  // scale); 1e-6 allows that and fails any wrong-index or wrong-op bug by O(1).
  for (const op of ["add", "sub", "mul", "div"] as const) {
    for (const { a: as, b: bs } of CASES) {
      test(`${op} a=${JSON.stringify(as)} b=${JSON.stringify(bs)}`, () => {
        tidy(() => {
          const a = randomArray(numelOf(as), 1 + as.length);
          const b = op === "div" ? divisor(numelOf(bs), 2 + bs.length) : randomArray(numelOf(bs), 2 + bs.length);
          const out = ops[op](tensor(a, as), tensor(b, bs));
          expect(out.shape).toEqual(as);
          expectClose(out.toArray(), refBinary(op, a, b), 1e-6, op);
        });
      });
    }
  }

  test("add and mul accept a as the broadcast operand (commutative swap)", () => {
    tidy(() => {
      const small = randomArray(4, 3);
      const big = randomArray(24, 4);
      for (const op of ["add", "mul"] as const) {
        const out = ops[op](tensor(small, [4]), tensor(big, [2, 3, 4]));
        expect(out.shape).toEqual([2, 3, 4]);
        expectClose(out.toArray(), refBinary(op, big, small), 1e-6, `${op} swapped`);
      }
    });
  });

  test("scale", () => {
    tidy(() => {
      const x = randomArray(1001, 5);
      const out = ops.scale(tensor(x, [7, 143]), -2.5);
      expect(out.shape).toEqual([7, 143]);
      // x * -2.5 is exact in f32 up to one rounding: 1e-6 relative.
      expectClose(
        out.toArray(),
        x.map((v) => v * -2.5),
        1e-6,
        "scale",
      );
    });
  });

  test("a non-broadcastable pair names both shapes", () => {
    tidy(() => {
      const a = tensor(randomArray(8, 1), [2, 4]);
      const b = tensor(randomArray(3, 2), [3]);
      for (const op of ["add", "sub", "mul", "div"] as const) {
        expect(() => ops[op](a, b)).toThrow(new RegExp(`^${op}: .*\\[3\\].*\\[2, 4\\]|^${op}: .*\\[2, 4\\].*\\[3\\]`));
      }
      // Same element count, not a suffix: [4, 2] does not broadcast over [2, 4] even though 8 % 8 == 0.
      expect(() => ops.sub(a, tensor(randomArray(8, 3), [4, 2]))).toThrow(/sub: .*\[4, 2\].*\[2, 4\]/);
      // sub and div are not commutative: the broadcast operand must be b.
      expect(() => ops.sub(tensor(randomArray(4, 4), [4]), a)).toThrow(/sub: .*\[2, 4\].*\[4\]/);
      expect(() => ops.div(tensor(randomArray(4, 4), [4]), a)).toThrow(/div: /);
    });
  });

  test("add's error names the operands as the caller passed them", () => {
    tidy(() => {
      const a = tensor(randomArray(8, 1), [2, 4]);
      const b = tensor(randomArray(3, 2), [3]);
      expect(() => ops.add(a, b)).toThrow(/b \[3\] .*a \[2, 4\]/);
      expect(() => ops.mul(a, b)).toThrow(/b \[3\] .*a \[2, 4\]/);
    });
  });
});

describe("binary backward (finite differences of the float64 reference)", () => {
  // The kernel's gradients are one or two f32 operations per element, and db sums at most 6 rows in a
  // double accumulator: ~1e-7 relative. Central differences of the f64 reference with h=1e-6 are exact for
  // add/sub/mul (linear in each operand) and have ~1e-12 truncation for div. 1e-5 therefore has wide
  // headroom, and a dropped or misplaced row in db, or a sign error, fails by O(1).
  const GRAD_CASES: { a: number[]; b: number[] }[] = [
    { a: [3, 4], b: [3, 4] },
    { a: [2, 3, 4], b: [4] },
    { a: [2, 3, 4], b: [3, 4] },
    { a: [6], b: [] },
    { a: [5, 1], b: [1] },
  ];
  for (const op of ["add", "sub", "mul", "div"] as const) {
    for (const { a: as, b: bs } of GRAD_CASES) {
      test(`${op} a=${JSON.stringify(as)} b=${JSON.stringify(bs)}`, () => {
        const a = randomArray(numelOf(as), 21);
        const b = op === "div" ? divisor(numelOf(bs), 22) : randomArray(numelOf(bs), 22);
        const proj = randomArray(a.length, 23);
        tidy(() => {
          const at = tensor(a, as, { requiresGrad: true });
          const bt = tensor(b, bs, { requiresGrad: true });
          backward(ops.sum(ops.mul(ops[op](at, bt), tensor(proj, as))));
          const f = (x: Float64Array[]) => refBinary(op, x[0]!, x[1]!);
          expect(at.grad!.shape).toEqual(as);
          expect(bt.grad!.shape).toEqual(bs);
          expectClose(at.grad!.toArray(), numericGrad(f, [a, b], 0, proj), 1e-5, "da");
          expectClose(bt.grad!.toArray(), numericGrad(f, [a, b], 1, proj), 1e-5, "db");
          at.grad!.dispose();
          bt.grad!.dispose();
        });
      });
    }
  }

  for (const op of ["add", "mul"] as const) {
    test(`${op} with a as the broadcast operand: its gradient is summed over rows`, () => {
      const small = randomArray(4, 31);
      const big = randomArray(24, 32);
      const proj = randomArray(24, 33);
      tidy(() => {
        const st = tensor(small, [4], { requiresGrad: true });
        const bt = tensor(big, [2, 3, 4], { requiresGrad: true });
        backward(ops.sum(ops.mul(ops[op](st, bt), tensor(proj, [2, 3, 4]))));
        const f = (x: Float64Array[]) => refBinary(op, x[1]!, x[0]!);
        expectClose(st.grad!.toArray(), numericGrad(f, [small, big], 0, proj), 1e-5, "d(small)");
        expectClose(bt.grad!.toArray(), numericGrad(f, [small, big], 1, proj), 1e-5, "d(big)");
      });
    });
  }

  test("only the operand that requires a gradient gets one", () => {
    tidy(() => {
      const a = randomArray(12, 41);
      const b = randomArray(4, 42);
      const at = tensor(a, [3, 4]);
      const bt = tensor(b, [4], { requiresGrad: true });
      backward(ops.sum(ops.mul(at, bt)));
      expect(at.grad).toBeNull();
      // d/db sum(a * b) = column sums of a.
      const colSums = [0, 1, 2, 3].map((j) => a[j]! + a[4 + j]! + a[8 + j]!);
      expectClose(bt.grad!.toArray(), colSums, 1e-6, "db");
    });
  });

  test("scale backward", () => {
    const x = randomArray(30, 51);
    const proj = randomArray(30, 52);
    tidy(() => {
      const xt = tensor(x, [5, 6], { requiresGrad: true });
      backward(ops.sum(ops.mul(ops.scale(xt, 0.375), tensor(proj, [5, 6]))));
      const f = (v: Float64Array[]) => v[0]!.map((e) => e * 0.375);
      // dx = 0.375 * proj: one exact f32 multiply; 1e-6.
      expectClose(xt.grad!.toArray(), numericGrad(f, [x], 0, proj), 1e-6, "dx");
    });
  });
});
