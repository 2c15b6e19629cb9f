/* A register-blocked matmul for the attention kernel's small tiles (up to 64 x 64 x head_dim), where a
 * BLAS call costs more in packing and dispatch than the tile's arithmetic:
 *
 *   C[m x n] = A B   or   C += A B,   A(r, kk) = a[r * ars + kk * aks],   B row kk at b + kk * ldb.
 *
 * A is read one scalar at a time and broadcast, so any strides work: (ars, aks) = (lda, 1) reads A as
 * stored, (1, lda) reads it transposed (dV = P^T dO without copying P). C and B rows are contiguous.
 * Blocks of R rows x 2 vectors keep their accumulators in vector registers over the whole k loop; column
 * and row tails fall back to narrower blocks and, for the last n % W columns, scalars. GCC's vector
 * extensions compile to the widest FMAs -march allows (AVX-512 or AVX2), to SSE pairs without either. */
#ifndef LFT_TILE_MATMUL_H
#define LFT_TILE_MATMUL_H
#include <stdint.h>
#include <string.h>

/* Vector width and row block by instruction set: AVX-512 has 32 vector registers, so 8 rows x 2 vectors
 * of accumulators fit beside the B row; AVX2 has 16, so 4 rows. */
#ifdef __AVX512F__
#define LFT_TILE_W 16
#define LFT_TILE_R 8
#else
#define LFT_TILE_W 8
#define LFT_TILE_R 4
#endif

typedef float lft_vf __attribute__((vector_size(LFT_TILE_W * sizeof(float))));

static inline lft_vf lft_vf_load(const float *p) {
  lft_vf v;
  memcpy(&v, p, sizeof v);
  return v;
}

static inline void lft_vf_store(float *p, lft_vf v) { memcpy(p, &v, sizeof v); }

/* One block of R rows (R <= LFT_TILE_R) x V vectors (V <= 2) at row r0, column c0. Constant R and V after
 * inlining, so the loops unroll and acc lives in registers. */
static inline __attribute__((always_inline)) void lft_tile_block(float *restrict c, int64_t ldc, const float *restrict a,
                                                                 int64_t ars, int64_t aks, const float *restrict b,
                                                                 int64_t ldb, int64_t k, int accumulate, int64_t r0,
                                                                 int64_t c0, const int R, const int V) {
  lft_vf acc[LFT_TILE_R][2];
  for (int i = 0; i < R; i++)
    for (int v = 0; v < V; v++)
      acc[i][v] = accumulate ? lft_vf_load(c + (r0 + i) * ldc + c0 + LFT_TILE_W * v) : (lft_vf){0};
  const float *ar = a + r0 * ars;
  for (int64_t kk = 0; kk < k; kk++) {
    const float *br = b + kk * ldb + c0;
    lft_vf bv[2];
    for (int v = 0; v < V; v++) bv[v] = lft_vf_load(br + LFT_TILE_W * v);
    for (int i = 0; i < R; i++) {
      const float x = ar[i * ars + kk * aks];
      for (int v = 0; v < V; v++) acc[i][v] += x * bv[v];
    }
  }
  for (int i = 0; i < R; i++)
    for (int v = 0; v < V; v++) lft_vf_store(c + (r0 + i) * ldc + c0 + LFT_TILE_W * v, acc[i][v]);
}

/* All column blocks of rows [r0, r0 + R). */
static inline __attribute__((always_inline)) void lft_tile_rows(float *restrict c, int64_t ldc, const float *restrict a,
                                                                int64_t ars, int64_t aks, const float *restrict b,
                                                                int64_t ldb, int64_t n, int64_t k, int accumulate,
                                                                int64_t r0, const int R) {
  int64_t c0 = 0;
  for (; c0 + 2 * LFT_TILE_W <= n; c0 += 2 * LFT_TILE_W) lft_tile_block(c, ldc, a, ars, aks, b, ldb, k, accumulate, r0, c0, R, 2);
  for (; c0 + LFT_TILE_W <= n; c0 += LFT_TILE_W) lft_tile_block(c, ldc, a, ars, aks, b, ldb, k, accumulate, r0, c0, R, 1);
  for (; c0 < n; c0++) /* the last n % LFT_TILE_W columns (odd head sizes), one scalar at a time */
    for (int i = 0; i < R; i++) {
      const float *ar = a + (r0 + i) * ars;
      float s = accumulate ? c[(r0 + i) * ldc + c0] : 0.0f;
      for (int64_t kk = 0; kk < k; kk++) s += ar[kk * aks] * b[kk * ldb + c0];
      c[(r0 + i) * ldc + c0] = s;
    }
}

static inline void lft_tile_matmul(float *restrict c, int64_t ldc, const float *restrict a, int64_t ars, int64_t aks,
                                   const float *restrict b, int64_t ldb, int64_t m, int64_t n, int64_t k, int accumulate) {
  int64_t r0 = 0;
  for (; r0 + LFT_TILE_R <= m; r0 += LFT_TILE_R) lft_tile_rows(c, ldc, a, ars, aks, b, ldb, n, k, accumulate, r0, LFT_TILE_R);
  for (; r0 + 4 <= m; r0 += 4) lft_tile_rows(c, ldc, a, ars, aks, b, ldb, n, k, accumulate, r0, 4);
  for (; r0 < m; r0++) lft_tile_rows(c, ldc, a, ars, aks, b, ldb, n, k, accumulate, r0, 1);
}

/* a . b over n floats, vector lanes then their sum (a decoding step's one query against each cached key). */
static inline float lft_tile_dot(const float *restrict a, const float *restrict b, int64_t n) {
  lft_vf acc = {0};
  int64_t i = 0;
  for (; i + LFT_TILE_W <= n; i += LFT_TILE_W) acc += lft_vf_load(a + i) * lft_vf_load(b + i);
  float s = 0.0f;
  for (int l = 0; l < LFT_TILE_W; l++) s += acc[l];
  for (; i < n; i++) s += a[i] * b[i];
  return s;
}

#endif
