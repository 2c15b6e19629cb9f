// Causal grouped-query attention (flash-style CPU kernel) against a float64 full-softmax reference:
// forward over MHA/GQA, odd head dims, sequence lengths off the tile grid, windows, packed segments and
// soft caps; backward against finite differences; and the errors bad inputs must raise.
import { describe, expect, test } from "bun:test";
import { causalAttention } from "../../../core/autograd/ops/attention.ts";
import { backward, cpuBackend, DisposedError, DTypeError, ShapeError, tensor, tidy } from "../../../lft.ts";
import { expectClose } from "../../helpers/compare.ts";
import { numericGrad } from "../../helpers/gradcheck.ts";
import { randomArray } from "../../helpers/random.ts";
import { type AttentionDims, refAttention, refAttentionGrad } from "../../helpers/ref-attention.ts";

interface Case extends AttentionDims {
  window?: number;
  softcap?: number;
  seg?: number[] | null;
}

/** Two packed samples per row: ids 0 for the first `split` tokens, 1 after. */
function packed(B: number, T: number, split: number): number[] {
  return Array.from({ length: B * T }, (_, i) => (i % T < split ? 0 : 1));
}

function inputs(c: AttentionDims, seed: number): [Float64Array, Float64Array, Float64Array] {
  // Spread 2 so scores (up to ~D * 4 / sqrt(D)) make the softmax peaked, not uniform, for larger D.
  return [
    randomArray(c.B * c.T * c.Hq * c.D, seed, -2, 2),
    randomArray(c.B * c.T * c.Hkv * c.D, seed + 1, -2, 2),
    randomArray(c.B * c.T * c.Hkv * c.D, seed + 2),
  ];
}

function label(c: Case): string {
  return `B=${c.B} T=${c.T} Hq=${c.Hq} Hkv=${c.Hkv} D=${c.D} window=${c.window ?? 0} softcap=${c.softcap ?? 0}${c.seg ? " segments" : ""}`;
}

/** The kernel's output for host inputs (no graph). */
function run(c: Case, q: Float64Array, k: Float64Array, v: Float64Array): Float32Array {
  return tidy(() => {
    const seg = c.seg ? tensor(c.seg, [c.B, c.T], { dtype: "i32" }) : null;
    const out = causalAttention(tensor(q, [c.B, c.T, c.Hq, c.D]), tensor(k, [c.B, c.T, c.Hkv, c.D]), tensor(v, [c.B, c.T, c.Hkv, c.D]), {
      window: c.window,
      softcap: c.softcap,
      segmentIds: seg,
    });
    expect(out.shape).toEqual([c.B, c.T, c.Hq, c.D]);
    return out.toArray() as Float32Array;
  });
}

/** The kernel's gradients of sum(out * R) against the wanted ones (relative 1e-4: f32 rounding is ~1e-6). */
function expectKernelGrads(
  c: Case,
  q: Float64Array,
  k: Float64Array,
  v: Float64Array,
  R: Float64Array,
  want: Record<"dq" | "dk" | "dv", ArrayLike<number>>,
): void {
  tidy(() => {
    const tq = tensor(q, [c.B, c.T, c.Hq, c.D], { requiresGrad: true });
    const tk = tensor(k, [c.B, c.T, c.Hkv, c.D], { requiresGrad: true });
    const tv = tensor(v, [c.B, c.T, c.Hkv, c.D], { requiresGrad: true });
    const seg = c.seg ? tensor(c.seg, [c.B, c.T], { dtype: "i32" }) : null;
    const out = causalAttention(tq, tk, tv, { window: c.window, softcap: c.softcap, segmentIds: seg });
    seg?.dispose(); // the op keeps its own view for the backward
    backward(out, tensor(R, out.shape));
    expectClose(tq.grad!.toArray(), want.dq, 1e-4, "dq");
    expectClose(tk.grad!.toArray(), want.dk, 1e-4, "dk");
    expectClose(tv.grad!.toArray(), want.dv, 1e-4, "dv");
    for (const t of [tq, tk, tv]) t.grad!.dispose();
  });
}

