/* Elementwise arithmetic with b broadcast over a's leading rows, forward and backward side by side, as in
 * ffi/cpu/src/elementwise.c:  a, out, g, da [n, m];  b, db [m];  op 0 add, 1 sub, 2 mul, 3 div.
 * Backward: da = dL/da, db = dL/db summed over the n rows (double accumulators, fixed order). */
#include "common.cuh"

__device__ __forceinline__ float binop_apply(int op, float a, float b) {
  switch (op) {
    case 0: return a + b;
    case 1: return a - b;
    case 2: return a * b;
    default: return a / b;
  }
}

/* d(a op b)/db for one element, times g (the CPU's db_term). */
__device__ __forceinline__ float binop_db_term(int op, float g, float a, float b) {
  switch (op) {
    case 0: return g;
    case 1: return -g;
    case 2: return g * a;
    default: return -g * a / (b * b);
  }
}

/* binary forward: a, out [n, m], b [m] */
template <typename T>
__device__ void binary_fwd_impl(int op, T *out, const T *a, const T *b, i64 n, i64 m) {
  GRID_STRIDE(i, n * m) st(out + i, binop_apply(op, ld(a + i), ld(b + i % m)));
}

/* binary backward, the da part: g, da [n, m], b [m] */
template <typename T>
__device__ void binary_bwd_da_impl(int op, T *da, const T *g, const T *b, i64 n, i64 m) {
  GRID_STRIDE(i, n * m) {
    const float gi = ld(g + i);
    st(da + i, op <= 1 ? gi : op == 2 ? gi * ld(b + i % m) : gi / ld(b + i % m));
  }
}

/* binary backward, the db part: db[j] = sum_r db_term(g[r, j], a[r, j], b[j]).
 * Block (32, 8): 32 columns, 8 row lanes each summing rows ty, ty+8, ... in double; the 8 partials are
 * then added in lane order, so the result does not depend on scheduling. Grid: ceil(m / 32). */
template <typename T>
__device__ void binary_bwd_db_impl(int op, T *db, const T *g, const T *a, const T *b, i64 n, i64 m) {
  __shared__ double part[8][33];
  const i64 j = (i64)blockIdx.x * 32 + threadIdx.x;
  double acc = 0.0;
  if (j < m) {
    const float bj = ld(b + j);
    for (i64 r = threadIdx.y; r < n; r += 8) acc += (double)binop_db_term(op, ld(g + r * m + j), ld(a + r * m + j), bj);
  }
  part[threadIdx.y][threadIdx.x] = acc;
  __syncthreads();
  if (threadIdx.y == 0 && j < m) {
    double s = 0.0;
    for (int y = 0; y < 8; y++) s += part[y][threadIdx.x];
    st(db + j, (float)s);
  }
}

/* scale: x, out [n]. out = x * s */
template <typename T>
__device__ void scale_impl(T *out, const T *x, float s, i64 n) {
  GRID_STRIDE(i, n) st(out + i, ld(x + i) * s);
}

/* axpy: x, y [n]. y += alpha * x (accumulates) */
template <typename T>
__device__ void axpy_impl(T *y, const T *x, float alpha, i64 n) {
  GRID_STRIDE(i, n) st(y + i, ld(y + i) + alpha * ld(x + i));
}

#define DEF(sfx, T)                                                                                                    \
  extern "C" __global__ void lft_binary_fwd_##sfx(int op, T *out, const T *a, const T *b, i64 n, i64 m) {             \
    binary_fwd_impl(op, out, a, b, n, m);                                                                                   \
  }                                                                                                                    \
  extern "C" __global__ void lft_binary_bwd_da_##sfx(int op, T *da, const T *g, const T *b, i64 n, i64 m) {           \
    binary_bwd_da_impl(op, da, g, b, n, m);                                                                                 \
  }                                                                                                                    \
  extern "C" __global__ void __launch_bounds__(256) lft_binary_bwd_db_##sfx(int op, T *db, const T *g, const T *a,     \
                                                                            const T *b, i64 n, i64 m) {                \
    binary_bwd_db_impl(op, db, g, a, b, n, m);                                                                              \
  }                                                                                                                    \
  extern "C" __global__ void lft_scale_##sfx(T *out, const T *x, float s, i64 n) { scale_impl(out, x, s, n); }              \
  extern "C" __global__ void lft_axpy_##sfx(T *y, const T *x, float alpha, i64 n) { axpy_impl(y, x, alpha, n); }
FOR_FLOAT_TYPES(DEF)
#undef DEF
