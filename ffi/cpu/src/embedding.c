/* Token embedding: forward gathers rows of w, backward scatter-adds rows of dout into dw.
 * w, dw [vocab, dim]; ids [n]; out, dout [n, dim]. The backward gives each thread a block of columns
 * and walks the tokens in order, so repeated ids never race and every sum has the same order whatever
 * the thread count (bit-for-bit reproducible). */
#include <string.h>
#include <omp.h>
#include "lft_cpu.h"

#define PAR_MIN (1 << 14)

/* embedding: w [vocab, dim], ids [n] -> out [n, dim]. out[i] = w[ids[i]] */
void lft_embedding_fwd(float *out, const float *w, const int32_t *ids, int64_t n, int64_t dim) {
#pragma omp parallel for schedule(static) if (n * dim > PAR_MIN)
  for (int64_t i = 0; i < n; i++) memcpy(out + i * dim, w + (int64_t)ids[i] * dim, (size_t)dim * sizeof(float));
}

/* embedding backward: dout [n, dim], ids [n] -> dw [vocab, dim], accumulates: dw[ids[i]] += dout[i] */
void lft_embedding_bwd(float *dw, const float *dout, const int32_t *ids, int64_t n, int64_t dim) {
  const int64_t nt = omp_get_max_threads();
  int64_t blk = ((dim + nt - 1) / nt + 15) / 16 * 16; /* a multiple of a cache line, one block per thread */
  if (blk < 16) blk = 16;
#pragma omp parallel for schedule(static) if (n * dim > PAR_MIN)
  for (int64_t c0 = 0; c0 < dim; c0 += blk) {
    const int64_t c1 = c0 + blk < dim ? c0 + blk : dim;
    for (int64_t i = 0; i < n; i++) {
      float *d = dw + (int64_t)ids[i] * dim;
      const float *g = dout + i * dim;
      for (int64_t c = c0; c < c1; c++) d[c] += g[c];
    }
  }
}
