// Every CUDA kernel against the CPU backend on fresh random inputs, forward and backward, in f32 (tolerance
// 1e-5) and bf16 storage (1e-2), outputs poisoned with NaN first. Attention and randomness have their own
// files. Skipped, with the reason printed, where no GPU can run.
import { expect, test } from "bun:test";
import type { BinaryOp } from "../../core/backend/backend.ts";
import { cpuBackend, DisposedError, DTypeError, IndexError, ShapeError, Tensor } from "../../lft.ts";
import { randomArray, randomInts } from "../helpers/random.ts";
import { bf16Bits, compareBackends, describeGpu, FLOAT_KINDS, gpu, gpuTensor, read, roundTo, TOL } from "./gpu.ts";

const describe = describeGpu("kernels.gpu.test.ts");
let seed = 100;
const rnd = (n: number, lo = -1, hi = 1) => randomArray(n, seed++, lo, hi);

describe("memory, copies and casts", () => {
  test("upload / download round-trip every dtype byte for byte; fill and copy", () => {
    const x = Float32Array.from(rnd(1001));
    const i = Int32Array.from(randomInts(777, seed++, 1 << 30), (v, k) => (k % 2 ? -v : v));
    const h = Uint16Array.from(rnd(555), bf16Bits);
    const tx = gpuTensor([1001], "f32", x);
    const ti = gpuTensor([777], "i32", i);
    const th = gpuTensor([555], "bf16", h);
    expect(gpu!.download(tx)).toEqual(x);
    expect(gpu!.download(ti)).toEqual(i);
    expect(gpu!.download(th)).toEqual(h);
    const c = gpuTensor([1001], "f32");
    gpu!.copy(c, tx);
    expect(gpu!.download(c)).toEqual(x);
    gpu!.fill(c, -2.5);
    expect(read(c).every((v) => v === -2.5)).toBe(true);
    gpu!.fill(ti, -7);
    expect((gpu!.download(ti) as Int32Array).every((v) => v === -7)).toBe(true);
    gpu!.fill(th, 1.5);
    expect((gpu!.download(th) as Uint16Array).every((v) => v === bf16Bits(1.5))).toBe(true);
    for (const t of [tx, ti, th, c]) t.dispose();
  });

  test("casts are bit-identical to the CPU's (round to nearest even, NaN, Inf, ties, subnormals)", () => {
    const special = [0, -0, 1, -1, Number.NaN, Infinity, -Infinity, 1 + 2 ** -8, 1 + 3 * 2 ** -8, 3.4e38, 1e-40, -1e-45, 65504, 65520, 6e-8];
    const x = Float32Array.from([...special, ...rnd(4000, -1e4, 1e4), ...rnd(1000, -1e-3, 1e-3)]);
    for (const [to, back] of [
      ["bf16", "f32"],
      ["f16", "f32"],
    ] as const) {
      const c = Tensor.alloc(cpuBackend, [x.length], "f32", false);
      cpuBackend.upload(c, x);
      const ch = Tensor.alloc(cpuBackend, [x.length], to, false);
      cpuBackend.cast(ch, c);
      const g = gpuTensor([x.length], "f32", x);
      const gh = Tensor.alloc(gpu!, [x.length], to, false);
      gpu!.cast(gh, g);
      const cpuBits = cpuBackend.download(ch) as Uint16Array;
      const gpuBits = gpu!.download(gh) as Uint16Array;
      // f16 NaN payloads are not specified alike by GCC and CUDA: compare NaN-ness there, bits elsewhere.
      for (let k = 0; k < x.length; k++) {
        if (to === "f16" && Number.isNaN(x[k]!)) expect((gpuBits[k]! & 0x7c00) === 0x7c00 && (gpuBits[k]! & 0x3ff) !== 0).toBe(true);
        else if (gpuBits[k] !== cpuBits[k]) throw new Error(`f32->${to} of ${x[k]}: gpu 0x${gpuBits[k]!.toString(16)} cpu 0x${cpuBits[k]!.toString(16)}`);
      }
      // back to f32 from the same half words on both sides: bit-identical, except that NaN payloads
      // (canonical on the GPU, kept by GCC) are compared as NaN-ness
      const cb = Tensor.alloc(cpuBackend, [x.length], back, false);
      cpuBackend.cast(cb, ch);
      gpu!.upload(gh, cpuBits);
      const gb = gpuTensor([x.length], back);
      gpu!.cast(gb, gh);
      const gf = gpu!.download(gb) as Float32Array;
      const cf = cpuBackend.download(cb) as Float32Array;
      const gw = new Uint32Array(gf.buffer);
      const cw = new Uint32Array(cf.buffer);
      for (let k = 0; k < x.length; k++) {
        if (Number.isNaN(cf[k]!) ? !Number.isNaN(gf[k]!) : gw[k] !== cw[k])
          throw new Error(`${to}->f32 of 0x${cpuBits[k]!.toString(16)}: gpu ${gf[k]} cpu ${cf[k]}`);
      }
      for (const t of [c, ch, g, gh, cb, gb]) t.dispose();
    }
    const ints = Int32Array.from([0, 1, -1, 2 ** 31 - 1, -(2 ** 31), 16777217, -16777219, ...randomInts(500, seed++, 2 ** 30)]);
    const gi = gpuTensor([ints.length], "i32", ints);
    const gf = gpuTensor([ints.length], "f32");
    gpu!.cast(gf, gi);
    expect(read(gf)).toEqual(Float32Array.from(ints));
    gi.dispose();
    gf.dispose();
  });

  test("copyRows through each word width (16-, 4- and 1-byte units) matches the CPU", () => {
    for (const [rowBytes, srcStride, dstStride, srcOff, dstOff] of [
      [64, 96, 128, 32, 16],
      [12, 20, 16, 8, 4],
      [7, 9, 11, 3, 5],
    ] as const) {
      const rows = 13;
      compareBackends(
        "f32",
        (m) => {
          const src = m.x(m.rnd(512), [512]);
          const dst = m.out([600]);
          m.b.fill(dst, 0);
          m.b.copyRows(dst, dstOff, dstStride, src, srcOff, srcStride, rows, rowBytes);
          return [dst];
        },
        `copyRows ${rowBytes} B rows`,
        0,
      );
    }
  });

  test("permute of 4-byte (f32) and 2-byte (bf16) tensors", () => {
    for (const perm of [
      [0, 2, 1, 3],
      [3, 1, 0, 2],
      [1, 0],
    ]) {
      const shape = perm.length === 4 ? [3, 5, 4, 7] : [33, 17];
      for (const kind of FLOAT_KINDS) {
        compareBackends(
          kind,
          (m) => {
            const x = m.x(m.rnd(shape.reduce((a, b) => a * b)), shape);
            const out = m.out(perm.map((p) => shape[p]!));
            m.b.permute(out, x, perm); // bf16 takes the 2-byte kernel on the GPU; the CPU permutes the same values as f32
            return [out];
          },
          `permute ${perm}`,
          0,
        );
      }
    }
  });
});

