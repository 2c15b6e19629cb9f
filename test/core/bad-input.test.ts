// Bad input at every op and at the backend boundary: wrong shapes, wrong dtypes, disposed tensors,
// out-of-range indices, bad ranges and axes. Each must throw an Error whose message starts with the op's
// name and says what was expected; none may reach native code. All cases run in this one process, so
// the process surviving to report is itself the proof that nothing segfaulted. (causalAttention's checks
// below the op layer report as the backend's "attention".)
import { describe, expect, test } from "bun:test";
import { backward, cpuBackend, defaultBackend, empty, ops, rand, randn, type Tensor, tensor, tidy } from "../../lft.ts";

/** Runs fn, which must throw an Error whose message starts with `op:` and matches `expected`. */
function expectOpError(fn: () => unknown, op: string, expected: RegExp): void {
  let caught: unknown = null;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  if (caught === null) throw new Error(`${op}: expected an error matching ${expected}, nothing was thrown`);
  expect(caught).toBeInstanceOf(Error);
  const msg = (caught as Error).message;
  if (!msg.startsWith(`${op}:`) || !expected.test(msg)) throw new Error(`expected "${op}: ..." matching ${expected}, got: ${msg}`);
  expect(msg).toMatch(expected);
}

const f32 = (shape: number[], fill = 0.5) => tensor(new Array(shape.reduce((a, b) => a * b, 1)).fill(fill), shape);
const i32 = (values: number[], shape = [values.length]) => tensor(values, shape, { dtype: "i32" });

