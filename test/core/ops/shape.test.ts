// reshape, transpose/permute, concat and slice: forward against reference index mappings (exact: these
// ops move bits, so every comparison is equality), gradients against finite differences of the same
// mappings in float64, and the errors each op gives for a bad request.
import { describe, expect, test } from "bun:test";
import { backward, ops, tensor, tidy } from "../../../core/index.ts";
import { expectClose } from "../../helpers/compare.ts";
import { numericGrad } from "../../helpers/gradcheck.ts";
import { randomArray } from "../../helpers/random.ts";

const numelOf = (s: readonly number[]) => s.reduce((x, y) => x * y, 1);

function strides(shape: readonly number[]): number[] {
  const st = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    st[i] = s;
    s *= shape[i]!;
  }
  return st;
}

/** out[i0..] = x[index with axis perm[k] = ik]: the definition of permute, one element at a time. */
function refPermute(x: ArrayLike<number>, shape: readonly number[], perm: readonly number[]): Float64Array {
  const outShape = perm.map((p) => shape[p]!);
  const inSt = strides(shape);
  const out = new Float64Array(x.length);
  const idx = new Array<number>(shape.length).fill(0);
  for (let o = 0; o < out.length; o++) {
    let rem = o;
    for (let k = outShape.length - 1; k >= 0; k--) {
      idx[k] = rem % outShape[k]!;
      rem = Math.floor(rem / outShape[k]!);
    }
    let src = 0;
    for (let k = 0; k < perm.length; k++) src += idx[k]! * inSt[perm[k]!]!;
    out[o] = x[src]!;
  }
  return out;
}

/** Concat along axis via multi-index: each output element finds its operand by its axis coordinate. */
function refConcat(xs: ArrayLike<number>[], shapes: number[][], axis: number): Float64Array {
  const outShape = [...shapes[0]!];
  outShape[axis] = shapes.reduce((a, s) => a + s[axis]!, 0);
  const out = new Float64Array(numelOf(outShape));
  const outSt = strides(outShape);
  for (let o = 0; o < out.length; o++) {
    const idx = outShape.map((_, k) => Math.floor(o / outSt[k]!) % outShape[k]!);
    let a = idx[axis]!;
    let which = 0;
    while (a >= shapes[which]![axis]!) a -= shapes[which++]![axis]!;
    const st = strides(shapes[which]!);
    let src = 0;
    for (const [k, v] of idx.entries()) src += (k === axis ? a : v) * st[k]!;
    out[o] = xs[which]![src]!;
  }
  return out;
}

function refSlice(x: ArrayLike<number>, shape: readonly number[], axis: number, start: number, end: number): Float64Array {
  const outShape = [...shape];
  outShape[axis] = end - start;
  const out = new Float64Array(numelOf(outShape));
  const outSt = strides(outShape);
  const inSt = strides(shape);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (const [k, d] of outShape.entries()) src += ((Math.floor(o / outSt[k]!) % d) + (k === axis ? start : 0)) * inSt[k]!;
    out[o] = x[src]!;
  }
  return out;
}

const arr = (t: { toArray(): Float32Array | Int32Array }) => Array.from(t.toArray());

describe("reshape", () => {
  test("keeps the data, infers one -1, and its gradient takes the input's shape", () => {
    tidy(() => {
      const x = randomArray(24, 1);
      const xt = tensor(x, [2, 3, 4], { requiresGrad: true });
      const r = ops.reshape(xt, [4, -1]);
      expect(r.shape).toEqual([4, 6]);
      expect(arr(r)).toEqual(Array.from(x));
      expect(ops.reshape(xt, [-1]).shape).toEqual([24]);
      expect(ops.reshape(xt, [2, -1, 3]).shape).toEqual([2, 4, 3]);
      const proj = randomArray(24, 2);
      backward(ops.sum(ops.mul(r, tensor(proj, [4, 6]))));
      expect(xt.grad!.shape).toEqual([2, 3, 4]);
      // Gradient of a reshape is the upstream gradient itself: exact.
      expect(arr(xt.grad!)).toEqual(Array.from(proj, Math.fround));
    });
  });

  test("rejects a size mismatch, two -1s and an -1 that does not divide", () => {
    tidy(() => {
      const xt = tensor(randomArray(24, 1), [2, 3, 4]);
      expect(() => ops.reshape(xt, [5, 5])).toThrow(/reshape: \[2, 3, 4\] \(24 elements\) cannot become \[5, 5\] \(25\)/);
      expect(() => ops.reshape(xt, [-1, -1])).toThrow(/reshape: at most one -1/);
      expect(() => ops.reshape(xt, [5, -1])).toThrow(/reshape: cannot infer -1 in \[5, -1\] for 24 elements/);
      expect(() => ops.reshape(xt, [0, -1])).toThrow(/reshape: cannot infer -1/);
    });
  });
});

