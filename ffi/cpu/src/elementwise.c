/* Elementwise arithmetic with b broadcast over a's leading rows: a, out, g [n, m]; b [m].
 * Backward: da = dL/da (same shape as a), db = dL/db summed over the n rows. */
#include <stdlib.h>
#include <string.h>
#include <omp.h>
#include "lft_cpu.h"

#define PAR_MIN (1 << 15)

void lft_binary_fwd(int32_t op, float *out, const float *a, const float *b, int64_t n, int64_t m) {
#pragma omp parallel for schedule(static) if (n * m > PAR_MIN)
  for (int64_t r = 0; r < n; r++) {
    const float *ar = a + r * m;
    float *o = out + r * m;
    switch (op) {
      case LFT_ADD: for (int64_t j = 0; j < m; j++) o[j] = ar[j] + b[j]; break;
      case LFT_SUB: for (int64_t j = 0; j < m; j++) o[j] = ar[j] - b[j]; break;
      case LFT_MUL: for (int64_t j = 0; j < m; j++) o[j] = ar[j] * b[j]; break;
      default: for (int64_t j = 0; j < m; j++) o[j] = ar[j] / b[j]; break;
    }
  }
}

/* d(a op b)/db for one element, times g. */
static inline float db_term(int32_t op, float g, float a, float b) {
  switch (op) {
    case LFT_ADD: return g;
    case LFT_SUB: return -g;
    case LFT_MUL: return g * a;
    default: return -g * a / (b * b);
  }
}

void lft_binary_bwd(int32_t op, float *da, float *db, const float *g, const float *a, const float *b, int64_t n,
                    int64_t m) {
  if (da) {
#pragma omp parallel for schedule(static) if (n * m > PAR_MIN)
    for (int64_t r = 0; r < n; r++) {
      const float *gr = g + r * m;
      float *d = da + r * m;
      switch (op) {
        case LFT_ADD: case LFT_SUB: memcpy(d, gr, (size_t)m * sizeof(float)); break;
        case LFT_MUL: for (int64_t j = 0; j < m; j++) d[j] = gr[j] * b[j]; break;
        default: for (int64_t j = 0; j < m; j++) d[j] = gr[j] / b[j]; break;
      }
    }
  }
  if (!db) return;
  /* Sum over rows: each thread owns a column block, so there are no races and the order is fixed. */
#pragma omp parallel for schedule(static) if (n * m > PAR_MIN)
  for (int64_t j0 = 0; j0 < m; j0 += 256) {
    const int64_t j1 = j0 + 256 < m ? j0 + 256 : m;
    double acc[256] = {0};
    for (int64_t r = 0; r < n; r++) {
      const float *gr = g + r * m, *ar = a + r * m;
      for (int64_t j = j0; j < j1; j++) acc[j - j0] += db_term(op, gr[j], ar[j], b[j]);
    }
    for (int64_t j = j0; j < j1; j++) db[j] = (float)acc[j - j0];
  }
}

void lft_scale(float *out, const float *x, float s, int64_t n) {
#pragma omp parallel for schedule(static) if (n > PAR_MIN)
  for (int64_t i = 0; i < n; i++) out[i] = x[i] * s;
}

void lft_axpy(float *y, const float *x, float alpha, int64_t n) {
#pragma omp parallel for schedule(static) if (n > PAR_MIN)
  for (int64_t i = 0; i < n; i++) y[i] += alpha * x[i];
}
