// Attention sinks (gpt-oss) in the causal attention op: a per-head logit in every softmax denominator.
// Forward and lse against the float64 reference, gradients of q, k, v and the sinks against finite
// differences, decoding (queries as the tail of the keys), the rows that see no key, and bad sinks.
import { describe, expect, test } from "bun:test";
import { causalAttention } from "../../../core/autograd/ops/attention.ts";
import { backward, cpuBackend, DTypeError, ShapeError, tensor, tidy } from "../../../lft.ts";
import { expectClose } from "../../helpers/compare.ts";
import { numericGrad } from "../../helpers/gradcheck.ts";
import { randomArray } from "../../helpers/random.ts";
import { type AttentionDims, refAttention } from "../../helpers/ref-attention.ts";

interface Case extends AttentionDims {
  window?: number;
  softcap?: number;
  seg?: number[] | null;
}

function inputs(c: AttentionDims, seed: number): [Float64Array, Float64Array, Float64Array, Float64Array] {
  return [
    randomArray(c.B * c.T * c.Hq * c.D, seed, -2, 2),
    randomArray(c.B * c.T * c.Hkv * c.D, seed + 1, -2, 2),
    randomArray(c.B * c.T * c.Hkv * c.D, seed + 2),
    // Sinks around the scores' scale, so the sink takes a real share of each row (and a larger one early on).
    randomArray(c.Hq, seed + 3, -1, 2),
  ];
}

const label = (c: Case) => `B=${c.B} T=${c.T} Hq=${c.Hq} Hkv=${c.Hkv} D=${c.D} window=${c.window ?? 0} softcap=${c.softcap ?? 0}${c.seg ? " segments" : ""}`;

function run(c: Case, q: Float64Array, k: Float64Array, v: Float64Array, sinks: Float64Array | null): Float32Array {
  return tidy(() => {
    const seg = c.seg ? tensor(c.seg, [c.B, c.T], { dtype: "i32" }) : null;
    const out = causalAttention(tensor(q, [c.B, c.T, c.Hq, c.D]), tensor(k, [c.B, c.T, c.Hkv, c.D]), tensor(v, [c.B, c.T, c.Hkv, c.D]), {
      window: c.window,
      softcap: c.softcap,
      segmentIds: seg,
      sinks: sinks && tensor(sinks, [c.Hq]),
    });
    return out.toArray() as Float32Array;
  });
}

describe("causalAttention with sinks: forward", () => {
  const cases: Case[] = [
    { B: 2, T: 5, Hq: 4, Hkv: 2, D: 8 },
    { B: 1, T: 33, Hq: 4, Hkv: 4, D: 24 },
    { B: 2, T: 130, Hq: 4, Hkv: 1, D: 16, window: 9 },
    { B: 1, T: 70, Hq: 2, Hkv: 1, D: 8, softcap: 3, seg: Array.from({ length: 70 }, (_, i) => (i < 37 ? 0 : 1)) },
  ];
  cases.forEach((c, n) => {
    test(label(c), () => {
      const [q, k, v, sinks] = inputs(c, 40 * n + 3);
      const ref = refAttention(q, k, v, c, { window: c.window, softcap: c.softcap, seg: c.seg, sinks });
      expectClose(run(c, q, k, v, sinks), ref.out, 1e-5, "out");
      // The sinks matter: the output without them differs by O(their share).
      const plain = refAttention(q, k, v, c, { window: c.window, softcap: c.softcap, seg: c.seg }).out;
      let diff = 0;
      for (let i = 0; i < plain.length; i++) diff = Math.max(diff, Math.abs(plain[i]! - ref.out[i]!));
      expect(diff).toBeGreaterThan(1e-2);
    });
  });

  test("the backend's lse is the log of exp(sink) plus the visible scores' exponentials", () => {
    const c: Case = { B: 1, T: 6, Hq: 2, Hkv: 1, D: 4 };
    const [q, k, v, sinks] = inputs(c, 9);
    const seg = [0, 0, 1, 0, 1, 1];
    const want = refAttention(q, k, v, c, { seg, sinks, scale: 0.5 });
    tidy(() => {
      const out = tensor(new Float32Array(q.length), [1, 6, 2, 4]);
      const lse = tensor(new Float32Array(12), [1, 2, 6]);
      const segIds = tensor(seg, [1, 6], { dtype: "i32" });
      const opts = { scale: 0.5, window: 0, softcap: 0 };
      cpuBackend.attentionForward(out, lse, tensor(q, [1, 6, 2, 4]), tensor(k, [1, 6, 1, 4]), tensor(v, [1, 6, 1, 4]), segIds, opts, tensor(sinks, [2]));
      expectClose(lse.toArray(), want.lse, 1e-6, "lse");
      expectClose(out.toArray(), want.out, 1e-5, "out");
      // Each row's lse exceeds its sink (the sink is one term of the sum).
      const l = lse.toArray();
      for (let h = 0; h < 2; h++) for (let i = 0; i < 6; i++) expect(l[h * 6 + i]!).toBeGreaterThan(sinks[h]!);
    });
  });

  test("decoding: queries as the tail of the keys match the full run's last rows", () => {
    const c: Case = { B: 1, T: 40, Hq: 4, Hkv: 2, D: 8, window: 16 };
    const [q, k, v, sinks] = inputs(c, 77);
    const full = run(c, q, k, v, sinks);
    const last = tidy(() => {
      const qt = tensor(q.subarray(39 * 32), [1, 1, 4, 8]);
      const out = causalAttention(qt, tensor(k, [1, 40, 2, 8]), tensor(v, [1, 40, 2, 8]), { window: 16, sinks: tensor(sinks, [4]) });
      return out.toArray() as Float32Array;
    });
    expectClose(last, full.subarray(39 * 32), 1e-6, "last row");
  });
});