describe("wrong shapes", () => {
  test("elementwise, matmul, reductions and reshape", () => {
    tidy(() => {
      expectOpError(() => ops.add(f32([2, 4]), f32([3])), "add", /b \[3\] must equal a \[2, 4\] or its trailing dims/);
      expectOpError(() => ops.div(f32([2, 4]), f32([2, 1])), "div", /b \[2, 1\] must equal a \[2, 4\]/);
      expectOpError(() => ops.matmul(f32([2, 3]), f32([4, 2])), "matmul", /inner dimensions differ: \[2, 3\] @ \[4, 2\] \(3 vs 4\)/);
      expectOpError(() => ops.matmul(f32([3]), f32([3, 1])), "matmul", /operands need rank >= 2, got \[3\] and \[3, 1\]/);
      expectOpError(() => ops.matmul(f32([2, 2, 3]), f32([3, 3, 2])), "matmul", /batch dims of b \[3, 3, 2\] must equal those of a \[2, 2, 3\]/);
      expectOpError(() => ops.reshape(f32([2, 3]), [4, 2]), "reshape", /\[2, 3\] \(6 elements\) cannot become \[4, 2\]/);
      expectOpError(() => ops.swiglu(f32([2, 3]), f32([3, 2])), "swiglu", /up must have shape \[2, 3\], got \[3, 2\]/);
    });
  });

  test("norms, rope, attention, cross-entropy and embedding", () => {
    tidy(() => {
      expectOpError(() => ops.rmsNorm(f32([2, 4]), f32([3])), "rmsNorm", /weight must have shape \[4\], got \[3\]/);
      expectOpError(() => ops.rmsNorm(f32([]), f32([1])), "rmsNorm", /input must have rank >= 1/);
      expectOpError(() => ops.layerNorm(f32([2, 4]), f32([4]), f32([5])), "layerNorm", /bias must have shape \[4\], got \[5\]/);
      expectOpError(() => ops.rope(f32([1, 2, 1, 4]), i32([0, 1, 2], [1, 3]), f32([2])), "rope", /position ids must have shape \[1, 2\], got \[1, 3\]/);
      expectOpError(() => ops.rope(f32([1, 2, 1, 4]), i32([0, 1], [1, 2]), f32([3])), "rope", /3 frequencies rotate 6 dims, more than the head dim/);
      expectOpError(() => ops.rope(f32([2, 4]), i32([0, 1], [1, 2]), f32([2])), "rope", /input must have rank 4, got shape \[2, 4\]/);
      expectOpError(
        () => ops.causalAttention(f32([1, 2, 3, 4]), f32([1, 2, 2, 4]), f32([1, 2, 2, 4])),
        "attention",
        /query heads \(3\) must be a multiple of key\/value heads \(2\)/,
      );
      expectOpError(
        () => ops.causalAttention(f32([1, 3, 2, 4]), f32([1, 2, 2, 4]), f32([1, 2, 2, 4])),
        "attention",
        /k sequence length \(2\) must be at least q.s \(3\)/,
      );
      expectOpError(
        () => ops.causalAttention(f32([1, 2, 2, 4]), f32([1, 2, 2, 4]), f32([1, 2, 2, 3])),
        "attention",
        /v must have shape \[1, 2, 2, 4\], got \[1, 2, 2, 3\]/,
      );
      expectOpError(() => ops.causalAttention(f32([2, 2, 4]), f32([2, 2, 4]), f32([2, 2, 4])), "causalAttention", /q must have rank 4/);
      expectOpError(() => ops.crossEntropy(f32([3, 5]), i32([0, 1, 2, 3])), "crossEntropy", /targets must have shape \[3\], got \[4\]/);
      expectOpError(() => ops.crossEntropy(f32([15]), i32([0])), "crossEntropy", /logits must have rank 2, got shape \[15\]/);
      expectOpError(() => ops.embedding(f32([10]), i32([0])), "embedding", /weight must have rank 2, got shape \[10\]/);
    });
  });

  test("tensor creation, item and backward", () => {
    tidy(() => {
      expectOpError(() => tensor([1, 2, 3, 4, 5], [2, 3]), "tensor", /5 values do not fill shape \[2, 3\]/);
      expectOpError(() => empty([2, -1]), "tensor", /shape \[2, -1\] has a dimension that is not a non-negative integer/);
      expectOpError(() => empty([1.5]), "tensor", /not a non-negative integer/);
      expectOpError(() => f32([2, 3]).item(), "item", /tensor has 6 elements, expected 1 \(shape \[2, 3\]\)/);
      const x = tensor([1, 2, 3, 4, 5, 6], [2, 3], { requiresGrad: true });
      expectOpError(() => backward(ops.scale(x, 2)), "backward", /root has shape \[2, 3\]; pass gradOut for a non-scalar root/);
      expectOpError(() => backward(ops.scale(x, 2), f32([3, 2])), "backward", /gradOut \[3, 2\] must match root \[2, 3\]/);
      expectOpError(() => backward(f32([])), "backward", /has no graph/);
    });
  });
});

describe("wrong dtypes", () => {
  test("i32 where f32 is expected, f32 where i32 is expected, half types into compute ops", () => {
    tidy(() => {
      expectOpError(() => ops.matmul(i32([1, 2, 3, 4], [2, 2]), f32([2, 2])), "matmul", /a must be f32, got i32/);
      expectOpError(() => ops.matmul(f32([2, 2]), tensor([1, 2, 3, 4], [2, 2], { dtype: "bf16" })), "matmul", /b must be f32, got bf16/);
      expectOpError(() => ops.embedding(f32([5, 3]), f32([0, 1])), "embedding", /ids must be i32, got f32/);
      expectOpError(() => ops.embedding(i32([1, 2, 3, 4], [2, 2]), i32([0])), "embedding", /weight must be f32, got i32/);
      expectOpError(() => ops.crossEntropy(f32([2, 5]), f32([0, 1])), "crossEntropy", /targets must be i32, got f32/);
      expectOpError(() => ops.add(i32([1, 2]), f32([2])), "add", /a must be f32, got i32/);
      expectOpError(() => ops.mul(f32([2]), tensor([1, 2], [2], { dtype: "f16" })), "mul", /b must be f32, got f16/);
      expectOpError(() => ops.sum(i32([1, 2])), "sum", /input must be f32, got i32/);
      expectOpError(() => ops.sumLastDim(i32([1, 2])), "sumRows", /input must be f32, got i32/);
      expectOpError(() => ops.softmax(i32([1, 2])), "softmax", /input must be f32, got i32/);
      expectOpError(() => ops.silu(tensor([1], [1], { dtype: "bf16" })), "silu", /input must be f32, got bf16/);
      expectOpError(() => ops.rmsNorm(i32([1, 2]), f32([2])), "rmsNorm", /input must be f32, got i32/);
      expectOpError(() => ops.rope(f32([1, 2, 1, 4]), tensor([0, 1], [1, 2]), f32([2])), "rope", /position ids must be i32, got f32/);
      expectOpError(
        () => ops.causalAttention(f32([1, 2, 2, 4]), f32([1, 2, 2, 4]), f32([1, 2, 2, 4]), { segmentIds: f32([1, 2]) }),
        "attention",
        /segment ids must be i32, got f32/,
      );
      expectOpError(() => ops.permute(tensor([1, 2], [1, 2], { dtype: "bf16" }), [1, 0]), "permute", /only 4-byte dtypes \(f32, i32\) are supported, got bf16/);
      expectOpError(() => ops.dropout(i32([1, 2]), { p: 0.5, seed: 1n, offset: 0n }), "dropout", /input must be f32, got i32/);
      expectOpError(() => ops.cast(tensor([1], [1], { dtype: "f16" }), "bf16"), "cast", /f16->bf16 is not supported/);
    });
  });
});

