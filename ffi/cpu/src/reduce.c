/* Reductions with double accumulators, in a fixed order (results do not depend on thread count). */
#include <stdlib.h>
#include "lft_cpu.h"

#define BLOCK 4096

static double one_block(const float *x, int64_t n, int64_t bi, int squares) {
  const int64_t lo = bi * BLOCK, hi = lo + BLOCK < n ? lo + BLOCK : n;
  double s = 0;
  for (int64_t i = lo; i < hi; i++) s += squares ? (double)x[i] * x[i] : x[i];
  return s;
}

/* Sum of blocks of BLOCK elements, each block summed in float lanes then added in double. Without
 * memory for the per-block partials it sums the same blocks in the same order on one thread. */
static double block_sum(const float *x, int64_t n, int squares) {
  const int64_t nb = (n + BLOCK - 1) / BLOCK;
  double *partial = lft_malloc_n(nb, 1, sizeof(double));
  if (!partial) {
    double total = 0;
    for (int64_t bi = 0; bi < nb; bi++) total += one_block(x, n, bi, squares);
    return total;
  }
#pragma omp parallel for schedule(static) if (n > 4 * BLOCK)
  for (int64_t bi = 0; bi < nb; bi++) partial[bi] = one_block(x, n, bi, squares);
  double total = 0;
  for (int64_t bi = 0; bi < nb; bi++) total += partial[bi];
  free(partial);
  return total;
}

double lft_sum(const float *x, int64_t n) { return block_sum(x, n, 0); }
double lft_sum_squares(const float *x, int64_t n) { return block_sum(x, n, 1); }

/* Non-finite values by their bits: the exponent all ones is NaN or ±Inf in every IEEE-style float
 * (f32 0x7f800000; bf16 0x7f80; f16 0x7c00). Integer compares only, so -ffast-math cannot drop it. */
int64_t lft_count_nonfinite_32(const uint32_t *x, int64_t n) {
  int64_t bad = 0;
#pragma omp parallel for schedule(static) reduction(+ : bad) if (n > (1 << 16))
  for (int64_t i = 0; i < n; i++) bad += (x[i] & 0x7f800000u) == 0x7f800000u;
  return bad;
}

int64_t lft_count_nonfinite_16(const uint16_t *x, int64_t n, uint16_t exp_mask) {
  int64_t bad = 0;
#pragma omp parallel for schedule(static) reduction(+ : bad) if (n > (1 << 16))
  for (int64_t i = 0; i < n; i++) bad += (x[i] & exp_mask) == exp_mask;
  return bad;
}

void lft_sum_rows(float *out, const float *x, int64_t rows, int64_t cols) {
#pragma omp parallel for schedule(static) if (rows * cols > (1 << 15))
  for (int64_t r = 0; r < rows; r++) {
    double s = 0;
    const float *xr = x + r * cols;
    for (int64_t c = 0; c < cols; c++) s += xr[c];
    out[r] = (float)s;
  }
}

void lft_expand_rows(float *out, const float *g, float s, int64_t rows, int64_t cols) {
#pragma omp parallel for schedule(static) if (rows * cols > (1 << 15))
  for (int64_t r = 0; r < rows; r++) {
    const float v = g[r] * s;
    float *o = out + r * cols;
    for (int64_t c = 0; c < cols; c++) o[c] = v;
  }
}