describe("causalAttention with sinks: backward (finite differences of the float64 reference)", () => {
  const cases: Case[] = [
    { B: 1, T: 6, Hq: 4, Hkv: 2, D: 8 },
    { B: 2, T: 9, Hq: 2, Hkv: 1, D: 4, window: 3 },
    { B: 1, T: 70, Hq: 2, Hkv: 1, D: 4, window: 20, softcap: 3, seg: Array.from({ length: 70 }, (_, i) => (i < 40 ? 0 : 1)) },
  ];
  cases.forEach((c, n) => {
    test(label(c), () => {
      const [q, k, v, sinks] = inputs(c, 600 + 10 * n);
      const R = randomArray(q.length, 950 + n);
      const o = { window: c.window, softcap: c.softcap, seg: c.seg };
      const f = (x: Float64Array[]) => refAttention(x[0]!, x[1]!, x[2]!, c, { ...o, sinks: x[3]! }).out;
      const want = [0, 1, 2, 3].map((i) => numericGrad(f, [q, k, v, sinks], i, R));
      tidy(() => {
        const tq = tensor(q, [c.B, c.T, c.Hq, c.D], { requiresGrad: true });
        const tk = tensor(k, [c.B, c.T, c.Hkv, c.D], { requiresGrad: true });
        const tv = tensor(v, [c.B, c.T, c.Hkv, c.D], { requiresGrad: true });
        const ts = tensor(sinks, [c.Hq], { requiresGrad: true });
        const seg = c.seg ? tensor(c.seg, [c.B, c.T], { dtype: "i32" }) : null;
        const out = causalAttention(tq, tk, tv, { window: c.window, softcap: c.softcap, segmentIds: seg, sinks: ts });
        backward(out, tensor(R, out.shape));
        expectClose(tq.grad!.toArray(), want[0]!, 1e-4, "dq");
        expectClose(tk.grad!.toArray(), want[1]!, 1e-4, "dk");
        expectClose(tv.grad!.toArray(), want[2]!, 1e-4, "dv");
        expectClose(ts.grad!.toArray(), want[3]!, 1e-4, "dsinks");
        expect(Math.min(...Array.from(want[3]!, Math.abs))).toBeGreaterThan(1e-3);
        for (const t of [tq, tk, tv, ts]) t.grad!.dispose();
      });
    });
  });

  test("frozen sinks get no gradient, q/k/v still do, and nothing leaks", () => {
    const c: Case = { B: 1, T: 6, Hq: 4, Hkv: 2, D: 8 };
    const [q, k, v, sinks] = inputs(c, 31);
    const R = randomArray(q.length, 32);
    const f = (x: Float64Array[]) => refAttention(x[0]!, x[1]!, x[2]!, c, { sinks }).out;
    const live = cpuBackend.allocator.stats().liveBytes;
    tidy(() => {
      const tq = tensor(q, [1, 6, 4, 8], { requiresGrad: true });
      const ts = tensor(sinks, [4]);
      backward(causalAttention(tq, tensor(k, [1, 6, 2, 8]), tensor(v, [1, 6, 2, 8]), { sinks: ts }), tensor(R, [1, 6, 4, 8]));
      expect(ts.grad).toBeNull();
      expectClose(tq.grad!.toArray(), numericGrad(f, [q, k, v], 0, R), 1e-4, "dq");
      tq.grad!.dispose();
    });
    expect(cpuBackend.allocator.stats().liveBytes).toBe(live);
  });
});

describe("causalAttention with sinks: bad inputs", () => {
  test("sinks must be f32 [Hq]; the error names the op and the expected shape", () => {
    tidy(() => {
      const q = tensor(new Float32Array(64), [1, 4, 2, 8]);
      const k = tensor(new Float32Array(32), [1, 4, 1, 8]);
      expect(() => causalAttention(q, k, k, { sinks: tensor([0, 0, 0], [3]) })).toThrow(ShapeError);
      expect(() => causalAttention(q, k, k, { sinks: tensor([0, 0, 0], [3]) })).toThrow(/attention: sinks must have shape \[2\], got \[3\]/);
      expect(() => causalAttention(q, k, k, { sinks: tensor([0, 0], [2], { dtype: "i32" }) })).toThrow(DTypeError);
    });
  });
});
