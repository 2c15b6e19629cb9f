/* Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3"): counter-based, so any
 * element can be drawn independently and a run is bit-for-bit reproducible whatever the thread count.
 * Counter = (offset + i/4) as two 32-bit words, then 0, 0; key = seed as two 32-bit words.
 * core/random/philox.ts implements the same function in TypeScript; tests compare the two. */
#include <math.h>
#include "lft_cpu.h"

#define M0 0xD2511F53u
#define M1 0xCD9E8D57u
#define W0 0x9E3779B9u
#define W1 0xBB67AE85u

static inline void philox(uint64_t counter, uint64_t seed, uint32_t out[4]) {
  uint32_t c0 = (uint32_t)counter, c1 = (uint32_t)(counter >> 32), c2 = 0, c3 = 0;
  uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
  for (int r = 0; r < 10; r++) {
    uint64_t p0 = (uint64_t)M0 * c0, p1 = (uint64_t)M1 * c2;
    uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0;
    uint32_t n1 = (uint32_t)p1;
    uint32_t n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
    uint32_t n3 = (uint32_t)p0;
    c0 = n0; c1 = n1; c2 = n2; c3 = n3;
    k0 += W0; k1 += W1;
  }
  out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
}

/* 24 random bits -> [0, 1): every value exactly representable in float. */
static inline float to_unit(uint32_t u) { return (float)(u >> 8) * (1.0f / 16777216.0f); }

void lft_philox_u32(uint32_t *out, int64_t n, uint64_t seed, uint64_t offset) {
#pragma omp parallel for schedule(static) if (n > (1 << 16))
  for (int64_t i = 0; i < n; i += 4) {
    uint32_t w[4];
    philox(offset + (uint64_t)(i / 4), seed, w);
    for (int j = 0; j < 4 && i + j < n; j++) out[i + j] = w[j];
  }
}

void lft_rand_uniform(float *out, int64_t n, uint64_t seed, uint64_t offset) {
#pragma omp parallel for schedule(static) if (n > (1 << 16))
  for (int64_t i = 0; i < n; i += 4) {
    uint32_t w[4];
    philox(offset + (uint64_t)(i / 4), seed, w);
    for (int j = 0; j < 4 && i + j < n; j++) out[i + j] = to_unit(w[j]);
  }
}

/* Box-Muller, laid out like every other draw: element i comes from counter offset + i/4. Words (0, 1) give
 * elements 4j, 4j+1 (the cos and sin halves), words (2, 3) give 4j+2, 4j+3. (Using one counter per pair
 * would reach counter offset + n/2, so a second draw at offset + n/4 would repeat half the first.) */
static inline void box_muller(uint32_t a, uint32_t b, float *out0, float *out1) {
  double u1 = ((double)(a >> 8) + 1.0) / 16777216.0; /* (0, 1]: log is finite */
  double u2 = (double)(b >> 8) / 16777216.0;
  double r = sqrt(-2.0 * log(u1)), t = 6.283185307179586 * u2;
  *out0 = (float)(r * cos(t));
  *out1 = (float)(r * sin(t));
}

void lft_rand_normal(float *out, int64_t n, uint64_t seed, uint64_t offset, float mean, float std) {
#pragma omp parallel for schedule(static) if (n > (1 << 16))
  for (int64_t i = 0; i < n; i += 4) {
    uint32_t w[4];
    float z[4];
    philox(offset + (uint64_t)(i / 4), seed, w);
    box_muller(w[0], w[1], &z[0], &z[1]);
    box_muller(w[2], w[3], &z[2], &z[3]);
    for (int j = 0; j < 4 && i + j < n; j++) out[i + j] = mean + std * z[j];
  }
}

void lft_dropout(float *out, const float *x, int64_t n, float p, uint64_t seed, uint64_t offset) {
  const float keep_scale = 1.0f / (1.0f - p);
#pragma omp parallel for schedule(static) if (n > (1 << 15))
  for (int64_t i = 0; i < n; i += 4) {
    uint32_t w[4];
    philox(offset + (uint64_t)(i / 4), seed, w);
    for (int j = 0; j < 4 && i + j < n; j++) out[i + j] = to_unit(w[j]) >= p ? x[i + j] * keep_scale : 0.0f;
  }
}
