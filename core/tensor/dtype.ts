// Tensor element types: which are storage-only on the CPU, how many bytes each takes.
export type DType = "f32" | "bf16" | "f16" | "i32";

export const DTYPES: readonly DType[] = ["f32", "bf16", "f16", "i32"];

export const DTYPE_BYTES: Readonly<Record<DType, number>> = { f32: 4, bf16: 2, f16: 2, i32: 4 };

/** Floating types a gradient can flow through. Half types are storage on the CPU: kernels compute in f32. */
export function isFloat(dtype: DType): boolean {
  return dtype !== "i32";
}

/** Typed array that views a buffer of this dtype (half types as raw 16-bit words). */
export type HostArray = Float32Array | Int32Array | Uint16Array;

export function hostArrayFor(dtype: DType, buffer: ArrayBuffer, byteOffset: number, length: number): HostArray {
  switch (dtype) {
    case "f32":
      return new Float32Array(buffer, byteOffset, length);
    case "i32":
      return new Int32Array(buffer, byteOffset, length);
    case "bf16":
    case "f16":
      return new Uint16Array(buffer, byteOffset, length);
  }
}
