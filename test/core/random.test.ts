// Philox4x32-10: Random123's known-answer vectors, the TypeScript generator against the C kernels bit for
// bit (u32 words, uniforms, resumed streams, 64-bit wrap), the normal generator's element-to-counter
// layout and statistics, seeded reproducibility, and shuffle.
import { describe, expect, test } from "bun:test";
import { Philox, philox4x32, rand, randn, tidy } from "../../core/index.ts";
import { native } from "../../ffi/cpu/cpu.ts";

const M = 0xffffffffn;

/**
 * Philox4x32-10 with the full 128-bit counter and 64-bit key, written from the paper's round function
 * (Salmon et al. 2011, and Random123's philox4x32round / bumpkey). lft's generator is this with counter
 * words 2 and 3 fixed at 0.
 */
function philoxFull(ctr: readonly number[], key: readonly number[]): number[] {
  let [c0, c1, c2, c3] = ctr.map(BigInt) as [bigint, bigint, bigint, bigint];
  let [k0, k1] = key.map(BigInt) as [bigint, bigint];
  for (let r = 0; r < 10; r++) {
    const p0 = 0xd2511f53n * c0;
    const p1 = 0xcd9e8d57n * c2;
    [c0, c1, c2, c3] = [((p1 >> 32n) ^ c1 ^ k0) & M, p1 & M, ((p0 >> 32n) ^ c3 ^ k1) & M, p0 & M];
    k0 = (k0 + 0x9e3779b9n) & M;
    k1 = (k1 + 0xbb67ae85n) & M;
  }
  return [c0, c1, c2, c3].map(Number);
}

/** Words from the C kernel: element i = word i % 4 of counter offset + i / 4. */
function cWords(n: number, seed: bigint, offset: bigint): Uint32Array {
  const out = new Uint32Array(n);
  native.lft_philox_u32(out, n, seed, offset);
  return out;
}

function cUniform(n: number, seed: bigint, offset: bigint): Float32Array {
  const out = new Float32Array(n);
  native.lft_rand_uniform(out, n, seed, offset);
  return out;
}

function tsWords(n: number, seed: bigint, position = 0n): Uint32Array {
  const rng = new Philox(seed, position);
  return Uint32Array.from({ length: n }, () => rng.nextU32());
}

const SEEDS = [0n, 1n, 0xdeadbeefn, 0x123456789abcdefn, 2n ** 63n + 12345n, 2n ** 64n - 1n];

describe("known-answer vectors (Random123 kat_vectors, philox4x32 10 rounds)", () => {
  test("the full-counter reference reproduces all three published vectors", () => {
    expect(philoxFull([0, 0, 0, 0], [0, 0])).toEqual([0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]);
    expect(philoxFull([0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff])).toEqual([0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]);
    expect(philoxFull([0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0])).toEqual([0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]);
  });

  test("counter 0, key 0 is the first vector, in TS and in C", () => {
    const want = [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8];
    expect(philox4x32(0n, 0n)).toEqual(want as [number, number, number, number]);
    expect(Array.from(cWords(4, 0n, 0n))).toEqual(want);
  });

  test("the all-ones vector does not apply directly: our counter's high two words are always 0", () => {
    // lft's counter is a 64-bit value in words 0 and 1 (words 2, 3 = 0) and its key the 64-bit seed, so
    // counter = key = 2^64 - 1 is the 128-bit counter [ff.., ff.., 0, 0], not all ones. It must equal
    // the full-counter reference there (itself checked against the published vectors above).
    const ours = philox4x32(2n ** 64n - 1n, 2n ** 64n - 1n);
    expect(ours).not.toEqual([0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]);
    expect(ours).toEqual(philoxFull([0xffffffff, 0xffffffff, 0, 0], [0xffffffff, 0xffffffff]) as [number, number, number, number]);
    expect(Array.from(cWords(4, 2n ** 64n - 1n, 2n ** 64n - 1n))).toEqual(ours);
  });

  test("philox4x32(counter, seed) is the full reference on [lo, hi, 0, 0] with key [seed lo, seed hi]", () => {
    const rng = new Philox(99n);
    for (let i = 0; i < 200; i++) {
      const counter = (BigInt(rng.nextU32()) << 32n) | BigInt(rng.nextU32());
      const seed = (BigInt(rng.nextU32()) << 32n) | BigInt(rng.nextU32());
      const want = philoxFull([Number(counter & M), Number(counter >> 32n), 0, 0], [Number(seed & M), Number(seed >> 32n)]);
      expect(philox4x32(counter, seed)).toEqual(want as [number, number, number, number]);
    }
  });
});

