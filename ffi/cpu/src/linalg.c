// Thin SVD of a row-major f32 matrix through LAPACK's sgesdd (divide and conquer), which Debian's
// OpenBLAS includes. A row-major [m, n] matrix is the column-major [n, m] matrix Aᵀ; sgesdd gives
// Aᵀ = U' S V'ᵀ, so A = V' S U'ᵀ, and LAPACK's column-major V'ᵀ [k, m] is exactly the row-major
// U [m, k] asked for, and its U' [n, k] the row-major Vᵀ [k, n]. The binding checks every size.
#include <stdlib.h>
#include <string.h>
#include "lft_cpu.h"

extern void sgesdd_(const char *jobz, const int *m, const int *n, float *a, const int *lda, float *s, float *u, const int *ldu, float *vt,
                    const int *ldvt, float *work, const int *lwork, int *iwork, int *info, size_t jobz_len);

int lft_svd_f32(int64_t m64, int64_t n64, const float *a, float *s, float *u, float *vt) {
  if (m64 <= 0 || n64 <= 0 || m64 * n64 > 0x7fffffff) return -100;
  const int rows = (int)n64, cols = (int)m64; /* of the column-major Aᵀ */
  const int k = rows < cols ? rows : cols;
  float *copy = malloc(sizeof(float) * (size_t)m64 * (size_t)n64);
  int *iwork = malloc(sizeof(int) * 8 * (size_t)k);
  if (!copy || !iwork) {
    free(copy);
    free(iwork);
    return -101;
  }
  memcpy(copy, a, sizeof(float) * (size_t)m64 * (size_t)n64);
  int info = 0, lwork = -1;
  float query = 0;
  sgesdd_("S", &rows, &cols, copy, &rows, s, vt, &rows, u, &k, &query, &lwork, iwork, &info, 1);
  if (info == 0) {
    lwork = (int)query + 1;
    float *work = malloc(sizeof(float) * (size_t)lwork);
    if (!work) info = -101;
    else {
      sgesdd_("S", &rows, &cols, copy, &rows, s, vt, &rows, u, &k, work, &lwork, iwork, &info, 1);
      free(work);
    }
  }
  free(copy);
  free(iwork);
  return info;
}