describe("disposed tensors", () => {
  test("every op, the host transfers and the backend refuse a disposed tensor by name", () => {
    tidy(() => {
      const dead = f32([2, 2]);
      dead.name = "w_dead";
      dead.dispose();
      const live = f32([2, 2]);
      expectOpError(() => ops.add(live, dead), "add", /tensor w_dead \[2, 2\] was disposed/);
      expectOpError(() => ops.matmul(dead, live), "matmul", /was disposed/);
      expectOpError(() => ops.concat([live, dead], 0), "concat", /tensor w_dead \[2, 2\] was disposed/);
      expectOpError(() => ops.reshape(dead, [4]), "reshape", /was disposed/);
      expectOpError(() => ops.sum(dead), "sum", /was disposed/);
      expectOpError(() => dead.toArray(), "toArray", /was disposed/);
      expectOpError(() => dead.toHost(), "toHost", /was disposed/);
      expectOpError(() => dead.view([4]), "view", /was disposed/);
      expectOpError(() => backward(dead), "backward", /was disposed/);
      // The backend checks on its own, for callers below the op layer.
      const out = f32([2, 2]);
      expectOpError(() => cpuBackend.matmul(out, live, dead), "matmul", /b \(w_dead\) was disposed before use/);
      expectOpError(() => cpuBackend.fill(dead, 1), "fill", /destination \(w_dead\) was disposed before use/);
      expectOpError(() => cpuBackend.download(dead), "download", /was disposed before use/);
      expectOpError(() => cpuBackend.upload(dead, new Float32Array(4)), "upload", /was disposed before use/);
      expectOpError(() => cpuBackend.copy(out, dead), "copy", /was disposed before use/);
    });
  });

  test("a gradient whose saved input was disposed by hand still backpropagates (saved views own their memory)", () => {
    tidy(() => {
      const a = tensor([1, 2, 3], [3], { requiresGrad: true });
      const b = tensor([4, 5, 6], [3]);
      const y = ops.sum(ops.mul(a, b));
      b.dispose();
      backward(y);
      expect(Array.from(a.grad!.toArray())).toEqual([4, 5, 6]);
    });
  });
});

