/* NF4 (QLoRA's 4-bit NormalFloat, Dettmers et al. 2023) blockwise quantisation and dequantisation:
 *   x, out [n] (f32 or bf16);  absmax [ceil(n / block_size)] f32;  packed [ceil(n / 2)] bytes, element 2k in
 *   the high nibble of byte k and 2k+1 in the low nibble (bitsandbytes' order).
 * value = NF4[code] * absmax[block]. Quantisation picks the nearest table entry to x / absmax (the lower
 * code on an exact tie); an all-zero block has absmax 0 and decodes to zeros. The absmax itself is kept in
 * f32 (no double quantisation). block_size is even, so a byte never straddles two blocks. */
#include "common.cuh"

__constant__ float NF4_TABLE[16] = {
    -1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f, -0.28444138169288635f,
    -0.18477343022823334f, -0.09105003625154495f, 0.0f, 0.07958029955625534f, 0.16093020141124725f,
    0.24611230194568634f, 0.33791524171829224f, 0.44070982933044434f, 0.5626170039176941f, 0.7229568362236023f, 1.0f};

/* dequantise: out[i] = NF4[nibble i] * absmax[i / block_size] */
template <typename T>
__device__ void nf4_dequant_impl(T *out, const uint8_t *packed, const float *absmax, i64 n, i64 block_size) {
  GRID_STRIDE(i, n) {
    const uint8_t byte = packed[i >> 1];
    const int code = (i & 1) ? (byte & 15) : (byte >> 4);
    st(out + i, __fmul_rn(NF4_TABLE[code], absmax[i / block_size]));
  }
}

__device__ __forceinline__ int nf4_nearest(float v) {
  int best = 0;
  float bd = fabsf(__fsub_rn(v, NF4_TABLE[0]));
  for (int c = 1; c < 16; c++) {
    const float d = fabsf(__fsub_rn(v, NF4_TABLE[c]));
    if (d < bd) bd = d, best = c;
  }
  return best;
}

/* quantise: one warp per block of block_size elements (8 warps per thread block). */
template <typename T>
__device__ void nf4_quant_impl(uint8_t *packed, float *absmax, const T *x, i64 n, i64 block_size) {
  const i64 blk = (i64)blockIdx.x * 8 + (threadIdx.x >> 5);
  const int lane = threadIdx.x & 31;
  const i64 nblocks = (n + block_size - 1) / block_size;
  if (blk >= nblocks) return;
  const i64 e0 = blk * block_size, e1 = e0 + block_size < n ? e0 + block_size : n;
  float am = 0.0f;
  for (i64 i = e0 + lane; i < e1; i += 32) am = fmaxf(am, fabsf(ld(x + i)));
  am = warp_max(am);
  if (lane == 0) absmax[blk] = am;
  for (i64 i = e0 + 2 * lane; i < e1; i += 64) {
    const int hi = am > 0.0f ? nf4_nearest(__fdiv_rn(ld(x + i), am)) : 7;
    const int lo = i + 1 >= e1 ? 7 : am > 0.0f ? nf4_nearest(__fdiv_rn(ld(x + i + 1), am)) : 7;
    packed[i >> 1] = (uint8_t)((hi << 4) | lo);
  }
}

#define DEF(sfx, T)                                                                                                    \
  extern "C" __global__ void lft_nf4_dequant_##sfx(T *out, const uint8_t *packed, const float *absmax, i64 n,          \
                                                   i64 block_size) {                                                   \
    nf4_dequant_impl(out, packed, absmax, n, block_size);                                                              \
  }                                                                                                                    \
  extern "C" __global__ void __launch_bounds__(256) lft_nf4_quant_##sfx(uint8_t *packed, float *absmax, const T *x,    \
                                                                        i64 n, i64 block_size) {                       \
    nf4_quant_impl(packed, absmax, x, n, block_size);                                                                  \
  }
FOR_FLOAT_TYPES(DEF)
#undef DEF

/* Tile decode for the quantised matmul (the CUDA side of ffi/cpu/src/quant_matmul.c): out[i] is the value of
 * weight element e0 + i, for a 4-bit weight with any 16-entry code book and f32 or double-quantised absmax
 * (absmax_f32 null: absmax[b] = nested_code[absmax_q[b]] * nested_absmax[b / nested_block] + offset). */
extern "C" __global__ void lft_q4_decode(float *out, const uint8_t *packed, const float *code, const float *absmax_f32,
                                         const uint8_t *absmax_q, const float *nested_absmax,
                                         const float *nested_code, float offset, i64 nested_block, i64 block, i64 e0,
                                         i64 count) {
  GRID_STRIDE(i, count) {
    const i64 e = e0 + i;
    const i64 b = e / block;
    const float am = absmax_f32 ? absmax_f32[b]
                                : __fadd_rn(__fmul_rn(nested_code[absmax_q[b]], nested_absmax[b / nested_block]), offset);
    const uint8_t byte = packed[e >> 1];
    out[i] = __fmul_rn(code[(e & 1) ? (byte & 15) : (byte >> 4)], am);
  }
}

/* int8 rows: out[i] = q[e0 + i] * (row_scale[row] / 127). */
extern "C" __global__ void lft_i8_decode(float *out, const int8_t *q, const float *row_scale, i64 cols, i64 e0,
                                         i64 count) {
  GRID_STRIDE(i, count) {
    const i64 e = e0 + i;
    out[i] = __fmul_rn((float)q[e], __fdiv_rn(row_scale[e / cols], 127.0f));
  }
}
