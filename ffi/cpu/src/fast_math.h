/* Vectorisable float math for the hot loops (softmax, cross-entropy): libm's expf is a scalar call
 * the compiler cannot vectorise without -ffast-math, which we do not want globally. */
#ifndef LFT_FAST_MATH_H
#define LFT_FAST_MATH_H
#include <stdint.h>
#include <string.h>

/* exp(x) for float, within ~2 ulp of libm on the whole range (Cephes' expf polynomial after
 * reduction x = n ln2 + r, |r| <= ln2/2). Branch-free so loops over it vectorise; returns exactly 0
 * below -86.6 (results under 2.5e-38, negligible in a softmax) and +inf above 88.72. */
static inline float lft_expf(float x) {
  const float hi = 88.7228391f, lo = -86.6f;
  float xc = x > hi ? hi : x;
  xc = xc < lo ? lo : xc;
  const float n = __builtin_floorf(xc * 1.44269504088896341f + 0.5f);
  float r = xc - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  /* 2^n as 2^(n-1) * 2: n reaches 128 near the top of the range, which has no float exponent. */
  const int32_t e = ((int32_t)n + 126) << 23;
  float scale;
  memcpy(&scale, &e, 4);
  float y = p * scale * 2.0f;
  y = x < lo ? 0.0f : y;
  y = x > hi ? __builtin_inff() : y;
  return y;
}

/* tanh(x) within ~2e-7 relative error on the whole range. For |x| < 0.625, Cephes' odd polynomial
 * x + x^3 P(x^2): 1 - 2 / (exp(2x) + 1) cancels there (at x = 1e-4 it keeps only ~3 digits). Beyond, that
 * formula: exactly +-1 in the tails. Both branches are computed and one selected, so loops still
 * vectorise; NaN stays NaN. */
static inline float lft_tanhf(float x) {
  const float s = x * x;
  float p = -5.70498872745e-3f;
  p = p * s + 2.06390887954e-2f;
  p = p * s - 5.37397155531e-2f;
  p = p * s + 1.33314422036e-1f;
  p = p * s - 3.33332819422e-1f;
  const float small = p * s * x + x;
  const float large = 1.0f - 2.0f / (lft_expf(2.0f * x) + 1.0f);
  return __builtin_fabsf(x) < 0.625f ? small : large;
}

/* Row helpers over lanes of 16: the explicit lane arrays let GCC vectorise reductions that a plain
 * `s += f(x[i])` loop would keep serial (it may not reorder float sums). Partial sums go to double
 * every block, so a 150k-wide vocabulary row loses no precision. */
#define LFT_LANES 16
#define LFT_BLOCK 1024

static inline float lft_row_max(const float *x, int64_t n) {
  float m[LFT_LANES];
  for (int j = 0; j < LFT_LANES; j++) m[j] = -__builtin_inff();
  int64_t i = 0;
  for (; i + LFT_LANES <= n; i += LFT_LANES)
    for (int j = 0; j < LFT_LANES; j++) m[j] = x[i + j] > m[j] ? x[i + j] : m[j];
  float best = -__builtin_inff();
  for (int j = 0; j < LFT_LANES; j++) best = m[j] > best ? m[j] : best;
  for (; i < n; i++) best = x[i] > best ? x[i] : best;
  return best;
}

/* sum_i exp(x[i] - shift) over one block, lane-wise; out (when not NULL) receives each term. */
static inline float lft_sum_exp_block(const float *x, int64_t n, float shift) {
  float acc[LFT_LANES] = {0};
  int64_t i = 0;
  for (; i + LFT_LANES <= n; i += LFT_LANES)
    for (int j = 0; j < LFT_LANES; j++) acc[j] += lft_expf(x[i + j] - shift);
  for (; i < n; i++) acc[0] += lft_expf(x[i] - shift);
  float s = 0.0f;
  for (int j = 0; j < LFT_LANES; j++) s += acc[j];
  return s;
}

static inline float lft_store_exp_block(float *out, const float *x, int64_t n, float shift) {
  float acc[LFT_LANES] = {0};
  int64_t i = 0;
  for (; i + LFT_LANES <= n; i += LFT_LANES)
    for (int j = 0; j < LFT_LANES; j++) {
      out[i + j] = lft_expf(x[i + j] - shift);
      acc[j] += out[i + j];
    }
  for (; i < n; i++) {
    out[i] = lft_expf(x[i] - shift);
    acc[0] += out[i];
  }
  float s = 0.0f;
  for (int j = 0; j < LFT_LANES; j++) s += acc[j];
  return s;
}

/* sum_i exp(x[i] - shift) in double over float blocks; when out != NULL also stores each term. */
static inline double lft_sum_exp(float *out, const float *x, int64_t n, float shift) {
  double total = 0.0;
  for (int64_t b = 0; b < n; b += LFT_BLOCK) {
    const int64_t len = b + LFT_BLOCK < n ? LFT_BLOCK : n - b;
    total += out ? lft_store_exp_block(out + b, x + b, len, shift) : lft_sum_exp_block(x + b, len, shift);
  }
  return total;
}

#endif