describe("out-of-range indices", () => {
  test("embedding ids outside [0, vocab), forward and backward", () => {
    tidy(() => {
      const w = f32([5, 3]);
      expectOpError(() => ops.embedding(w, i32([0, 5, 1])), "embedding", /ids\[1\] = 5 is out of range \[0, 5\)/);
      expectOpError(() => ops.embedding(w, i32([-1])), "embedding", /ids\[0\] = -1 is out of range \[0, 5\)/);
      expectOpError(() => ops.embedding(w, i32([0, 2 ** 31 - 1], [1, 2])), "embedding", /ids\[1\] = 2147483647 is out of range/);
      expectOpError(() => cpuBackend.embeddingBackward(f32([5, 3]), f32([2, 3]), i32([4, 7])), "embedding backward", /ids\[1\] = 7 is out of range \[0, 5\)/);
      // In range works and gives the rows (so the checks above are not rejecting everything).
      const wt = tensor([0, 1, 2, 10, 11, 12, 20, 21, 22, 30, 31, 32, 40, 41, 42], [5, 3]);
      expect(Array.from(ops.embedding(wt, i32([4, 0])).toArray())).toEqual([40, 41, 42, 0, 1, 2]);
    });
  });

  test("cross-entropy targets outside [0, vocab) that are not the ignore index", () => {
    tidy(() => {
      const logits = f32([3, 4]);
      expectOpError(
        () => ops.crossEntropy(logits, i32([0, 4, 1])),
        "crossEntropy",
        /targets\[1\] = 4 is out of range \[0, 4\) and is not the ignore index -100/,
      );
      expectOpError(() => ops.crossEntropy(logits, i32([0, 1, -1])), "crossEntropy", /targets\[2\] = -1 is out of range/);
      expectOpError(
        () => ops.crossEntropy(logits, i32([0, -100, 1]), { ignoreIndex: -1 }),
        "crossEntropy",
        /targets\[1\] = -100 is out of range \[0, 4\) and is not the ignore index -1/,
      );
      expectOpError(() => ops.crossEntropy(logits, i32([0, 1, 2]), { ignoreIndex: 0.5 }), "crossEntropy", /ignoreIndex must be a 32-bit integer/);
      expectOpError(
        () => ops.crossEntropy(logits, i32([0, 1, 2]), { reduction: "avg" as "mean" }),
        "crossEntropy",
        /reduction must be one of mean, sum, none, got avg/,
      );
      expectOpError(
        () => cpuBackend.crossEntropyBackward(f32([3, 4]), f32([3]), logits, f32([3]), i32([0, 9, 1]), -100),
        "crossEntropy backward",
        /targets\[1\] = 9 is out of range/,
      );
      // The ignore index itself is fine: uniform logits give loss ln 4 on the two counted rows.
      expect(ops.crossEntropy(logits, i32([0, -100, 3])).item()).toBeCloseTo(Math.log(4), 5);
    });
  });

  test("slice ranges, axes and permutations", () => {
    tidy(() => {
      const x = f32([3, 4]);
      expectOpError(() => ops.slice(x, 1, 0, 5), "slice", /\[0, 5\) is not a valid range of axis 1 \(length 4\) of \[3, 4\]/);
      expectOpError(() => ops.slice(x, 0, 2, 1), "slice", /\[2, 1\) is not a valid range/);
      expectOpError(() => ops.slice(x, 2, 0, 1), "slice", /axis 2 is out of range for a tensor of rank 2 \(valid: -2\.\.1\)/);
      expectOpError(() => ops.permute(x, [0, 0]), "permute", /\[0,0\] is not a permutation of the 2 axes of \[3, 4\]/);
      expectOpError(() => ops.permute(x, [0, 1, 2]), "permute", /axis 2 is out of range|is not a permutation/);
      expectOpError(() => ops.permute(x, [0, 5]), "permute", /axis 5 is out of range for a tensor of rank 2/);
      expectOpError(() => ops.transpose(x, 0, 2), "transpose", /axis 2 is out of range/);
      expectOpError(() => ops.concat([x, x], -3), "concat", /axis -3 is out of range/);
      expectOpError(() => ops.permute(f32([1, 1, 1, 1, 1, 1, 1, 1, 1]), [8, 7, 6, 5, 4, 3, 2, 1, 0]), "permute", /rank <= 8/);
    });
  });

  test("raw row copies that would overrun either buffer", () => {
    tidy(() => {
      const src = f32([4, 4]);
      const dst = f32([2, 4]);
      expectOpError(
        () => cpuBackend.copyRows(dst, 0, 16, src, 0, 16, 3, 16),
        "copyRows",
        /3 rows of 16 bytes overrun the source \(64 bytes\) or destination \(32 bytes\)/,
      );
      expectOpError(() => cpuBackend.copyRows(dst, 0, 16, src, 56, 16, 1, 16), "copyRows", /overrun/);
      expectOpError(() => cpuBackend.copyRows(dst, -16, 16, src, 0, 16, 1, 16), "copyRows", /overrun/);
      expectOpError(() => cpuBackend.copyRows(dst, 0, 16, i32([1, 2, 3, 4]), 0, 16, 1, 16), "copyRows", /destination must be i32, got f32/);
      expectOpError(() => cpuBackend.upload(dst, new Float32Array(7)), "upload", /host data has 28 bytes, tensor \[2, 4\] f32 needs 32/);
    });
  });
});

