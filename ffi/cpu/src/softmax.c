/* Softmax over the last dim, forward and backward: x, y, dy, dx [rows, cols].
 * Stable: the row max is subtracted before exp, so logits of any finite magnitude give finite output. */
#include <math.h>
#include "lft_cpu.h"
#include "fast_math.h"

#define PAR_MIN (1 << 14)

/* softmax: x, out [rows, cols]. out[r, c] = exp(x[r, c] - max_r) / sum_c exp(x[r, c] - max_r) */
void lft_softmax_fwd(float *out, const float *x, int64_t rows, int64_t cols) {
#pragma omp parallel for schedule(static) if (rows * cols > PAR_MIN)
  for (int64_t r = 0; r < rows; r++) {
    const float *xr = x + r * cols;
    float *o = out + r * cols;
    const float maxv = lft_row_max(xr, cols);
    const double sum = lft_sum_exp(o, xr, cols, maxv);
    const float inv = (float)(1.0 / sum);
    for (int64_t c = 0; c < cols; c++) o[c] *= inv;
  }
}

/* softmax backward: dy, y, dx [rows, cols]. dx = y * (dy - sum_c(dy * y)) */
void lft_softmax_bwd(float *dx, const float *dy, const float *y, int64_t rows, int64_t cols) {
#pragma omp parallel for schedule(static) if (rows * cols > PAR_MIN)
  for (int64_t r = 0; r < rows; r++) {
    const float *yr = y + r * cols, *g = dy + r * cols;
    float *d = dx + r * cols;
    double dot = 0.0;
    for (int64_t c = 0; c < cols; c++) dot += (double)g[c] * yr[c];
    const float dotf = (float)dot;
    for (int64_t c = 0; c < cols; c++) d[c] = yr[c] * (g[c] - dotf);
  }
}
