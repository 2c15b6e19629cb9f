/* Pointwise activations, forward and backward side by side, as ffi/cpu/src/activation.c:
 * x, dy, dx, out, gate, up, dgate, dup [n]. SiLU, GELU (tanh approximation), tanh with a cap, and SwiGLU fused
 * (out = silu(gate) * up) so the MLP never stores silu(gate). f32 arithmetic whatever the storage. */
#include "common.cuh"

#define GELU_K 0.7978845608028654f /* sqrt(2 / pi) */
#define GELU_C 0.044715f

/* 1 / (1 + e^-x): e^-x overflows to inf for x < -88, which gives exactly 0, never NaN. */
__device__ __forceinline__ float sigmoidf_(float x) { return 1.0f / (1.0f + expf(-x)); }

/* silu: out = x * sigmoid(x) */
template <typename T>
__device__ void silu_fwd_impl(T *out, const T *x, i64 n) {
  GRID_STRIDE(i, n) {
    const float v = ld(x + i);
    st(out + i, v * sigmoidf_(v));
  }
}

/* silu backward: dx = dy * s * (1 + x * (1 - s)), s = sigmoid(x) */
template <typename T>
__device__ void silu_bwd_impl(T *dx, const T *dy, const T *x, i64 n) {
  GRID_STRIDE(i, n) {
    const float v = ld(x + i), s = sigmoidf_(v);
    st(dx + i, ld(dy + i) * s * (1.0f + v * (1.0f - s)));
  }
}

/* gelu (tanh): out = 0.5 x (1 + tanh(k (x + c x^3))) */
template <typename T>
__device__ void gelu_tanh_fwd_impl(T *out, const T *x, i64 n) {
  GRID_STRIDE(i, n) {
    const float v = ld(x + i);
    st(out + i, 0.5f * v * (1.0f + tanhf(GELU_K * (v + GELU_C * v * v * v))));
  }
}

/* gelu (tanh) backward: dx = dy (0.5 (1 + t) + 0.5 x (1 - t^2) k (1 + 3 c x^2)), t = tanh(k (x + c x^3)).
 * x is clamped to [-10, 10] first (tanh is exactly +-1 there) so x^3 stays finite and 0 * inf never occurs. */
template <typename T>
__device__ void gelu_tanh_bwd_impl(T *dx, const T *dy, const T *x, i64 n) {
  GRID_STRIDE(i, n) {
    const float v = fminf(fmaxf(ld(x + i), -10.0f), 10.0f);
    const float t = tanhf(GELU_K * (v + GELU_C * v * v * v));
    const float dinner = GELU_K * (1.0f + 3.0f * GELU_C * v * v);
    st(dx + i, ld(dy + i) * (0.5f * (1.0f + t) + 0.5f * v * (1.0f - t * t) * dinner));
  }
}

/* swiglu: out = silu(gate) * up */
template <typename T>
__device__ void swiglu_fwd_impl(T *out, const T *gate, const T *up, i64 n) {
  GRID_STRIDE(i, n) {
    const float g = ld(gate + i);
    st(out + i, g * sigmoidf_(g) * ld(up + i));
  }
}

/* tanh with a cap: out = cap * tanh(x / cap) (cap 1: plain tanh; else Gemma 2's soft-cap) */
template <typename T>
__device__ void tanh_fwd_impl(T *out, const T *x, float cap, i64 n) {
  GRID_STRIDE(i, n) { st(out + i, cap * tanhf(ld(x + i) / cap)); }
}

/* tanh backward from the output: dx = dy * (1 - (y / cap)^2) */
template <typename T>
__device__ void tanh_bwd_impl(T *dx, const T *dy, const T *y, float cap, i64 n) {
  GRID_STRIDE(i, n) {
    const float t = ld(y + i) / cap;
    st(dx + i, ld(dy + i) * (1.0f - t * t));
  }
}

/* clamp: out = min(max(x, lo), hi) (lo/hi may be infinite); backward: dx = dy where lo <= x <= hi, else 0 */
template <typename T>
__device__ void clamp_fwd_impl(T *out, const T *x, float lo, float hi, i64 n) {
  GRID_STRIDE(i, n) { st(out + i, fminf(fmaxf(ld(x + i), lo), hi)); }
}

template <typename T>
__device__ void clamp_bwd_impl(T *dx, const T *dy, const T *x, float lo, float hi, i64 n) {
  GRID_STRIDE(i, n) {
    const float v = ld(x + i);
    st(dx + i, v >= lo && v <= hi ? ld(dy + i) : 0.0f);
  }
}

/* swiglu backward: dgate = dy * up * silu'(gate), dup = dy * silu(gate) */
template <typename T>
__device__ void swiglu_bwd_impl(T *dgate, T *dup, const T *dy, const T *gate, const T *up, i64 n) {
  GRID_STRIDE(i, n) {
    const float g = ld(gate + i), s = sigmoidf_(g), d = ld(dy + i);
    st(dgate + i, d * ld(up + i) * s * (1.0f + g * (1.0f - s)));
    st(dup + i, d * g * s);
  }
}

#define DEF(sfx, T)                                                                                                    \
  extern "C" __global__ void lft_silu_fwd_##sfx(T *out, const T *x, i64 n) { silu_fwd_impl(out, x, n); }               \
  extern "C" __global__ void lft_silu_bwd_##sfx(T *dx, const T *dy, const T *x, i64 n) { silu_bwd_impl(dx, dy, x, n); } \
  extern "C" __global__ void lft_gelu_tanh_fwd_##sfx(T *out, const T *x, i64 n) { gelu_tanh_fwd_impl(out, x, n); }     \
  extern "C" __global__ void lft_gelu_tanh_bwd_##sfx(T *dx, const T *dy, const T *x, i64 n) {                          \
    gelu_tanh_bwd_impl(dx, dy, x, n);                                                                                  \
  }                                                                                                                    \
  extern "C" __global__ void lft_tanh_fwd_##sfx(T *out, const T *x, float cap, i64 n) { tanh_fwd_impl(out, x, cap, n); } \
  extern "C" __global__ void lft_tanh_bwd_##sfx(T *dx, const T *dy, const T *y, float cap, i64 n) {                    \
    tanh_bwd_impl(dx, dy, y, cap, n);                                                                                  \
  }                                                                                                                    \
  extern "C" __global__ void lft_clamp_fwd_##sfx(T *out, const T *x, float lo, float hi, i64 n) {                      \
    clamp_fwd_impl(out, x, lo, hi, n);                                                                                 \
  }                                                                                                                    \
  extern "C" __global__ void lft_clamp_bwd_##sfx(T *dx, const T *dy, const T *x, float lo, float hi, i64 n) {          \
    clamp_bwd_impl(dx, dy, x, lo, hi, n);                                                                              \
  }                                                                                                                    \
  extern "C" __global__ void lft_swiglu_fwd_##sfx(T *out, const T *gate, const T *up, i64 n) {                         \
    swiglu_fwd_impl(out, gate, up, n);                                                                                 \
  }                                                                                                                    \
  extern "C" __global__ void lft_swiglu_bwd_##sfx(T *dgate, T *dup, const T *dy, const T *gate, const T *up, i64 n) {  \
    swiglu_bwd_impl(dgate, dup, dy, gate, up, n);                                                                      \
  }
FOR_FLOAT_TYPES(DEF)
#undef DEF
