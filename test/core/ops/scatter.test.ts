// scatterAddRows: the forward against a float64 scatter-add with repeated ids, the backward (a row
// gather) against finite differences, rows no id hits stay zero, and bad ids or shapes are refused.
import { expect, test } from "bun:test";
import { backward, cpuBackend, ops, tensor, tidy } from "../../../lft.ts";
import { expectClose } from "../../helpers/compare.ts";
import { numericGrad } from "../../helpers/gradcheck.ts";
import { randomArray, randomInts } from "../../helpers/random.ts";

const i32 = (a: ArrayLike<number>) => tensor(a, [a.length], { dtype: "i32" });

function refScatterAdd(src: ArrayLike<number>, ids: ArrayLike<number>, rows: number, dim: number): Float64Array {
  const out = new Float64Array(rows * dim);
  for (let i = 0; i < ids.length; i++) for (let c = 0; c < dim; c++) out[ids[i]! * dim + c]! += src[i * dim + c]!;
  return out;
}

// n source rows, rows out, dim: repeats, a row count above n (untouched rows), dim 1, and one over the threading threshold.
const CASES: [number, number, number][] = [
  [1, 1, 1],
  [9, 4, 5],
  [6, 11, 3],
  [40, 7, 1],
  [12, 5, 4097],
];

for (const [n, rows, dim] of CASES) {
  test(`forward: ${n} rows of ${dim} into ${rows} (repeated ids) equal a float64 scatter-add`, () => {
    tidy(() => {
      const src = randomArray(n * dim, n + dim);
      const ids = randomInts(n, n * rows, rows);
      const y = ops.scatterAddRows(tensor(src, [n, dim]), i32(ids), rows);
      expect(y.shape).toEqual([rows, dim]);
      // f32 sums of at most n terms of |x| <= 1: ~n * 6e-8 relative.
      expectClose(y.toArray(), refScatterAdd(src, ids, rows, dim), 1e-6, "scatter-add");
    });
  });
}

test("rows no id names stay exactly zero", () => {
  tidy(() => {
    const y = ops.scatterAddRows(tensor([1, 2, 3, 4], [2, 2]), i32([3, 3]), 5).toArray();
    expect(Array.from(y)).toEqual([0, 0, 0, 0, 0, 0, 4, 6, 0, 0]);
  });
});

test("backward gathers the output gradient's rows: finite differences of the float64 scatter-add", () => {
  const [n, rows, dim] = [9, 4, 5];
  const before = cpuBackend.allocator.stats().liveBytes;
  tidy(() => {
    const src = randomArray(n * dim, 3);
    const ids = randomInts(n, 4, rows);
    const proj = randomArray(rows * dim, 5);
    const x = tensor(src, [n, dim], { requiresGrad: true });
    const y = ops.scatterAddRows(x, i32(ids), rows);
    backward(ops.sum(ops.mul(y, tensor(proj, [rows, dim]))));
    const numeric = numericGrad(([s]) => refScatterAdd(s!, ids, rows, dim), [Float64Array.from(src)], 0, proj);
    // The op is linear: differences are exact up to f64 rounding; the gather copies f32 words.
    expectClose(x.grad!.toArray(), numeric, 1e-7, "dsrc");
    x.grad!.dispose();
  });
  expect(cpuBackend.allocator.stats().liveBytes).toBe(before);
});

test("ids out of range, or not one per source row, are refused with the op named", () => {
  tidy(() => {
    const src = tensor([1, 2, 3, 4], [2, 2]);
    expect(() => ops.scatterAddRows(src, i32([0, 5]), 3)).toThrow(/scatterAddRows|embedding backward/);
    expect(() => ops.scatterAddRows(src, i32([0]), 3)).toThrow("scatterAddRows: ids must be [2] (one per src row), got [1]");
  });
});
