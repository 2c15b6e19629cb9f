/* Philox4x32-10, bit-identical to ffi/cpu/src/random.c (and core/random/philox.ts): element i of a draw
 * with (seed, offset) uses counter offset + i/4 (two 32-bit words, then 0, 0), word i % 4, key = seed.
 * One thread per counter (4 elements). Normals use the CPU's layout: words (0, 1) give elements 4j, 4j+1
 * (Box-Muller cos and sin halves), words (2, 3) give 4j+2, 4j+3, in double as on the CPU. Float arithmetic
 * uses the _rn intrinsics so nvcc cannot contract a multiply and an add into an FMA (the CPU build, in ISO
 * C mode, does not contract either). */
#include "common.cuh"

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

__device__ __forceinline__ void philox(unsigned long long counter, unsigned long long seed, uint32_t out[4]) {
  uint32_t c0 = (uint32_t)counter, c1 = (uint32_t)(counter >> 32), c2 = 0, c3 = 0;
  uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
#pragma unroll
  for (int r = 0; r < 10; r++) {
    const uint32_t hi0 = __umulhi(PHILOX_M0, c0), lo0 = PHILOX_M0 * c0;
    const uint32_t hi1 = __umulhi(PHILOX_M1, c2), lo1 = PHILOX_M1 * c2;
    const uint32_t n0 = hi1 ^ c1 ^ k0, n2 = hi0 ^ c3 ^ k1;
    c0 = n0;
    c1 = lo1;
    c2 = n2;
    c3 = lo0;
    k0 += PHILOX_W0;
    k1 += PHILOX_W1;
  }
  out[0] = c0, out[1] = c1, out[2] = c2, out[3] = c3;
}

/* 24 random bits -> [0, 1): every value exactly representable in float. */
__device__ __forceinline__ float to_unit(uint32_t u) { return __fmul_rn(__uint2float_rn(u >> 8), 1.0f / 16777216.0f); }

__device__ __forceinline__ void box_muller(uint32_t a, uint32_t b, float *z0, float *z1) {
  const double u1 = ((double)(a >> 8) + 1.0) / 16777216.0; /* (0, 1]: log is finite */
  const double u2 = (double)(b >> 8) / 16777216.0;
  const double r = sqrt(-2.0 * log(u1)), t = 6.283185307179586 * u2;
  *z0 = (float)(r * cos(t));
  *z1 = (float)(r * sin(t));
}

/* philox u32: out [n] */
extern "C" __global__ void lft_philox_u32(uint32_t *out, i64 n, unsigned long long seed, unsigned long long offset) {
  GRID_STRIDE(g, (n + 3) / 4) {
    uint32_t w[4];
    philox(offset + (unsigned long long)g, seed, w);
    for (int j = 0; j < 4 && 4 * g + j < n; j++) out[4 * g + j] = w[j];
  }
}

/* uniform [0, 1): out [n] */
extern "C" __global__ void lft_rand_uniform(float *out, i64 n, unsigned long long seed, unsigned long long offset) {
  GRID_STRIDE(g, (n + 3) / 4) {
    uint32_t w[4];
    philox(offset + (unsigned long long)g, seed, w);
    for (int j = 0; j < 4 && 4 * g + j < n; j++) out[4 * g + j] = to_unit(w[j]);
  }
}

/* normal: out [n] = mean + std * z */
extern "C" __global__ void lft_rand_normal(float *out, i64 n, unsigned long long seed, unsigned long long offset,
                                           float mean, float std) {
  GRID_STRIDE(g, (n + 3) / 4) {
    uint32_t w[4];
    float z[4];
    philox(offset + (unsigned long long)g, seed, w);
    box_muller(w[0], w[1], &z[0], &z[1]);
    box_muller(w[2], w[3], &z[2], &z[3]);
    for (int j = 0; j < 4 && 4 * g + j < n; j++) out[4 * g + j] = __fadd_rn(mean, __fmul_rn(std, z[j]));
  }
}

/* dropout: x, out [n]. out = x * keep / (1 - p), keep = uniform >= p; the backward is the same call on
 * the gradient (the mask is regenerated, never stored). */
template <typename T>
__device__ void dropout_impl(T *out, const T *x, i64 n, float p, unsigned long long seed, unsigned long long offset) {
  const float keep_scale = __fdiv_rn(1.0f, __fsub_rn(1.0f, p));
  GRID_STRIDE(g, (n + 3) / 4) {
    uint32_t w[4];
    philox(offset + (unsigned long long)g, seed, w);
    for (int j = 0; j < 4 && 4 * g + j < n; j++) {
      const i64 i = 4 * g + j;
      st(out + i, to_unit(w[j]) >= p ? __fmul_rn(ld(x + i), keep_scale) : 0.0f);
    }
  }
}

#define DEF(sfx, T)                                                                                                    \
  extern "C" __global__ void lft_dropout_##sfx(T *out, const T *x, i64 n, float p, unsigned long long seed,             \
                                               unsigned long long offset) {                                            \
    dropout_impl(out, x, n, p, seed, offset);                                                                          \
  }
FOR_FLOAT_TYPES(DEF)
#undef DEF
