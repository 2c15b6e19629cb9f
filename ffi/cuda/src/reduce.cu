/* Reductions with double accumulators in a fixed order (the result depends only on the sizes, never on
 * scheduling), as ffi/cpu/src/reduce.c. sum and sum of squares take two launches: per-block partials, then
 * one block over the partials; the binding reads the one double back. */
#include "common.cuh"

/* partial sums: x [n] -> partial [gridDim.x] (double). Block 256 threads; squares != 0 sums x^2. */
template <typename T>
__device__ void reduce_partial_impl(double *partial, const T *x, i64 n, int squares) {
  __shared__ double scratch[32];
  double s = 0.0;
  GRID_STRIDE(i, n) {
    const double v = (double)ld(x + i);
    s += squares ? v * v : v;
  }
  s = block_sum(s, scratch);
  if (threadIdx.x == 0) partial[blockIdx.x] = s;
}

/* final sum: partial [count] -> out [1]. One block of 256 threads. */
extern "C" __global__ void __launch_bounds__(256) lft_reduce_final(double *out, const double *partial, int count) {
  __shared__ double scratch[32];
  double s = 0.0;
  for (int i = threadIdx.x; i < count; i += blockDim.x) s += partial[i];
  s = block_sum(s, scratch);
  if (threadIdx.x == 0) out[0] = s;
}

/* count_nonfinite: *count += the number of NaN/±Inf in x [n] (the check after an optimizer step).
 * Per-thread counts, one block sum, one atomic per block; the caller zeroes *count first. */
template <typename T>
__device__ void count_nonfinite_impl(unsigned long long *count, const T *x, i64 n) {
  __shared__ double scratch[32];
  double bad = 0.0;
  GRID_STRIDE(i, n) bad += isfinite(ld(x + i)) ? 0.0 : 1.0;
  bad = block_sum(bad, scratch);
  if (threadIdx.x == 0 && bad > 0.0) atomicAdd(count, (unsigned long long)bad);
}

/* sum_rows: x [rows, cols] -> out [rows], out[r] = sum_c x[r, c]. One warp per row, 8 rows per block. */
template <typename T>
__device__ void sum_rows_impl(T *out, const T *x, i64 rows, i64 cols) {
  const i64 r = (i64)blockIdx.x * 8 + (threadIdx.x >> 5);
  const int lane = threadIdx.x & 31;
  if (r >= rows) return;
  const T *xr = x + r * cols;
  double s = 0.0;
  for (i64 c = lane; c < cols; c += 32) s += (double)ld(xr + c);
  s = warp_sum(s);
  if (lane == 0) st(out + r, (float)s);
}

/* expand_rows: g [rows] -> out [rows, cols], out[r, c] = s * g[r] (the backward of sum_rows) */
template <typename T>
__device__ void expand_rows_impl(T *out, const T *g, float s, i64 rows, i64 cols) {
  GRID_STRIDE(i, rows * cols) st(out + i, ld(g + i / cols) * s);
}

#define DEF(sfx, T)                                                                                                    \
  extern "C" __global__ void __launch_bounds__(256) lft_reduce_partial_##sfx(double *partial, const T *x, i64 n,       \
                                                                             int squares) {                            \
    reduce_partial_impl(partial, x, n, squares);                                                                       \
  }                                                                                                                    \
  extern "C" __global__ void __launch_bounds__(256) lft_count_nonfinite_##sfx(unsigned long long *count, const T *x,  \
                                                                              i64 n) {                                 \
    count_nonfinite_impl(count, x, n);                                                                                 \
  }                                                                                                                    \
  extern "C" __global__ void __launch_bounds__(256) lft_sum_rows_##sfx(T *out, const T *x, i64 rows, i64 cols) {       \
    sum_rows_impl(out, x, rows, cols);                                                                                 \
  }                                                                                                                    \
  extern "C" __global__ void lft_expand_rows_##sfx(T *out, const T *g, float s, i64 rows, i64 cols) {                  \
    expand_rows_impl(out, g, s, rows, cols);                                                                           \
  }
FOR_FLOAT_TYPES(DEF)
#undef DEF
