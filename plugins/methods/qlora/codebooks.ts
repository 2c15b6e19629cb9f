// The code books of bitsandbytes' quantisation formats, as its functional.py defines them: NF4 (the 16
// published NormalFloat constants), FP4 (bitsandbytes' 1-sign/2-exponent/1-mantissa layout, scaled so the
// largest magnitude is 1), and the signed 8-bit dynamic map used for double quantisation of the scales.

/** get_4bit_type("nf4"): code c decodes to NF4_CODE[c] (c = 7 is exact zero). */
export const NF4_CODE: Float32Array = Float32Array.from([
  -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
  0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224, 0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0,
]);

/**
 * get_4bit_type("fp4"): bit 3 is the sign, bits 0-2 select 0, 0.0625, 8, 12, 4, 6, 2, 3 (bitsandbytes'
 * bias-3 FP4 with a subnormal), divided by the largest (12) in f32.
 */
export const FP4_CODE: Float32Array = (() => {
  const magnitudes = [0, 0.0625, 8, 12, 4, 6, 2, 3];
  const out = new Float32Array(16);
  for (let c = 0; c < 16; c++) {
    const m = Math.fround(magnitudes[c & 7]! / 12);
    out[c] = c & 8 ? -m : m;
  }
  return out;
})();

export type Quant4Type = "nf4" | "fp4";

export function codeFor(type: Quant4Type): Float32Array {
  return type === "nf4" ? NF4_CODE : FP4_CODE;
}

/** torch.linspace(start, end, steps) in float32: the first half counts up from start, the rest down from end. */
function linspaceF32(start: number, end: number, steps: number): Float32Array {
  const out = new Float32Array(steps);
  const s = Math.fround(start);
  const e = Math.fround(end);
  const step = Math.fround((e - s) / (steps - 1));
  const half = Math.floor(steps / 2);
  for (let i = 0; i < steps; i++) out[i] = i < half ? Math.fround(s + Math.fround(step * i)) : Math.fround(e - Math.fround(step * (steps - i - 1)));
  return out;
}

/**
 * create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8): for exponent i = 0..6, 2^i fraction
 * means of linspace(0.1, 1, 2^i + 1), times 10^(i - 6), with both signs; then 0 and 1; sorted (256 values).
 */
export function dynamicMap(): Float32Array {
  const data: number[] = [];
  for (let i = 0; i < 7; i++) {
    const b = linspaceF32(0.1, 1, 2 ** i + 1);
    for (let j = 0; j + 1 < b.length; j++) {
      const mean = Math.fround(Math.fround(b[j]! + b[j + 1]!) / 2);
      // torch multiplies a float tensor by a Python scalar in float32
      const v = Math.fround(Math.fround(10 ** (i - 6)) * mean);
      data.push(v, -v);
    }
  }
  data.push(0, 1);
  return Float32Array.from(data).sort();
}

/** The index of the entry of a sorted code nearest to v (the lower one on a tie). */
export function nearestCode(sorted: Float32Array, v: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  if (v <= sorted[lo]!) return lo;
  if (v >= sorted[hi]!) return hi;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! <= v) lo = mid;
    else hi = mid;
  }
  return v - sorted[lo]! <= sorted[hi]! - v ? lo : hi;
}
