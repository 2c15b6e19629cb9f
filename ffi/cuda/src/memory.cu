/* Copies that are not a plain memcpy: strided rows (the primitive behind concat and slice) and permute.
 * Fills use the driver's cuMemsetD32/D16 and whole copies cuMemcpyDtoD, so they have no kernel here. */
#include "common.cuh"

/* copy_rows: dst[r * dst_stride + c] = src[r * src_stride + c] for c < row_units, r < rows.
 * Strides and row length in units of the word type W (the binding picks the widest W that divides
 * every offset, stride and length: 16, 4 or 1 byte). */
template <typename W>
__device__ void copy_rows_impl(W *dst, i64 dst_stride, const W *src, i64 src_stride, i64 rows, i64 row_units) {
  const i64 total = rows * row_units;
  GRID_STRIDE(i, total) {
    const i64 r = i / row_units, c = i - r * row_units;
    dst[r * dst_stride + c] = src[r * src_stride + c];
  }
}
extern "C" __global__ void lft_copy_rows_u8(uint8_t *d, i64 ds, const uint8_t *s, i64 ss, i64 rows, i64 w) { copy_rows_impl(d, ds, s, ss, rows, w); }
extern "C" __global__ void lft_copy_rows_u32(uint32_t *d, i64 ds, const uint32_t *s, i64 ss, i64 rows, i64 w) { copy_rows_impl(d, ds, s, ss, rows, w); }
extern "C" __global__ void lft_copy_rows_u128(uint4 *d, i64 ds, const uint4 *s, i64 ss, i64 rows, i64 w) { copy_rows_impl(d, ds, s, ss, rows, w); }

/* permute: out.shape[i] = shape[perm[i]], ndim <= 8. `dims` carries the output shape and, per output
 * axis, the input stride of that axis (both in elements), passed by value as one 128-byte struct. */
struct PermuteDims {
  i64 out_shape[8];
  i64 in_step[8];
};

template <typename E>
__device__ void permute_impl(E *out, const E *in, int ndim, PermuteDims dims, i64 total) {
  GRID_STRIDE(o, total) {
    i64 rem = o, src = 0;
    for (int a = ndim - 1; a >= 0; a--) {
      const i64 extent = dims.out_shape[a];
      const i64 idx = rem % extent;
      rem /= extent;
      src += idx * dims.in_step[a];
    }
    out[o] = in[src];
  }
}
extern "C" __global__ void lft_permute_4b(uint32_t *out, const uint32_t *in, int ndim, PermuteDims dims, i64 total) { permute_impl(out, in, ndim, dims, total); }
extern "C" __global__ void lft_permute_2b(uint16_t *out, const uint16_t *in, int ndim, PermuteDims dims, i64 total) { permute_impl(out, in, ndim, dims, total); }