describe("matmul (cuBLAS)", () => {
  const cases: { a: number[]; b: number[]; transA?: boolean; transB?: boolean; alpha?: number; beta?: number }[] = [
    { a: [37, 29], b: [29, 41] },
    { a: [29, 37], b: [29, 41], transA: true },
    { a: [37, 29], b: [41, 29], transB: true },
    { a: [29, 37], b: [41, 29], transA: true, transB: true, alpha: 0.5, beta: 1 },
    { a: [3, 37, 29], b: [3, 29, 41] },
    { a: [2, 3, 37, 29], b: [41, 29], transB: true }, // shared B: folded into one tall GEMM
    { a: [3, 29, 37], b: [29, 41], transA: true, beta: 0.25 }, // shared B with transposed A: a real batch
    { a: [256, 512], b: [512, 384] },
    { a: [5, 0], b: [0, 7], beta: 2 }, // empty inner dimension: C = beta * C
    { a: [5, 0], b: [0, 7] },
  ];
  for (const c of cases)
    for (const [ab, cKind] of [
      ["f32", "f32"],
      ["bf16", "f32"],
      ["bf16", "bf16"],
    ] as const)
      test(`${JSON.stringify(c)} ${ab} -> ${cKind}`, () => {
        const mm = c.transA ? c.a.at(-1)! : c.a.at(-2)!;
        const nn = c.transB ? c.b.at(-2)! : c.b.at(-1)!;
        const cShape = [...c.a.slice(0, -2), mm, nn];
        // f32 sums over k <= 512 terms of |x| <= 1 in another order than OpenBLAS: ~1e-6 of the scale; bf16
        // inputs multiply exactly in f32, so only a bf16 output needs the bf16 tolerance.
        compareBackends(
          ab,
          (m) => {
            const a = m.x(m.rnd(c.a.reduce((x, y) => x * y, 1)), c.a);
            const b = m.x(m.rnd(c.b.reduce((x, y) => x * y, 1)), c.b);
            const init = m.rnd(cShape.reduce((x, y) => x * y, 1));
            const out = c.beta ? (cKind === "f32" ? m.f32(roundTo(ab, init), cShape) : m.x(init, cShape)) : cKind === "f32" ? m.outF32(cShape) : m.out(cShape);
            m.b.matmul(out, a, b, { transA: c.transA, transB: c.transB, alpha: c.alpha, beta: c.beta });
            return [out];
          },
          "matmul",
          cKind === "bf16" ? TOL.bf16 : ab === "bf16" ? 1e-5 : TOL.f32,
        );
      });
});

