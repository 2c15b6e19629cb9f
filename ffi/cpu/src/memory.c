/* Host memory, copies and fills: the CPU backend's allocator and the primitives behind reshape-free
 * shape ops (concat/slice via row copies, permute via an index walk). */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <omp.h>
#include "lft_cpu.h"

void *lft_alloc(int64_t bytes) {
  /* A negative count, or one whose rounding up would wrap, is refused rather than wrapped to a small block. */
  if (bytes < 0 || (uint64_t)bytes > (uint64_t)PTRDIFF_MAX - 63) return NULL;
  size_t size = ((size_t)bytes + 63) & ~(size_t)63; /* aligned_alloc wants a multiple of the alignment */
  return aligned_alloc(64, size ? size : 64);
}

void lft_free(void *p) { free(p); }

void lft_copy_bytes(void *dst, const void *src, int64_t bytes) {
  if (bytes < (1 << 20)) {
    memcpy(dst, src, (size_t)bytes);
    return;
  }
  /* Large copies in parallel chunks: one thread does not saturate memory bandwidth. */
  const int64_t chunk = 1 << 18;
  const int64_t n = (bytes + chunk - 1) / chunk;
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; i++) {
    int64_t off = i * chunk;
    int64_t len = off + chunk > bytes ? bytes - off : chunk;
    memcpy((char *)dst + off, (const char *)src + off, (size_t)len);
  }
}

void lft_fill_f32(float *x, int64_t n, float value) {
#pragma omp parallel for schedule(static) if (n > (1 << 16))
  for (int64_t i = 0; i < n; i++) x[i] = value;
}

void lft_fill_i32(int32_t *x, int64_t n, int32_t value) {
  for (int64_t i = 0; i < n; i++) x[i] = value;
}

void lft_copy_rows(void *dst, int64_t dst_stride, const void *src, int64_t src_stride, int64_t rows,
                   int64_t row_bytes) {
#pragma omp parallel for schedule(static) if (rows * row_bytes > (1 << 18))
  for (int64_t r = 0; r < rows; r++) {
    memcpy((char *)dst + r * dst_stride, (const char *)src + r * src_stride, (size_t)row_bytes);
  }
}

/* out.shape[i] = shape[perm[i]]. Walks the output in order; the innermost output axis is a strided
 * read of the input. */
void lft_permute_4b(void *out, const void *in, int32_t ndim, const int64_t *shape, const int64_t *perm) {
  int64_t in_stride[8], out_shape[8], step[8];
  int64_t s = 1;
  for (int i = ndim - 1; i >= 0; i--) {
    in_stride[i] = s;
    s *= shape[i];
  }
  const int64_t total = s;
  for (int i = 0; i < ndim; i++) {
    out_shape[i] = shape[perm[i]];
    step[i] = in_stride[perm[i]];
  }
  const int64_t inner = ndim > 0 ? out_shape[ndim - 1] : 1;
  const int64_t inner_step = ndim > 0 ? step[ndim - 1] : 1;
  const int64_t outer = inner ? total / inner : 0;
  const uint32_t *src = in;
  uint32_t *dst = out;
#pragma omp parallel for schedule(static) if (total > (1 << 16))
  for (int64_t o = 0; o < outer; o++) {
    int64_t rem = o, base = 0;
    for (int i = ndim - 2; i >= 0; i--) {
      base += (rem % out_shape[i]) * step[i];
      rem /= out_shape[i];
    }
    uint32_t *d = dst + o * inner;
    for (int64_t j = 0; j < inner; j++) d[j] = src[base + j * inner_step];
  }
}

int32_t lft_num_threads(void) { return omp_get_max_threads(); }
void lft_set_num_threads(int32_t n) { omp_set_num_threads(n); }