describe("TypeScript Philox matches the C kernels bit for bit", () => {
  for (const seed of SEEDS) {
    test(`u32 words and uniforms, seed ${seed}`, () => {
      // n not a multiple of 4, and above the kernels' parallel threshold (2^16) for the last offset.
      for (const [n, offset] of [
        [1001, 0n],
        [37, 12345n],
        [70001, 2n ** 40n + 3n],
      ] as const) {
        const c = cWords(n, seed, offset);
        expect(c).toEqual(tsWords(n, seed, offset * 4n));
        const u = cUniform(n, seed, offset);
        const rng = new Philox(seed, offset * 4n);
        const tsU = Float32Array.from({ length: n }, () => rng.nextFloat());
        expect(u).toEqual(tsU);
        expect(u.every((v) => v >= 0 && v < 1)).toBe(true);
      }
    });
  }

  test("the counter wraps at 2^64 the same way in both", () => {
    const offset = 2n ** 64n - 2n;
    const c = cWords(16, 7n, offset);
    expect(c).toEqual(tsWords(16, 7n, offset * 4n));
    // Counters 2^64-2, 2^64-1, 0, 1: the third block equals the stream's start.
    expect(Array.from(c.slice(8, 16))).toEqual(Array.from(cWords(8, 7n, 0n)));
  });

  test("a resumed stream (new Philox(seed, position)) continues exactly, at any word", () => {
    const seed = 0xfeedn;
    const whole = cWords(64, seed, 0n);
    for (const pos of [0, 1, 2, 3, 4, 5, 7, 13, 40]) {
      const a = new Philox(seed);
      for (let i = 0; i < pos; i++) a.nextU32();
      expect(a.position).toBe(BigInt(pos));
      const resumed = new Philox(seed, a.position);
      const rest = Array.from({ length: 64 - pos }, () => resumed.nextU32());
      expect(rest).toEqual(Array.from(whole.slice(pos)));
      expect(a.nextU32()).toBe(whole[pos]!);
    }
  });

  test("rand() tensors are the backend uniform, mapped to [low, high) in f32", () => {
    tidy(() => {
      const n = 5003;
      const u = rand([n], { seed: 11, offset: 3 }).toArray();
      expect(u).toEqual(cUniform(n, 11n, 3n));
      const r = rand([n], { seed: 11, offset: 3, low: -2, high: 3 }).toArray();
      // The factory scales then adds in f32: fround(fround(u * 5) + -2).
      expect(r).toEqual(Float32Array.from(u, (v) => Math.fround(Math.fround(v * 5) - 2)));
      expect(r.every((v) => v >= -2 && v < 3)).toBe(true);
    });
  });
});

/**
 * Reference randn: element i uses counter offset + floor(i / 4) like every other draw; Box-Muller on
 * words (0, 1) gives elements 4j, 4j+1 (cos, sin) and words (2, 3) gives 4j+2, 4j+3. u1 is in (0, 1].
 */
function refNormal(n: number, seed: bigint, offset: bigint, mean: number, std: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i += 4) {
    const w = philox4x32(offset + BigInt(i / 4), seed);
    for (let h = 0; h < 2; h++) {
      const u1 = ((w[2 * h]! >>> 8) + 1) / 16777216;
      const u2 = (w[2 * h + 1]! >>> 8) / 16777216;
      const r = Math.sqrt(-2 * Math.log(u1));
      const t = 6.283185307179586 * u2;
      if (i + 2 * h < n) out[i + 2 * h] = mean + std * Math.fround(r * Math.cos(t));
      if (i + 2 * h + 1 < n) out[i + 2 * h + 1] = mean + std * Math.fround(r * Math.sin(t));
    }
  }
  return out;
}

