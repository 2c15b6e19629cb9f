/* Shared pieces of the lft CUDA kernels: storage-type loads and stores (bf16 or f32 storage, always f32
 * arithmetic), warp and block reductions with a fixed order (so every result is deterministic for a given
 * launch shape), and the macros that give each templated kernel its unmangled per-dtype names
 * (lft_<op>_f32, lft_<op>_bf16), which ffi/cuda/kernels.ts looks up with cuModuleGetFunction.
 * Conventions match ffi/cpu/src/lft_cpu.h: contiguous row-major tensors, int64 sizes, the TypeScript
 * binding validates every shape, dtype and index before launching, so kernels never check. */
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <stdint.h>

typedef __nv_bfloat16 bf16;
typedef long long i64;

__device__ __forceinline__ float ld(const float *p) { return *p; }
__device__ __forceinline__ float ld(const bf16 *p) { return __bfloat162float(*p); }
__device__ __forceinline__ void st(float *p, float v) { *p = v; }
__device__ __forceinline__ void st(bf16 *p, float v) { *p = __float2bfloat16_rn(v); }

/* Grid-stride loop over [0, n) with 64-bit indices. */
#define GRID_STRIDE(i, n) \
  for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (i64)gridDim.x * blockDim.x)

#define FULL_MASK 0xffffffffu

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(FULL_MASK, v, o);
  return v;
}
__device__ __forceinline__ double warp_sum(double v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(FULL_MASK, v, o);
  return v;
}
__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(FULL_MASK, v, o));
  return v;
}

/* Sum over the whole block (blockDim.x a multiple of 32, at most 1024), returned to every thread.
 * `scratch` holds 32 values; the call ends with the scratch free for reuse. */
template <typename A>
__device__ __forceinline__ A block_sum(A v, A *scratch) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
  v = warp_sum(v);
  __syncthreads(); /* scratch may still be read by a previous call */
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  A t = lane < nw ? scratch[lane] : (A)0;
  return warp_sum(t);
}

__device__ __forceinline__ float block_max(float v, float *scratch) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
  v = warp_max(v);
  __syncthreads();
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  float t = lane < nw ? scratch[lane] : -INFINITY;
  return warp_max(t);
}

/* Each macro below is applied as FOR_FLOAT_TYPES(DEF) and DEF(sfx, T) defines one extern "C" kernel. */
#define FOR_FLOAT_TYPES(DEF) DEF(f32, float) DEF(bf16, bf16)
