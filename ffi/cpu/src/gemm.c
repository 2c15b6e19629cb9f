/* Matrix multiply through OpenBLAS: C[b] (m x n) = alpha * op(A[b]) (m x k) @ op(B[b]) (k x n) + beta * C[b].
 * Row-major throughout. A batch whose B is shared (stride_b == 0) and not transposed on A is folded
 * into one tall GEMM, which is what a Linear layer over [batch, seq, in] needs. */
#include <cblas.h>
#include "lft_cpu.h"

extern char *openblas_get_corename(void);
extern char *openblas_get_config(void);
extern int openblas_get_num_threads(void);

void lft_matmul(float *c, const float *a, const float *b, int64_t batch, int64_t m, int64_t n, int64_t k,
                int32_t trans_a, int32_t trans_b, int64_t stride_a, int64_t stride_b, int64_t stride_c,
                float alpha, float beta) {
  const int64_t lda = trans_a ? m : k;
  const int64_t ldb = trans_b ? k : n;
  const CBLAS_TRANSPOSE ta = trans_a ? CblasTrans : CblasNoTrans;
  const CBLAS_TRANSPOSE tb = trans_b ? CblasTrans : CblasNoTrans;
  if (batch > 1 && stride_b == 0 && !trans_a && stride_a == m * k && stride_c == m * n) {
    cblas_sgemm(CblasRowMajor, ta, tb, (blasint)(batch * m), (blasint)n, (blasint)k, alpha, a, (blasint)lda, b,
                (blasint)ldb, beta, c, (blasint)n);
    return;
  }
  for (int64_t i = 0; i < batch; i++) {
    cblas_sgemm(CblasRowMajor, ta, tb, (blasint)m, (blasint)n, (blasint)k, alpha, a + i * stride_a, (blasint)lda,
                b + i * stride_b, (blasint)ldb, beta, c + i * stride_c, (blasint)n);
  }
}

const char *lft_blas_corename(void) { return openblas_get_corename(); }
const char *lft_blas_config(void) { return openblas_get_config(); }
int32_t lft_blas_num_threads(void) { return openblas_get_num_threads(); }