describe("elementwise and reductions", () => {
  const ops: BinaryOp[] = ["add", "sub", "mul", "div"];
  for (const kind of FLOAT_KINDS)
    for (const op of ops)
      for (const [as, bs] of [
        [[7, 33], [33]],
        [
          [4, 5, 6],
          [4, 5, 6],
        ],
        [[300, 70], [70]],
      ] as const)
        test(`${op} forward and backward ${JSON.stringify(as)} by ${JSON.stringify(bs)} (${kind})`, () => {
          const na = as.reduce((x: number, y: number) => x * y, 1);
          const nb = bs.reduce((x: number, y: number) => x * y, 1);
          // b away from 0 so division is well conditioned
          const bv = Float64Array.from(rnd(nb, 0.5, 2), (v, i) => (i % 2 ? -v : v));
          const av = rnd(na);
          const gv = rnd(na);
          compareBackends(
            kind,
            (m) => {
              const a = m.x(av, as);
              const b = m.x(bv, bs);
              const out = m.out(as);
              m.b.binaryForward(op, out, a, b);
              const da = m.out(as);
              const db = m.out(bs);
              m.b.binaryBackward(op, da, db, m.x(gv, as), a, b);
              const db2 = m.out(bs);
              m.b.binaryBackward(op, null, db2, m.x(gv, as), a, b);
              return [out, da, db, db2];
            },
            op,
          );
        });

  for (const kind of FLOAT_KINDS)
    test(`scale, axpy, sumRows, expandRows (${kind})`, () => {
      compareBackends(
        kind,
        (m) => {
          const x = m.x(m.rnd(3 * 257), [3, 257]);
          const s = m.out([3, 257]);
          m.b.scale(s, x, -1.75);
          const y = m.x(m.rnd(3 * 257), [3, 257]);
          m.b.axpy(y, x, 0.3);
          const rs = m.out([3]);
          m.b.sumRows(rs, x);
          const ex = m.out([3, 257]);
          m.b.expandRows(ex, m.x([1, -2, 3], [3]), 0.5);
          return [s, y, rs, ex];
        },
        "scale/axpy/sumRows/expandRows",
      );
    });

  for (const kind of FLOAT_KINDS)
    test(`sum and sumSquares (${kind}) over sizes around the block grid`, () => {
      for (const count of [1, 255, 1024, 1025, 100_003]) {
        const v = roundTo(kind, rnd(count, -2, 3));
        const t = gpuTensor([count], kind, kind === "bf16" ? Uint16Array.from(v, bf16Bits) : v);
        const c = Tensor.alloc(cpuBackend, [count], "f32", false);
        cpuBackend.upload(c, v);
        // double accumulators on both sides: only the summation order differs
        expect(Math.abs(gpu!.sum(t) - cpuBackend.sum(c))).toBeLessThanOrEqual(1e-9 * count);
        expect(Math.abs(gpu!.sumSquares(t) - cpuBackend.sumSquares(c))).toBeLessThanOrEqual(1e-9 * count);
        t.dispose();
        c.dispose();
      }
      expect(gpu!.sum(gpuTensor([0], "f32"))).toBe(0);
    });
});

