/* Fused cross-entropy over a vocabulary, forward and backward, as ffi/cpu/src/cross_entropy.c:
 *   logits, dlogits [rows, vocab];  targets [rows] int32;  loss, lse, grow [rows] f32.
 * Forward: one block of 256 threads per row streams the row once; each thread keeps an online
 * (max, sum of exp) over its strided chunk of the vocabulary, and the block merges the pairs (sums in
 * double), so no [rows, vocab] probability matrix exists. Rows whose target is ignore_index cost nothing:
 * loss 0, lse 0, gradient row 0. The backward recomputes softmax from lse: grid (rows, vocab chunks). */
#include "common.cuh"

/* cross-entropy: lse[r] = log sum_v exp(logits[r, v]); loss[r] = lse[r] - logits[r, targets[r]] */
template <typename T>
__device__ void cross_entropy_fwd_impl(float *loss, float *lse, const T *logits, const int32_t *targets, i64 vocab,
                                       int ignore_index) {
  __shared__ float fscratch[32];
  __shared__ double dscratch[32];
  const i64 r = blockIdx.x;
  const int target = targets[r];
  if (target == ignore_index) {
    if (threadIdx.x == 0) loss[r] = 0.0f, lse[r] = 0.0f;
    return;
  }
  const T *z = logits + r * vocab;
  float m = -INFINITY, s = 0.0f; /* online: s = sum exp(z - m) over this thread's elements */
  for (i64 v = threadIdx.x; v < vocab; v += blockDim.x) {
    const float zv = ld(z + v);
    if (zv == -INFINITY) continue; /* contributes exp(-inf) = 0; skipping avoids -inf - -inf */
    if (zv > m) {
      s = s * expf(m - zv) + 1.0f;
      m = zv;
    } else {
      s += expf(zv - m);
    }
  }
  const float mx = block_max(m, fscratch);
  const double part = m == -INFINITY ? 0.0 : (double)s * (double)expf(m - mx);
  const double sum = block_sum(part, dscratch);
  if (threadIdx.x == 0) {
    const double l = (double)mx + log(sum);
    lse[r] = (float)l;
    loss[r] = (float)(l - (double)ld(z + target));
  }
}

/* cross-entropy backward: dlogits[r, v] = grow[r] * (exp(logits[r, v] - lse[r]) - (v == targets[r])).
 * Grid (rows, ceil(vocab / chunk)); each block writes one chunk of one row. */
template <typename T>
__device__ void cross_entropy_bwd_impl(T *dlogits, const float *grow, const T *logits, const float *lse,
                                       const int32_t *targets, i64 vocab, int ignore_index, i64 chunk) {
  const i64 r = blockIdx.x;
  const i64 v0 = (i64)blockIdx.y * chunk;
  const i64 v1 = v0 + chunk < vocab ? v0 + chunk : vocab;
  const int target = targets[r];
  T *d = dlogits + r * vocab;
  if (target == ignore_index) {
    for (i64 v = v0 + threadIdx.x; v < v1; v += blockDim.x) st(d + v, 0.0f);
    return;
  }
  const T *z = logits + r * vocab;
  const float g = grow[r], l = lse[r];
  for (i64 v = v0 + threadIdx.x; v < v1; v += blockDim.x) {
    float dv = g * expf(ld(z + v) - l);
    if (v == target) dv -= g;
    st(d + v, dv);
  }
}

#define DEF(sfx, T)                                                                                                    \
  extern "C" __global__ void __launch_bounds__(256) lft_cross_entropy_fwd_##sfx(                                       \
      float *loss, float *lse, const T *logits, const int32_t *targets, i64 vocab, int ignore_index) {                 \
    cross_entropy_fwd_impl(loss, lse, logits, targets, vocab, ignore_index);                                           \
  }                                                                                                                    \
  extern "C" __global__ void __launch_bounds__(256) lft_cross_entropy_bwd_##sfx(                                       \
      T *dlogits, const float *grow, const T *logits, const float *lse, const int32_t *targets, i64 vocab,             \
      int ignore_index, i64 chunk) {                                                                                   \
    cross_entropy_bwd_impl(dlogits, grow, logits, lse, targets, vocab, ignore_index, chunk);                           \
  }
FOR_FLOAT_TYPES(DEF)
#undef DEF