describe("causalAttention forward", () => {
  // f32 dot products over D <= 64 and f32 online-softmax sums over T <= 130 keys: observed error is
  // ~3e-7 of the output scale; 1e-5 leaves headroom while a wrong mask or head mapping is off by O(1).
  const cases: Case[] = [];
  for (const T of [1, 5, 33, 130]) {
    for (const D of [7, 24, 40]) cases.push({ B: 2, T, Hq: 4, Hkv: 4, D }, { B: 2, T, Hq: 4, Hkv: 2, D });
    cases.push({ B: 1, T, Hq: 6, Hkv: 1, D: 24 }, { B: 2, T, Hq: 4, Hkv: 2, D: 64, window: 4 }, { B: 1, T, Hq: 6, Hkv: 1, D: 7, softcap: 30 });
  }
  cases.push(
    { B: 2, T: 130, Hq: 4, Hkv: 2, D: 24, window: 4, softcap: 30 },
    { B: 2, T: 70, Hq: 4, Hkv: 2, D: 24, seg: packed(2, 70, 37) },
    { B: 1, T: 130, Hq: 6, Hkv: 1, D: 40, window: 9, softcap: 2, seg: packed(1, 130, 64) },
    // Segment ids that are not contiguous runs: the mask, not the packing, defines visibility.
    { B: 1, T: 100, Hq: 2, Hkv: 1, D: 8, seg: Array.from({ length: 100 }, (_, i) => (i * 7) % 3) },
  );
  cases.forEach((c, n) => {
    test(label(c), () => {
      const [q, k, v] = inputs(c, 100 * n);
      const ref = refAttention(q, k, v, c, { window: c.window, softcap: c.softcap, seg: c.seg });
      expectClose(run(c, q, k, v), ref.out, 1e-5, "out");
    });
  });

  test("softcap changes the result (the cap is applied, not ignored)", () => {
    const c: Case = { B: 1, T: 33, Hq: 2, Hkv: 1, D: 16 };
    const [q, k, v] = inputs(c, 7);
    const capped = run({ ...c, softcap: 1 }, q, k, v);
    expectClose(capped, refAttention(q, k, v, c, { softcap: 1 }).out, 1e-5, "capped out");
    const plain = refAttention(q, k, v, c).out;
    let diff = 0;
    for (let i = 0; i < plain.length; i++) diff = Math.max(diff, Math.abs(capped[i]! - plain[i]!));
    expect(diff).toBeGreaterThan(1e-2);
  });

  test("lse from the backend is the row logsumexp of the visible logits", () => {
    const c: Case = { B: 2, T: 130, Hq: 4, Hkv: 2, D: 24, window: 40, softcap: 30 };
    const [q, k, v] = inputs(c, 11);
    const ref = refAttention(q, k, v, c, { window: 40, softcap: 30 });
    tidy(() => {
      const out = tensor(new Float32Array(q.length), [c.B, c.T, c.Hq, c.D]);
      const lse = tensor(new Float32Array(c.B * c.Hq * c.T), [c.B, c.Hq, c.T]);
      cpuBackend.attentionForward(out, lse, tensor(q, [c.B, c.T, c.Hq, c.D]), tensor(k, [c.B, c.T, c.Hkv, c.D]), tensor(v, [c.B, c.T, c.Hkv, c.D]), null, {
        scale: 1 / Math.sqrt(c.D),
        window: 40,
        softcap: 30,
      });
      // lse is O(1..10); f32 exp/log sums leave ~1e-7 relative.
      expectClose(lse.toArray(), ref.lse, 1e-6, "lse");
      expectClose(out.toArray(), ref.out, 1e-5, "out");
    });
  });

  test("two packed samples give the same rows as running each sample alone", () => {
    const [T1, T2, Hq, Hkv, D] = [37, 29, 4, 2, 24];
    const whole: Case = { B: 1, T: T1 + T2, Hq, Hkv, D, seg: packed(1, T1 + T2, T1) };
    const [q, k, v] = inputs(whole, 21);
    const both = run(whole, q, k, v);
    const rowA = T1 * Hq * D;
    const kvA = T1 * Hkv * D;
    const a = run({ B: 1, T: T1, Hq, Hkv, D }, q.subarray(0, rowA), k.subarray(0, kvA), v.subarray(0, kvA));
    const b = run({ B: 1, T: T2, Hq, Hkv, D }, q.subarray(rowA), k.subarray(kvA), v.subarray(kvA));
    // Only the tiling of the online softmax differs between the runs: a few f32 roundings.
    expectClose(both.subarray(0, rowA), a, 1e-6, "first sample");
    expectClose(both.subarray(rowA), b, 1e-6, "second sample");
  });
});

