// bitsandbytes' formats on the host: code books bit for bit, round trips within each format's known error,
// nibble order, double quantisation of the scales, LLM.int8 rows.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { codeAt, dequantize4, dequantizeAbsmax, dequantizeInt8, doubleQuantize, quantize4, quantizeInt8 } from "../../../../plugins/methods/qlora/blockwise.ts";
import { dynamicMap, FP4_CODE, NF4_CODE } from "../../../../plugins/methods/qlora/codebooks.ts";
import { normals } from "./normals.ts";

test("NF4 code book equals the 16 published constants (and the CUDA kernel's table) bit for bit", () => {
  const published = [
    -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
    0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224, 0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0,
  ];
  expect([...NF4_CODE]).toEqual(published.map(Math.fround));
  const cu = readFileSync(resolve(import.meta.dir, "../../../../ffi/cuda/src/nf4.cu"), "utf8");
  const table = cu
    .match(/NF4_TABLE\[16\] = \{([^}]*)\}/)![1]!
    .split(",")
    .map((v) => Math.fround(Number.parseFloat(v)));
  expect(table).toEqual([...NF4_CODE]);
});

test("FP4 code book is bitsandbytes' (sign bit 3; 0, 0.0625, 8, 12, 4, 6, 2, 3 over 12)", () => {
  const positive = [0, 0.0625 / 12, 8 / 12, 1, 4 / 12, 6 / 12, 2 / 12, 3 / 12].map(Math.fround);
  expect([...FP4_CODE.slice(0, 8)]).toEqual(positive);
  expect([...FP4_CODE.slice(8)]).toEqual(positive.map((v) => -v));
});

test("the 8-bit dynamic map has bitsandbytes' shape: 127 negatives, 0, 127 positives, 1", () => {
  const m = dynamicMap();
  expect(m.length).toBe(256);
  expect(m[127]).toBe(0);
  expect(m[255]).toBe(1);
  expect(m[128]).toBe(Math.fround(Math.fround(1e-6) * Math.fround(0.55)));
  expect(m[0]).toBe(Math.fround(-0.99296875));
  for (let i = 1; i < 256; i++) expect(m[i]!).toBeGreaterThan(m[i - 1]!);
});

test("nibble order: element 2j in the high nibble of byte j", () => {
  const q = quantize4(Float32Array.from([1, -1, 0, 0.5]), "nf4");
  expect(q.absmax[0]).toBe(1);
  expect(q.packed[0]).toBe((15 << 4) | 0);
  expect(codeAt(q.packed, 2)).toBe(7);
  expect(codeAt(q.packed, 3)).toBe(12); // 0.5 is nearer 0.4407 than 0.5626
});

for (const type of ["nf4", "fp4"] as const) {
  test(`${type} round trip on normal weights: every value is its block's nearest code, error within half the widest gap`, () => {
    const n = 64 * 50 + 17; // a partial last block
    const x = normals(n, 7, 0.02);
    const q = quantize4(x, type);
    const back = dequantize4(q, n);
    const code = type === "nf4" ? NF4_CODE : FP4_CODE;
    const sorted = [...code].sort((a, b) => a - b);
    const maxHalfGap = Math.max(...sorted.slice(1).map((v, i) => (v - sorted[i]!) / 2));
    let sq = 0;
    for (let e = 0; e < n; e++) {
      const am = q.absmax[Math.floor(e / 64)]!;
      const err = Math.abs(x[e]! - back[e]!);
      sq += err * err;
      expect(err).toBeLessThanOrEqual(maxHalfGap * am * (1 + 1e-6));
      // no other code is nearer (float64 check of the host quantiser)
      const best = Math.min(...[...code].map((c) => Math.abs(x[e]! / am - c)));
      expect(Math.abs(x[e]! / am - back[e]! / am)).toBeLessThanOrEqual(best + 1e-6);
    }
    const rel = Math.sqrt(sq / n) / 0.02;
    // NF4 is information-theoretically fitted to normal data: ~0.1 std RMS error; FP4 is worse.
    expect(rel).toBeLessThan(type === "nf4" ? 0.12 : 0.16);
    expect(rel).toBeGreaterThan(0.03);
  });
}

test("NF4 has a smaller error than FP4 on normal weights", () => {
  const x = normals(64 * 200, 3);
  const rms = (type: "nf4" | "fp4"): number => {
    const back = dequantize4(quantize4(x, type), x.length);
    return Math.sqrt(x.reduce((s, v, i) => s + (v - back[i]!) ** 2, 0) / x.length);
  };
  expect(rms("nf4")).toBeLessThan(rms("fp4"));
});

test("double quantisation: scales back within half a dynamic-map gap of their nested absmax", () => {
  const x = normals(64 * 600, 11, 0.05);
  const q = quantize4(x, "nf4");
  const d = doubleQuantize(q.absmax);
  expect(d.codes.length).toBe(600);
  expect(d.nestedAbsmax.length).toBe(Math.ceil(600 / 256));
  let mean = 0;
  for (const a of q.absmax) mean += a;
  expect(d.offset).toBeCloseTo(mean / 600, 6);
  const back = dequantizeAbsmax(d);
  for (let b = 0; b < 600; b++) {
    const bound = 0.0071 * d.nestedAbsmax[Math.floor(b / 256)]! + 1e-7;
    expect(Math.abs(back[b]! - q.absmax[b]!)).toBeLessThanOrEqual(bound);
  }
});

test("int8 rows: round(w · 127 / absmax), back within half a step", () => {
  const rows = 5;
  const cols = 33;
  const x = normals(rows * cols, 5);
  const q = quantizeInt8(x, rows, cols);
  const back = dequantizeInt8(q, rows, cols);
  for (let r = 0; r < rows; r++) {
    let am = 0;
    for (let c = 0; c < cols; c++) am = Math.max(am, Math.abs(x[r * cols + c]!));
    expect(q.rowScale[r]).toBe(am);
    for (let c = 0; c < cols; c++) {
      expect(Math.abs(q.q[r * cols + c]!)).toBeLessThanOrEqual(127);
      expect(Math.abs(back[r * cols + c]! - x[r * cols + c]!)).toBeLessThanOrEqual((am / 127) * 0.5 * (1 + 1e-5));
    }
  }
});
