/* Rotary position embedding in the HF "rotate_half" layout, one call for forward and backward:
 * x, out [batch, seq, heads, head_dim], pos [batch, seq] int32, inv_freq [n_freq].
 * For i < n_freq the pair (i, i + n_freq) is rotated by angle = pos * inv_freq[i]; dims from 2 * n_freq
 * on pass through (partial rotary). A rotation's inverse is its transpose, so sign = -1 (rotate by
 * -angle) is the exact backward. The angle is formed in double: at positions near 1e5 a float product
 * is off by up to ~4e-3 rad. out may alias x (each pair is read before it is written). */
#include <math.h>
#include <stdlib.h>
#include "lft_cpu.h"

#define PAR_MIN (1 << 14)

int32_t lft_rope(float *out, const float *x, const int32_t *pos, const float *inv_freq, int64_t batch, int64_t seq,
                 int64_t heads, int64_t head_dim, int64_t n_freq, float sign) {
  const int64_t tokens = lft_mul_i64(batch, seq), per_token = lft_mul_i64(heads, head_dim);
  if (tokens < 0 || per_token < 0 || lft_mul_i64(tokens, per_token) < 0 || n_freq < 0) return LFT_ERR_SIZE;
  int32_t status = LFT_OK;
#pragma omp parallel if (tokens * per_token > PAR_MIN)
  {
    /* cos, then sin, for this token's position: shared by all its heads */
    float *cs = lft_malloc_n(2, n_freq, sizeof(float));
    if (!cs) {
#pragma omp atomic write
      status = LFT_ERR_NOMEM;
    }
#pragma omp barrier
    int32_t go;
#pragma omp atomic read
    go = status;
#pragma omp for schedule(static)
    for (int64_t t = 0; t < (go == LFT_OK ? tokens : 0); t++) {
      const double p = (double)pos[t];
      for (int64_t i = 0; i < n_freq; i++) {
        const double a = p * (double)inv_freq[i];
        cs[i] = (float)cos(a);
        cs[n_freq + i] = (float)(sign * sin(a));
      }
      for (int64_t h = 0; h < heads; h++) {
        const float *xr = x + (t * heads + h) * head_dim;
        float *o = out + (t * heads + h) * head_dim;
        for (int64_t i = 0; i < n_freq; i++) {
          const float x1 = xr[i], x2 = xr[n_freq + i], c = cs[i], s = cs[n_freq + i];
          o[i] = x1 * c - x2 * s;
          o[n_freq + i] = x2 * c + x1 * s;
        }
        if (o != xr)
          for (int64_t d = 2 * n_freq; d < head_dim; d++) o[d] = xr[d];
      }
    }
    free(cs);
  }
  return status;
}