describe("permute and transpose", () => {
  const CASES: { shape: number[]; perm: number[] }[] = [
    { shape: [3, 5], perm: [1, 0] },
    { shape: [2, 3, 4], perm: [2, 0, 1] },
    { shape: [2, 3, 4], perm: [0, 2, 1] },
    { shape: [2, 3, 4, 5], perm: [0, 2, 1, 3] }, // the attention head swap
    { shape: [2, 3, 4, 5], perm: [3, 2, 1, 0] },
    { shape: [2, 1, 3, 2, 5], perm: [4, 2, 0, 3, 1] },
    { shape: [3, 4, 5], perm: [-1, 0, 1] }, // negative axes
    { shape: [64, 33, 40], perm: [2, 1, 0] }, // above the kernel's parallel threshold
  ];
  for (const { shape, perm } of CASES) {
    test(`permute ${JSON.stringify(shape)} by ${JSON.stringify(perm)}: forward exact, backward by FD`, () => {
      const x = randomArray(numelOf(shape), shape.length * 7 + perm[0]!);
      const p = perm.map((a) => (a < 0 ? a + shape.length : a));
      const outShape = p.map((a) => shape[a]!);
      tidy(() => {
        const xt = tensor(x, shape, { requiresGrad: true });
        const y = ops.permute(xt, perm);
        expect(y.shape).toEqual(outShape);
        expect(arr(y)).toEqual(Array.from(refPermute(x, shape, p)));
        const proj = randomArray(x.length, 99);
        backward(ops.sum(ops.mul(y, tensor(proj, outShape))));
        // Gradient is the inverse permutation of proj; FD of the linear reference is exact to ~1e-10.
        if (x.length <= 200)
          expectClose(
            xt.grad!.toArray(),
            numericGrad((v) => refPermute(v[0]!, shape, p), [x], 0, proj),
            1e-6,
            "dx",
          );
        const expected = new Float64Array(x.length);
        for (const [o, src] of refPermute(Float64Array.from(x.keys()), shape, p).entries()) expected[src] = Math.fround(proj[o]!);
        expect(arr(xt.grad!)).toEqual(Array.from(expected));
      });
    });
  }

  test("transpose swaps two axes (default the last two) and works on i32", () => {
    tidy(() => {
      const x = randomArray(2 * 3 * 4 * 5, 4);
      const xt = tensor(x, [2, 3, 4, 5]);
      expect(arr(ops.transpose(xt))).toEqual(Array.from(refPermute(x, [2, 3, 4, 5], [0, 1, 3, 2])));
      expect(ops.transpose(xt, 0, 2).shape).toEqual([4, 3, 2, 5]);
      expect(arr(ops.transpose(xt, 0, 2))).toEqual(Array.from(refPermute(x, [2, 3, 4, 5], [2, 1, 0, 3])));
      const ids = Array.from({ length: 12 }, (_, i) => i * 3 - 7);
      const it = ops.transpose(tensor(ids, [3, 4], { dtype: "i32" }));
      expect(it.dtype).toBe("i32");
      expect(arr(it)).toEqual(Array.from(refPermute(ids, [3, 4], [1, 0])));
    });
  });

  test("rejects a repeated axis, a wrong length and an out-of-range axis", () => {
    tidy(() => {
      const xt = tensor(randomArray(24, 1), [2, 3, 4]);
      expect(() => ops.permute(xt, [0, 0, 1])).toThrow(/permute: \[0,0,1\] is not a permutation of the 3 axes of \[2, 3, 4\]/);
      expect(() => ops.permute(xt, [1, 0])).toThrow(/permute: .* is not a permutation of the 3 axes/);
      expect(() => ops.permute(xt, [0, 1, 3])).toThrow(/permute: axis 3 is out of range for a tensor of rank 3/);
      expect(() => ops.transpose(xt, 0, -4)).toThrow(/transpose: axis -4 is out of range/);
    });
  });
});

