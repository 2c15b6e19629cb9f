// Tensor encodings a GGUF export writes: f32 as is, f16 (round to nearest even, as numpy's astype) and
// q8_0, ggml's 8-bit blocks: 32 values share an f16 scale d = max|x| / 127 and store round(x / d) as
// int8, rounding half away from zero (quantize_row_q8_0_ref; gguf-py's np_roundf).
import { GgmlType } from "./gguf-file.ts";

export const Q8_0_BLOCK = 32;
/** One q8_0 block: f16 scale + 32 int8. */
const Q8_0_BYTES = 2 + Q8_0_BLOCK;

export function encodedByteLength(type: GgmlType, numel: number): number {
  if (type === GgmlType.F32) return numel * 4;
  if (type === GgmlType.F16) return numel * 2;
  return (numel / Q8_0_BLOCK) * Q8_0_BYTES;
}

export function toF16Bytes(x: Float32Array): Uint8Array {
  const h = new Float16Array(x);
  return new Uint8Array(h.buffer, h.byteOffset, h.byteLength);
}

export function toF32Bytes(x: Float32Array): Uint8Array {
  return new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
}

/** q8_0 blocks of x (its length a multiple of 32, rows never straddling blocks when cols % 32 == 0). */
export function toQ8_0Bytes(x: Float32Array): Uint8Array {
  const blocks = x.length / Q8_0_BLOCK;
  const out = new Uint8Array(blocks * Q8_0_BYTES);
  // Blocks are 34 bytes, so every scale sits at an even offset: a u16 view reaches them all.
  const scales = new Uint16Array(out.buffer);
  const qs = new Int8Array(out.buffer);
  const scale = new Float16Array(1);
  const scaleBits = new Uint16Array(scale.buffer);
  for (let b = 0; b < blocks; b++) {
    const base = b * Q8_0_BLOCK;
    let amax = 0;
    for (let j = 0; j < Q8_0_BLOCK; j++) {
      const a = Math.abs(x[base + j]!);
      if (a > amax) amax = a;
    }
    // The division runs in f32 in ggml (and numpy on an f32 array): round each step to f32.
    const d = Math.fround(amax / 127);
    const id = d === 0 ? 0 : Math.fround(1 / d);
    scale[0] = d;
    scales[(b * Q8_0_BYTES) / 2] = scaleBits[0]!;
    const at = b * Q8_0_BYTES + 2;
    for (let j = 0; j < Q8_0_BLOCK; j++) {
      const v = Math.fround(x[base + j]! * id);
      qs[at + j] = v < 0 ? -Math.floor(-v + 0.5) : Math.floor(v + 0.5);
    }
  }
  return out;
}

/** What q8_0 stores, decoded back to f32 (for tests and for comparing against a dequantized model). */
export function fromQ8_0Bytes(bytes: Uint8Array): Float32Array {
  const blocks = bytes.length / Q8_0_BYTES;
  const out = new Float32Array(blocks * Q8_0_BLOCK);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const half = new Float16Array(1);
  const halfBits = new Uint16Array(half.buffer);
  for (let b = 0; b < blocks; b++) {
    halfBits[0] = view.getUint16(b * Q8_0_BYTES, true);
    const d = half[0]!;
    for (let j = 0; j < Q8_0_BLOCK; j++) out[b * Q8_0_BLOCK + j] = d * view.getInt8(b * Q8_0_BYTES + 2 + j);
  }
  return out;
}

export function encodeTensor(type: GgmlType, x: Float32Array): Uint8Array {
  if (type === GgmlType.F32) return toF32Bytes(x);
  if (type === GgmlType.F16) return toF16Bytes(x);
  return toQ8_0Bytes(x);
}
