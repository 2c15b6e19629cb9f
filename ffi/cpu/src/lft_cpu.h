/* lft CPU kernels: the native contract. Every function here is declared once in ffi/cpu/cpu.ts.
 * Conventions: all tensors are contiguous, row-major, float32 unless the name says otherwise.
 * Sizes are int64_t element counts. Callers (the TypeScript binding) validate every shape, dtype
 * and index range before calling (every element and byte count <= 2^53 - 1, so the index products
 * inside a kernel, bounded by its tensors' element counts, cannot overflow int64), so kernels trust
 * their inputs. What a kernel sizes itself (its work memory) is checked here: products with overflow
 * checks, every malloc result tested, failures returned as an LFT_ERR_* status the binding reports.
 * Outputs are written in full (never accumulated) unless the comment says "accumulates". */
#ifndef LFT_CPU_H
#define LFT_CPU_H
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* Status of the kernels that allocate work memory (0 = done). */
enum { LFT_OK = 0, LFT_ERR_NOMEM = -1, LFT_ERR_SIZE = -2 };

/* a * b for non-negative counts, or -1 when either is negative or the product overflows int64. */
static inline int64_t lft_mul_i64(int64_t a, int64_t b) {
  int64_t r;
  if (a < 0 || b < 0 || __builtin_mul_overflow(a, b, &r)) return -1;
  return r;
}

/* malloc of a * b elements of elem bytes (at least one element), or NULL when a size is negative,
 * the byte count overflows size_t, or there is no memory. Callers test the result. */
static inline void *lft_malloc_n(int64_t a, int64_t b, size_t elem) {
  const int64_t n = lft_mul_i64(a, b);
  size_t bytes;
  if (n < 0 || (uint64_t)n > SIZE_MAX || __builtin_mul_overflow((size_t)(n ? n : 1), elem, &bytes)) return NULL;
  return malloc(bytes);
}

/* memory.c ---------------------------------------------------------------------------------- */
void *lft_alloc(int64_t bytes); /* 64-byte aligned, uninitialised; NULL when bytes < 0, too large or no memory */
void lft_free(void *p);
void lft_copy_bytes(void *dst, const void *src, int64_t bytes);
void lft_fill_f32(float *x, int64_t n, float value);
void lft_fill_i32(int32_t *x, int64_t n, int32_t value);
/* dst[r*dst_stride + c] = src[r*src_stride + c] for c < row_bytes (strides in bytes): concat/slice */
void lft_copy_rows(void *dst, int64_t dst_stride, const void *src, int64_t src_stride, int64_t rows,
                   int64_t row_bytes);
/* out = permutation of a 4-byte-element tensor: out.shape[i] = shape[perm[i]], ndim <= 8 */
void lft_permute_4b(void *out, const void *in, int32_t ndim, const int64_t *shape, const int64_t *perm);
int32_t lft_num_threads(void);
void lft_set_num_threads(int32_t n);

/* convert.c: storage dtypes (round to nearest even for bf16/f16) ---------------------------- */
void lft_f32_to_bf16(uint16_t *out, const float *in, int64_t n);
void lft_bf16_to_f32(float *out, const uint16_t *in, int64_t n);
void lft_f32_to_f16(uint16_t *out, const float *in, int64_t n);
void lft_f16_to_f32(float *out, const uint16_t *in, int64_t n);
void lft_i32_to_f32(float *out, const int32_t *in, int64_t n);

/* gemm.c: C[b] = alpha * op(A[b]) @ op(B[b]) + beta * C[b], op = transpose when trans_* != 0.
 * op(A) is m x k, op(B) is k x n, C is m x n. stride_* in elements between batches (0 = shared). */
void lft_matmul(float *c, const float *a, const float *b, int64_t batch, int64_t m, int64_t n, int64_t k,
                int32_t trans_a, int32_t trans_b, int64_t stride_a, int64_t stride_b, int64_t stride_c,
                float alpha, float beta);
const char *lft_blas_corename(void);
const char *lft_blas_config(void);
int32_t lft_blas_num_threads(void);

/* elementwise.c: a is [n*m], b is [m] broadcast over the n leading rows (m == n*m when equal). */
enum { LFT_ADD = 0, LFT_SUB = 1, LFT_MUL = 2, LFT_DIV = 3 };
void lft_binary_fwd(int32_t op, float *out, const float *a, const float *b, int64_t n, int64_t m);
/* da [n*m] (may be NULL), db [m] (may be NULL, summed over the n rows) from g [n*m] */
void lft_binary_bwd(int32_t op, float *da, float *db, const float *g, const float *a, const float *b,
                    int64_t n, int64_t m);
void lft_scale(float *out, const float *x, float s, int64_t n);
void lft_axpy(float *y, const float *x, float alpha, int64_t n); /* y += alpha * x (accumulates) */

