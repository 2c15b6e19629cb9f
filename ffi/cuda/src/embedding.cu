/* Token embedding, forward gather and backward scatter-add, as ffi/cpu/src/embedding.c:
 *   w, dw [vocab, dim];  ids [n] int32;  out, dout [n, dim].
 * The backward is deterministic, not atomic: the binding (which reads the ids back anyway to range-check
 * them) groups token positions by id with a stable counting sort, so each distinct id is one block row
 * that adds its tokens' gradient rows in token order -- the CPU's order, so f32 results are bit-identical
 * to the CPU kernel's. */
#include "common.cuh"

/* embedding: out[i, c] = w[ids[i], c] */
template <typename T>
__device__ void embedding_fwd_impl(T *out, const T *w, const int32_t *ids, i64 n, i64 dim) {
  GRID_STRIDE(e, n * dim) {
    const i64 i = e / dim, c = e - i * dim;
    out[e] = w[(i64)ids[i] * dim + c];
  }
}

/* embedding backward (accumulates): for distinct id u = uids[blockIdx.x], over the token positions
 * order[starts[u] .. starts[u+1]) in increasing order, dw[u, c] += dout[pos, c].
 * Grid (distinct ids, ceil(dim / 256)); block 256 threads, one column each. */
template <typename T>
__device__ void embedding_bwd_impl(T *dw, const T *dout, const int32_t *order, const int32_t *starts,
                                   const int32_t *uids, i64 dim) {
  const i64 c = (i64)blockIdx.y * blockDim.x + threadIdx.x;
  if (c >= dim) return;
  const int u = blockIdx.x;
  T *d = dw + (i64)uids[u] * dim + c;
  float acc = ld(d);
  for (int k = starts[u]; k < starts[u + 1]; k++) acc += ld(dout + (i64)order[k] * dim + c);
  st(d, acc);
}

#define DEF(sfx, T)                                                                                                    \
  extern "C" __global__ void lft_embedding_fwd_##sfx(T *out, const T *w, const int32_t *ids, i64 n, i64 dim) {         \
    embedding_fwd_impl(out, w, ids, n, dim);                                                                           \
  }                                                                                                                    \
  extern "C" __global__ void __launch_bounds__(256) lft_embedding_bwd_##sfx(                                           \
      T *dw, const T *dout, const int32_t *order, const int32_t *starts, const int32_t *uids, i64 dim) {               \
    embedding_bwd_impl(dw, dout, order, starts, uids, dim);                                                            \
  }
FOR_FLOAT_TYPES(DEF)
#undef DEF
