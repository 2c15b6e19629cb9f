/* Fused cross-entropy over a vocabulary, forward and backward: logits, dlogits [rows, vocab];
 * targets, loss, lse, grow [rows]. The log-sum-exp is taken about the row max (finite for any finite
 * logits) and summed in double. Rows whose target is ignore_index (prompt tokens, padding) cost nothing:
 * loss 0, lse 0, gradient row 0. The backward recomputes softmax from lse, so no [rows, vocab]
 * probability matrix is ever stored. */
#include <math.h>
#include <string.h>
#include "lft_cpu.h"
#include "fast_math.h"

#define PAR_MIN (1 << 14)

/* cross-entropy: logits [rows, vocab], targets [rows] -> loss, lse [rows].
 * lse[r] = log sum_v exp(logits[r, v]); loss[r] = lse[r] - logits[r, targets[r]] */
void lft_cross_entropy_fwd(float *loss, float *lse, const float *logits, const int32_t *targets, int64_t rows,
                           int64_t vocab, int32_t ignore_index) {
#pragma omp parallel for schedule(dynamic, 1) if (rows * vocab > PAR_MIN)
  for (int64_t r = 0; r < rows; r++) {
    if (targets[r] == ignore_index) {
      loss[r] = 0.0f;
      lse[r] = 0.0f;
      continue;
    }
    const float *z = logits + r * vocab;
    const float maxv = lft_row_max(z, vocab);
    const double sum = lft_sum_exp(NULL, z, vocab, maxv);
    const double l = (double)maxv + log(sum);
    lse[r] = (float)l;
    loss[r] = (float)(l - (double)z[targets[r]]);
  }
}

/* cross-entropy backward: grow [rows] (dL/dloss[r]), logits, dlogits [rows, vocab], lse, targets [rows].
 * dlogits[r, v] = grow[r] * (exp(logits[r, v] - lse[r]) - (v == targets[r])) */
void lft_cross_entropy_bwd(float *dlogits, const float *grow, const float *logits, const float *lse,
                           const int32_t *targets, int64_t rows, int64_t vocab, int32_t ignore_index) {
#pragma omp parallel for schedule(dynamic, 1) if (rows * vocab > PAR_MIN)
  for (int64_t r = 0; r < rows; r++) {
    float *d = dlogits + r * vocab;
    if (targets[r] == ignore_index) {
      memset(d, 0, (size_t)vocab * sizeof(float));
      continue;
    }
    const float *z = logits + r * vocab;
    const float g = grow[r], l = lse[r];
    for (int64_t v = 0; v < vocab; v++) d[v] = g * lft_expf(z[v] - l);
    d[targets[r]] -= g;
  }
}

/* Forward and backward in one pass per row, for a caller that knows the row gradients grow before the
 * forward (the fused output layer): loss and lse as lft_cross_entropy_fwd, dlogits as
 * lft_cross_entropy_bwd. Each row's exp(logit - max) is stored while it is summed, then scaled by
 * grow / sum, so a row is read from memory once and exp runs once per logit. dlogits may be logits. */
void lft_cross_entropy_fused(float *loss, float *lse, float *dlogits, const float *grow, const float *logits,
                             const int32_t *targets, int64_t rows, int64_t vocab, int32_t ignore_index) {
#pragma omp parallel for schedule(dynamic, 1) if (rows * vocab > PAR_MIN)
  for (int64_t r = 0; r < rows; r++) {
    float *d = dlogits + r * vocab;
    if (targets[r] == ignore_index) {
      loss[r] = 0.0f;
      lse[r] = 0.0f;
      memset(d, 0, (size_t)vocab * sizeof(float));
      continue;
    }
    const float *z = logits + r * vocab;
    const float target_logit = z[targets[r]]; /* read before d (possibly z) is overwritten */
    const float maxv = lft_row_max(z, vocab);
    const double sum = lft_sum_exp(d, z, vocab, maxv);
    const double l = (double)maxv + log(sum);
    lse[r] = (float)l;
    loss[r] = (float)(l - (double)target_logit);
    const float g = grow[r], s = (float)((double)g / sum);
    for (int64_t v = 0; v < vocab; v++) d[v] *= s;
    d[targets[r]] -= g;
  }
}
