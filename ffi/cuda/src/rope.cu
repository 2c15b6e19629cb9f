/* Rotary position embedding in the HF "rotate_half" layout, one kernel for forward and backward, as
 * ffi/cpu/src/rope.c:  x, out [batch, seq, heads, head_dim];  pos [batch, seq] int32;  inv_freq [n_freq].
 * For i < n_freq the pair (i, i + n_freq) is rotated by angle = pos * inv_freq[i]; dims from 2 * n_freq on
 * pass through (partial rotary). sign = -1 rotates by the opposite angle: the exact backward. The angle is
 * formed in double (at positions near 1e5 a float product is off by ~4e-3 rad). out may alias x.
 * One block per token: the token's cos/sin table (2 * n_freq floats, dynamic shared memory) is computed
 * once and shared by all its heads. */
#include "common.cuh"

template <typename T>
__device__ void rope_impl(T *out, const T *x, const int32_t *pos, const float *inv_freq, i64 heads, i64 head_dim,
                          i64 n_freq, float sign) {
  extern __shared__ float cs[]; /* cos [n_freq], then sign * sin [n_freq] */
  const i64 t = blockIdx.x;
  const double p = (double)pos[t];
  for (i64 i = threadIdx.x; i < n_freq; i += blockDim.x) {
    double s, c;
    sincos(p * (double)inv_freq[i], &s, &c);
    cs[i] = (float)c;
    cs[n_freq + i] = (float)((double)sign * s);
  }
  __syncthreads();
  const T *xt = x + t * heads * head_dim;
  T *ot = out + t * heads * head_dim;
  for (i64 k = threadIdx.x; k < heads * n_freq; k += blockDim.x) {
    const i64 h = k / n_freq, i = k - h * n_freq;
    const T *xr = xt + h * head_dim;
    T *o = ot + h * head_dim;
    const float x1 = ld(xr + i), x2 = ld(xr + n_freq + i), c = cs[i], s = cs[n_freq + i];
    st(o + i, x1 * c - x2 * s);
    st(o + n_freq + i, x2 * c + x1 * s);
  }
  const i64 rest = head_dim - 2 * n_freq;
  if (rest > 0 && (const void *)out != (const void *)x) {
    for (i64 k = threadIdx.x; k < heads * rest; k += blockDim.x) {
      const i64 h = k / rest, d = 2 * n_freq + (k - h * rest);
      ot[h * head_dim + d] = xt[h * head_dim + d];
    }
  }
}

#define DEF(sfx, T)                                                                                                    \
  extern "C" __global__ void __launch_bounds__(128) lft_rope_##sfx(T *out, const T *x, const int32_t *pos,             \
                                                                   const float *inv_freq, i64 heads, i64 head_dim,     \
                                                                   i64 n_freq, float sign) {                           \
    rope_impl(out, x, pos, inv_freq, heads, head_dim, n_freq, sign);                                                   \
  }
FOR_FLOAT_TYPES(DEF)
#undef DEF