describe("activations and softmax", () => {
  for (const kind of FLOAT_KINDS) {
    test(`tanh and soft-cap forward and backward (${kind}), small and saturated inputs`, () => {
      const xv = Float64Array.from([...rnd(2000, -60, 60), 1e-4, -3e-6, -1e4, 1e4, 0]);
      const n = xv.length;
      compareBackends(
        kind,
        (m) => {
          const x = m.x(xv, [n]);
          const dy = m.x(m.rnd(n), [n]);
          const o = [m.out([n]), m.out([n]), m.out([n]), m.out([n])] as const;
          m.b.tanhForward(o[0], x, 1);
          m.b.tanhBackward(o[1], dy, o[0], 1);
          m.b.tanhForward(o[2], x, 30);
          m.b.tanhBackward(o[3], dy, o[2], 30);
          return [...o];
        },
        "tanh",
      );
    });

    test(`clamp forward and backward (${kind}), one- and two-sided`, () => {
      const xv = Float64Array.from([...rnd(2000, -10, 10), 7, -7, 0]);
      const n = xv.length;
      compareBackends(
        kind,
        (m) => {
          const x = m.x(xv, [n]);
          const dy = m.x(m.rnd(n), [n]);
          const o = [m.out([n]), m.out([n]), m.out([n]), m.out([n])] as const;
          m.b.clampForward(o[0], x, -7, 7);
          m.b.clampBackward(o[1], dy, x, -7, 7);
          m.b.clampForward(o[2], x, Number.NEGATIVE_INFINITY, 7);
          m.b.clampBackward(o[3], dy, x, Number.NEGATIVE_INFINITY, 7);
          return [...o];
        },
        "clamp",
      );
    });

    test(`silu, gelu (tanh), swiglu forward and backward (${kind}), including saturated inputs`, () => {
      const xv = Float64Array.from([...rnd(2000, -8, 8), -100, 100, -20, 20, 0]);
      const n = xv.length;
      compareBackends(
        kind,
        (m) => {
          const x = m.x(xv, [n]);
          const up = m.x(m.rnd(n), [n]);
          const dy = m.x(m.rnd(n), [n]);
          const o = [m.out([n]), m.out([n]), m.out([n]), m.out([n]), m.out([n]), m.out([n]), m.out([n])] as const;
          m.b.siluForward(o[0], x);
          m.b.siluBackward(o[1], dy, x);
          m.b.geluTanhForward(o[2], x);
          m.b.geluTanhBackward(o[3], dy, x);
          m.b.swigluForward(o[4], x, up);
          m.b.swigluBackward(o[5], o[6], dy, x, up);
          return [...o];
        },
        "activations",
      );
    });

    test(`softmax forward and backward (${kind}), rows of 1 to 5000 columns`, () => {
      for (const [rows, cols] of [
        [3, 1],
        [17, 100],
        [4, 5000],
      ] as const) {
        const xv = rnd(rows * cols, -10, 10);
        // the backward's y: an exact softmax of xv (so both sides get the same y)
        const yv = new Float64Array(xv.length);
        for (let r = 0; r < rows; r++) {
          const row = xv.subarray(r * cols, (r + 1) * cols);
          const mx = Math.max(...row);
          const z = row.reduce((s, v) => s + Math.exp(v - mx), 0);
          for (const [c, v] of row.entries()) yv[r * cols + c] = Math.exp(v - mx) / z;
        }
        compareBackends(
          kind,
          (m) => {
            const y = m.out([rows, cols]);
            m.b.softmaxForward(y, m.x(xv, [rows, cols]));
            const dx = m.out([rows, cols]);
            m.b.softmaxBackward(dx, m.x(m.rnd(rows * cols), [rows, cols]), m.x(yv, [rows, cols]));
            return [y, dx];
          },
          `softmax ${rows}x${cols}`,
        );
      }
    });
  }
});

