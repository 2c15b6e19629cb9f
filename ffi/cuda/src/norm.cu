/* RMSNorm and LayerNorm over the last dim, forward and backward, as ffi/cpu/src/norm.c:
 *   x, out, dy, dx [rows, cols];  w, b, dw, db [cols];  rstd, mean [rows] (f32, saved for the backward).
 * Forward and the dx backward: one block of 256 threads per row, row statistics in double.
 * dw / db (sums over rows) take two launches with no atomics: per-chunk partial column sums in double,
 * then one ordered pass over the chunks, so the result is bit-for-bit reproducible. */
#include "common.cuh"

/* rmsnorm: rstd = 1 / sqrt(mean(x^2) + eps); out = x * rstd * (w + w_offset) */
template <typename T>
__device__ void rmsnorm_fwd_impl(T *out, float *rstd, const T *x, const T *w, i64 cols, float eps, float w_offset) {
  __shared__ double scratch[32];
  const i64 r = blockIdx.x;
  const T *xr = x + r * cols;
  double ss = 0.0;
  for (i64 c = threadIdx.x; c < cols; c += blockDim.x) {
    const double v = ld(xr + c);
    ss += v * v;
  }
  ss = block_sum(ss, scratch);
  const float s = (float)(1.0 / sqrt(ss / (double)cols + (double)eps));
  if (threadIdx.x == 0) rstd[r] = s;
  T *o = out + r * cols;
  for (i64 c = threadIdx.x; c < cols; c += blockDim.x) st(o + c, ld(xr + c) * s * (ld(w + c) + w_offset));
}

/* rmsnorm backward, dx: with xhat = x * rstd and wo = w + w_offset,
 * dx = rstd * (dy * wo - xhat * mean_c(dy * wo * xhat)) */
template <typename T>
__device__ void rmsnorm_bwd_dx_impl(T *dx, const T *dy, const T *x, const T *w, const float *rstd, i64 cols, float w_offset) {
  __shared__ double scratch[32];
  const i64 r = blockIdx.x;
  const T *xr = x + r * cols, *g = dy + r * cols;
  const float s = rstd[r];
  double dot = 0.0;
  for (i64 c = threadIdx.x; c < cols; c += blockDim.x) dot += (double)ld(g + c) * (ld(w + c) + w_offset) * ld(xr + c);
  dot = block_sum(dot, scratch);
  const float k = (float)(dot / (double)cols) * s * s; /* mean(dy * wo * xhat) / rstd, folded */
  T *d = dx + r * cols;
  for (i64 c = threadIdx.x; c < cols; c += blockDim.x) st(d + c, s * (ld(g + c) * (ld(w + c) + w_offset) - ld(xr + c) * k));
}

/* layernorm: biased variance (two passes, as PyTorch); out = (x - mean) * rstd * w + b. The mean is kept
 * as a float pair (hi, lo) so x - mean loses nothing when |mean| >> std; mean[r] stores hi. */
template <typename T>
__device__ void layernorm_fwd_impl(T *out, float *mean, float *rstd, const T *x, const T *w, const T *b, i64 cols, float eps) {
  __shared__ double scratch[32];
  const i64 r = blockIdx.x;
  const T *xr = x + r * cols;
  double sum = 0.0;
  for (i64 c = threadIdx.x; c < cols; c += blockDim.x) sum += (double)ld(xr + c);
  const double m = block_sum(sum, scratch) / (double)cols;
  double var = 0.0;
  for (i64 c = threadIdx.x; c < cols; c += blockDim.x) {
    const double dv = (double)ld(xr + c) - m;
    var += dv * dv;
  }
  var = block_sum(var, scratch);
  const float s = (float)(1.0 / sqrt(var / (double)cols + (double)eps));
  const float hi = (float)m, lo = (float)(m - (double)hi);
  if (threadIdx.x == 0) {
    mean[r] = hi;
    rstd[r] = s;
  }
  T *o = out + r * cols;
  for (i64 c = threadIdx.x; c < cols; c += blockDim.x) st(o + c, ((ld(xr + c) - hi) - lo) * s * ld(w + c) + ld(b + c));
}

/* layernorm backward, dx: with xhat = (x - mean) * rstd,
 * dx = rstd * (dy * w - mean_c(dy * w) - xhat * mean_c(dy * w * xhat)) */
template <typename T>
__device__ void layernorm_bwd_dx_impl(T *dx, const T *dy, const T *x, const T *w, const float *mean, const float *rstd, i64 cols) {
  __shared__ double scratch[32];
  const i64 r = blockIdx.x;
  const T *xr = x + r * cols, *g = dy + r * cols;
  const float m = mean[r], s = rstd[r];
  double sgw = 0.0, sgwx = 0.0;
  for (i64 c = threadIdx.x; c < cols; c += blockDim.x) {
    const float gw = ld(g + c) * ld(w + c);
    sgw += gw;
    sgwx += (double)gw * ((ld(xr + c) - m) * s);
  }
  sgw = block_sum(sgw, scratch);
  sgwx = block_sum(sgwx, scratch);
  const float mean_gw = (float)(sgw / (double)cols), mean_gwx = (float)(sgwx / (double)cols);
  T *d = dx + r * cols;
  for (i64 c = threadIdx.x; c < cols; c += blockDim.x)
    st(d + c, s * (ld(g + c) * ld(w + c) - mean_gw - (ld(xr + c) - m) * s * mean_gwx));
}

