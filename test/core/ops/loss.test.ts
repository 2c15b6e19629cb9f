// crossEntropy against a float64 reference for every reduction, with ignored rows, a custom ignore
// index, all rows ignored and logits of magnitude 1e4; its backward against finite differences.
import { describe, expect, test } from "bun:test";
import { backward, cpuBackend, ops, tensor, tidy } from "../../../lft.ts";
import { expectClose } from "../../helpers/compare.ts";
import { numericGrad } from "../../helpers/gradcheck.ts";
import { randomArray, randomInts } from "../../helpers/random.ts";

const { crossEntropy } = ops;

/** Per-row loss lse(z) - z[t] (0 for an ignored row), computed about the row max. */
function refRowLoss(z: ArrayLike<number>, t: number, ignore: number): number {
  if (t === ignore) return 0;
  let max = -Infinity;
  for (let i = 0; i < z.length; i++) max = Math.max(max, z[i]!);
  let s = 0;
  for (let i = 0; i < z.length; i++) s += Math.exp(z[i]! - max);
  return max + Math.log(s) - z[t]!;
}

function refLosses(z: Float64Array, targets: Int32Array, vocab: number, ignore = -100): Float64Array {
  return Float64Array.from(targets, (t, r) => refRowLoss(z.subarray(r * vocab, (r + 1) * vocab), t, ignore));
}

function refMean(z: Float64Array, targets: Int32Array, vocab: number, ignore = -100): number {
  const counted = targets.filter((t) => t !== ignore).length;
  return counted === 0 ? 0 : refLosses(z, targets, vocab, ignore).reduce((a, b) => a + b, 0) / counted;
}

/** Targets in [0, vocab) with every 4th row (and row 1) set to the ignore index. */
function targetsFor(rows: number, vocab: number, seed: number, ignore = -100): Int32Array {
  return randomInts(rows, seed, vocab).map((t, r) => (r % 4 === 3 || r === 1 ? ignore : t));
}

/**
 * d(sum_r rowLoss(r) * proj[r])/dz by central differences: a row's perturbation changes only its own
 * loss. With every > 1 only columns c % every == 0, the last and the target are differenced.
 */
function rowwiseGrad(
  z: Float64Array,
  targets: Int32Array,
  vocab: number,
  proj: ArrayLike<number>,
  ignore: number,
  every = 1,
  h = 1e-6,
): { idx: number[]; grad: Float64Array } {
  const idx: number[] = [];
  const grad: number[] = [];
  for (let r = 0; r < targets.length; r++) {
    const row = z.slice(r * vocab, (r + 1) * vocab);
    for (let c = 0; c < vocab; c++) {
      if (c % every !== 0 && c !== vocab - 1 && c !== targets[r]) continue;
      const keep = row[c]!;
      row[c] = keep + h;
      const up = refRowLoss(row, targets[r]!, ignore);
      row[c] = keep - h;
      const down = refRowLoss(row, targets[r]!, ignore);
      row[c] = keep;
      idx.push(r * vocab + c);
      grad.push(((up - down) / (2 * h)) * proj[r]!);
    }
  }
  return { idx, grad: Float64Array.from(grad) };
}

const pick = (a: ArrayLike<number>, idx: number[]): Float64Array => Float64Array.from(idx, (i) => a[i]!);
const live = (): number => cpuBackend.allocator.stats().liveBytes;
const i32 = (a: ArrayLike<number>, shape = [a.length]) => tensor(a, shape, { dtype: "i32" });

// [rows, vocab]: vocab 1 (loss always 0), odd widths, one row and many; [700, 33] and [64, 4097] exceed
// the threading threshold (16384 elements).
const SHAPES: [number, number][] = [
  [1, 1],
  [1, 7],
  [5, 33],
  [3, 4097],
  [300, 7],
  [700, 33],
  [64, 4097],
];

