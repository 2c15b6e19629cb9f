// The CUDA backend's shared pieces: launch constants, the CudaBackend interface, and small helpers
// (sizes, float suffixes, grid sizes, bf16 bits, the attention launch limits) used by backend.ts.
import type { Pointer } from "bun:ffi";
import {
  type AdamWHyper,
  type AttentionDims,
  attentionDims,
  type Backend,
  type BinaryOp,
  DTYPE_BYTES,
  type DType,
  type NativeArray,
  numel,
  ShapeError,
  sameArrays,
} from "../../core/index.ts";
import type { Cublas } from "./cublas.ts";
import type { CudaDriver, DeviceInfo } from "./driver.ts";
import type { FloatSuffix } from "./kernels.ts";

export const FLOATS = ["f32", "bf16"] as const satisfies readonly DType[];
export const F32 = "f32" as const;
export const I32 = "i32" as const;
export const OPS: Record<BinaryOp, number> = { add: 0, sub: 1, mul: 2, div: 3 };
export const BLOCK = 256;
/** Grid-stride kernels: enough blocks to fill any current GPU, never more than needed. */
export const MAX_BLOCKS = 1 << 16;
export const CE_CHUNK = 2048;
export const ADAM_CHUNK = 1 << 16;
export const CUBLAS_WORKSPACE = 32 << 20;
/** Attention kernels: 4 warps; 16 query rows (forward, dq) or 16 key rows (dk/dv) per block. */
export const ATT_ROWS = 16;
export const ATT_TILE = 32;

export interface CudaBackendOptions {
  /** Device ordinal (default 0). */
  readonly ordinal?: number;
  /** Let f32 GEMMs use TF32 tensor cores (faster, ~1e-3 relative error); default false. */
  readonly tf32?: boolean;
  readonly fatbinPath?: string;
}

export interface AdamWTensors {
  readonly p: NativeArray;
  readonly g: NativeArray;
  readonly m: NativeArray;
  readonly v: NativeArray;
}

export interface CudaBackend extends Backend {
  readonly device: DeviceInfo;
  /** Which libraries were loaded, from where. */
  readonly libraries: {
    readonly driver: string;
    readonly driverVersion: number;
    readonly cublas: string;
    readonly cublasLt: string | null;
    readonly cublasVersion: number;
  };
  /** The raw handles, for benchmarks that compare against a direct cuBLAS call (everything else uses the methods). */
  readonly native: { readonly driver: CudaDriver; readonly cublas: Cublas; readonly stream: Pointer; readonly tf32: boolean };
  /** Waits for all queued work; surfaces any asynchronous kernel error. */
  synchronize(): void;
  /** Milliseconds of GPU time `fn`'s queued work takes (events around it, then a sync). */
  time(fn: () => void): number;
  /** One launch for a whole list of parameters (LoRA has hundreds of small ones). */
  /** Returns how many new parameter values are NaN or ±Inf. */
  adamwStepMulti(list: readonly AdamWTensors[], h: AdamWHyper): number;
  /** The raw Philox words (bit-identical to the CPU's lft_philox_u32), as i32 bits. */
  philoxU32(out: NativeArray, seed: bigint, offset: bigint): void;
  /** x [n] -> packed NF4 codes (i32 words holding ceil(n / 2) bytes) and absmax [ceil(n / blockSize)] f32. */
  nf4Quantize(packed: NativeArray, absmax: NativeArray, x: NativeArray, blockSize: number): void;
  nf4Dequantize(out: NativeArray, packed: NativeArray, absmax: NativeArray, blockSize: number): void;
}

export function n(t: NativeArray): number {
  return numel(t.shape);
}

export function bytesOf(t: NativeArray): number {
  return n(t) * DTYPE_BYTES[t.dtype];
}

export function sfx(t: NativeArray): FloatSuffix {
  return t.dtype as FloatSuffix;
}

export function blocks(count: number, per = BLOCK): number {
  return Math.min(Math.ceil(count / per), MAX_BLOCKS);
}

/** Liveness, a float storage dtype for x, and x's dtype and shape for every other tensor. */
export function same(op: string, x: NativeArray, ...rest: [string, NativeArray][]): void {
  sameArrays(op, FLOATS, x, ...rest);
}

/** Dims per lane of the attention kernel for head dim D: the instantiation with D <= 32 * DPL. */
export function attentionDpl(D: number): number {
  return D <= 32 ? 1 : D <= 64 ? 2 : D <= 128 ? 4 : 8;
}

export const f32Bits = new Float32Array(1);
export const u32Bits = new Uint32Array(f32Bits.buffer);

/** The f32 -> bf16 rounding of convert.c (nearest even, quiet NaN), for fills. */
export function bf16Bits(v: number): number {
  f32Bits[0] = v;
  const u = u32Bits[0]!;
  if ((u & 0x7fffffff) > 0x7f800000) return ((u >>> 16) | 0x40) & 0xffff;
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}

/** Opens device `ordinal`: driver, primary context, stream, our fatbin, cuBLAS. Throws with the reason on failure. */
/** The shared attention rules plus this backend's launch limits. */
export function cudaAttentionDims(op: string, q: NativeArray, k: NativeArray, v: NativeArray, seg: NativeArray | null): AttentionDims {
  const d = attentionDims(op, q, k, v, seg, FLOATS);
  if (d.D > 256) throw new ShapeError(`${op}: head dim ${d.D} exceeds the CUDA kernels' limit of 256`);
  if (d.B > 65535 || d.Hq > 65535) throw new ShapeError(`${op}: batch (${d.B}) and query heads (${d.Hq}) must each be at most 65535 on CUDA`);
  return d;
}
