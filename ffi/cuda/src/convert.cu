/* Storage dtype conversion, bit-identical to ffi/cpu/src/convert.c: round to nearest even, a NaN stays a
 * quiet NaN with the CPU's bit pattern ((u >> 16) | 0x40 for bf16). x, out [n]. */
#include "common.cuh"

extern "C" __global__ void lft_f32_to_bf16(uint16_t *out, const float *in, i64 n) {
  GRID_STRIDE(i, n) {
    const uint32_t u = __float_as_uint(in[i]);
    out[i] = (u & 0x7fffffffu) > 0x7f800000u ? (uint16_t)((u >> 16) | 0x40) : (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
  }
}

extern "C" __global__ void lft_bf16_to_f32(float *out, const uint16_t *in, i64 n) {
  GRID_STRIDE(i, n) out[i] = __uint_as_float((uint32_t)in[i] << 16);
}

extern "C" __global__ void lft_f32_to_f16(__half *out, const float *in, i64 n) {
  GRID_STRIDE(i, n) out[i] = __float2half_rn(in[i]);
}

extern "C" __global__ void lft_f16_to_f32(float *out, const __half *in, i64 n) {
  GRID_STRIDE(i, n) out[i] = __half2float(in[i]);
}

extern "C" __global__ void lft_i32_to_f32(float *out, const int32_t *in, i64 n) {
  GRID_STRIDE(i, n) out[i] = __int2float_rn(in[i]);
}
