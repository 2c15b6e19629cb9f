// rope against a float64 reference (HF rotate_half layout, partial rotary, positions up to 1e5), its
// backward against finite differences, and ropeInvFreq against HF's formula.
import { describe, expect, test } from "bun:test";
import { backward, cpuBackend, ops, tensor, tidy } from "../../../lft.ts";
import { expectClose } from "../../helpers/compare.ts";
import { numericGrad } from "../../helpers/gradcheck.ts";
import { randomArray, randomInts } from "../../helpers/random.ts";

const { rope, ropeInvFreq } = ops;

/** x [B, T, H, D] rotated per HF: pairs (i, i + nf) by pos * invFreq[i]; dims >= 2 nf pass through. */
function refRope(x: ArrayLike<number>, pos: ArrayLike<number>, inv: ArrayLike<number>, [B, T, H, D]: number[]): Float64Array {
  const nf = inv.length;
  const out = Float64Array.from(x);
  for (let bt = 0; bt < B! * T!; bt++) {
    for (let h = 0; h < H!; h++) {
      const o = (bt * H! + h) * D!;
      for (let i = 0; i < nf; i++) {
        const a = pos[bt]! * inv[i]!;
        const [x1, x2] = [x[o + i]!, x[o + nf + i]!];
        out[o + i] = x1 * Math.cos(a) - x2 * Math.sin(a);
        out[o + nf + i] = x2 * Math.cos(a) + x1 * Math.sin(a);
      }
    }
  }
  return out;
}

const live = (): number => cpuBackend.allocator.stats().liveBytes;

// [B, T, H, D] and the rotary dim: full, partial (pass-through dims), a single pair, odd head dims, and
// [2, 128, 4, 64] over the threading threshold (16384 elements).
const CASES: [number[], number][] = [
  [[1, 1, 1, 2], 2],
  [[2, 5, 3, 8], 8],
  [[2, 7, 3, 10], 6],
  [[1, 3, 2, 33], 32],
  [[3, 4, 1, 7], 2],
  [[2, 128, 4, 64], 64],
];

describe("rope forward", () => {
  // The angle pos * invFreq is formed in double (the reference does the same with the same f32
  // invFreq), cos/sin rounded to f32, two f32 products: ~2e-7 relative. A float angle at positions
  // near 1e5 would be off by ~4e-3 rad, and a wrong pairing by O(1): both fail 1e-5.
  for (const [shape, rotary] of CASES) {
    test(`${JSON.stringify(shape)} rotaryDim=${rotary}, positions up to 1e5`, () => {
      tidy(() => {
        const [B, T, H, D] = shape as [number, number, number, number];
        const x = randomArray(B * T * H * D, B * 100 + D);
        const pos = randomInts(B * T, T, 100000);
        const inv = ropeInvFreq(D, 10000, rotary);
        const y = rope(tensor(x, shape), tensor(pos, [B, T], { dtype: "i32" }), tensor(inv));
        expect(y.shape).toEqual(shape);
        expectClose(y.toArray(), refRope(x, pos, inv, shape), 1e-5);
      });
    });
  }

  test("no frequencies: everything passes through unchanged", () => {
    tidy(() => {
      const x = randomArray(2 * 3 * 4, 1);
      const y = rope(tensor(x, [1, 2, 3, 4]), tensor([5, 9], [1, 2], { dtype: "i32" }), tensor([], [0]));
      expect(y.toArray()).toEqual(Float32Array.from(x));
    });
  });

  test("position 0 is the identity and the first pair at position 1 turns by invFreq[0] = 1 rad", () => {
    tidy(() => {
      const x = [1, 0, 0, 1, 0.5, -0.5]; // D = 6, rotaryDim 4: pairs (0, 2), (1, 3)
      const y = rope(tensor([...x, ...x], [1, 2, 1, 6]), tensor([0, 1], [1, 2], { dtype: "i32" }), tensor(ropeInvFreq(6, 10000, 4))).toArray();
      expect(Array.from(y.slice(0, 6))).toEqual(x);
      expect(y[6]).toBeCloseTo(Math.cos(1), 6);
      expect(y[8]).toBeCloseTo(Math.sin(1), 6);
      expect(Array.from(y.slice(10))).toEqual([0.5, -0.5]);
    });
  });
});

