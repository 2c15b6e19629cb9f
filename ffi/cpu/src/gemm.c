/* Matrix multiply through OpenBLAS: C[b] (m x n) = alpha * op(A[b]) (m x k) @ op(B[b]) (k x n) + beta * C[b].
 * Row-major throughout. A batch whose B is shared (stride_b == 0) and not transposed on A is folded
 * into one tall GEMM, which is what a Linear layer over [batch, seq, in] needs. A product with one row
 * (a decode step's Linear) goes to GEMV: OpenBLAS 0.3.21's GEMM packs all of B first, which for one row
 * means copying the whole weight matrix on every call. */
#include <cblas.h>
#include "lft_cpu.h"

extern char *openblas_get_corename(void);
extern char *openblas_get_config(void);
extern int openblas_get_num_threads(void);

/* One GEMM, or GEMV when op(A) has a single row: c (1 x n) = alpha * a (1 x k) @ op(B) + beta * c. */
static void gemm_or_gemv(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int64_t m, int64_t n, int64_t k, float alpha,
                         const float *a, int64_t lda, const float *b, int64_t ldb, float beta, float *c) {
  if (m != 1) {
    cblas_sgemm(CblasRowMajor, ta, tb, (blasint)m, (blasint)n, (blasint)k, alpha, a, (blasint)lda, b, (blasint)ldb,
                beta, c, (blasint)n);
    return;
  }
  /* With beta 0 the output may hold anything (NaN): start from zeros rather than rely on 0 * NaN. */
  if (beta == 0.0f)
    for (int64_t j = 0; j < n; j++) c[j] = 0.0f;
  /* a's k values are contiguous either way (1 x k, or k x 1 with lda 1). op(B) is k x n: stored k x n
   * (row-major, y = B^T a) or n x k (transposed, y = B a). */
  if (tb == CblasTrans)
    cblas_sgemv(CblasRowMajor, CblasNoTrans, (blasint)n, (blasint)k, alpha, b, (blasint)ldb, a, 1, beta, c, 1);
  else
    cblas_sgemv(CblasRowMajor, CblasTrans, (blasint)k, (blasint)n, alpha, b, (blasint)ldb, a, 1, beta, c, 1);
  (void)ta;
  (void)lda;
}

void lft_matmul(float *c, const float *a, const float *b, int64_t batch, int64_t m, int64_t n, int64_t k,
                int32_t trans_a, int32_t trans_b, int64_t stride_a, int64_t stride_b, int64_t stride_c,
                float alpha, float beta) {
  const int64_t lda = trans_a ? m : k;
  const int64_t ldb = trans_b ? k : n;
  const CBLAS_TRANSPOSE ta = trans_a ? CblasTrans : CblasNoTrans;
  const CBLAS_TRANSPOSE tb = trans_b ? CblasTrans : CblasNoTrans;
  if (batch > 1 && stride_b == 0 && !trans_a && stride_a == m * k && stride_c == m * n) {
    gemm_or_gemv(ta, tb, batch * m, n, k, alpha, a, lda, b, ldb, beta, c);
    return;
  }
  for (int64_t i = 0; i < batch; i++) {
    gemm_or_gemv(ta, tb, m, n, k, alpha, a + i * stride_a, lda, b + i * stride_b, ldb, beta, c + i * stride_c);
  }
}

const char *lft_blas_corename(void) { return openblas_get_corename(); }
const char *lft_blas_config(void) { return openblas_get_config(); }
int32_t lft_blas_num_threads(void) { return openblas_get_num_threads(); }