describe("norms and rope", () => {
  for (const kind of FLOAT_KINDS) {
    test(`rmsNorm forward and backward, with and without dw, w offset 0 and 1 (${kind})`, () => {
      for (const [rows, cols, wOff] of [
        [1, 64, 0],
        [37, 300, 1],
        [300, 1024, 0],
      ] as const) {
        const xv = rnd(rows * cols, -3, 3);
        const wv = rnd(cols, 0.5, 1.5);
        const gv = rnd(rows * cols);
        compareBackends(
          kind,
          (m) => {
            const x = m.x(xv, [rows, cols]);
            const w = m.x(wv, [cols]);
            const y = m.out([rows, cols]);
            const rstd = m.outF32([rows]);
            m.b.rmsNormForward(y, rstd, x, w, 1e-5, wOff);
            const dx = m.out([rows, cols]);
            const dw = m.out([cols]);
            m.b.rmsNormBackward(dx, dw, m.x(gv, [rows, cols]), x, w, rstd, wOff);
            const dx2 = m.out([rows, cols]);
            m.b.rmsNormBackward(dx2, null, m.x(gv, [rows, cols]), x, w, rstd, wOff);
            return [y, rstd, dx, dw, dx2];
          },
          `rmsNorm ${rows}x${cols}`,
        );
      }
    });

    test(`layerNorm forward and backward, dw/db each optional, large mean (${kind})`, () => {
      for (const [rows, cols, shift] of [
        [5, 33, 0],
        [64, 768, 50],
      ] as const) {
        const xv = Float64Array.from(rnd(rows * cols, -2, 2), (v) => v + shift);
        const wv = rnd(cols, 0.5, 1.5);
        const bv = rnd(cols);
        const gv = rnd(rows * cols);
        compareBackends(
          kind,
          (m) => {
            const x = m.x(xv, [rows, cols]);
            const w = m.x(wv, [cols]);
            const b = m.x(bv, [cols]);
            const y = m.out([rows, cols]);
            const mean = m.outF32([rows]);
            const rstd = m.outF32([rows]);
            m.b.layerNormForward(y, mean, rstd, x, w, b, 1e-5);
            const dx = m.out([rows, cols]);
            const dw = m.out([cols]);
            const db = m.out([cols]);
            m.b.layerNormBackward(dx, dw, db, m.x(gv, [rows, cols]), x, w, mean, rstd);
            const dbOnly = m.out([cols]);
            m.b.layerNormBackward(m.out([rows, cols]), null, dbOnly, m.x(gv, [rows, cols]), x, w, mean, rstd);
            return [y, mean, rstd, dx, dw, db, dbOnly];
          },
          `layerNorm ${rows}x${cols}`,
        );
      }
    });

    test(`rope forward (+1) and backward (-1), partial rotary, large positions, in place (${kind})`, () => {
      const [B, T, H, D, nf] = [2, 9, 3, 20, 8];
      const inv = Float64Array.from({ length: nf }, (_, i) => 1 / 10000 ** ((2 * i) / D));
      const pos = Int32Array.from({ length: B * T }, (_, i) => (i % T) * 9973 + (i >= T ? 100_000 : 0));
      compareBackends(
        kind,
        (m) => {
          const x = m.x(m.rnd(B * T * H * D), [B, T, H, D]);
          const p = m.i32(pos, [B, T]);
          const f = m.f32(inv, [nf]);
          const y = m.out([B, T, H, D]);
          m.b.rope(y, x, p, f, 1);
          const back = m.out([B, T, H, D]);
          m.b.rope(back, y, p, f, -1);
          const inPlace = m.x(m.rnd(B * T * H * D), [B, T, H, D]);
          m.b.rope(inPlace, inPlace, p, f, 1);
          return [y, back, inPlace];
        },
        "rope",
      );
    });
  }
});

