// The element types a safetensors header may name, their sizes, and which map onto lft tensor dtypes.
// The order is the reference implementation's (ascending alignment): writers sort by it, widest first.
import type { DType } from "../tensor/dtype.ts";
import type { Shape } from "../tensor/shape.ts";

export const SAFETENSORS_DTYPES = [
  "BOOL",
  "F4",
  "F6_E2M3",
  "F6_E3M2",
  "U8",
  "I8",
  "F8_E5M2",
  "F8_E4M3",
  "F8_E8M0",
  "F8_E4M3FNUZ",
  "F8_E5M2FNUZ",
  "I16",
  "U16",
  "F16",
  "BF16",
  "I32",
  "U32",
  "F32",
  "C64",
  "F64",
  "I64",
  "U64",
] as const;

export type SafetensorsDType = (typeof SAFETENSORS_DTYPES)[number];

const BITS: Readonly<Record<SafetensorsDType, number>> = {
  BOOL: 8,
  F4: 4,
  F6_E2M3: 6,
  F6_E3M2: 6,
  U8: 8,
  I8: 8,
  F8_E5M2: 8,
  F8_E4M3: 8,
  F8_E8M0: 8,
  F8_E4M3FNUZ: 8,
  F8_E5M2FNUZ: 8,
  I16: 16,
  U16: 16,
  F16: 16,
  BF16: 16,
  I32: 32,
  U32: 32,
  F32: 32,
  C64: 64,
  F64: 64,
  I64: 64,
  U64: 64,
};

const RANK = new Map<string, number>(SAFETENSORS_DTYPES.map((d, i) => [d, i]));

export function isSafetensorsDType(s: unknown): s is SafetensorsDType {
  return typeof s === "string" && RANK.has(s);
}

/** Position in the alignment order (higher = wider); the writer puts higher ranks first. */
export function dtypeRank(d: SafetensorsDType): number {
  return RANK.get(d)!;
}

/** Bytes taken by `shape` elements of `dtype`, or a reason it has none (overflow, a partial byte). */
export function storedByteLength(dtype: SafetensorsDType, shape: Shape): number | string {
  // The non-zero dims' product is bounded too, as at tensor birth (core/tensor/shape.ts): a zero-element
  // [0, 2^40, 2^40] would still give a kernel a row count past 2^53.
  let n = 1;
  let zero = false;
  for (const d of shape) {
    if (d === 0) zero = true;
    else n *= d;
    if (!Number.isSafeInteger(n)) return `shape [${shape.join(", ")}] has more elements than can be addressed`;
  }
  if (zero) n = 0;
  const bits = n * BITS[dtype];
  if (!Number.isSafeInteger(bits)) return `shape [${shape.join(", ")}] of ${dtype} is too large to address`;
  if (bits % 8 !== 0) return `${n} elements of ${BITS[dtype]}-bit ${dtype} do not fill a whole number of bytes`;
  return bits / 8;
}

const TO_LFT: Partial<Record<SafetensorsDType, DType>> = { F32: "f32", BF16: "bf16", F16: "f16", I32: "i32" };
const FROM_LFT: Readonly<Record<DType, SafetensorsDType>> = { f32: "F32", bf16: "BF16", f16: "F16", i32: "I32" };

/** The lft dtype that holds this stored type unchanged, if any (I8/U8 and the rest are raw bytes for now). */
export function lftDTypeOf(d: SafetensorsDType): DType | undefined {
  return TO_LFT[d];
}

export function safetensorsDTypeOf(d: DType): SafetensorsDType {
  return FROM_LFT[d];
}