describe("concat", () => {
  // Three operands of different sizes along the axis, for the first, a middle and the last axis.
  const CASES: { axis: number; shapes: number[][] }[] = [
    {
      axis: 0,
      shapes: [
        [1, 3, 4],
        [2, 3, 4],
        [4, 3, 4],
      ],
    },
    {
      axis: 1,
      shapes: [
        [2, 1, 4],
        [2, 3, 4],
        [2, 2, 4],
      ],
    },
    {
      axis: 2,
      shapes: [
        [2, 3, 5],
        [2, 3, 1],
        [2, 3, 2],
      ],
    },
    {
      axis: -1,
      shapes: [
        [3, 2],
        [3, 7],
        [3, 1],
      ],
    },
    {
      axis: 1,
      shapes: [
        [2, 0, 3],
        [2, 2, 3],
        [2, 1, 3],
      ],
    }, // an empty operand
  ];
  for (const { axis, shapes } of CASES) {
    test(`axis ${axis} of ${JSON.stringify(shapes)}: forward exact, backward by FD`, () => {
      const ax = axis < 0 ? axis + shapes[0]!.length : axis;
      const xs = shapes.map((s, i) => randomArray(numelOf(s), 10 * i + ax + 1));
      const ref = refConcat(xs, shapes, ax);
      const outShape = [...shapes[0]!];
      outShape[ax] = shapes.reduce((a, s) => a + s[ax]!, 0);
      tidy(() => {
        const ts = shapes.map((s, i) => tensor(xs[i]!, s, { requiresGrad: true }));
        const y = ops.concat(ts, axis);
        expect(y.shape).toEqual(outShape);
        expect(arr(y)).toEqual(Array.from(ref));
        const proj = randomArray(ref.length, 77);
        backward(ops.sum(ops.mul(y, tensor(proj, outShape))));
        ts.forEach((t, i) => {
          expect(t.grad!.shape).toEqual(shapes[i]!);
          // Each operand's gradient is its block of proj: FD of a linear map, 1e-6.
          expectClose(
            t.grad!.toArray(),
            numericGrad((v) => refConcat(v, shapes, ax), xs, i, proj),
            1e-6,
            `d operand ${i}`,
          );
        });
      });
    });
  }

  test("i32 tensors along each axis (forward only)", () => {
    tidy(() => {
      const shapes = [
        [2, 1, 3],
        [2, 2, 3],
        [2, 4, 3],
      ];
      for (const ax of [0, 1, 2]) {
        const s = shapes.map((sh) => sh.map((d, k) => (k === ax ? sh[1]! : k === 1 ? 2 : d)));
        const xs = s.map((sh, i) => Array.from({ length: numelOf(sh) }, (_, j) => (i + 1) * 100000 + j - 50000));
        const y = ops.concat(
          s.map((sh, i) => tensor(xs[i]!, sh, { dtype: "i32" })),
          ax,
        );
        expect(y.dtype).toBe("i32");
        expect(arr(y)).toEqual(Array.from(refConcat(xs, s, ax)));
      }
    });
  });

  test("only operands that require a gradient get one", () => {
    tidy(() => {
      const a = tensor(randomArray(6, 1), [2, 3]);
      const b = tensor(randomArray(4, 2), [2, 2], { requiresGrad: true });
      backward(ops.sum(ops.concat([a, b], 1)));
      expect(a.grad).toBeNull();
      expect(arr(b.grad!)).toEqual([1, 1, 1, 1]);
    });
  });

  test("rejects mismatched shapes, dtypes, a bad axis and an empty list", () => {
    tidy(() => {
      const a = tensor(randomArray(6, 1), [2, 3]);
      expect(() => ops.concat([a, tensor(randomArray(6, 2), [3, 2])], 1)).toThrow(
        /concat: tensor 1 \[3, 2\] f32 does not match tensor 0 \[2, 3\] f32 outside axis 1/,
      );
      expect(() => ops.concat([a, tensor([1, 2, 3, 4], [2, 2], { dtype: "i32" })], 1)).toThrow(
        /concat: tensor 1 \[2, 2\] i32 does not match tensor 0 \[2, 3\] f32/,
      );
      expect(() => ops.concat([a, tensor(randomArray(3, 3), [3])], 0)).toThrow(/concat: tensor 1 \[3\]/);
      expect(() => ops.concat([a, a], 2)).toThrow(/concat: axis 2 is out of range for a tensor of rank 2/);
      expect(() => ops.concat([], 0)).toThrow(/concat: needs at least one tensor/);
    });
  });
});

