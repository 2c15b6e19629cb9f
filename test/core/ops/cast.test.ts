// dtype conversions: f32 -> bf16 and f32 -> f16 must round to nearest even (ties, overflow to Inf,
// subnormals, -0, NaN kept NaN), bf16/f16 -> f32 must be exact, i32 -> f32 rounds as Math.fround does.
// The bf16 reference works on values (distance to the two neighbours), not on the kernel's bit trick; the
// f16 reference is Math.f16round. Every comparison is bit-exact: a conversion has one right answer.
import { describe, expect, test } from "bun:test";
import { backward, empty, ops, Philox, type Tensor, tensor, tidy } from "../../../core/index.ts";

const f32Bits = new Uint32Array(1);
const f32View = new Float32Array(f32Bits.buffer);
const valueOfF32 = (bits: number): number => {
  f32Bits[0] = bits;
  return f32View[0]!;
};
const bitsOfF32 = (v: number): number => {
  f32View[0] = v;
  return f32Bits[0]!;
};

/** The f32 value of a bf16 word (its top 16 bits). */
const valueOfBf16 = (w: number): number => valueOfF32((w << 16) >>> 0);

/**
 * Reference f32 -> bf16: of the two bf16 neighbours (truncated, and one step away from zero), the nearer
 * by value; a tie goes to the even significand. Stepping past the largest finite bf16 gives Inf, which
 * counts as 2^128 for distance, as IEEE's unbounded-exponent rule says. NaN: a quiet NaN with the sign.
 */
function refBf16(bits: number): number {
  const x = valueOfF32(bits);
  if (Number.isNaN(x)) return ((bits >>> 16) & 0x8000) | 0x7fc0; // checked as "a quiet NaN", see below
  const lo = bits >>> 16;
  if ((bits & 0xffff) === 0) return lo;
  const hi = lo + 1;
  const mag = (w: number) => ((w & 0x7fff) === 0x7f80 ? 2 ** 128 : Math.abs(valueOfBf16(w)));
  const dLo = Math.abs(Math.abs(x) - mag(lo));
  const dHi = Math.abs(mag(hi) - Math.abs(x));
  if (dLo < dHi) return lo;
  if (dHi < dLo) return hi;
  return lo % 2 === 0 ? lo : hi;
}

/** Reference f16 word -> value, from the format's definition. */
function valueOfF16(w: number): number {
  const sign = w & 0x8000 ? -1 : 1;
  const e = (w >> 10) & 0x1f;
  const m = w & 0x3ff;
  if (e === 0x1f) return m ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  if (e === 0) return sign * 2 ** -14 * (m / 1024);
  return sign * 2 ** (e - 15) * (1 + m / 1024);
}

function rawF32(bits: Uint32Array): Tensor {
  const t = empty([bits.length]);
  t.backend.upload(t, new Float32Array(bits.buffer, bits.byteOffset, bits.length));
  return t;
}

function rawHalf(words: Uint16Array, dtype: "bf16" | "f16"): Tensor {
  const t = empty([words.length], { dtype });
  t.backend.upload(t, words);
  return t;
}

function bitsOf(t: Tensor): Uint32Array {
  const a = t.toArray() as Float32Array;
  return new Uint32Array(a.buffer, a.byteOffset, a.length);
}

/** Hand-picked f32 bit patterns: ties both ways, just off ties, overflow, subnormals, signed zero, Inf, NaN. */
const SPECIAL = [
  0x00000000,
  0x80000000, // +-0
  0x3f800000,
  0x3f808000,
  0x3f818000,
  0x3f808001,
  0x3f807fff, // 1, ties to even (down, up), just above/below
  0xbf808000,
  0xbf818000, // negative ties
  0x7f7fffff,
  0x7f7f8000,
  0x7f7f7fff,
  0xff7f8000, // overflow to Inf (tie goes to the even Inf), just below
  0x00000001,
  0x00008000,
  0x00018000,
  0x00008001,
  0x007fffff,
  0x00800000,
  0x807fffff, // subnormals
  0x7f800000,
  0xff800000, // +-Inf
  0x7fc00000,
  0xffc00000,
  0x7f800001,
  0x7fbfffff,
  0xff800001, // NaNs, including signalling ones whose payload lies in the low bits
  0x477fe000,
  0x477ff000,
  0x477fefff,
  0x38800000,
  0x33800000,
  0x33000000,
  0x33000001,
  0x337fffff, // f16 edges
];

