// The public entry of lft's core: plugins, the DSL and tools import from here and nowhere deeper.
export type { DType, HostArray } from "./tensor/dtype.ts";
export { DTYPES, DTYPE_BYTES, isFloat } from "./tensor/dtype.ts";
export { type Shape, ShapeError, formatShape, numel } from "./tensor/shape.ts";
export { Tensor, Storage } from "./tensor/tensor.ts";
export { CachingAllocator, type MemoryStats } from "./tensor/allocator.ts";
export { tidy, keep, scopeDepth } from "./tensor/scope.ts";
export { empty, zeros, full, tensor, randn, rand, type CreateOptions } from "./tensor/create.ts";
export type { Backend, BlasInfo, BinaryOp, MatmulOptions, AttentionOptions, AdamWHyper } from "./backend/backend.ts";
export { type NativeArray, DTypeError, DisposedError, IndexError } from "./backend/check.ts";
export { defaultBackend, setDefaultBackend, cpuBackend } from "./backend/default.ts";
export { blasInfo } from "../ffi/cpu/cpu.ts";
export { backward, noGrad, isGradEnabled, defineOp, OpContext, type OpDef } from "./autograd/tape.ts";
export * as ops from "./autograd/ops/index.ts";
export { AdamW, type AdamWOptions } from "./optim/adamw.ts";
export { Philox, philox4x32 } from "./random/philox.ts";
export * from "./registry.ts";
export { selectBackend } from "./backend/select.ts";