describe("rope backward (finite differences of the float64 reference)", () => {
  // rope is linear in x: central differences of the f64 reference are exact up to ~1e-10, so the f32
  // kernel's rounding (~2e-7) dominates. Rotating by +angle in the backward (instead of -angle) fails by O(1).
  for (const [shape, rotary] of CASES.slice(0, 5)) {
    test(`${JSON.stringify(shape)} rotaryDim=${rotary}`, () => {
      const before = live();
      tidy(() => {
        const [B, T, H, D] = shape as [number, number, number, number];
        const x = randomArray(B * T * H * D, 7 + D);
        const pos = randomInts(B * T, 8 + T, 100000);
        const proj = randomArray(x.length, 9 + D);
        const inv = ropeInvFreq(D, 500000, rotary);
        const xt = tensor(x, shape, { requiresGrad: true });
        const pt = tensor(pos, [B, T], { dtype: "i32" });
        const it = tensor(inv);
        const y = rope(xt, pt, it);
        pt.dispose(); // saved by the op: the backward must not depend on the caller keeping it
        backward(y, tensor(proj, shape));
        expectClose(
          xt.grad!.toArray(),
          numericGrad((i) => refRope(i[0]!, pos, inv, shape), [x], 0, proj),
          1e-5,
        );
        xt.grad!.dispose();
      });
      expect(live()).toBe(before);
    });
  }
});

describe("ropeInvFreq", () => {
  test("matches 1 / theta^(2i / rotaryDim), rounded once to f32", () => {
    for (const [d, theta, rot] of [
      [64, 10000, 64],
      [128, 500000, 128],
      [80, 10000, 40],
    ] as const) {
      const inv = ropeInvFreq(d, theta, rot);
      expect(inv.length).toBe(rot / 2);
      expect(Array.from(inv)).toEqual(Array.from({ length: rot / 2 }, (_, i) => Math.fround(1 / theta ** ((2 * i) / rot))));
    }
  });

  test("bad dims and theta say what was expected", () => {
    expect(() => ropeInvFreq(64, 10000, 65)).toThrow(/rotaryDim must be a positive even integer <= headDim \(64\), got 65/);
    expect(() => ropeInvFreq(64, 10000, 128)).toThrow(/rotaryDim must be a positive even integer <= headDim \(64\), got 128/);
    expect(() => ropeInvFreq(0, 10000)).toThrow(/headDim must be a positive integer, got 0/);
    expect(() => ropeInvFreq(64, -1)).toThrow(/theta must be a positive finite number, got -1/);
  });
});

describe("rope input checks", () => {
  test("wrong rank, dtype or shape say what was expected", () => {
    tidy(() => {
      const x = tensor(randomArray(2 * 3 * 2 * 8, 1), [2, 3, 2, 8]);
      const pos = tensor([0, 1, 2, 0, 1, 2], [2, 3], { dtype: "i32" });
      const inv = tensor(ropeInvFreq(8, 10000));
      expect(() => rope(tensor(randomArray(6 * 8, 1), [6, 1, 8]), pos, inv)).toThrow(/rope: input must have rank 4, got shape \[6, 1, 8\]/);
      expect(() => rope(x, tensor([0, 1, 2, 0, 1, 2], [2, 3]), inv)).toThrow(/rope: position ids must be i32, got f32/);
      expect(() => rope(x, tensor([0, 1, 2], [1, 3], { dtype: "i32" }), inv)).toThrow(/rope: position ids must have shape \[2, 3\], got \[1, 3\]/);
      expect(() => rope(x, pos, tensor(ropeInvFreq(10, 10000)))).toThrow(/rope: 5 frequencies rotate 10 dims, more than the head dim/);
      expect(() => rope(x, pos, tensor([1, 2, 3, 4], [2, 2]))).toThrow(/rope: inverse frequencies must have rank 1/);
    });
  });
});