/** SPECIAL plus random bit patterns: every exponent, so subnormals and NaNs too. */
function testBits(n: number, seed: bigint): Uint32Array {
  const rng = new Philox(seed);
  const out = new Uint32Array(SPECIAL.length + n);
  out.set(SPECIAL);
  for (let i = 0; i < n; i++) out[SPECIAL.length + i] = rng.nextU32();
  return out;
}

const isNaNBf16 = (w: number) => (w & 0x7f80) === 0x7f80 && (w & 0x7f) !== 0;

describe("f32 <-> bf16", () => {
  test("f32 -> bf16 rounds to nearest even on 200k patterns (ties, overflow, subnormals, -0, NaN)", () => {
    tidy(() => {
      const bits = testBits(200000, 1n);
      const words = ops.cast(rawF32(bits), "bf16").toHost() as Uint16Array;
      expect(words.length).toBe(bits.length);
      let checked = 0;
      for (let i = 0; i < bits.length; i++) {
        const want = refBf16(bits[i]!);
        const got = words[i]!;
        if (Number.isNaN(valueOfF32(bits[i]!))) {
          // Any quiet NaN with the input's sign: truncation alone would turn 0x7f800001 into Inf.
          if (!isNaNBf16(got) || (got & 0x40) === 0 || (got & 0x8000) !== (want & 0x8000))
            throw new Error(`NaN ${bits[i]!.toString(16)} -> ${got.toString(16)}`);
        } else if (got !== want) {
          throw new Error(`f32 0x${bits[i]!.toString(16)} (${valueOfF32(bits[i]!)}) -> bf16 0x${got.toString(16)}, expected 0x${want.toString(16)}`);
        }
        checked++;
      }
      expect(checked).toBe(bits.length);
      // The hand-picked cases, spelled out.
      const at = (b: number) => words[SPECIAL.indexOf(b)]!;
      expect([at(0x00000000), at(0x80000000)]).toEqual([0x0000, 0x8000]);
      expect([at(0x3f808000), at(0x3f818000), at(0x3f808001), at(0x3f807fff)]).toEqual([0x3f80, 0x3f82, 0x3f81, 0x3f80]);
      expect([at(0x7f7fffff), at(0x7f7f8000), at(0x7f7f7fff), at(0xff7f8000)]).toEqual([0x7f80, 0x7f80, 0x7f7f, 0xff80]);
      expect([at(0x00000001), at(0x00008000), at(0x00018000), at(0x00008001), at(0x007fffff)]).toEqual([0x0000, 0x0000, 0x0002, 0x0001, 0x0080]);
      expect(isNaNBf16(at(0x7f800001))).toBe(true);
    });
  });

  test("bf16 -> f32 is exact for all 65536 words, and f32 -> bf16 gives each word back", () => {
    tidy(() => {
      const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
      const f = ops.cast(rawHalf(all, "bf16"), "f32");
      expect(f.dtype).toBe("f32");
      const bits = bitsOf(f);
      for (let w = 0; w < 65536; w++) {
        if (isNaNBf16(w)) {
          if (!Number.isNaN(valueOfF32(bits[w]!))) throw new Error(`bf16 NaN 0x${w.toString(16)} lost`);
        } else if (bits[w] !== (w << 16) >>> 0) {
          throw new Error(`bf16 0x${w.toString(16)} -> f32 0x${bits[w]!.toString(16)}`);
        }
      }
      const back = ops.cast(f, "bf16").toHost() as Uint16Array;
      for (let w = 0; w < 65536; w++)
        if (!isNaNBf16(w) && back[w] !== w) throw new Error(`round trip of bf16 0x${w.toString(16)} gave 0x${back[w]!.toString(16)}`);
      expect(back.length).toBe(65536);
    });
  });

  test("tensor(..., { dtype: 'bf16' }) stores the rounded values and toArray reads them as f32", () => {
    tidy(() => {
      const vals = [1, 1.00390625, 1.01171875, Math.PI, -2.5e-39, 65504, 1e38];
      const t = tensor(vals, [vals.length], { dtype: "bf16" });
      expect(t.dtype).toBe("bf16");
      expect(Array.from(t.toArray())).toEqual(vals.map((v) => valueOfBf16(refBf16(bitsOfF32(v)))));
    });
  });
});

