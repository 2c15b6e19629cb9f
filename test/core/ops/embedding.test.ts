// embedding: the gather is exact; the scatter-add backward against finite differences with repeated
// ids, bit-identical whatever the thread count; out-of-range ids are named.
import { describe, expect, test } from "bun:test";
import { native } from "../../../ffi/cpu/cpu.ts";
import { backward, cpuBackend, ops, tensor, tidy } from "../../../lft.ts";
import { expectClose } from "../../helpers/compare.ts";
import { numericGrad } from "../../helpers/gradcheck.ts";
import { randomArray, randomInts } from "../../helpers/random.ts";

const { embedding } = ops;

function refEmbedding(w: ArrayLike<number>, ids: ArrayLike<number>, dim: number): Float64Array {
  const out = new Float64Array(ids.length * dim);
  for (let i = 0; i < ids.length; i++) for (let c = 0; c < dim; c++) out[i * dim + c] = w[ids[i]! * dim + c]!;
  return out;
}

/** dw by scatter-adding proj rows in float64: what finite differences of the (linear) gather give exactly. */
function refScatter(proj: ArrayLike<number>, ids: ArrayLike<number>, vocab: number, dim: number): Float64Array {
  const dw = new Float64Array(vocab * dim);
  for (let i = 0; i < ids.length; i++) for (let c = 0; c < dim; c++) dw[ids[i]! * dim + c]! += proj[i * dim + c]!;
  return dw;
}

const live = (): number => cpuBackend.allocator.stats().liveBytes;
const i32 = (a: ArrayLike<number>, shape = [a.length]) => tensor(a, shape, { dtype: "i32" });

// [ids shape], vocab, dim: dim 1, odd dims, and [4, 5] x 4097 over the threading threshold (16384 elements).
const CASES: [number[], number, number][] = [
  [[1], 1, 1],
  [[7], 3, 7],
  [[2, 5], 11, 33],
  [[3], 5, 4097],
  [[4, 5], 13, 4097],
  [[300], 50, 7],
];

describe("embedding forward", () => {
  for (const [shape, vocab, dim] of CASES) {
    test(`ids ${JSON.stringify(shape)}, weight [${vocab}, ${dim}]`, () => {
      tidy(() => {
        const n = shape.reduce((a, b) => a * b, 1);
        const w = randomArray(vocab * dim, vocab + dim);
        const ids = randomInts(n, n + vocab, vocab);
        const y = embedding(tensor(w, [vocab, dim]), i32(ids, shape));
        expect(y.shape).toEqual([...shape, dim]);
        // A gather copies f32 words: exact equality, no tolerance.
        expect(y.toArray()).toEqual(Float32Array.from(refEmbedding(w, ids, dim)));
      });
    });
  }
});

describe("embedding backward", () => {
  // Few ids over a small vocab, so most rows repeat. The sums run in f32 in token order: error ~n * 6e-8
  // relative at worst (300 tokens over 50 rows: ~6 per row); 1e-5 catches a lost or doubled update.
  for (const [shape, vocab, dim] of CASES) {
    test(`ids ${JSON.stringify(shape)}, weight [${vocab}, ${dim}], repeated ids`, () => {
      const before = live();
      tidy(() => {
        const n = shape.reduce((a, b) => a * b, 1);
        const w = randomArray(vocab * dim, 1);
        const ids = randomInts(n, 2 + n, vocab);
        const proj = randomArray(n * dim, 3 + n);
        const wt = tensor(w, [vocab, dim], { requiresGrad: true });
        backward(embedding(wt, i32(ids, shape)), tensor(proj, [...shape, dim]));
        expectClose(wt.grad!.toArray(), refScatter(proj, ids, vocab, dim), 1e-5);
        wt.grad!.dispose();
      });
      expect(live()).toBe(before);
    });
  }

  test("the scatter reference is the finite-difference gradient of the gather", () => {
    const [vocab, dim] = [4, 3];
    const ids = Int32Array.from([2, 0, 2, 2, 3]);
    const w = randomArray(vocab * dim, 4);
    const proj = randomArray(ids.length * dim, 5);
    expectClose(
      refScatter(proj, ids, vocab, dim),
      numericGrad((i) => refEmbedding(i[0]!, ids, dim), [w], 0, proj),
      1e-9,
    );
  });

  test("no ids: an empty output and a zero gradient", () => {
    tidy(() => {
      const wt = tensor(randomArray(3 * 2, 1), [3, 2], { requiresGrad: true });
      const y = embedding(wt, i32([], [2, 0]));
      expect(y.shape).toEqual([2, 0, 2]);
      backward(y, tensor([], [2, 0, 2]));
      expect(Array.from(wt.grad!.toArray())).toEqual([0, 0, 0, 0, 0, 0]);
      wt.grad!.dispose();
    });
  });

  test("a repeated id accumulates every occurrence; unused rows stay 0", () => {
    tidy(() => {
      const wt = tensor(randomArray(3 * 2, 1), [3, 2], { requiresGrad: true });
      backward(embedding(wt, i32([1, 1, 1, 1])), tensor([1, 2, 10, 20, 100, 200, 1000, 2000], [4, 2]));
      expect(Array.from(wt.grad!.toArray())).toEqual([0, 0, 1111, 2222, 0, 0]);
      wt.grad!.dispose();
    });
  });

  test("dw is bit-identical for 1, 2, 3 and 7 threads", () => {
    const threads = native.lft_num_threads();
    const [n, vocab, dim] = [500, 17, 300];
    const [w, ids, proj] = [randomArray(vocab * dim, 1), randomInts(n, 2, vocab), randomArray(n * dim, 3)];
    const results: Float32Array[] = [];
    try {
      for (const t of [1, 2, 3, 7]) {
        native.lft_set_num_threads(t);
        tidy(() => {
          const wt = tensor(w, [vocab, dim], { requiresGrad: true });
          backward(embedding(wt, i32(ids)), tensor(proj, [n, dim]));
          results.push(wt.grad!.toArray() as Float32Array);
          wt.grad!.dispose();
        });
      }
    } finally {
      native.lft_set_num_threads(threads);
    }
    for (const r of results.slice(1)) expect(r).toEqual(results[0]!);
  });
});

describe("embedding input checks", () => {
  test("an out-of-range id names its index; shapes and dtypes say what was expected", () => {
    tidy(() => {
      const w = tensor(randomArray(5 * 3, 1), [5, 3]);
      expect(() => embedding(w, i32([0, 4, 5, 1]))).toThrow(/embedding: ids\[2\] = 5 is out of range \[0, 5\)/);
      expect(() => embedding(w, i32([0, 1, 2, -1], [2, 2]))).toThrow(/embedding: ids\[3\] = -1 is out of range \[0, 5\)/);
      expect(() => embedding(w, tensor([0, 1]))).toThrow(/embedding: ids must be i32, got f32/);
      expect(() => embedding(tensor(randomArray(15, 1)), i32([0]))).toThrow(/embedding: weight must have rank 2, got shape \[15\]/);
      expect(() => embedding(i32([0, 1], [1, 2]), i32([0]))).toThrow(/embedding: weight must be f32, got i32/);
    });
  });

  test("a rejected call leaves no memory behind", () => {
    const w = tensor(randomArray(5 * 3, 1), [5, 3]);
    const ids = i32([0, 7]);
    const before = live();
    expect(() => embedding(w, ids)).toThrow(/ids\[1\] = 7/);
    expect(live()).toBe(before);
    w.dispose();
    ids.dispose();
  });
});