/* reduce.c ---------------------------------------------------------------------------------- */
double lft_sum(const float *x, int64_t n);              /* pairwise/blocked, double accumulator */
double lft_sum_squares(const float *x, int64_t n);
/* how many of x's n floats (4 or 2 bytes each; exp_mask picks the format) are NaN or ±Inf */
int64_t lft_count_nonfinite_32(const uint32_t *x, int64_t n);
int64_t lft_count_nonfinite_16(const uint16_t *x, int64_t n, uint16_t exp_mask);
void lft_sum_rows(float *out, const float *x, int64_t rows, int64_t cols);        /* out[r] = sum_c */
void lft_expand_rows(float *out, const float *g, float s, int64_t rows, int64_t cols); /* out[r,c] = s*g[r] */

/* activation.c: x, out [n] ---------------------------------------------------------------- */
void lft_silu_fwd(float *out, const float *x, int64_t n);
void lft_silu_bwd(float *dx, const float *dy, const float *x, int64_t n);
void lft_gelu_tanh_fwd(float *out, const float *x, int64_t n);
void lft_gelu_tanh_bwd(float *dx, const float *dy, const float *x, int64_t n);
/* out = cap * tanh(x / cap); the backward reads the output y: dx = dy (1 - (y / cap)^2) */
void lft_tanh_fwd(float *out, const float *x, float cap, int64_t n);
void lft_tanh_bwd(float *dx, const float *dy, const float *y, float cap, int64_t n);
/* out = min(max(x, lo), hi) (lo/hi may be infinite); the backward passes dy where lo <= x <= hi, else 0 */
void lft_clamp_fwd(float *out, const float *x, float lo, float hi, int64_t n);
void lft_clamp_bwd(float *dx, const float *dy, const float *x, float lo, float hi, int64_t n);
/* SwiGLU: out = silu(gate) * up */
void lft_swiglu_fwd(float *out, const float *gate, const float *up, int64_t n);
void lft_swiglu_bwd(float *dgate, float *dup, const float *dy, const float *gate, const float *up, int64_t n);

/* softmax.c: over the last dim, x [rows, cols] -------------------------------------------- */
void lft_softmax_fwd(float *out, const float *x, int64_t rows, int64_t cols);
void lft_softmax_bwd(float *dx, const float *dy, const float *y, int64_t rows, int64_t cols);

/* norm.c: x [rows, cols], w/b [cols]. RMSNorm: y = x * rstd * (w + w_offset) (Gemma uses 1).
 * In the backwards dw and db may be NULL (frozen norms skip the weight-gradient pass). */
void lft_rmsnorm_fwd(float *out, float *rstd, const float *x, const float *w, int64_t rows, int64_t cols,
                     float eps, float w_offset);
void lft_rmsnorm_bwd(float *dx, float *dw, const float *dy, const float *x, const float *w, const float *rstd,
                     int64_t rows, int64_t cols, float w_offset);
void lft_layernorm_fwd(float *out, float *mean, float *rstd, const float *x, const float *w, const float *b,
                       int64_t rows, int64_t cols, float eps);
void lft_layernorm_bwd(float *dx, float *dw, float *db, const float *dy, const float *x, const float *w,
                       const float *mean, const float *rstd, int64_t rows, int64_t cols);

/* rope.c: x, out [batch, seq, heads, head_dim], pos [batch, seq] int32, inv_freq [n_freq],
 * rotating the first 2*n_freq dims in HF "rotate_half" layout (pairs i and i + n_freq).
 * sign = +1 forward, -1 backward (rotation by the opposite angle). */
int32_t lft_rope(float *out, const float *x, const int32_t *pos, const float *inv_freq, int64_t batch, int64_t seq,
                 int64_t heads, int64_t head_dim, int64_t n_freq, float sign); /* LFT_OK or LFT_ERR_* */

/* attention.c: causal grouped-query attention, flash style (online softmax, no T x T matrix).
 * q/out [B, Tq, Hq, D], k/v [B, Tk, Hkv, D] with Tq <= Tk: queries are the last Tq positions (Tq = Tk in
 * training, Tq = 1 when decoding with a KV cache); Hq % Hkv == 0; lse [B, Hq, Tq].
 * window > 0: the query at position p sees keys j with p - window < j <= p. seg [B, Tk] (may be NULL): a
 * query sees only keys with its own segment id (packed samples, left padding). softcap > 0:
 * s = softcap * tanh(s / softcap). sinks [Hq] (may be NULL): a per-head logit in every row's softmax
 * denominator (no value); the backward writes its gradient to dsinks [Hq] (may be NULL).
 * Both return LFT_OK or LFT_ERR_* (sizes overflow, no work memory). */
