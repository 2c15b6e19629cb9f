// CUDA flash attention (ffi/cuda/src/attention.cu, v1) against the CPU kernel, forward (out, lse) and
// backward (dq, dk, dv): MHA and GQA, every head-dim class (D <= 32, 64, 128, 256, odd D), sequence lengths
// off the 16/32 tile grid, sliding windows, packed segments, soft caps, Tq < Tk (decoding with a KV cache), and
// attention sinks (gpt-oss: their gradient too).
// The backward gets the CPU forward's out and lse on both sides, so it is compared on its own.
import { expect, test } from "bun:test";
import type { AttentionOptions } from "../../core/backend/backend.ts";
import { randomArray } from "../helpers/random.ts";
import { compareBackends, describeGpu, FLOAT_KINDS } from "./gpu.ts";

const describe = describeGpu("attention.gpu.test.ts");

interface Case {
  B: number;
  Tq: number;
  Tk: number;
  Hq: number;
  Hkv: number;
  D: number;
  window?: number;
  softcap?: number;
  /** Tokens of the first packed sample per row (segment id 0, then 1). */
  split?: number;
  /** Per-head sink logits in the softmax denominator (and their gradient in the backward). */
  sinks?: boolean;
}

const cases: Case[] = [
  { B: 2, Tq: 33, Tk: 33, Hq: 4, Hkv: 4, D: 24 },
  { B: 2, Tq: 130, Tk: 130, Hq: 4, Hkv: 2, D: 64 },
  { B: 1, Tq: 5, Tk: 5, Hq: 6, Hkv: 1, D: 7 },
  { B: 1, Tq: 70, Tk: 70, Hq: 2, Hkv: 1, D: 128 },
  { B: 1, Tq: 40, Tk: 40, Hq: 2, Hkv: 2, D: 200 },
  { B: 1, Tq: 64, Tk: 64, Hq: 2, Hkv: 2, D: 256 },
  { B: 2, Tq: 130, Tk: 130, Hq: 4, Hkv: 2, D: 64, window: 17 },
  { B: 1, Tq: 50, Tk: 50, Hq: 3, Hkv: 1, D: 32, softcap: 5 },
  { B: 2, Tq: 100, Tk: 100, Hq: 4, Hkv: 2, D: 40, split: 37 },
  { B: 2, Tq: 1, Tk: 77, Hq: 4, Hkv: 2, D: 64 },
  { B: 1, Tq: 17, Tk: 50, Hq: 4, Hkv: 2, D: 32, window: 9 },
  { B: 2, Tq: 20, Tk: 61, Hq: 2, Hkv: 1, D: 48, split: 45, softcap: 30 },
  { B: 1, Tq: 1, Tk: 1, Hq: 1, Hkv: 1, D: 1 },
  { B: 2, Tq: 130, Tk: 130, Hq: 4, Hkv: 2, D: 64, window: 17, sinks: true },
  { B: 2, Tq: 1, Tk: 77, Hq: 8, Hkv: 2, D: 64, sinks: true },
  { B: 1, Tq: 40, Tk: 40, Hq: 4, Hkv: 1, D: 128, split: 20, sinks: true },
];

function label(c: Case): string {
  return `B=${c.B} Tq=${c.Tq} Tk=${c.Tk} Hq=${c.Hq} Hkv=${c.Hkv} D=${c.D}${c.window ? ` window=${c.window}` : ""}${c.softcap ? ` softcap=${c.softcap}` : ""}${c.split ? ` segments@${c.split}` : ""}${c.sinks ? " sinks" : ""}`;
}

let seed = 5000;

describe("attention forward and backward vs the CPU", () => {
  for (const c of cases)
    for (const kind of FLOAT_KINDS)
      test(`${label(c)} (${kind})`, () => {
        const qn = c.B * c.Tq * c.Hq * c.D;
        const kn = c.B * c.Tk * c.Hkv * c.D;
        // spread 2: peaked softmaxes, so a wrong mask or head mapping moves the output by O(1)
        const [qv, kv, vv, gv] = [randomArray(qn, seed++, -2, 2), randomArray(kn, seed++, -2, 2), randomArray(kn, seed++), randomArray(qn, seed++)];
        const sinkv = c.sinks ? randomArray(c.Hq, seed++, -1, 2) : null;
        const seg = c.split ? Int32Array.from({ length: c.B * c.Tk }, (_, i) => (i % c.Tk < c.split! ? 0 : 1)) : null;
        const opts: AttentionOptions = { scale: 1 / Math.sqrt(c.D), window: c.window ?? 0, softcap: c.softcap ?? 0 };
        const qs = [c.B, c.Tq, c.Hq, c.D];
        const ks = [c.B, c.Tk, c.Hkv, c.D];
        const ls = [c.B, c.Hq, c.Tq];
        const fwd = compareBackends(
          kind,
          (m) => {
            const out = m.out(qs);
            const lse = m.outF32(ls);
            const sinks = sinkv && m.f32(sinkv, [c.Hq]);
            m.b.attentionForward(out, lse, m.x(qv, qs), m.x(kv, ks), m.x(vv, ks), seg && m.i32(seg, [c.B, c.Tk]), opts, sinks);
            return [out, lse];
          },
          `attention forward ${label(c)}`,
        );
        const [outRef, lseRef] = fwd.cpu as [Float32Array, Float32Array];
        expect(lseRef.every(Number.isFinite)).toBe(true); // every query sees at least itself
        compareBackends(
          kind,
          (m) => {
            const [dq, dk, dv] = [m.out(qs), m.out(ks), m.out(ks)];
            const dsinks = sinkv ? m.outF32([c.Hq]) : null;
            m.b.attentionBackward(
              dq,
              dk,
              dv,
              m.x(gv, qs),
              m.x(outRef, qs),
              m.f32(lseRef, ls),
              m.x(qv, qs),
              m.x(kv, ks),
              m.x(vv, ks),
              seg && m.i32(seg, [c.B, c.Tk]),
              opts,
              sinkv && m.f32(sinkv, [c.Hq]),
              dsinks,
            );
            return dsinks ? [dq, dk, dv, dsinks] : [dq, dk, dv];
          },
          `attention backward ${label(c)}`,
        );
      });
});
