/* Softmax over the last dim, forward and backward, as ffi/cpu/src/softmax.c: x, y, dy, dx [rows, cols].
 * One block of 256 threads per row; the row max is subtracted before exp (finite for any finite input);
 * the row sum is accumulated per thread in float and across threads in double. */
#include "common.cuh"

/* softmax: out[r, c] = exp(x[r, c] - max_r) / sum_c exp(x[r, c] - max_r) */
template <typename T>
__device__ void softmax_fwd_impl(T *out, const T *x, i64 cols) {
  __shared__ float fscratch[32];
  __shared__ double dscratch[32];
  const T *xr = x + (i64)blockIdx.x * cols;
  T *o = out + (i64)blockIdx.x * cols;
  float mx = -INFINITY;
  for (i64 c = threadIdx.x; c < cols; c += blockDim.x) mx = fmaxf(mx, ld(xr + c));
  mx = block_max(mx, fscratch);
  float part = 0.0f;
  for (i64 c = threadIdx.x; c < cols; c += blockDim.x) part += expf(ld(xr + c) - mx);
  const double sum = block_sum((double)part, dscratch);
  const float inv = (float)(1.0 / sum);
  for (i64 c = threadIdx.x; c < cols; c += blockDim.x) st(o + c, expf(ld(xr + c) - mx) * inv);
}

/* softmax backward: dx = y * (dy - sum_c(dy * y)) */
template <typename T>
__device__ void softmax_bwd_impl(T *dx, const T *dy, const T *y, i64 cols) {
  __shared__ double dscratch[32];
  const i64 base = (i64)blockIdx.x * cols;
  double dot = 0.0;
  for (i64 c = threadIdx.x; c < cols; c += blockDim.x) dot += (double)ld(dy + base + c) * ld(y + base + c);
  const float d = (float)block_sum(dot, dscratch);
  for (i64 c = threadIdx.x; c < cols; c += blockDim.x) st(dx + base + c, ld(y + base + c) * (ld(dy + base + c) - d));
}

#define DEF(sfx, T)                                                                                                    \
  extern "C" __global__ void __launch_bounds__(256) lft_softmax_fwd_##sfx(T *out, const T *x, i64 cols) {              \
    softmax_fwd_impl(out, x, cols);                                                                                    \
  }                                                                                                                    \
  extern "C" __global__ void __launch_bounds__(256) lft_softmax_bwd_##sfx(T *dx, const T *dy, const T *y, i64 cols) {  \
    softmax_bwd_impl(dx, dy, y, cols);                                                                                 \
  }
FOR_FLOAT_TYPES(DEF)
#undef DEF