describe("causalAttention backward (finite differences of the float64 reference)", () => {
  // L = sum(out * R). Analytic f32 gradients vs f64 central differences (h = 1e-6: truncation ~1e-12,
  // rounding ~1e-10): the kernel's f32 rounding (~1e-6 of the gradient scale) dominates, so 1e-4 is
  // a tight bound that a wrong mask, head mapping or softcap derivative misses by orders of magnitude.
  const cases: Case[] = [
    { B: 1, T: 6, Hq: 4, Hkv: 2, D: 8 },
    { B: 2, T: 5, Hq: 2, Hkv: 2, D: 7 },
    { B: 1, T: 9, Hq: 3, Hkv: 1, D: 8, window: 3 },
    { B: 1, T: 8, Hq: 4, Hkv: 2, D: 8, seg: packed(1, 8, 3) },
    { B: 1, T: 7, Hq: 2, Hkv: 1, D: 8, softcap: 1.5 },
    { B: 2, T: 70, Hq: 2, Hkv: 1, D: 4, window: 20, softcap: 3, seg: packed(2, 70, 40) },
  ];
  cases.forEach((c, n) => {
    test(label(c), () => {
      const [q, k, v] = inputs(c, 500 + 10 * n);
      const R = randomArray(q.length, 900 + n);
      const o = { window: c.window, softcap: c.softcap, seg: c.seg };
      const f = (x: Float64Array[]) => refAttention(x[0]!, x[1]!, x[2]!, c, o).out;
      const want = [0, 1, 2].map((i) => numericGrad(f, [q, k, v], i, R));
      expectKernelGrads(c, q, k, v, R, { dq: want[0]!, dk: want[1]!, dv: want[2]! });
    });
  });

  test("only the inputs that require a gradient get one, and nothing leaks", () => {
    const c: Case = { B: 1, T: 6, Hq: 4, Hkv: 2, D: 8 };
    const [q, k, v] = inputs(c, 77);
    const R = randomArray(q.length, 78);
    const f = (x: Float64Array[]) => refAttention(x[0]!, x[1]!, x[2]!, c).out;
    const live = cpuBackend.allocator.stats().liveBytes;
    tidy(() => {
      const tq = tensor(q, [1, 6, 4, 8]);
      const tk = tensor(k, [1, 6, 2, 8], { requiresGrad: true });
      const tv = tensor(v, [1, 6, 2, 8]);
      backward(causalAttention(tq, tk, tv), tensor(R, [1, 6, 4, 8]));
      expect(tq.grad).toBeNull();
      expect(tv.grad).toBeNull();
      expectClose(tk.grad!.toArray(), numericGrad(f, [q, k, v], 1, R), 1e-4, "dk");
      tk.grad!.dispose(); // leaf gradients outlive scopes by design
      // Without any requiresGrad input nothing is recorded: the lse scratch must not outlive the call.
      causalAttention(tq, tv, tv).dispose();
    });
    expect(cpuBackend.allocator.stats().liveBytes).toBe(live);
  });
});