describe("f32 <-> f16", () => {
  test("f32 -> f16 -> f32 equals Math.f16round on 200k patterns", () => {
    expect(typeof Math.f16round).toBe("function"); // Bun provides it; the reference below depends on it
    tidy(() => {
      const bits = testBits(200000, 2n);
      const h = ops.cast(rawF32(bits), "f16");
      expect(h.dtype).toBe("f16");
      const words = h.toHost() as Uint16Array;
      const back = bitsOf(ops.cast(h, "f32"));
      for (let i = 0; i < bits.length; i++) {
        const x = valueOfF32(bits[i]!);
        const want = Math.f16round(x);
        const got = valueOfF32(back[i]!);
        const wordValue = valueOfF16(words[i]!);
        if (Number.isNaN(want)) {
          if (!Number.isNaN(got) || !Number.isNaN(wordValue)) throw new Error(`NaN 0x${bits[i]!.toString(16)} -> f16 0x${words[i]!.toString(16)}`);
          continue;
        }
        // Object.is tells -0 from +0.
        if (!Object.is(got, want) || !Object.is(wordValue, want)) {
          throw new Error(`f32 0x${bits[i]!.toString(16)} (${x}) -> f16 0x${words[i]!.toString(16)} = ${wordValue} -> f32 ${got}, expected ${want}`);
        }
      }
      const at = (b: number) => words[SPECIAL.indexOf(b)]!;
      // 65504 + half an ulp (65520) ties to the even Inf; just below stays 65504; 2^-25 ties to +0.
      expect([at(0x477fe000), at(0x477ff000), at(0x477fefff)]).toEqual([0x7bff, 0x7c00, 0x7bff]);
      expect([at(0x33000000), at(0x33000001), at(0x80000000)]).toEqual([0x0000, 0x0001, 0x8000]);
    });
  });

  test("f16 -> f32 is exact for all 65536 words", () => {
    tidy(() => {
      const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
      const f = ops.cast(rawHalf(all, "f16"), "f32").toArray();
      for (let w = 0; w < 65536; w++) {
        const want = valueOfF16(w);
        if (Number.isNaN(want) ? !Number.isNaN(f[w]!) : !Object.is(f[w], want)) throw new Error(`f16 0x${w.toString(16)} -> ${f[w]}, expected ${want}`);
      }
      expect(f.length).toBe(65536);
    });
  });
});

describe("i32 -> f32 and unsupported pairs", () => {
  test("i32 -> f32 rounds to nearest even as Math.fround", () => {
    tidy(() => {
      const ints = [0, 1, -1, 16777216, 16777217, 16777219, -16777217, 2147483647, -2147483648, 123456789, -987654321];
      const rng = new Philox(3n);
      for (let i = 0; i < 1000; i++) ints.push(rng.nextU32() | 0);
      const f = ops.cast(tensor(ints, [ints.length], { dtype: "i32" }), "f32");
      expect(f.dtype).toBe("f32");
      expect(Array.from(f.toArray())).toEqual(ints.map(Math.fround));
      expect(f.toArray()[4]).toBe(16777216); // 2^24 + 1 ties to even
    });
  });

  test("pairs without a kernel are refused, naming the pair", () => {
    tidy(() => {
      const h = tensor([1, 2], [2], { dtype: "bf16" });
      expect(() => ops.cast(h, "f16")).toThrow(/cast: bf16->f16 is not supported \(cast through f32\)/);
      expect(() => ops.cast(tensor([1, 2], [2]), "i32")).toThrow(/cast: f32->i32 is not supported/);
    });
  });
});

describe("cast backward", () => {
  test("gradients through f32 -> bf16 -> f32 and f32 -> f16 -> f32 are f32 and pass straight through", () => {
    tidy(() => {
      const x = [0.1, -2.7, 3.3, 1e-3, 100.25, -0.5];
      const proj = [1.5, -0.25, 2, 3.0009765625, -1, 0.125];
      for (const half of ["bf16", "f16"] as const) {
        const xt = tensor(x, [2, 3], { requiresGrad: true });
        const h = ops.cast(xt, half);
        expect(h.dtype).toBe(half);
        const y = ops.cast(h, "f32");
        backward(ops.sum(ops.mul(y, tensor(proj, [2, 3]))));
        expect(xt.grad!.dtype).toBe("f32");
        expect(xt.grad!.shape).toEqual([2, 3]);
        // Cast is the identity for the gradient (straight-through rounding): dx = proj exactly.
        expect(Array.from(xt.grad!.toArray())).toEqual(proj);
      }
    });
  });

  test("a bf16 input's gradient is f32", () => {
    tidy(() => {
      const xt = tensor([1, 2, 3], [3], { dtype: "bf16", requiresGrad: true });
      backward(ops.sum(ops.scale(ops.cast(xt, "f32"), 3)));
      expect(xt.grad!.dtype).toBe("f32");
      expect(Array.from(xt.grad!.toArray())).toEqual([3, 3, 3]);
    });
  });
});
