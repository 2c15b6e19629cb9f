// Host-side quantisation in bitsandbytes' formats: 4-bit blockwise (NF4/FP4, absmax per block of 64,
// two codes per byte with the first element in the high nibble), double quantisation of the absmax
// scales (mean subtracted, then 8-bit dynamic code in blocks of 256), and LLM.int8 vector-wise int8.
import { codeFor, dynamicMap, nearestCode, type Quant4Type } from "./codebooks.ts";

export const BLOCK_4BIT = 64;
export const NESTED_BLOCK = 256;

export interface Quantized4 {
  readonly type: Quant4Type;
  readonly blockSize: number;
  /** ceil(n / 2) bytes: element 2j in the high nibble of byte j. */
  readonly packed: Uint8Array;
  /** f32 [ceil(n / blockSize)] */
  readonly absmax: Float32Array;
}

export interface DoubleQuantized {
  /** One u8 code per block of the 4-bit weight. */
  readonly codes: Uint8Array;
  /** f32 [ceil(nBlocks / 256)]: the absmax of (absmax - offset) per nested block. */
  readonly nestedAbsmax: Float32Array;
  /** The 256-entry dynamic code. */
  readonly nestedCode: Float32Array;
  /** mean(absmax), subtracted before quantising. */
  readonly offset: number;
  readonly blockSize: number;
}

/** The 16-entry code sorted with the code numbers beside it (FP4's code is not monotone). */
function sortedCode(type: Quant4Type): { values: Float32Array; codes: Uint8Array } {
  const code = codeFor(type);
  const order = [...code.keys()].sort((a, b) => code[a]! - code[b]! || a - b);
  // FP4 has +0 and -0: keep +0 (code 0), as bitsandbytes' quantiser returns it for |x| small.
  const kept = type === "fp4" ? order.filter((c) => c !== 8) : order;
  return { values: Float32Array.from(kept, (c) => code[c]!), codes: Uint8Array.from(kept) };
}

/**
 * Walks `values` in blocks of `blockSize` (the last may be short): stores each block's absmax and calls
 * `encode(e0, e1, inv)` with the block's range and inv = f32(1 / absmax), 0 for an all-zero block.
 */
function eachBlock(values: Float32Array, blockSize: number, encode: (e0: number, e1: number, inv: number) => void): Float32Array {
  const n = values.length;
  const absmax = new Float32Array(Math.ceil(n / blockSize));
  for (let b = 0; b < absmax.length; b++) {
    const e0 = b * blockSize;
    const e1 = Math.min(n, e0 + blockSize);
    let am = 0;
    for (let e = e0; e < e1; e++) am = Math.max(am, Math.abs(values[e]!));
    absmax[b] = am;
    encode(e0, e1, am > 0 ? Math.fround(1 / am) : 0);
  }
  return absmax;
}

/** Quantises values (row-major, any length) to 4 bits: x · (1 / absmax) to the nearest code, as bitsandbytes. */
export function quantize4(values: Float32Array, type: Quant4Type, blockSize = BLOCK_4BIT): Quantized4 {
  const packed = new Uint8Array(Math.ceil(values.length / 2));
  const { values: sorted, codes } = sortedCode(type);
  const zero = type === "nf4" ? 7 : 0;
  const absmax = eachBlock(values, blockSize, (e0, e1, inv) => {
    for (let e = e0; e < e1; e++) {
      // inv is 0 exactly when the block is all zeros.
      const c = inv > 0 ? codes[nearestCode(sorted, Math.fround(values[e]! * inv))]! : zero;
      packed[e >> 1] = e & 1 ? packed[e >> 1]! | c : c << 4;
    }
  });
  return { type, blockSize, packed, absmax };
}

/** The 4-bit code of element e. */
export function codeAt(packed: Uint8Array, e: number): number {
  const byte = packed[e >> 1]!;
  return e & 1 ? byte & 15 : byte >> 4;
}

/** Values of a 4-bit tensor of n elements: code[nibble] · absmax[block] in f32. */
export function dequantize4(q: Quantized4, n: number, absmax: Float32Array = q.absmax): Float32Array {
  const code = codeFor(q.type);
  const out = new Float32Array(n);
  for (let e = 0; e < n; e++) out[e] = Math.fround(code[codeAt(q.packed, e)]! * absmax[Math.floor(e / q.blockSize)]!);
  return out;
}

/** Blockwise 8-bit quantisation of values with a sorted 256-entry code (bitsandbytes' quantize_blockwise). */
export function quantizeBlockwise8(values: Float32Array, code: Float32Array, blockSize: number): { codes: Uint8Array; absmax: Float32Array } {
  const codes = new Uint8Array(values.length);
  const absmax = eachBlock(values, blockSize, (e0, e1, inv) => {
    for (let e = e0; e < e1; e++) codes[e] = nearestCode(code, Math.fround(values[e]! * inv));
  });
  return { codes, absmax };
}

/** mean(absmax) in f32, as torch's mean of a float tensor (summed here in f64, then rounded). */
function meanF32(x: Float32Array): number {
  let s = 0;
  for (const v of x) s += v;
  return Math.fround(x.length ? s / x.length : 0);
}

/** Double quantisation of 4-bit scales: offset = mean(absmax); (absmax - offset) blockwise 8-bit in blocks of 256. */
export function doubleQuantize(absmax: Float32Array, blockSize = NESTED_BLOCK): DoubleQuantized {
  const offset = meanF32(absmax);
  const centred = Float32Array.from(absmax, (a) => a - offset);
  const nestedCode = dynamicMap();
  const { codes, absmax: nestedAbsmax } = quantizeBlockwise8(centred, nestedCode, blockSize);
  return { codes, nestedAbsmax, nestedCode, offset, blockSize };
}

/** The absmax scales back from their double quantisation: code[q] · nested_absmax[b / 256] + offset. */
export function dequantizeAbsmax(d: DoubleQuantized): Float32Array {
  return Float32Array.from(d.codes, (q, b) => Math.fround(Math.fround(d.nestedCode[q]! * d.nestedAbsmax[Math.floor(b / d.blockSize)]!) + d.offset));
}

export interface QuantizedInt8 {
  /** [rows · cols] round(w · 127 / rowAbsmax) */
  readonly q: Int8Array;
  /** f32 [rows]: each row's absmax (bitsandbytes' SCB). */
  readonly rowScale: Float32Array;
}

/** torch.round: halves to even. */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** LLM.int8 vector-wise quantisation of a [rows, cols] matrix (no outlier decomposition). */
export function quantizeInt8(values: Float32Array, rows: number, cols: number): QuantizedInt8 {
  const q = new Int8Array(rows * cols);
  const rowScale = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let am = 0;
    for (let c = 0; c < cols; c++) am = Math.max(am, Math.abs(values[r * cols + c]!));
    rowScale[r] = am;
    const k = am > 0 ? Math.fround(127 / am) : 0;
    for (let c = 0; c < cols; c++) q[r * cols + c] = roundHalfEven(Math.fround(values[r * cols + c]! * k));
  }
  return { q, rowScale };
}

export function dequantizeInt8(w: QuantizedInt8, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const s = Math.fround(w.rowScale[r]! / 127);
    for (let c = 0; c < cols; c++) out[r * cols + c] = Math.fround(w.q[r * cols + c]! * s);
  }
  return out;
}
