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

#endif