describe("causalAttention backward at real head sizes (float64 analytic gradients)", () => {
  // The kernel's tiles vectorise along the head dim only from 16 floats up, so the small finite-difference
  // cases above exercise its scalar columns; these run wide heads, sequences off the tile grid, both the
  // fused (many kv heads) and the two-pass (one kv head) backward, against refAttentionGrad, which is
  // itself checked against finite differences first.
  test("the analytic reference matches finite differences", () => {
    const c: Case = { B: 1, T: 9, Hq: 4, Hkv: 2, D: 5, window: 6, softcap: 2, seg: [0, 0, 0, 1, 1, 1, 1, 1, 1] };
    const [q, k, v] = inputs(c, 41);
    const R = randomArray(q.length, 42);
    const o = { window: c.window, softcap: c.softcap, seg: c.seg };
    const got = refAttentionGrad(q, k, v, R, c, o);
    const f = (x: Float64Array[]) => refAttention(x[0]!, x[1]!, x[2]!, c, o).out;
    expectClose(got.dq, numericGrad(f, [q, k, v], 0, R), 1e-7, "ref dq");
    expectClose(got.dk, numericGrad(f, [q, k, v], 1, R), 1e-7, "ref dk");
    expectClose(got.dv, numericGrad(f, [q, k, v], 2, R), 1e-7, "ref dv");
  });
  const cases: Case[] = [
    { B: 1, T: 130, Hq: 4, Hkv: 2, D: 64 },
    { B: 4, T: 70, Hq: 4, Hkv: 4, D: 32 },
    { B: 1, T: 130, Hq: 2, Hkv: 1, D: 40, window: 37, softcap: 30 },
    { B: 2, T: 100, Hq: 4, Hkv: 2, D: 24, seg: packed(2, 100, 45) },
    { B: 1, T: 97, Hq: 3, Hkv: 1, D: 128 },
  ];
  cases.forEach((c, n) => {
    test(label(c), () => {
      const [q, k, v] = inputs(c, 700 + 10 * n);
      const R = randomArray(q.length, 1700 + n);
      expectKernelGrads(c, q, k, v, R, refAttentionGrad(q, k, v, R, c, { window: c.window, softcap: c.softcap, seg: c.seg }));
    });
  });
});

describe("causalAttention bad inputs", () => {
  const f32 = (shape: number[]) => tensor(new Float32Array(shape.reduce((a, b) => a * b, 1)), shape);
  test("shape, head-count, dtype and liveness errors say what was expected", () => {
    tidy(() => {
      const q = f32([1, 4, 4, 8]);
      const k = f32([1, 4, 2, 8]);
      expect(() => causalAttention(q, f32([1, 4, 2, 6]), f32([1, 4, 2, 6]))).toThrow(ShapeError);
      expect(() => causalAttention(q, f32([1, 4, 2, 6]), f32([1, 4, 2, 6]))).toThrow(/k head dim must be 8, got 6/);
      expect(() => causalAttention(q, f32([1, 4, 3, 8]), f32([1, 4, 3, 8]))).toThrow(/query heads \(4\) must be a multiple of key\/value heads \(3\)/);
      expect(() => causalAttention(q, k, f32([1, 4, 2, 7]))).toThrow(/v must have shape \[1, 4, 2, 8\], got \[1, 4, 2, 7\]/);
      expect(() => causalAttention(f32([1, 5, 4, 8]), f32([1, 4, 2, 8]), f32([1, 4, 2, 8]))).toThrow(/k sequence length \(4\) must be at least q.s \(5\)/);
      expect(() => causalAttention(f32([4, 4, 8]), k, k)).toThrow(/q must have rank 4 \[B, T, Hq, D\], got shape \[4, 4, 8\]/);
      const qi = tensor(new Int32Array(128), [1, 4, 4, 8], { dtype: "i32" });
      expect(() => causalAttention(qi, k, k)).toThrow(DTypeError);
      expect(() => causalAttention(qi, k, k)).toThrow(/q must be f32, got i32/);
      expect(() => causalAttention(q, k, k, { segmentIds: f32([1, 4]) })).toThrow(/segment ids must be i32, got f32/);
      expect(() => causalAttention(q, k, k, { segmentIds: tensor([0, 0, 1], [1, 3], { dtype: "i32" }) })).toThrow(
        /segment ids must have shape \[1, 4\], got \[1, 3\]/,
      );
      expect(() => causalAttention(q, k, k, { window: -1 })).toThrow(/window must be a non-negative integer, got -1/);
      expect(() => causalAttention(q, k, k, { softcap: -2 })).toThrow(/softcap must be >= 0, got -2/);
      const gone = f32([1, 4, 2, 8]);
      gone.dispose();
      expect(() => causalAttention(q, gone, k)).toThrow(DisposedError);
      expect(() => causalAttention(q, gone, k)).toThrow(/was disposed/);
      const seg = tensor([0, 0, 1, 1], [1, 4], { dtype: "i32" });
      seg.dispose();
      expect(() => causalAttention(q, k, k, { segmentIds: seg })).toThrow(/segment ids was disposed before use/);
    });
  });
});