describe("crossEntropy forward", () => {
  // lse is summed in double and lse - z[t] formed in double before one rounding to f32: ~1e-7 relative.
  // 1e-5 catches a missing max shift, a wrong target column or counting ignored rows in the mean.
  for (const [rows, vocab] of SHAPES) {
    test(`[${rows}, ${vocab}] none, sum and mean`, () => {
      tidy(() => {
        const z = randomArray(rows * vocab, rows + vocab, -8, 8);
        const t = targetsFor(rows, vocab, rows * 3 + vocab);
        const logits = tensor(z, [rows, vocab]);
        const targets = i32(t);
        const none = crossEntropy(logits, targets, { reduction: "none" });
        expect(none.shape).toEqual([rows]);
        const want = refLosses(z, t, vocab);
        expectClose(none.toArray(), want, 1e-5, "none");
        for (let r = 0; r < rows; r++) if (t[r] === -100) expect(none.toArray()[r]).toBe(0);
        const sum = crossEntropy(logits, targets, { reduction: "sum" });
        expect(sum.shape).toEqual([]);
        expectClose([sum.item()], [want.reduce((a, b) => a + b, 0)], 1e-5, "sum");
        expectClose([crossEntropy(logits, targets).item()], [refMean(z, t, vocab)], 1e-5, "mean");
      });
    });
  }

  test("a custom ignoreIndex, including one inside [0, vocab)", () => {
    tidy(() => {
      const [rows, vocab] = [9, 7];
      const z = randomArray(rows * vocab, 3, -4, 4);
      for (const ignore of [-1, 3]) {
        const t = targetsFor(rows, vocab, 4, ignore);
        expectClose([crossEntropy(tensor(z, [rows, vocab]), i32(t), { ignoreIndex: ignore }).item()], [refMean(z, t, vocab, ignore)], 1e-5);
      }
    });
  });

  test("every row ignored: mean and sum are 0 (not NaN) and the gradient is 0", () => {
    tidy(() => {
      const zt = tensor(randomArray(4 * 5, 1), [4, 5], { requiresGrad: true });
      const t = i32([-100, -100, -100, -100]);
      expect(crossEntropy(zt, t, { reduction: "sum" }).item()).toBe(0);
      const loss = crossEntropy(zt, t);
      expect(loss.item()).toBe(0);
      backward(loss);
      expect(Array.from(zt.grad!.toArray())).toEqual(new Array(20).fill(0));
      zt.grad!.dispose();
    });
  });

  test("an empty batch: loss 0 and an empty gradient", () => {
    tidy(() => {
      const zt = tensor([], [0, 5], { requiresGrad: true });
      const loss = crossEntropy(zt, i32([]));
      expect(loss.item()).toBe(0);
      backward(loss);
      expect(zt.grad!.shape).toEqual([0, 5]);
      zt.grad!.dispose();
    });
  });

  test("logits of magnitude 1e4 give finite losses and gradients", () => {
    tidy(() => {
      const [rows, vocab] = [8, 33];
      const z = randomArray(rows * vocab, 5, -1, 1).map((v, i) => Math.fround((i % 3 === 0 ? 1e4 : i % 3 === 1 ? -1e4 : 0) + v));
      const t = targetsFor(rows, vocab, 6);
      const zt = tensor(z, [rows, vocab], { requiresGrad: true });
      const none = crossEntropy(zt, i32(t), { reduction: "none" });
      expectClose(none.toArray(), refLosses(z, t, vocab), 1e-5);
      backward(none, tensor(randomArray(rows, 7)));
      // lse is stored in f32, so at |z| ~ 1e4 its rounding (half an ulp, 5e-4) moves every probability by
      // up to 5e-4 relative: finite and close, not 1e-5 close.
      const fd = rowwiseGrad(z, t, vocab, randomArray(rows, 7), -100);
      expectClose(pick(zt.grad!.toArray(), fd.idx), fd.grad, 1e-3);
      zt.grad!.dispose();
    });
  });
});