int32_t lft_attention_fwd(float *out, float *lse, const float *q, const float *k, const float *v, const int32_t *seg,
                          int64_t B, int64_t Tq, int64_t Tk, int64_t Hq, int64_t Hkv, int64_t D, float scale,
                          int64_t window, float softcap, const float *sinks);
int32_t lft_attention_bwd(float *dq, float *dk, float *dv, const float *dout, const float *out, const float *lse,
                       const float *q, const float *k, const float *v, const int32_t *seg, int64_t B, int64_t Tq,
                       int64_t Tk, int64_t Hq, int64_t Hkv, int64_t D, float scale, int64_t window, float softcap,
                       const float *sinks, float *dsinks);

/* cross_entropy.c: logits [rows, vocab], targets [rows]; rows whose target == ignore_index get
 * loss 0. loss[r] = lse[r] - logits[r, target]. Backward: dlogits[r] = grow[r] * (softmax - onehot). */
void lft_cross_entropy_fwd(float *loss, float *lse, const float *logits, const int32_t *targets, int64_t rows,
                           int64_t vocab, int32_t ignore_index);
void lft_cross_entropy_bwd(float *dlogits, const float *grow, const float *logits, const float *lse,
                           const int32_t *targets, int64_t rows, int64_t vocab, int32_t ignore_index);
void lft_cross_entropy_fused(float *loss, float *lse, float *dlogits, const float *grow, const float *logits,
                             const int32_t *targets, int64_t rows, int64_t vocab, int32_t ignore_index);

/* embedding.c: w [vocab, dim], ids [n], out [n, dim]; backward accumulates into dw. */
void lft_embedding_fwd(float *out, const float *w, const int32_t *ids, int64_t n, int64_t dim);
void lft_embedding_bwd(float *dw, const float *dout, const int32_t *ids, int64_t n, int64_t dim);

/* random.c: Philox4x32-10 counter-based. Element i uses counter (offset + i/4) word i%4, key = seed. */
void lft_philox_u32(uint32_t *out, int64_t n, uint64_t seed, uint64_t offset);
void lft_rand_uniform(float *out, int64_t n, uint64_t seed, uint64_t offset);  /* [0, 1) */
void lft_rand_normal(float *out, int64_t n, uint64_t seed, uint64_t offset, float mean, float std);
/* out = x * keep / (1 - p), keep = uniform >= p; the backward is the same call on the gradient. */
void lft_dropout(float *out, const float *x, int64_t n, float p, uint64_t seed, uint64_t offset);

/* adamw.c: decoupled weight decay; bc1 = 1 - beta1^t, bc2 = 1 - beta2^t. Updates p, m, v in place and
 * returns how many new p values are not finite. */
int64_t lft_adamw_step(float *p, const float *g, float *m, float *v, int64_t n, float lr, float beta1, float beta2,
                    float eps, float weight_decay, float bc1, float bc2);

/* Thin SVD of row-major a [m, n] (LAPACK sgesdd): s [k], u [m, k], vt [k, n], k = min(m, n). Returns LAPACK's info (0: ok). */
int lft_svd_f32(int64_t m, int64_t n, const float *a, float *s, float *u, float *vt);

/* half_matmul.c: out[m, n] = in[m, k] · W[n, k]ᵀ, W bf16 (bf16 = 1) or f16, read once: the decode path of a
 * frozen half weight. LFT_OK or LFT_ERR_SIZE. */
int32_t lft_half_matmul(float *out, const float *in, const uint16_t *w, int64_t m, int64_t n, int64_t k, int32_t bf16);

/* quant_matmul.c: frozen quantised weights W [n, k] (4-bit blockwise NF4/FP4, int8 per row) ---------------
 * backward = 0: out [m, n] = in [m, k] · Wᵀ;  backward = 1: out [m, k] = in [m, n] · W. absmax_f32 NULL means
 * the scales are double-quantised (absmax_q, nested_absmax, nested_code, offset, nested_block). The matmuls
 * return LFT_OK or LFT_ERR_* (their decode tile could not be allocated). */
int32_t lft_q4_matmul(float *out, const float *in, const uint8_t *packed, const float *code, const float *absmax_f32,
                   const uint8_t *absmax_q, const float *nested_absmax, const float *nested_code, float offset,
                   int64_t nested_block, int64_t block, int64_t m, int64_t n, int64_t k, int32_t backward);
void lft_q4_dequant(float *out, const uint8_t *packed, const float *code, const float *absmax_f32,
                    const uint8_t *absmax_q, const float *nested_absmax, const float *nested_code, float offset,
                    int64_t nested_block, int64_t block, int64_t n, int64_t k);
int32_t lft_i8_matmul(float *out, const float *in, const int8_t *q, const float *row_scale, int64_t m, int64_t n,
                   int64_t k, int32_t backward);
void lft_i8_dequant(float *out, const int8_t *q, const float *row_scale, int64_t n, int64_t k);

#endif
