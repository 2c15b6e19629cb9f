/* RMSNorm and LayerNorm over the last dim, forward and backward: x, out, dy, dx [rows, cols];
 * w, b, dw, db [cols]; rstd, mean [rows] (saved by the forward for the backward).
 * Row statistics are accumulated in double. dw/db may be NULL (a frozen norm in LoRA needs no weight
 * gradient, which saves a second pass over x and dy). dw/db are sums over rows; each thread owns a block of
 * columns and walks the rows in order, so there are no races and the result does not depend on the
 * thread count. */
#include <math.h>
#include <omp.h>
#include "lft_cpu.h"

#define PAR_MIN (1 << 14)
#define COL_BLOCK 256

/* Columns per block for the dw/db sums: enough blocks to keep every thread busy, at least a cache line.
 * Each column is summed over rows in order whatever the block size, so this only changes speed. */
static int64_t col_block(int64_t cols) {
  const int64_t nt = omp_get_max_threads();
  int64_t blk = ((cols + nt - 1) / nt + 15) / 16 * 16;
  return blk < 16 ? 16 : blk > COL_BLOCK ? COL_BLOCK : blk;
}

/* rmsnorm: x, out [rows, cols], w [cols], rstd [rows].
 * rstd = 1 / sqrt(mean(x^2) + eps); out = x * rstd * (w + w_offset) */
void lft_rmsnorm_fwd(float *out, float *rstd, const float *x, const float *w, int64_t rows, int64_t cols,
                     float eps, float w_offset) {
#pragma omp parallel for schedule(static) if (rows * cols > PAR_MIN)
  for (int64_t r = 0; r < rows; r++) {
    const float *xr = x + r * cols;
    float *o = out + r * cols;
    double ss = 0.0;
    for (int64_t c = 0; c < cols; c++) ss += (double)xr[c] * xr[c];
    const float s = (float)(1.0 / sqrt(ss / (double)cols + (double)eps));
    rstd[r] = s;
    for (int64_t c = 0; c < cols; c++) o[c] = xr[c] * s * (w[c] + w_offset);
  }
}

/* rmsnorm backward: dy, x, dx [rows, cols], w, dw [cols], rstd [rows]. With xhat = x * rstd, wo = w + w_offset:
 * dx = rstd * (dy * wo - xhat * mean_c(dy * wo * xhat)); dw = sum_r dy * xhat (written, not accumulated) */
void lft_rmsnorm_bwd(float *dx, float *dw, const float *dy, const float *x, const float *w, const float *rstd,
                     int64_t rows, int64_t cols, float w_offset) {
#pragma omp parallel for schedule(static) if (rows * cols > PAR_MIN)
  for (int64_t r = 0; r < rows; r++) {
    const float *xr = x + r * cols, *g = dy + r * cols;
    float *d = dx + r * cols;
    const float s = rstd[r];
    double dot = 0.0;
    for (int64_t c = 0; c < cols; c++) dot += (double)g[c] * (w[c] + w_offset) * xr[c];
    const float k = (float)(dot / (double)cols) * s * s; /* mean(dy * wo * xhat) / rstd, folded */
    for (int64_t c = 0; c < cols; c++) d[c] = s * (g[c] * (w[c] + w_offset) - xr[c] * k);
  }
  if (!dw) return;
  const int64_t blk = col_block(cols);
#pragma omp parallel for schedule(static) if (rows * cols > PAR_MIN)
  for (int64_t c0 = 0; c0 < cols; c0 += blk) {
    const int64_t c1 = c0 + blk < cols ? c0 + blk : cols;
    double acc[COL_BLOCK] = {0};
    for (int64_t r = 0; r < rows; r++) {
      const float *xr = x + r * cols, *g = dy + r * cols;
      const float s = rstd[r];
      for (int64_t c = c0; c < c1; c++) acc[c - c0] += g[c] * (xr[c] * s);
    }
    for (int64_t c = c0; c < c1; c++) dw[c] = (float)acc[c - c0];
  }
}

/* layernorm: x, out [rows, cols], w, b [cols], mean, rstd [rows]. Biased variance, as PyTorch.
 * out = (x - mean) * rstd * w + b, rstd = 1 / sqrt(var + eps) */
void lft_layernorm_fwd(float *out, float *mean, float *rstd, const float *x, const float *w, const float *b,
                       int64_t rows, int64_t cols, float eps) {
#pragma omp parallel for schedule(static) if (rows * cols > PAR_MIN)
  for (int64_t r = 0; r < rows; r++) {
    const float *xr = x + r * cols;
    float *o = out + r * cols;
    double sum = 0.0;
    for (int64_t c = 0; c < cols; c++) sum += xr[c];
    const double m = sum / (double)cols;
    double var = 0.0; /* two passes: no cancellation when |mean| >> std */
    for (int64_t c = 0; c < cols; c++) var += ((double)xr[c] - m) * ((double)xr[c] - m);
    const float s = (float)(1.0 / sqrt(var / (double)cols + (double)eps));
    /* mean as a float pair: x - hi is exact near the mean, so |mean| >> std loses nothing here */
    const float hi = (float)m, lo = (float)(m - (double)hi);
    mean[r] = hi;
    rstd[r] = s;
    for (int64_t c = 0; c < cols; c++) o[c] = ((xr[c] - hi) - lo) * s * w[c] + b[c];
  }
}

/* layernorm backward: dy, x, dx [rows, cols], w, dw, db [cols], mean, rstd [rows]. With xhat = (x - mean) * rstd:
 * dx = rstd * (dy * w - mean_c(dy * w) - xhat * mean_c(dy * w * xhat)); dw = sum_r dy * xhat; db = sum_r dy */
void lft_layernorm_bwd(float *dx, float *dw, float *db, const float *dy, const float *x, const float *w,
                       const float *mean, const float *rstd, int64_t rows, int64_t cols) {
#pragma omp parallel for schedule(static) if (rows * cols > PAR_MIN)
  for (int64_t r = 0; r < rows; r++) {
    const float *xr = x + r * cols, *g = dy + r * cols;
    float *d = dx + r * cols;
    const float m = mean[r], s = rstd[r];
    double sum_gw = 0.0, sum_gwx = 0.0;
    for (int64_t c = 0; c < cols; c++) {
      const float gw = g[c] * w[c];
      sum_gw += gw;
      sum_gwx += (double)gw * ((xr[c] - m) * s);
    }
    const float mean_gw = (float)(sum_gw / (double)cols), mean_gwx = (float)(sum_gwx / (double)cols);
    for (int64_t c = 0; c < cols; c++) d[c] = s * (g[c] * w[c] - mean_gw - (xr[c] - m) * s * mean_gwx);
  }
  if (!dw && !db) return;
  const int64_t blk = col_block(cols);
#pragma omp parallel for schedule(static) if (rows * cols > PAR_MIN)
  for (int64_t c0 = 0; c0 < cols; c0 += blk) {
    const int64_t c1 = c0 + blk < cols ? c0 + blk : cols;
    double accw[COL_BLOCK] = {0}, accb[COL_BLOCK] = {0};
    for (int64_t r = 0; r < rows; r++) {
      const float *xr = x + r * cols, *g = dy + r * cols;
      const float m = mean[r], s = rstd[r];
      for (int64_t c = c0; c < c1; c++) {
        accw[c - c0] += g[c] * ((xr[c] - m) * s);
        accb[c - c0] += g[c];
      }
    }
    for (int64_t c = c0; c < c1; c++) {
      if (dw) dw[c] = (float)accw[c - c0];
      if (db) db[c] = (float)accb[c - c0];
    }
  }
}