/* weight gradients, stage 1: for the rows of chunk blockIdx.y ([chunk * rows_per_chunk, +rows_per_chunk)),
 * part_w[chunk, c] = sum_r dy * ((x - mean) * rstd) and part_b[chunk, c] = sum_r dy (double).
 * mean == NULL means RMSNorm (mean 0); part_w or part_b may be NULL. Block (32, 8), grid (ceil(cols/32), chunks). */
template <typename T>
__device__ void norm_wgrad_partial_impl(double *part_w, double *part_b, const T *dy, const T *x, const float *mean,
                                        const float *rstd, i64 rows, i64 cols, i64 rows_per_chunk) {
  __shared__ double sw[8][33], sb[8][33];
  const i64 c = (i64)blockIdx.x * 32 + threadIdx.x;
  const i64 r0 = (i64)blockIdx.y * rows_per_chunk;
  const i64 r1 = r0 + rows_per_chunk < rows ? r0 + rows_per_chunk : rows;
  double aw = 0.0, ab = 0.0;
  if (c < cols) {
    for (i64 r = r0 + threadIdx.y; r < r1; r += 8) {
      const float g = ld(dy + r * cols + c), m = mean ? mean[r] : 0.0f;
      aw += g * ((ld(x + r * cols + c) - m) * rstd[r]);
      ab += g;
    }
  }
  sw[threadIdx.y][threadIdx.x] = aw;
  sb[threadIdx.y][threadIdx.x] = ab;
  __syncthreads();
  if (threadIdx.y == 0 && c < cols) {
    double tw = 0.0, tb = 0.0;
    for (int y = 0; y < 8; y++) tw += sw[y][threadIdx.x], tb += sb[y][threadIdx.x];
    if (part_w) part_w[(i64)blockIdx.y * cols + c] = tw;
    if (part_b) part_b[(i64)blockIdx.y * cols + c] = tb;
  }
}

/* weight gradients, stage 2: dw[c] = sum_chunk part_w[chunk, c] in chunk order (likewise db). Either may be NULL. */
template <typename T>
__device__ void norm_wgrad_final_impl(T *dw, T *db, const double *part_w, const double *part_b, i64 chunks, i64 cols) {
  GRID_STRIDE(c, cols) {
    double tw = 0.0, tb = 0.0;
    for (i64 k = 0; k < chunks; k++) {
      if (dw) tw += part_w[k * cols + c];
      if (db) tb += part_b[k * cols + c];
    }
    if (dw) st(dw + c, (float)tw);
    if (db) st(db + c, (float)tb);
  }
}

#define DEF(sfx, T)                                                                                                    \
  extern "C" __global__ void __launch_bounds__(256) lft_rmsnorm_fwd_##sfx(T *out, float *rstd, const T *x, const T *w, \
                                                                          i64 cols, float eps, float w_offset) {       \
    rmsnorm_fwd_impl(out, rstd, x, w, cols, eps, w_offset);                                                            \
  }                                                                                                                    \
  extern "C" __global__ void __launch_bounds__(256) lft_rmsnorm_bwd_dx_##sfx(                                          \
      T *dx, const T *dy, const T *x, const T *w, const float *rstd, i64 cols, float w_offset) {                       \
    rmsnorm_bwd_dx_impl(dx, dy, x, w, rstd, cols, w_offset);                                                           \
  }                                                                                                                    \
  extern "C" __global__ void __launch_bounds__(256) lft_layernorm_fwd_##sfx(                                           \
      T *out, float *mean, float *rstd, const T *x, const T *w, const T *b, i64 cols, float eps) {                     \
    layernorm_fwd_impl(out, mean, rstd, x, w, b, cols, eps);                                                           \
  }                                                                                                                    \
  extern "C" __global__ void __launch_bounds__(256) lft_layernorm_bwd_dx_##sfx(                                        \
      T *dx, const T *dy, const T *x, const T *w, const float *mean, const float *rstd, i64 cols) {                    \
    layernorm_bwd_dx_impl(dx, dy, x, w, mean, rstd, cols);                                                             \
  }                                                                                                                    \
  extern "C" __global__ void __launch_bounds__(256) lft_norm_wgrad_partial_##sfx(                                      \
      double *part_w, double *part_b, const T *dy, const T *x, const float *mean, const float *rstd, i64 rows,         \
      i64 cols, i64 rows_per_chunk) {                                                                                  \
    norm_wgrad_partial_impl(part_w, part_b, dy, x, mean, rstd, rows, cols, rows_per_chunk);                            \
  }                                                                                                                    \
  extern "C" __global__ void lft_norm_wgrad_final_##sfx(T *dw, T *db, const double *part_w, const double *part_b,       \
                                                        i64 chunks, i64 cols) {                                        \
    norm_wgrad_final_impl(dw, db, part_w, part_b, chunks, cols);                                                       \
  }
FOR_FLOAT_TYPES(DEF)
#undef DEF