describe("randn", () => {
  test("follows the documented layout: element i from counter offset + i/4 (vs a TS Box-Muller)", () => {
    tidy(() => {
      for (const [n, offset] of [
        [1003, 0n],
        [70001, 999n],
      ] as const) {
        const got = randn([n], { seed: 5, offset, mean: 0.5, std: 2 }).toArray();
        const want = refNormal(n, 5n, offset, 0.5, 2);
        // Same words, same formula; libm and JS log/cos/sin may differ in the last double bit, then the
        // f32 roundings (r*cos, std*z, + mean) add ~3e-7 relative to |mean + std*z| <= ~12. 1e-5 absolute.
        let worst = 0;
        for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
        expect(worst).toBeLessThan(1e-5);
      }
    });
  });

  test("draws at offsets n/4 apart do not overlap (the offset contract create.ts documents)", () => {
    tidy(() => {
      const n = 4000;
      const a = randn([n], { seed: 3, offset: 0 }).toArray();
      const b = randn([n], { seed: 3, offset: n / 4 }).toArray();
      const seen = new Set(a);
      let shared = 0;
      for (const v of b) if (seen.has(v)) shared++;
      // Independent normals repeat an f32 value only by chance (a handful at most).
      expect(shared).toBeLessThan(10);
    });
  });

  test("1e6 samples: mean, std and the one-sigma mass within statistical bounds", () => {
    tidy(() => {
      const n = 1_000_000;
      for (const [mean, std] of [
        [0, 1],
        [2, 3],
      ] as const) {
        const x = randn([n], { seed: 2024, mean, std }).toArray();
        let s = 0;
        let s2 = 0;
        let inside = 0;
        for (const v of x) {
          const z = (v - mean) / std;
          s += z;
          s2 += z * z;
          if (Math.abs(z) < 1) inside++;
        }
        const m = s / n;
        const variance = s2 / n - m * m;
        // Standard errors for n = 1e6: mean 1/sqrt(n) = 1e-3, variance sqrt(2/n) = 1.4e-3, one-sigma mass
        // sqrt(p(1-p)/n) = 4.7e-4 around p = 0.6827. 5 sigma each: deterministic for this seed, and a bias
        // such as a wrong Box-Muller constant or u1 = 0 mishandled is off by far more.
        expect(Math.abs(m)).toBeLessThan(5e-3);
        expect(Math.abs(variance - 1)).toBeLessThan(7.1e-3);
        expect(Math.abs(inside / n - 0.682689)).toBeLessThan(2.4e-3);
        expect(x.every(Number.isFinite)).toBe(true);
      }
    });
  });

  test("same seed gives bit-identical tensors; another seed or offset does not", () => {
    tidy(() => {
      const a = randn([3, 1001], { seed: 77 }).toArray();
      expect(randn([3, 1001], { seed: 77 }).toArray()).toEqual(a);
      expect(randn([3, 1001], { seed: 78 }).toArray()).not.toEqual(a);
      expect(randn([3, 1001], { seed: 77, offset: 1 }).toArray()).not.toEqual(a);
      const u = rand([999], { seed: 77 }).toArray();
      expect(rand([999], { seed: 77 }).toArray()).toEqual(u);
      expect(rand([999], { seed: 1 }).toArray()).not.toEqual(u);
    });
  });
});

describe("Philox host helpers", () => {
  test("nextDouble in [0, 1) and nextInt in [0, n)", () => {
    const rng = new Philox(5n);
    let lo = 1;
    let hi = 0;
    for (let i = 0; i < 100000; i++) {
      const d = rng.nextDouble();
      lo = Math.min(lo, d);
      hi = Math.max(hi, d);
      const k = rng.nextInt(7);
      if (!(Number.isInteger(k) && k >= 0 && k < 7)) throw new Error(`nextInt(7) gave ${k}`);
    }
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(lo).toBeLessThan(1e-3);
    expect(hi).toBeLessThan(1);
    expect(hi).toBeGreaterThan(1 - 1e-3);
  });

  test("shuffle is a deterministic permutation", () => {
    const base = Array.from({ length: 1000 }, (_, i) => i);
    const a = new Philox(42n).shuffle([...base]);
    expect([...a].sort((x, y) => x - y)).toEqual(base);
    expect(a).not.toEqual(base);
    expect(new Philox(42n).shuffle([...base])).toEqual(a);
    expect(new Philox(43n).shuffle([...base])).not.toEqual(a);
    expect(new Philox(1n).shuffle([])).toEqual([]);
    expect(new Philox(1n).shuffle(["x"])).toEqual(["x"]);
  });

  test("shuffle puts each element in each position uniformly (not Sattolo, not biased)", () => {
    // 20000 shuffles of 10: each (element, position) count is Binomial(20000, 0.1), mean 2000, sigma 42.
    // 5 sigma = 212. Sattolo's variant (j < i) would leave no element in place: count 0 on the diagonal.
    const rng = new Philox(8n);
    const counts = Array.from({ length: 10 }, () => new Array<number>(10).fill(0));
    for (let t = 0; t < 20000; t++) {
      const p = rng.shuffle([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      for (const [pos, e] of p.entries()) counts[e]![pos]!++;
    }
    for (const row of counts) for (const c of row) expect(Math.abs(c - 2000)).toBeLessThan(212);
  });
});