describe("crossEntropy backward (finite differences of the float64 reference)", () => {
  // f32 gradient softmax - onehot from the saved lse vs f64 central differences (error ~1e-10):
  // lse's f32 rounding (|z| <= 8: ~5e-7) dominates. A missing onehot, a gradient on an ignored row or
  // a mean over all rows fails by O(1e-1) or more. Rows of 4097 are differenced at every 31st column,
  // the last and the target.
  for (const [rows, vocab] of [
    [1, 1],
    [1, 7],
    [5, 33],
    [3, 4097],
    [700, 33],
  ] as [number, number][]) {
    test(`[${rows}, ${vocab}] reduction none, with ignored rows`, () => {
      const before = live();
      tidy(() => {
        const z = randomArray(rows * vocab, 50 + rows + vocab, -8, 8);
        const t = targetsFor(rows, vocab, 60 + rows);
        const proj = randomArray(rows, 70 + rows);
        const zt = tensor(z, [rows, vocab], { requiresGrad: true });
        backward(crossEntropy(zt, i32(t), { reduction: "none" }), tensor(proj));
        const fd = rowwiseGrad(z, t, vocab, proj, -100, vocab > 512 ? 31 : 1);
        const got = zt.grad!.toArray();
        expectClose(pick(got, fd.idx), fd.grad, 1e-5);
        for (let r = 0; r < rows; r++) if (t[r] === -100) expect(got.subarray(r * vocab, (r + 1) * vocab).every((v) => v === 0)).toBe(true);
        zt.grad!.dispose();
      });
      expect(live()).toBe(before);
    });
  }

  for (const reduction of ["mean", "sum"] as const) {
    test(`[6, 33] reduction ${reduction}: the scalar's gradient is scaled through`, () => {
      const before = live();
      tidy(() => {
        const [rows, vocab] = [6, 33];
        const z = randomArray(rows * vocab, 80, -8, 8);
        const t = targetsFor(rows, vocab, 81);
        const zt = tensor(z, [rows, vocab], { requiresGrad: true });
        const g = 0.75;
        backward(crossEntropy(zt, i32(t), { reduction }), tensor([g], []));
        const f = (i: Float64Array[]): number[] => {
          const l = refLosses(i[0]!, t, vocab);
          return [reduction === "sum" ? l.reduce((a, b) => a + b, 0) : refMean(i[0]!, t, vocab)];
        };
        expectClose(zt.grad!.toArray(), numericGrad(f, [z], 0, [g]), 1e-5);
        zt.grad!.dispose();
      });
      expect(live()).toBe(before);
    });
  }

  test("the row-wise difference agrees with the general helper", () => {
    const [rows, vocab] = [3, 4];
    const z = randomArray(rows * vocab, 1);
    const t = Int32Array.from([2, -100, 0]);
    const proj = randomArray(rows, 2);
    expectClose(
      rowwiseGrad(z, t, vocab, proj, -100).grad,
      numericGrad((i) => refLosses(i[0]!, t, vocab), [z], 0, proj),
      1e-9,
    );
  });
});

describe("crossEntropy input checks", () => {
  test("an out-of-range target names its index; shapes and dtypes say what was expected", () => {
    tidy(() => {
      const z = tensor(randomArray(5 * 33, 1), [5, 33]);
      expect(() => crossEntropy(z, i32([0, 1, 40, 2, 3]))).toThrow(
        /crossEntropy: targets\[2\] = 40 is out of range \[0, 33\) and is not the ignore index -100/,
      );
      expect(() => crossEntropy(z, i32([0, -5, 1, 2, 3]))).toThrow(/targets\[1\] = -5 is out of range/);
      expect(() => crossEntropy(z, i32([0, 1, 2, 3, -100]), { ignoreIndex: -1 })).toThrow(
        /targets\[4\] = -100 is out of range \[0, 33\) and is not the ignore index -1/,
      );
      expect(() => crossEntropy(tensor(randomArray(10, 1), [1, 2, 5]), i32([0]))).toThrow(/crossEntropy: logits must have rank 2, got shape \[1, 2, 5\]/);
      expect(() => crossEntropy(z, tensor([0, 1, 2, 3, 4]))).toThrow(/crossEntropy: targets must be i32, got f32/);
      expect(() => crossEntropy(z, i32([0, 1, 2]))).toThrow(/crossEntropy: targets must have shape \[5\], got \[3\]/);
      expect(() => crossEntropy(z, i32([0, 1, 2, 3, 4]), { reduction: "avg" as "mean" })).toThrow(/reduction must be one of mean, sum, none, got avg/);
    });
  });

  test("a rejected call leaves no memory behind", () => {
    const z = tensor(randomArray(5 * 7, 1), [5, 7]);
    const t = i32([0, 1, 9, 2, 3]);
    const before = live();
    expect(() => crossEntropy(z, t)).toThrow(/targets\[2\] = 9/);
    expect(live()).toBe(before);
    z.dispose();
    t.dispose();
  });
});