describe("bad scalars", () => {
  test("probabilities, seeds, scales and optimizer steps", () => {
    tidy(() => {
      const x = f32([4]);
      expectOpError(() => ops.dropout(x, { p: 1, seed: 1n, offset: 0n }), "dropout", /probability must be in \[0, 1\), got 1/);
      expectOpError(() => ops.scale(x, Number.NaN), "scale", /factor must be a finite number, got NaN/);
      expectOpError(() => randn([4], { seed: -1 }), "randn", /seed must be a non-negative integer, got -1/);
      expectOpError(() => randn([4], { seed: 1.5 }), "randn", /seed must be a non-negative integer, got 1.5/);
      expectOpError(() => cpuBackend.randNormal(x, -1n, 0n, 0, 1), "randNormal", /seed and offset must be unsigned 64-bit integers/);
      expectOpError(() => rand([4], { seed: 1, offset: -5 }), "rand", /offset must be a non-negative integer, got -5/);
      expectOpError(
        () => ops.causalAttention(f32([1, 2, 1, 4]), f32([1, 2, 1, 4]), f32([1, 2, 1, 4]), { window: -1 }),
        "attention",
        /window must be a non-negative integer, got -1/,
      );
      expectOpError(
        () => ops.causalAttention(f32([1, 2, 1, 4]), f32([1, 2, 1, 4]), f32([1, 2, 1, 4]), { scale: Number.POSITIVE_INFINITY }),
        "attention",
        /scale must be a finite number/,
      );
      const h = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 };
      expectOpError(() => cpuBackend.adamwStep(x, f32([4]), f32([4]), f32([4]), { ...h, step: 0 }), "adamw", /step must be a positive integer, got 0/);
      expectOpError(() => cpuBackend.adamwStep(x, f32([3]), f32([4]), f32([4]), { ...h, step: 1 }), "adamw", /grad must have shape \[4\], got \[3\]/);
    });
  });
});

describe("failures leave no state behind", () => {
  test("a failing op inside tidy returns every buffer it allocated", () => {
    const alloc = defaultBackend().allocator;
    const before = alloc.stats().liveBytes;
    for (const bad of [
      () => ops.matmul(i32([1, 2, 3, 4], [2, 2]), f32([2, 2])),
      () => ops.embedding(f32([5, 3]), i32([0, 9])),
      () => ops.crossEntropy(f32([3, 4]), i32([0, 9, 1])),
      () => ops.causalAttention(f32([1, 2, 3, 4]), f32([1, 2, 2, 4]), f32([1, 2, 2, 4])),
      () => ops.slice(f32([3, 4]), 1, 0, 5),
    ]) {
      expect(() => tidy(bad)).toThrow();
    }
    expect(alloc.stats().liveBytes).toBe(before);
  });

  test("after all of the above, a normal computation still gives the right answer", () => {
    tidy(() => {
      const a = tensor([1, 2, 3, 4], [2, 2], { requiresGrad: true });
      const y = ops.sum(ops.matmul(a, tensor([1, 0, 0, 1], [2, 2])));
      expect(y.item()).toBe(10);
      backward(y);
      expect(Array.from((a.grad as Tensor).toArray())).toEqual([1, 1, 1, 1]);
    });
  });
});
