/* Pointwise activations, forward and backward side by side: x, dy, dx, out [n].
 * SiLU, the tanh approximation of GELU (as GPT-2 / Gemma use it), tanh with a cap (Gemma 2's soft-cap),
 * and SwiGLU fused (silu(gate) * up) so the MLP does not store silu(gate) as a separate activation. */
#include <math.h>
#include "lft_cpu.h"
#include "fast_math.h"

#define PAR_MIN (1 << 15)
#define GELU_K 0.7978845608028654f /* sqrt(2 / pi) */
#define GELU_C 0.044715f

/* 1 / (1 + e^-x): e^-x overflows to inf for x < -88, which gives exactly 0, never NaN. */
static inline float sigmoid(float x) { return 1.0f / (1.0f + lft_expf(-x)); }

/* silu: x, out [n]. out = x * sigmoid(x) */
void lft_silu_fwd(float *out, const float *x, int64_t n) {
#pragma omp parallel for schedule(static) if (n > PAR_MIN)
  for (int64_t i = 0; i < n; i++) out[i] = x[i] * sigmoid(x[i]);
}

/* silu backward: dy, x, dx [n]. d/dx = s * (1 + x * (1 - s)), s = sigmoid(x) */
void lft_silu_bwd(float *dx, const float *dy, const float *x, int64_t n) {
#pragma omp parallel for schedule(static) if (n > PAR_MIN)
  for (int64_t i = 0; i < n; i++) {
    const float s = sigmoid(x[i]);
    dx[i] = dy[i] * s * (1.0f + x[i] * (1.0f - s));
  }
}

/* gelu (tanh): x, out [n]. out = 0.5 x (1 + tanh(k (x + c x^3))) */
void lft_gelu_tanh_fwd(float *out, const float *x, int64_t n) {
#pragma omp parallel for schedule(static) if (n > PAR_MIN)
  for (int64_t i = 0; i < n; i++) {
    const float v = x[i];
    out[i] = 0.5f * v * (1.0f + lft_tanhf(GELU_K * (v + GELU_C * v * v * v)));
  }
}

/* gelu (tanh) backward: dy, x, dx [n].
 * d/dx = 0.5 (1 + t) + 0.5 x (1 - t^2) k (1 + 3 c x^2), t = tanh(k (x + c x^3)) */
void lft_gelu_tanh_bwd(float *dx, const float *dy, const float *x, int64_t n) {
#pragma omp parallel for schedule(static) if (n > PAR_MIN)
  for (int64_t i = 0; i < n; i++) {
    /* tanh is exactly +-1 in float beyond |x| = 10; clamping keeps x^3 finite so (1 - t^2) * dinner is 0, not NaN */
    const float v = fminf(fmaxf(x[i], -10.0f), 10.0f);
    const float t = lft_tanhf(GELU_K * (v + GELU_C * v * v * v));
    const float dinner = GELU_K * (1.0f + 3.0f * GELU_C * v * v);
    dx[i] = dy[i] * (0.5f * (1.0f + t) + 0.5f * v * (1.0f - t * t) * dinner);
  }
}

/* tanh with a cap: x, out [n]. out = cap * tanh(x / cap); cap 1 is plain tanh, else Gemma 2's soft-cap. */
void lft_tanh_fwd(float *out, const float *x, float cap, int64_t n) {
#pragma omp parallel for schedule(static) if (n > PAR_MIN)
  for (int64_t i = 0; i < n; i++) out[i] = cap * lft_tanhf(x[i] / cap);
}

/* tanh backward from the output: dy, y, dx [n]. d/dx cap tanh(x / cap) = 1 - (y / cap)^2 */
void lft_tanh_bwd(float *dx, const float *dy, const float *y, float cap, int64_t n) {
#pragma omp parallel for schedule(static) if (n > PAR_MIN)
  for (int64_t i = 0; i < n; i++) {
    const float t = y[i] / cap;
    dx[i] = dy[i] * (1.0f - t * t);
  }
}

/* clamp: x, out [n]. out = min(max(x, lo), hi); lo/hi may be infinite (one-sided). */
void lft_clamp_fwd(float *out, const float *x, float lo, float hi, int64_t n) {
#pragma omp parallel for schedule(static) if (n > PAR_MIN)
  for (int64_t i = 0; i < n; i++) {
    const float v = x[i] < lo ? lo : x[i];
    out[i] = v > hi ? hi : v;
  }
}

/* clamp backward: dy, x, dx [n]. dx = dy where lo <= x <= hi (the value passed), else 0 (as torch.clamp). */
void lft_clamp_bwd(float *dx, const float *dy, const float *x, float lo, float hi, int64_t n) {
#pragma omp parallel for schedule(static) if (n > PAR_MIN)
  for (int64_t i = 0; i < n; i++) dx[i] = x[i] >= lo && x[i] <= hi ? dy[i] : 0.0f;
}

/* swiglu: gate, up, out [n]. out = silu(gate) * up */
void lft_swiglu_fwd(float *out, const float *gate, const float *up, int64_t n) {
#pragma omp parallel for schedule(static) if (n > PAR_MIN)
  for (int64_t i = 0; i < n; i++) out[i] = gate[i] * sigmoid(gate[i]) * up[i];
}

/* swiglu backward: dy, gate, up, dgate, dup [n].
 * dgate = dy * up * silu'(gate), dup = dy * silu(gate) */
void lft_swiglu_bwd(float *dgate, float *dup, const float *dy, const float *gate, const float *up, int64_t n) {
#pragma omp parallel for schedule(static) if (n > PAR_MIN)
  for (int64_t i = 0; i < n; i++) {
    const float g = gate[i], s = sigmoid(g);
    dgate[i] = dy[i] * up[i] * s * (1.0f + g * (1.0f - s));
    dup[i] = dy[i] * g * s;
  }
}