describe("losses, embeddings, optimizer", () => {
  for (const kind of FLOAT_KINDS) {
    test(`cross-entropy forward and backward with ignore_index, vocab beyond one chunk (${kind})`, () => {
      for (const [rows, vocab] of [
        [9, 5000],
        [33, 128],
      ] as const) {
        const tg = Int32Array.from(randomInts(rows, seed++, vocab), (t, i) => (i % 4 === 1 ? -100 : t));
        compareBackends(
          kind,
          (m) => {
            const logits = m.x(m.rnd(rows * vocab, -8, 8), [rows, vocab]);
            const targets = m.i32(tg, [rows]);
            const loss = m.outF32([rows]);
            const lse = m.outF32([rows]);
            m.b.crossEntropyForward(loss, lse, logits, targets, -100);
            const d = m.out([rows, vocab]);
            m.b.crossEntropyBackward(d, m.f32(m.rnd(rows, 0.1, 1), [rows]), logits, lse, targets, -100);
            return [loss, lse, d];
          },
          `crossEntropy ${rows}x${vocab}`,
        );
      }
    });

    test(`embedding gather and deterministic scatter-add with repeated ids (${kind})`, () => {
      const [vocab, dim, n] = [50, 300, 97];
      const ids = Int32Array.from(randomInts(n, seed++, 12), (v) => v * 3); // many repeats
      const r = compareBackends(
        kind,
        (m) => {
          const w = m.x(m.rnd(vocab * dim), [vocab, dim]);
          const idt = m.i32(ids, [n]);
          const out = m.out([n, dim]);
          m.b.embeddingForward(out, w, idt);
          const dw = m.x(m.rnd(vocab * dim), [vocab, dim]); // accumulates into existing values
          m.b.embeddingBackward(dw, m.x(m.rnd(n * dim), [n, dim]), idt);
          return [out, dw];
        },
        "embedding",
      );
      // f32: the same additions in the same (token) order as the CPU: bit-identical
      if (kind === "f32") expect(r.gpu[1]).toEqual(r.cpu[1]!);
    });
  }

  test("AdamW single and multi-tensor (chunks of 65536) match the CPU step", () => {
    const sizes = [1, 1000, 70_000];
    const h = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1, step: 7 };
    const data = sizes.map((s) => [rnd(s), rnd(s), rnd(s, -0.1, 0.1), rnd(s, 0, 0.01)] as const);
    const r = compareBackends(
      "f32",
      (m) => {
        const ts = data.map(([p, g, mm, v], i) => ({
          p: m.f32(p, [sizes[i]!]),
          g: m.f32(g, [sizes[i]!]),
          m: m.f32(mm, [sizes[i]!]),
          v: m.f32(v, [sizes[i]!]),
        }));
        if (m.b === cpuBackend) for (const t of ts) m.b.adamwStep(t.p, t.g, t.m, t.v, h);
        else gpu!.adamwStepMulti(ts, h);
        return ts.flatMap((t) => [t.p, t.m, t.v]);
      },
      "adamw",
    );
    // the kernel uses the CPU's operation order with no FMA contraction: report (not require) bit identity
    const same = r.gpu.every((g, i) => g.every((v, k) => Object.is(v, r.cpu[i]![k])));
    console.log(`[cuda] adamw bit-identical to the CPU: ${same}`);
  });
});

