/* Storage dtype conversion. bf16 and f16 are storage formats on the CPU; kernels compute in f32.
 * Rounding is to nearest even, NaN stays NaN (quiet), as PyTorch converts. */
#include "lft_cpu.h"
#include <string.h>

static inline uint32_t bits_of(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  return u;
}
static inline float float_of(uint32_t u) {
  float f;
  memcpy(&f, &u, 4);
  return f;
}

void lft_f32_to_bf16(uint16_t *out, const float *in, int64_t n) {
#pragma omp parallel for schedule(static) if (n > (1 << 16))
  for (int64_t i = 0; i < n; i++) {
    uint32_t u = bits_of(in[i]);
    if ((u & 0x7fffffffu) > 0x7f800000u) {
      out[i] = (uint16_t)((u >> 16) | 0x40); /* quiet NaN */
    } else {
      out[i] = (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
    }
  }
}

void lft_bf16_to_f32(float *out, const uint16_t *in, int64_t n) {
#pragma omp parallel for schedule(static) if (n > (1 << 16))
  for (int64_t i = 0; i < n; i++) out[i] = float_of((uint32_t)in[i] << 16);
}

/* _Float16 is native in GCC 12 on x86-64 (with F16C the compiler emits vcvtps2ph). */
void lft_f32_to_f16(uint16_t *out, const float *in, int64_t n) {
#pragma omp parallel for schedule(static) if (n > (1 << 16))
  for (int64_t i = 0; i < n; i++) {
    _Float16 h = (_Float16)in[i];
    memcpy(&out[i], &h, 2);
  }
}

void lft_f16_to_f32(float *out, const uint16_t *in, int64_t n) {
#pragma omp parallel for schedule(static) if (n > (1 << 16))
  for (int64_t i = 0; i < n; i++) {
    _Float16 h;
    memcpy(&h, &in[i], 2);
    out[i] = (float)h;
  }
}

void lft_i32_to_f32(float *out, const int32_t *in, int64_t n) {
  for (int64_t i = 0; i < n; i++) out[i] = (float)in[i];
}
