/* Matmul against a frozen quantised weight W [n, k] (HF layout, out x in), forward y = x·Wᵀ and the input
 * gradient dx = dy·W. W is never dequantised whole: a tile of QTILE_ELEMS values (whole rows) is decoded
 * into a scratch buffer (rows split across OpenMP threads) and fed to sgemm, tile after tile.
 *   4-bit (bitsandbytes NF4/FP4): element e = row*k + col is nibble e of `packed` (element 2j in the high
 *   nibble of byte j, 2j+1 in the low nibble); value = code[nibble] * absmax[e / block].
 *   absmax is either f32 [nblocks] (absmax_f32 != NULL) or double-quantised: absmax[b] =
 *   nested_code[absmax_q[b]] * nested_absmax[b / nested_block] + offset.
 *   int8 (LLM.int8 vector-wise): value = q[row*k + col] * row_scale[row] / 127. */
#include <omp.h>
#include <stdlib.h>
#include <cblas.h>
#include "lft_cpu.h"

#define QTILE_ELEMS (1 << 18)

static int64_t tile_rows(int64_t k) {
  int64_t r = QTILE_ELEMS / (k > 0 ? k : 1);
  return r < 1 ? 1 : r;
}

static void q4_decode_rows(float *tile, const uint8_t *packed, const float *code, const float *absmax_f32,
                           const uint8_t *absmax_q, const float *nested_absmax, const float *nested_code,
                           float offset, int64_t nested_block, int64_t block, int64_t k, int64_t r0, int64_t rows) {
#pragma omp parallel for schedule(static) if (rows * k > 65536)
  for (int64_t r = 0; r < rows; r++) {
    float *out = tile + r * k;
    const int64_t e0 = (r0 + r) * k;
    int64_t b = -1;
    float am = 0.0f;
    for (int64_t c = 0; c < k; c++) {
      const int64_t e = e0 + c;
      const int64_t eb = e / block;
      if (eb != b) {
        b = eb;
        am = absmax_f32 ? absmax_f32[b] : nested_code[absmax_q[b]] * nested_absmax[b / nested_block] + offset;
      }
      const uint8_t byte = packed[e >> 1];
      out[c] = code[(e & 1) ? (byte & 15) : (byte >> 4)] * am;
    }
  }
}

void lft_q4_dequant(float *out, const uint8_t *packed, const float *code, const float *absmax_f32,
                    const uint8_t *absmax_q, const float *nested_absmax, const float *nested_code, float offset,
                    int64_t nested_block, int64_t block, int64_t n, int64_t k) {
  q4_decode_rows(out, packed, code, absmax_f32, absmax_q, nested_absmax, nested_code, offset, nested_block, block, k,
                 0, n);
}

static void i8_decode_rows(float *tile, const int8_t *q, const float *row_scale, int64_t k, int64_t r0, int64_t rows) {
#pragma omp parallel for schedule(static) if (rows * k > 65536)
  for (int64_t r = 0; r < rows; r++) {
    const float s = row_scale[r0 + r] / 127.0f;
    const int8_t *src = q + (r0 + r) * k;
    float *out = tile + r * k;
    for (int64_t c = 0; c < k; c++) out[c] = (float)src[c] * s;
  }
}

/* backward = 0: y [m, n] = x [m, k] · Wᵀ.  backward = 1: dx [m, k] = dy [m, n] · W. */
static void tiled(float *out, const float *in, int64_t m, int64_t n, int64_t k, int32_t backward, float *tile,
                  void (*decode)(float *, int64_t, int64_t, const void *), const void *ctx) {
  const int64_t tr = tile_rows(k);
  for (int64_t r0 = 0; r0 < n; r0 += tr) {
    const int64_t rows = r0 + tr <= n ? tr : n - r0;
    decode(tile, r0, rows, ctx);
    if (!backward)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)m, (blasint)rows, (blasint)k, 1.0f, in,
                  (blasint)k, tile, (blasint)k, 0.0f, out + r0, (blasint)n);
    else
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)m, (blasint)k, (blasint)rows, 1.0f, in + r0,
                  (blasint)n, tile, (blasint)k, r0 == 0 ? 0.0f : 1.0f, out, (blasint)k);
  }
}

typedef struct {
  const uint8_t *packed;
  const float *code, *absmax_f32;
  const uint8_t *absmax_q;
  const float *nested_absmax, *nested_code;
  float offset;
  int64_t nested_block, block, k;
} q4_ctx;

static void q4_decode(float *tile, int64_t r0, int64_t rows, const void *p) {
  const q4_ctx *c = p;
  q4_decode_rows(tile, c->packed, c->code, c->absmax_f32, c->absmax_q, c->nested_absmax, c->nested_code, c->offset,
                 c->nested_block, c->block, c->k, r0, rows);
}

/* The dequantised-rows tile of W [n, k] a matmul works through, or NULL when the operand sizes overflow
 * int64 or there is no memory. */
static float *decode_tile(int64_t m, int64_t n, int64_t k) {
  if (lft_mul_i64(m, k) < 0 || lft_mul_i64(m, n) < 0 || lft_mul_i64(n, k) < 0) return NULL;
  const int64_t tr = tile_rows(k);
  const int64_t bytes = lft_mul_i64(lft_mul_i64(tr < n ? tr : n, k), (int64_t)sizeof(float));
  return bytes < 0 ? NULL : lft_alloc(bytes);
}

typedef struct {
  const int8_t *q;
  const float *row_scale;
  int64_t k;
} i8_ctx;

static void i8_decode(float *tile, int64_t r0, int64_t rows, const void *p) {
  const i8_ctx *c = p;
  i8_decode_rows(tile, c->q, c->row_scale, c->k, r0, rows);
}

int32_t lft_q4_matmul(float *out, const float *in, const uint8_t *packed, const float *code, const float *absmax_f32,
                   const uint8_t *absmax_q, const float *nested_absmax, const float *nested_code, float offset,
                   int64_t nested_block, int64_t block, int64_t m, int64_t n, int64_t k, int32_t backward) {
  float *tile = decode_tile(m, n, k);
  if (!tile) return lft_mul_i64(m, k) < 0 || lft_mul_i64(m, n) < 0 || lft_mul_i64(n, k) < 0 ? LFT_ERR_SIZE : LFT_ERR_NOMEM;
  q4_ctx c = {packed, code, absmax_f32, absmax_q, nested_absmax, nested_code, offset, nested_block, block, k};
  tiled(out, in, m, n, k, backward, tile, q4_decode, &c);
  lft_free(tile);
  return LFT_OK;
}

int32_t lft_i8_matmul(float *out, const float *in, const int8_t *q, const float *row_scale, int64_t m, int64_t n,
                   int64_t k, int32_t backward) {
  float *tile = decode_tile(m, n, k);
  if (!tile) return lft_mul_i64(m, k) < 0 || lft_mul_i64(m, n) < 0 || lft_mul_i64(n, k) < 0 ? LFT_ERR_SIZE : LFT_ERR_NOMEM;
  i8_ctx c = {q, row_scale, k};
  tiled(out, in, m, n, k, backward, tile, i8_decode, &c);
  lft_free(tile);
  return LFT_OK;
}

void lft_i8_dequant(float *out, const int8_t *q, const float *row_scale, int64_t n, int64_t k) {
  i8_decode_rows(out, q, row_scale, k, 0, n);
}