describe("slice", () => {
  const SHAPE = [3, 4, 5];
  const CASES: [number, number, number][] = [
    [0, 1, 3],
    [0, 0, 3],
    [1, 2, 3],
    [1, 0, 4],
    [2, 1, 4],
    [-1, 4, 5],
    [1, 2, 2], // empty
    [0, 3, 3], // empty at the end
  ];
  for (const [axis, start, end] of CASES) {
    test(`axis ${axis} [${start}, ${end}): forward exact, backward by FD`, () => {
      const ax = axis < 0 ? axis + SHAPE.length : axis;
      const x = randomArray(60, 5 + ax);
      const ref = refSlice(x, SHAPE, ax, start, end);
      const outShape = [...SHAPE];
      outShape[ax] = end - start;
      tidy(() => {
        const xt = tensor(x, SHAPE, { requiresGrad: true });
        const y = ops.slice(xt, axis, start, end);
        expect(y.shape).toEqual(outShape);
        expect(arr(y)).toEqual(Array.from(ref));
        const proj = randomArray(ref.length, 8);
        backward(ops.sum(ops.mul(y, tensor(proj, outShape))));
        // Scatter of proj into zeros: FD of a linear map, 1e-6 (exact zeros outside the slice).
        expectClose(
          xt.grad!.toArray(),
          numericGrad((v) => refSlice(v[0]!, SHAPE, ax, start, end), [x], 0, proj),
          1e-6,
          "dx",
        );
      });
    });
  }

  test("i32 slices and the composition of slice then concat gives back the input", () => {
    tidy(() => {
      const ids = Array.from({ length: 60 }, (_, i) => i * 7 - 100);
      const it = tensor(ids, SHAPE, { dtype: "i32" });
      expect(arr(ops.slice(it, 2, 1, 3))).toEqual(Array.from(refSlice(ids, SHAPE, 2, 1, 3)));
      const parts = [ops.slice(it, 1, 0, 1), ops.slice(it, 1, 1, 3), ops.slice(it, 1, 3, 4)];
      expect(arr(ops.concat(parts, 1))).toEqual(ids);
    });
  });

  test("rejects out-of-range, reversed and fractional ranges and a bad axis", () => {
    tidy(() => {
      const xt = tensor(randomArray(60, 1), SHAPE);
      expect(() => ops.slice(xt, 1, 2, 5)).toThrow(/slice: \[2, 5\) is not a valid range of axis 1 \(length 4\) of \[3, 4, 5\]/);
      expect(() => ops.slice(xt, 0, -1, 2)).toThrow(/slice: \[-1, 2\) is not a valid range of axis 0/);
      expect(() => ops.slice(xt, 2, 3, 2)).toThrow(/slice: \[3, 2\) is not a valid range/);
      expect(() => ops.slice(xt, 2, 0.5, 2)).toThrow(/slice: \[0.5, 2\) is not a valid range/);
      expect(() => ops.slice(xt, 3, 0, 1)).toThrow(/slice: axis 3 is out of range for a tensor of rank 3/);
    });
  });
});