describe("NF4", () => {
  const NF4 = [
    -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
    0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224, 0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0,
  ].map(Math.fround);

  /** float32 reference of nf4.cu: absmax per block, nearest code (lower on ties), packed high nibble first. */
  function refQuant(x: Float32Array, bs: number): { bytes: Uint8Array; absmax: Float32Array } {
    const nb = Math.ceil(x.length / bs);
    const absmax = new Float32Array(nb);
    const codes = new Uint8Array(x.length + 1).fill(7);
    for (let b = 0; b < nb; b++) {
      let am = 0;
      for (let i = b * bs; i < Math.min(x.length, (b + 1) * bs); i++) am = Math.max(am, Math.abs(x[i]!));
      absmax[b] = am;
      for (let i = b * bs; i < Math.min(x.length, (b + 1) * bs); i++) {
        if (am === 0) continue;
        const v = Math.fround(x[i]! / am);
        let best = 0;
        for (let c = 1; c < 16; c++) if (Math.abs(Math.fround(v - NF4[c]!)) < Math.abs(Math.fround(v - NF4[best]!))) best = c;
        codes[i] = best;
      }
    }
    const bytes = new Uint8Array(Math.ceil(x.length / 2));
    for (let k = 0; k < bytes.length; k++) bytes[k] = (codes[2 * k]! << 4) | codes[2 * k + 1]!;
    return { bytes, absmax };
  }

  for (const [count, bs] of [
    [4096, 64],
    [1001, 64],
    [300, 50],
  ] as const)
    test(`quantise matches the float32 reference; dequantise is code * absmax exactly (n=${count}, block ${bs})`, () => {
      const x = Float32Array.from(rnd(count, -3, 3));
      x.fill(0, 0, Math.min(bs, count)); // an all-zero block: absmax 0, zeros back
      const ref = refQuant(x, bs);
      const gx = gpuTensor([count], "f32", x);
      const packed = gpuTensor([Math.ceil(count / 8)], "i32");
      const absmax = gpuTensor([Math.ceil(count / bs)], "f32");
      gpu!.nf4Quantize(packed, absmax, gx, bs);
      expect(read(absmax)).toEqual(ref.absmax);
      const bytes = new Uint8Array((gpu!.download(packed) as Int32Array).buffer).subarray(0, ref.bytes.length);
      expect(bytes).toEqual(ref.bytes);
      for (const kind of FLOAT_KINDS) {
        const out = gpuTensor([count], kind);
        gpu!.fill(out, Number.NaN);
        gpu!.nf4Dequantize(out, packed, absmax, bs);
        const want = Float32Array.from({ length: count }, (_, i) =>
          Math.fround(NF4[(ref.bytes[i >> 1]! >> (i & 1 ? 0 : 4)) & 15]! * ref.absmax[Math.floor(i / bs)]!),
        );
        expect(read(out)).toEqual(roundTo(kind, want));
        out.dispose();
      }
      for (const t of [gx, packed, absmax]) t.dispose();
    });
});

describe("validation at the boundary: the CPU's errors", () => {
  test("wrong dtype, wrong shape, disposed input and out-of-range ids are refused before any launch", () => {
    const x = gpuTensor([4, 8], "f32");
    const xi = gpuTensor([4, 8], "i32");
    const bad = gpuTensor([4, 7], "f32");
    expect(() => gpu!.siluForward(bad, x)).toThrow(ShapeError);
    expect(() => gpu!.siluForward(x, xi)).toThrow(DTypeError);
    const mixed = gpuTensor([4, 8], "bf16");
    expect(() => gpu!.siluForward(mixed, x)).toThrow(DTypeError); // every float tensor of a call in one dtype
    const gone = gpuTensor([4, 8], "f32");
    gone.dispose();
    expect(() => gpu!.siluForward(x, gone)).toThrow(DisposedError);
    const w = gpuTensor([10, 8], "f32");
    const ids = gpuTensor([4], "i32", Int32Array.from([0, 9, 10, 1]));
    expect(() => gpu!.embeddingForward(x, w, ids)).toThrow(IndexError);
    const targets = gpuTensor([4], "i32", Int32Array.from([0, -100, 8, -1]));
    expect(() => gpu!.crossEntropyForward(gpuTensor([4], "f32"), gpuTensor([4], "f32"), x, targets, -100)).toThrow("targets[2] = 8 is out of range");
    const q = gpuTensor([1, 4, 2, 300], "f32");
    expect(() => gpu!.attentionForward(q, gpuTensor([1, 2, 4], "f32"), q, q, q, null, { scale: 1, window: 0, softcap: 0 })).toThrow("head dim 300 exceeds");
  });

  test("the caching allocator counts live and peak device bytes and reuses freed blocks", () => {
    const before = gpu!.allocator.stats();
    const t = gpuTensor([1 << 20], "f32");
    const mid = gpu!.allocator.stats();
    expect(mid.liveBytes - before.liveBytes).toBe(4 << 20);
    expect(mid.peakBytes).toBeGreaterThanOrEqual(mid.liveBytes);
    t.dispose();
    const u = gpuTensor([1 << 20], "f32");
    expect(gpu!.allocator.stats().systemAllocs).toBe(mid.systemAllocs); // served from the cache
    u.dispose();
  });
});
