/* AdamW step (Loshchilov & Hutter), decoupled weight decay, as torch.optim.AdamW computes it:
 *   p -= lr * wd * p;  m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g²;
 *   p -= lr * (m / bc1) / (sqrt(v / bc2) + eps)
 * p, g, m, v [n], all f32 (master weights and moments stay f32 whatever the model's storage dtype).
 * Returns how many of the new p values are NaN or ±Inf, counted as they are written (no second pass):
 * the train loop stops a run whose update left non-finite weights. */
#include <math.h>
#include "lft_cpu.h"

int64_t lft_adamw_step(float *p, const float *g, float *m, float *v, int64_t n, float lr, float beta1, float beta2,
                    float eps, float weight_decay, float bc1, float bc2) {
  const float decay = 1.0f - lr * weight_decay;
  const float step = lr / bc1;
  const float inv_sqrt_bc2 = 1.0f / sqrtf(bc2);
  int64_t bad = 0;
#pragma omp parallel for schedule(static) reduction(+ : bad) if (n > (1 << 15))
  for (int64_t i = 0; i < n; i++) {
    const float gi = g[i];
    const float mi = beta1 * m[i] + (1.0f - beta1) * gi;
    const float vi = beta2 * v[i] + (1.0f - beta2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    const float pi = p[i] * decay - step * mi / (sqrtf(vi) * inv_sqrt_bc2 + eps);
    p[i] = pi;
    bad += !isfinite(pi);
  }
  return bad;
}
