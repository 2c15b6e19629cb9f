// Shared by the GPU tests: the CUDA backend when this machine can run it (else the printed reason and
// skipped suites), and a harness that runs one test body on the CPU backend (f32, the reference) and on
// the GPU (f32 or bf16 storage) over the same inputs, poisoning every output with NaN first so an
// element a kernel forgets to write can never pass.
import { describe, expect } from "bun:test";
import type { Shape } from "../../core/tensor/shape.ts";
import { type CudaBackend, cudaBackend, probeCuda } from "../../ffi/cuda/index.ts";
import { type Backend, cpuBackend, Tensor } from "../../lft.ts";
import { relError } from "../helpers/compare.ts";
import { randomArray } from "../helpers/random.ts";

export const gpuReason = probeCuda();
export const gpu: CudaBackend | null = gpuReason === true ? cudaBackend() : null;

/** describe() that runs only with a GPU; prints why not once per file otherwise. */
export function describeGpu(file: string) {
  if (!gpu) console.log(`[cuda] ${file}: GPU tests skipped: ${gpuReason}`);
  return describe.skipIf(gpu === null);
}

export type FloatKind = "f32" | "bf16";
export const FLOAT_KINDS: readonly FloatKind[] = ["f32", "bf16"];

/**
 * Tolerances (max |gpu - cpu| / max |cpu|): f32 kernels differ from the CPU's only in summation order and
 * in exp/tanh implementations (a few ulp), so 1e-5; bf16 storage rounds every input and output to 8
 * mantissa bits (relative step 2^-8), so 1e-2. NaN or Inf on the GPU never passes (relError is Infinity).
 */
export const TOL: Record<FloatKind, number> = { f32: 1e-5, bf16: 1e-2 };

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** f32 -> bf16 bits, round to nearest even (as ffi/cpu/src/convert.c). */
export function bf16Bits(v: number): number {
  f32[0] = v;
  const u = u32[0]!;
  if ((u & 0x7fffffff) > 0x7f800000) return ((u >>> 16) | 0x40) & 0xffff;
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}

export function bf16Value(bits: number): number {
  u32[0] = bits << 16;
  return f32[0]!;
}

/** Values as the given storage type holds them (bf16-rounded, or f32-rounded). */
export function roundTo(kind: FloatKind, data: ArrayLike<number>): Float32Array {
  return kind === "bf16" ? Float32Array.from(data, (v) => bf16Value(bf16Bits(v))) : Float32Array.from(data);
}

/** How a test body makes tensors; the same body runs on both backends. */
export interface Maker {
  readonly b: Backend;
  /** A float input in the run's storage type (values rounded to it on both sides). */
  x(data: ArrayLike<number>, shape: Shape): Tensor;
  /** An f32 input whatever the storage type (statistics, master weights). */
  f32(data: ArrayLike<number>, shape: Shape): Tensor;
  i32(data: ArrayLike<number>, shape: Shape): Tensor;
  /** A float output in the run's storage type, poisoned with NaN. */
  out(shape: Shape): Tensor;
  /** An f32 output (statistics), poisoned with NaN. */
  outF32(shape: Shape): Tensor;
  /** Seeded random values: the k-th call returns the same values on both backends. */
  rnd(n: number, lo?: number, hi?: number): Float64Array;
}

function maker(b: Backend, kind: FloatKind, onGpu: boolean, made: Tensor[], seed: number): Maker {
  let calls = 0;
  const alloc = (shape: Shape, dtype: "f32" | "bf16" | "i32") => {
    const t = Tensor.alloc(b, shape, dtype, false);
    made.push(t);
    return t;
  };
  const storage = onGpu ? kind : "f32";
  return {
    b,
    x(data, shape) {
      const t = alloc(shape, storage);
      const v = roundTo(kind, data);
      b.upload(t, storage === "bf16" ? Uint16Array.from(v, bf16Bits) : v);
      return t;
    },
    f32(data, shape) {
      const t = alloc(shape, "f32");
      b.upload(t, Float32Array.from(data));
      return t;
    },
    i32(data, shape) {
      const t = alloc(shape, "i32");
      b.upload(t, Int32Array.from(data));
      return t;
    },
    out(shape) {
      const t = alloc(shape, storage);
      b.fill(t, Number.NaN);
      return t;
    },
    outF32(shape) {
      const t = alloc(shape, "f32");
      b.fill(t, Number.NaN);
      return t;
    },
    rnd(n, lo = -1, hi = 1) {
      return randomArray(n, seed + 7919 * calls++, lo, hi);
    },
  };
}

/** Reads any float tensor as f32 values (bf16 converted on its own device). */
export function read(t: Tensor): Float32Array {
  return t.toArray() as Float32Array;
}

let compares = 0;

/**
 * Runs `body` on the CPU (f32 reference) and on the GPU (`kind` storage), reads back the tensors it
 * returns, and checks each pair against the kind's tolerance. Returns the values for further checks.
 */
export function compareBackends(kind: FloatKind, body: (m: Maker) => Tensor[], what: string, tol = TOL[kind]): { cpu: Float32Array[]; gpu: Float32Array[] } {
  if (!gpu) throw new Error("compareBackends needs a GPU");
  const made: Tensor[] = [];
  const seed = ++compares * 104729;
  try {
    const cpuOut = body(maker(cpuBackend, kind, false, made, seed)).map(read);
    const gpuOut = body(maker(gpu, kind, true, made, seed)).map(read);
    expect(gpuOut.length).toBe(cpuOut.length);
    cpuOut.forEach((c, i) => {
      const err = relError(gpuOut[i]!, c);
      if (!(err <= tol)) throw new Error(`${what} (${kind}) output ${i}: relative error ${err.toExponential(3)} exceeds ${tol}`);
    });
    return { cpu: cpuOut, gpu: gpuOut };
  } finally {
    for (const t of made) t.dispose();
  }
}

/** Allocates an untracked tensor on the GPU (tests dispose it). */
export function gpuTensor(shape: Shape, dtype: "f32" | "bf16" | "i32", data?: Float32Array | Int32Array | Uint16Array): Tensor {
  const t = Tensor.alloc(gpu!, shape, dtype, false);
  if (data) gpu!.upload(t, data);
  return t;
}
