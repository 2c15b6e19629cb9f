/* half_matmul.c: out[m, n] = in[m, k] · W[n, k]ᵀ for a frozen weight stored as bf16 or f16, converted as it is
 * read. This is the decode step of a half-precision model (a few rows): casting the whole weight to f32 first
 * reads 2 bytes and writes 4 per weight before the GEMM reads those 4 again; here each weight is read once,
 * 2 bytes, which is what decoding is bound by. Each output is one dot product over k in f32 (AVX2 + FMA,
 * 16 lanes at a time, when compiled for them), outputs split across threads. */
#include <string.h>

#include "lft_cpu.h"
#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#endif

static inline float bf16_value(uint16_t h) {
  const uint32_t bits = (uint32_t)h << 16;
  float f;
  memcpy(&f, &bits, 4);
  return f;
}

static inline float f16_value(uint16_t h) {
  _Float16 v;
  memcpy(&v, &h, 2);
  return (float)v;
}

#if defined(__AVX2__) && defined(__FMA__)
static inline __m256 bf16x8(const uint16_t *p) {
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p)), 16));
}
#if defined(__F16C__)
static inline __m256 f16x8(const uint16_t *p) { return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p)); }
#endif

static inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}
#endif

static float dot_bf16(const uint16_t *w, const float *x, int64_t k) {
  int64_t i = 0;
  float s = 0.0f;
#if defined(__AVX2__) && defined(__FMA__)
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
  for (; i + 16 <= k; i += 16) {
    a0 = _mm256_fmadd_ps(bf16x8(w + i), _mm256_loadu_ps(x + i), a0);
    a1 = _mm256_fmadd_ps(bf16x8(w + i + 8), _mm256_loadu_ps(x + i + 8), a1);
  }
  s = hsum(_mm256_add_ps(a0, a1));
#endif
  for (; i < k; i++) s += bf16_value(w[i]) * x[i];
  return s;
}

static float dot_f16(const uint16_t *w, const float *x, int64_t k) {
  int64_t i = 0;
  float s = 0.0f;
#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
  for (; i + 16 <= k; i += 16) {
    a0 = _mm256_fmadd_ps(f16x8(w + i), _mm256_loadu_ps(x + i), a0);
    a1 = _mm256_fmadd_ps(f16x8(w + i + 8), _mm256_loadu_ps(x + i + 8), a1);
  }
  s = hsum(_mm256_add_ps(a0, a1));
#endif
  for (; i < k; i++) s += f16_value(w[i]) * x[i];
  return s;
}

int32_t lft_half_matmul(float *out, const float *in, const uint16_t *w, int64_t m, int64_t n, int64_t k, int32_t bf16) {
  if (m < 0 || n < 0 || k < 0 || lft_mul_i64(n, k) < 0 || lft_mul_i64(m, k) < 0 || lft_mul_i64(m, n) < 0) return LFT_ERR_SIZE;
#pragma omp parallel for schedule(static) if (n * k > (1 << 15))
  for (int64_t j = 0; j < n; j++) {
    const uint16_t *row = w + j * k;
    for (int64_t r = 0; r < m; r++) out[r * n + j] = bf16 ? dot_bf16(row, in + r * k, k) : dot_f16(row, in + r * k, k);
  }
  return LFT_OK;
}
