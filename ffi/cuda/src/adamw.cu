/* AdamW step (Loshchilov & Hutter), decoupled weight decay, as ffi/cpu/src/adamw.c and torch.optim.AdamW:
 *   p -= lr * wd * p;  m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;  p -= lr * (m / bc1) / (sqrt(v / bc2) + eps)
 * p, g, m, v f32 (master weights and moments stay f32 whatever the model's storage dtype).
 * Multi-tensor: one launch updates a list of tensors. The binding uploads a table of chunks
 * {p, g, m, v, start, len} (48 bytes each, one block per chunk), so a step over hundreds of LoRA
 * matrices is one launch, not hundreds. Arithmetic uses _rn intrinsics in the CPU's order (no FMA
 * contraction), so results match the CPU kernel bit for bit. `bad` counts the new p values that are
 * NaN or ±Inf as they are written (one atomic per block; the caller zeroes it), as the CPU kernel returns. */
#include "common.cuh"

struct AdamChunk {
  float *p;
  const float *g;
  float *m;
  float *v;
  i64 start;
  i64 len;
};

/* chunks [gridDim.x]; bc1 = 1 - beta1^t, bc2 = 1 - beta2^t; bad [1] accumulates the non-finite count */
extern "C" __global__ void __launch_bounds__(256) lft_adamw_multi(const AdamChunk *chunks, float lr, float beta1,
                                                                  float beta2, float eps, float weight_decay,
                                                                  float bc1, float bc2,
                                                                  unsigned long long *bad) {
  __shared__ double scratch[32];
  const AdamChunk c = chunks[blockIdx.x];
  const float decay = __fsub_rn(1.0f, __fmul_rn(lr, weight_decay));
  const float step = __fdiv_rn(lr, bc1);
  const float inv_sqrt_bc2 = __fdiv_rn(1.0f, __fsqrt_rn(bc2));
  const float one_b1 = __fsub_rn(1.0f, beta1), one_b2 = __fsub_rn(1.0f, beta2);
  double nonfinite = 0.0;
  for (i64 k = threadIdx.x; k < c.len; k += blockDim.x) {
    const i64 i = c.start + k;
    const float gi = c.g[i];
    const float mi = __fadd_rn(__fmul_rn(beta1, c.m[i]), __fmul_rn(one_b1, gi));
    const float vi = __fadd_rn(__fmul_rn(beta2, c.v[i]), __fmul_rn(__fmul_rn(one_b2, gi), gi));
    c.m[i] = mi;
    c.v[i] = vi;
    const float denom = __fadd_rn(__fmul_rn(__fsqrt_rn(vi), inv_sqrt_bc2), eps);
    const float pi = __fsub_rn(__fmul_rn(c.p[i], decay), __fdiv_rn(__fmul_rn(step, mi), denom));
    c.p[i] = pi;
    nonfinite += isfinite(pi) ? 0.0 : 1.0;
  }
  nonfinite = block_sum(nonfinite, scratch);
  if (threadIdx.x == 0 && nonfinite > 0.0) atomicAdd(bad, (unsigned long long)nonfinite);
}
