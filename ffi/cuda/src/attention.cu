/* Causal grouped-query attention, flash style, forward and backward: version 1 (SIMT, f32 arithmetic in
 * shared memory, no tensor cores). Same contract as ffi/cpu/src/attention.c, which stays the reference:
 *
 *   q, out, dq, dout [B, Tq, Hq, D]   k, v, dk, dv [B, Tk, Hkv, D]   lse, Dl [B, Hq, Tq] f32   seg [B, Tk] or NULL
 *   Tq <= Tk: query i sits at position p = i + Tk - Tq. Query head h reads kv head h / (Hq / Hkv).
 *   Query p sees key j when j <= p, p - j < window (window > 0), seg[b, p] == seg[b, j] (seg != NULL).
 *   s = scale * q.k, then s = softcap * tanh(s / softcap) when softcap > 0.
 *   forward:  out_i = sum_j p_ij v_j, p_ij = exp(s_ij - lse_i), lse_i = log sum_j exp(s_ij) over visible j
 *   backward: Dl_i = dout_i . out_i, ds_ij = p_ij (dout_i . v_j - Dl_i) (* (1 - tanh^2) with softcap),
 *             dq_i = scale sum_j ds_ij k_j, dk_j = scale sum_i ds_ij q_i, dv_j = sum_i p_ij dout_i.
 *   sinks [Hq] f32 or NULL (gpt-oss): exp(sink_h) joins each row's softmax denominator with no value, so
 *   lse_i = log(exp(sink_h) + sum_j exp(s_ij)); dq/dk/dv keep their form given that lse, and the sinks'
 *   gradient is dsinks_h = -sum_{b,i} exp(sink_h - lse_i) Dl_i (lft_attention_bwd_sinks).
 *   A query with no visible key gets out 0, lse -inf (its sink with sinks) and zero gradients.
 *
 * Layout of the work (D <= 256; each lane owns dims lane, lane + 32, ... : DPL = ceil(D / 32) of them):
 * - forward and dq: a block of 4 warps owns BQ = 4 * RQ queries of one (b, h); it walks key tiles of 32,
 *   staged in shared memory (rows padded to an odd stride, so a lane reading "its" key row hits its own
 *   bank). Lane j scores key j against the warp's RQ queries; the online softmax max is a warp reduction;
 *   the P.V (or dS.K) update broadcasts each key's weight with a shuffle. No S x S matrix exists.
 * - dk/dv: a block owns 4 * RK keys of one (b, kv head) and walks, for every query head of the group, the
 *   query tiles of 32 that can see them, so every dk/dv row has one writer: no atomics, deterministic.
 * All loops have fixed trip orders, so results are bit-for-bit reproducible. */
#include "common.cuh"

#define ATT_WARPS 4
#define ATT_RQ 4 /* query rows per warp in forward / dq */
#define ATT_RK 4 /* key rows per warp in dk/dv */
#define ATT_TILE 32

__device__ __forceinline__ bool att_visible(i64 p, i64 j, i64 window, const int32_t *sb, int32_t segp) {
  if (j > p) return false;
  if (window > 0 && p - j >= window) return false;
  if (sb && sb[j] != segp) return false;
  return true;
}

/* The capped logit of a raw dot product; *t gets tanh(.) for the backward (0 when uncapped). */
__device__ __forceinline__ float att_logit(float dot, float scale, float softcap, float *t) {
  const float x = scale * dot;
  if (softcap > 0.0f) {
    *t = tanhf(x / softcap);
    return softcap * *t;
  }
  *t = 0.0f;
  return x;
}

/* Stages rows [r0, r0 + nrows) of a [*, rowstride] tensor (D columns) into smem rows of stride S, zeros
 * for rows >= n_valid. */
template <typename T>
__device__ __forceinline__ void att_stage(float *dst, int S, const T *src, i64 rowstride, int rows, int n_valid, int D) {
  for (int e = threadIdx.x; e < rows * D; e += blockDim.x) {
    const int r = e / D, d = e - r * D;
    dst[r * S + d] = r < n_valid ? ld(src + (i64)r * rowstride + d) : 0.0f;
  }
}

/* forward. grid (ceil(Tq / BQ), Hq, B), block 128, dynamic smem (BQ + 2 * 32) * S floats. */
template <typename T, int DPL>
__device__ void attention_fwd_impl(T *out, float *lse, const T *q, const T *k, const T *v, const int32_t *seg, i64 Tq,
                                   i64 Tk, i64 Hq, i64 Hkv, int D, float scale, i64 window, float softcap,
                                   const float *sinks) {
  constexpr int RQ = ATT_RQ, BQ = ATT_WARPS * ATT_RQ, BK = ATT_TILE;
  extern __shared__ float smem[];
  const int S = D | 1;
  float *qs = smem, *ks = qs + BQ * S, *vs = ks + BK * S;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const i64 b = blockIdx.z, h = blockIdx.y, i0 = (i64)blockIdx.x * BQ;
  const i64 hk = h / (Hq / Hkv), off = Tk - Tq, qstride = Hq * D, kstride = Hkv * D;
  const int nq = (int)(Tq - i0 < BQ ? Tq - i0 : BQ);
  const T *qb = q + (b * Tq * Hq + h) * D, *kb = k + (b * Tk * Hkv + hk) * D, *vb = v + (b * Tk * Hkv + hk) * D;
  const int32_t *sb = seg ? seg + b * Tk : nullptr;

  att_stage(qs, S, qb + i0 * qstride, qstride, BQ, nq, D);
  float m[RQ], l[RQ], acc[RQ][DPL];
  i64 pos[RQ];
  int32_t segp[RQ];
#pragma unroll
  for (int r = 0; r < RQ; r++) {
    m[r] = -INFINITY;
    l[r] = 0.0f; /* this lane's share of the row sum; the shares are added at the end */
#pragma unroll
    for (int t = 0; t < DPL; t++) acc[r][t] = 0.0f;
    const int rr = warp * RQ + r;
    pos[r] = i0 + rr + off;
    segp[r] = sb && rr < nq ? sb[pos[r]] : 0;
  }
  const i64 first = i0 + off, jend = i0 + nq + off; /* keys past the last query's position are never seen */
  const i64 jstart = window > 0 && first - window + 1 > 0 ? first - window + 1 : 0;
  for (i64 j0 = jstart; j0 < jend; j0 += BK) {
    const int nk = (int)(jend - j0 < BK ? jend - j0 : BK);
    __syncthreads(); /* the previous tile is consumed (and, first time round, q is staged) */
    att_stage(ks, S, kb + j0 * kstride, kstride, BK, nk, D);
    att_stage(vs, S, vb + j0 * kstride, kstride, BK, nk, D);
    __syncthreads();
    float s[RQ];
#pragma unroll
    for (int r = 0; r < RQ; r++) s[r] = 0.0f;
    const float *kr = ks + lane * S;
    for (int d = 0; d < D; d++) {
      const float kv = kr[d];
#pragma unroll
      for (int r = 0; r < RQ; r++) s[r] += qs[(warp * RQ + r) * S + d] * kv;
    }
    const i64 j = j0 + lane;
#pragma unroll
    for (int r = 0; r < RQ; r++) {
      const bool ok = warp * RQ + r < nq && lane < nk && att_visible(pos[r], j, window, sb, segp[r]);
      float t;
      const float x = ok ? att_logit(s[r], scale, softcap, &t) : -INFINITY;
      const float mx = warp_max(x);
      if (mx == -INFINITY) { /* nothing visible to this row in this tile */
        s[r] = 0.0f;
        continue;
      }
      const float mnew = fmaxf(m[r], mx);
      const float alpha = expf(m[r] - mnew); /* 0 on the first visible tile (m = -inf) */
      const float p = ok ? expf(x - mnew) : 0.0f;
      m[r] = mnew;
      l[r] = l[r] * alpha + p;
#pragma unroll
      for (int t2 = 0; t2 < DPL; t2++) acc[r][t2] *= alpha;
      s[r] = p;
    }
    for (int jj = 0; jj < nk; jj++) {
      float vv[DPL];
#pragma unroll
      for (int t = 0; t < DPL; t++) {
        const int d = lane + 32 * t;
        vv[t] = d < D ? vs[jj * S + d] : 0.0f;
      }
#pragma unroll
      for (int r = 0; r < RQ; r++) {
        const float p = __shfl_sync(FULL_MASK, s[r], jj);
#pragma unroll
        for (int t = 0; t < DPL; t++) acc[r][t] += p * vv[t];
      }
    }
  }
#pragma unroll
  for (int r = 0; r < RQ; r++) {
    const float lt = warp_sum(l[r]);
    const int rr = warp * RQ + r;
    if (rr >= nq) continue;
    const i64 i = i0 + rr;
    float inv = lt > 0.0f ? 1.0f / lt : 0.0f;
    float row_lse = lt > 0.0f ? m[r] + logf(lt) : -INFINITY;
    if (sinks) { /* the sink joins the denominator: rescale to the larger of m and the sink */
      const float sink = sinks[h], mx = lt > 0.0f && m[r] > sink ? m[r] : sink;
      const float keep = lt > 0.0f ? expf(m[r] - mx) : 0.0f, z = lt * keep + expf(sink - mx);
      inv = keep / z;
      row_lse = mx + logf(z);
    }
    T *o = out + (b * Tq + i) * qstride + h * D;
#pragma unroll
    for (int t = 0; t < DPL; t++) {
      const int d = lane + 32 * t;
      if (d < D) st(o + d, acc[r][t] * inv);
    }
    if (lane == 0) lse[(b * Hq + h) * Tq + i] = row_lse;
  }
}

/* backward, step 1: Dl[b, h, i] = dout . out over D (f32). One warp per (b, i, h) row, 8 rows per block. */
template <typename T>
__device__ void attention_bwd_dot_impl(float *Dl, const T *dout, const T *out, i64 B, i64 Tq, i64 Hq, int D) {
  const i64 row = (i64)blockIdx.x * 8 + (threadIdx.x >> 5); /* (b * Tq + i) * Hq + h */
  const int lane = threadIdx.x & 31;
  if (row >= B * Tq * Hq) return;
  const T *g = dout + row * D, *o = out + row * D;
  float s = 0.0f;
  for (int d = lane; d < D; d += 32) s += ld(g + d) * ld(o + d);
  s = warp_sum(s);
  const i64 h = row % Hq, bi = row / Hq, i = bi % Tq, b = bi / Tq;
  if (lane == 0) Dl[(b * Hq + h) * Tq + i] = s;
}

/* backward, with sinks: dsinks[h] = -sum over (b, i) of exp(sinks[h] - lse[b, h, i]) * Dl[b, h, i]. One block
 * of 256 per head, a fixed-order block reduction (deterministic). */
extern "C" __global__ void __launch_bounds__(256) lft_attention_bwd_sinks(float *dsinks, const float *sinks, const float *lse,
                                                                           const float *Dl, i64 B, i64 Tq, i64 Hq) {
  __shared__ double scratch[32];
  const i64 h = blockIdx.x;
  double g = 0.0;
  for (i64 e = threadIdx.x; e < B * Tq; e += blockDim.x) {
    const i64 b = e / Tq, i = e - b * Tq, r = (b * Hq + h) * Tq + i;
    g -= (double)expf(sinks[h] - lse[r]) * (double)Dl[r];
  }
  g = block_sum(g, scratch);
  if (threadIdx.x == 0) dsinks[h] = (float)g;
}

/* backward, step 2: dq. grid (ceil(Tq / BQ), Hq, B), block 128, dynamic smem 2 * (BQ + 32) * S floats. */
template <typename T, int DPL>
__device__ void attention_bwd_dq_impl(T *dq, const T *dout, const float *lse, const float *Dl, const T *q, const T *k,
                                      const T *v, const int32_t *seg, i64 Tq, i64 Tk, i64 Hq, i64 Hkv, int D,
                                      float scale, i64 window, float softcap) {
  constexpr int RQ = ATT_RQ, BQ = ATT_WARPS * ATT_RQ, BK = ATT_TILE;
  extern __shared__ float smem[];
  const int S = D | 1;
  float *qs = smem, *gs = qs + BQ * S, *ks = gs + BQ * S, *vs = ks + BK * S;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const i64 b = blockIdx.z, h = blockIdx.y, i0 = (i64)blockIdx.x * BQ;
  const i64 hk = h / (Hq / Hkv), off = Tk - Tq, qstride = Hq * D, kstride = Hkv * D;
  const int nq = (int)(Tq - i0 < BQ ? Tq - i0 : BQ);
  const T *qb = q + (b * Tq * Hq + h) * D, *gb = dout + (b * Tq * Hq + h) * D;
  const T *kb = k + (b * Tk * Hkv + hk) * D, *vb = v + (b * Tk * Hkv + hk) * D;
  const int32_t *sb = seg ? seg + b * Tk : nullptr;

  att_stage(qs, S, qb + i0 * qstride, qstride, BQ, nq, D);
  att_stage(gs, S, gb + i0 * qstride, qstride, BQ, nq, D);
  float acc[RQ][DPL], li[RQ], di[RQ];
  i64 pos[RQ];
  int32_t segp[RQ];
#pragma unroll
  for (int r = 0; r < RQ; r++) {
    const int rr = warp * RQ + r;
    pos[r] = i0 + rr + off;
    segp[r] = sb && rr < nq ? sb[pos[r]] : 0;
    li[r] = rr < nq ? lse[(b * Hq + h) * Tq + i0 + rr] : -INFINITY;
    di[r] = rr < nq ? Dl[(b * Hq + h) * Tq + i0 + rr] : 0.0f;
#pragma unroll
    for (int t = 0; t < DPL; t++) acc[r][t] = 0.0f;
  }
  const i64 first = i0 + off, jend = i0 + nq + off;
  const i64 jstart = window > 0 && first - window + 1 > 0 ? first - window + 1 : 0;
  for (i64 j0 = jstart; j0 < jend; j0 += BK) {
    const int nk = (int)(jend - j0 < BK ? jend - j0 : BK);
    __syncthreads();
    att_stage(ks, S, kb + j0 * kstride, kstride, BK, nk, D);
    att_stage(vs, S, vb + j0 * kstride, kstride, BK, nk, D);
    __syncthreads();
    float s[RQ], dp[RQ];
#pragma unroll
    for (int r = 0; r < RQ; r++) s[r] = 0.0f, dp[r] = 0.0f;
    const float *kr = ks + lane * S, *vr = vs + lane * S;
    for (int d = 0; d < D; d++) {
      const float kv = kr[d], vv = vr[d];
#pragma unroll
      for (int r = 0; r < RQ; r++) {
        s[r] += qs[(warp * RQ + r) * S + d] * kv;
        dp[r] += gs[(warp * RQ + r) * S + d] * vv;
      }
    }
    const i64 j = j0 + lane;
#pragma unroll
    for (int r = 0; r < RQ; r++) {
      const bool ok = warp * RQ + r < nq && lane < nk && li[r] != -INFINITY && att_visible(pos[r], j, window, sb, segp[r]);
      float t;
      const float x = att_logit(s[r], scale, softcap, &t);
      const float p = ok ? expf(x - li[r]) : 0.0f;
      float ds = p * (dp[r] - di[r]);
      if (softcap > 0.0f) ds *= 1.0f - t * t;
      s[r] = ok ? scale * ds : 0.0f;
    }
    for (int jj = 0; jj < nk; jj++) {
      float kv[DPL];
#pragma unroll
      for (int t = 0; t < DPL; t++) {
        const int d = lane + 32 * t;
        kv[t] = d < D ? ks[jj * S + d] : 0.0f;
      }
#pragma unroll
      for (int r = 0; r < RQ; r++) {
        const float g = __shfl_sync(FULL_MASK, s[r], jj);
#pragma unroll
        for (int t = 0; t < DPL; t++) acc[r][t] += g * kv[t];
      }
    }
  }
#pragma unroll
  for (int r = 0; r < RQ; r++) {
    const int rr = warp * RQ + r;
    if (rr >= nq) continue;
    T *o = dq + (b * Tq + i0 + rr) * qstride + h * D;
#pragma unroll
    for (int t = 0; t < DPL; t++) {
      const int d = lane + 32 * t;
      if (d < D) st(o + d, acc[r][t]);
    }
  }
}

/* backward, step 3: dk and dv. grid (ceil(Tk / BKB), Hkv, B) with BKB = 4 * RK keys per block, block 128,
 * dynamic smem (2 * BKB + 2 * 32) * S + 64 floats. Lane ii is a query of the current tile. */
template <typename T, int DPL>
__device__ void attention_bwd_dkdv_impl(T *dk, T *dv, const T *dout, const float *lse, const float *Dl, const T *q,
                                        const T *k, const T *v, const int32_t *seg, i64 Tq, i64 Tk, i64 Hq, i64 Hkv,
                                        int D, float scale, i64 window, float softcap) {
  constexpr int RK = ATT_RK, BKB = ATT_WARPS * ATT_RK, BQ = ATT_TILE;
  extern __shared__ float smem[];
  const int S = D | 1;
  float *kk = smem, *vv = kk + BKB * S, *qs = vv + BKB * S, *gs = qs + BQ * S, *ls = gs + BQ * S, *dls = ls + BQ;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const i64 b = blockIdx.z, hk = blockIdx.y, j0 = (i64)blockIdx.x * BKB;
  const i64 group = Hq / Hkv, off = Tk - Tq, qstride = Hq * D, kstride = Hkv * D;
  const int nk = (int)(Tk - j0 < BKB ? Tk - j0 : BKB);
  const T *kb = k + (b * Tk * Hkv + hk) * D, *vb = v + (b * Tk * Hkv + hk) * D;
  const int32_t *sb = seg ? seg + b * Tk : nullptr;

  att_stage(kk, S, kb + j0 * kstride, kstride, BKB, nk, D);
  att_stage(vv, S, vb + j0 * kstride, kstride, BKB, nk, D);
  float adk[RK][DPL], adv[RK][DPL];
#pragma unroll
  for (int r = 0; r < RK; r++)
#pragma unroll
    for (int t = 0; t < DPL; t++) adk[r][t] = 0.0f, adv[r][t] = 0.0f;

  /* queries that can see a key of this block sit at positions j0 <= p < j0 + nk - 1 + window (or to the end) */
  const i64 pend = window > 0 && j0 + nk - 1 + window < Tk ? j0 + nk - 1 + window : Tk;
  const i64 istart = j0 - off > 0 ? j0 - off : 0, iend = pend - off;
  for (i64 h = hk * group; h < (hk + 1) * group; h++) {
    const T *qb = q + (b * Tq * Hq + h) * D, *gb = dout + (b * Tq * Hq + h) * D;
    for (i64 i0 = istart; i0 < iend; i0 += BQ) {
      const int nq = (int)(iend - i0 < BQ ? iend - i0 : BQ);
      __syncthreads(); /* the previous query tile is consumed (and k/v are staged) */
      att_stage(qs, S, qb + i0 * qstride, qstride, BQ, nq, D);
      att_stage(gs, S, gb + i0 * qstride, qstride, BQ, nq, D);
      if (threadIdx.x < BQ) {
        const bool in = (int)threadIdx.x < nq;
        ls[threadIdx.x] = in ? lse[(b * Hq + h) * Tq + i0 + threadIdx.x] : -INFINITY;
        dls[threadIdx.x] = in ? Dl[(b * Hq + h) * Tq + i0 + threadIdx.x] : 0.0f;
      }
      __syncthreads();
      float s[RK], dp[RK];
#pragma unroll
      for (int r = 0; r < RK; r++) s[r] = 0.0f, dp[r] = 0.0f;
      const float *qr = qs + lane * S, *gr = gs + lane * S;
      for (int d = 0; d < D; d++) {
        const float qv = qr[d], gv = gr[d];
#pragma unroll
        for (int r = 0; r < RK; r++) {
          s[r] += qv * kk[(warp * RK + r) * S + d];
          dp[r] += gv * vv[(warp * RK + r) * S + d];
        }
      }
      const i64 p = i0 + lane + off;
      const float li = ls[lane], di = dls[lane];
      const int32_t segp = sb && lane < nq ? sb[p] : 0;
      float pr[RK], dsr[RK];
#pragma unroll
      for (int r = 0; r < RK; r++) {
        const i64 j = j0 + warp * RK + r;
        const bool ok = lane < nq && warp * RK + r < nk && li != -INFINITY && att_visible(p, j, window, sb, segp);
        float t;
        const float x = att_logit(s[r], scale, softcap, &t);
        const float pv = ok ? expf(x - li) : 0.0f;
        float ds = pv * (dp[r] - di);
        if (softcap > 0.0f) ds *= 1.0f - t * t;
        pr[r] = pv;
        dsr[r] = ok ? scale * ds : 0.0f;
      }
      for (int ii = 0; ii < nq; ii++) {
        float qv[DPL], gv[DPL];
#pragma unroll
        for (int t = 0; t < DPL; t++) {
          const int d = lane + 32 * t;
          qv[t] = d < D ? qs[ii * S + d] : 0.0f;
          gv[t] = d < D ? gs[ii * S + d] : 0.0f;
        }
#pragma unroll
        for (int r = 0; r < RK; r++) {
          const float pp = __shfl_sync(FULL_MASK, pr[r], ii), dd = __shfl_sync(FULL_MASK, dsr[r], ii);
#pragma unroll
          for (int t = 0; t < DPL; t++) {
            adv[r][t] += pp * gv[t];
            adk[r][t] += dd * qv[t];
          }
        }
      }
    }
  }
#pragma unroll
  for (int r = 0; r < RK; r++) {
    const int jj = warp * RK + r;
    if (jj >= nk) continue;
    T *ok_ = dk + (b * Tk + j0 + jj) * kstride + hk * D, *ov = dv + (b * Tk + j0 + jj) * kstride + hk * D;
#pragma unroll
    for (int t = 0; t < DPL; t++) {
      const int d = lane + 32 * t;
      if (d < D) {
        st(ok_ + d, adk[r][t]);
        st(ov + d, adv[r][t]);
      }
    }
  }
}

#define ATT_DEF(sfx, T, DPL)                                                                                           \
  extern "C" __global__ void __launch_bounds__(128) lft_attention_fwd_d##DPL##_##sfx(                                  \
      T *out, float *lse, const T *q, const T *k, const T *v, const int32_t *seg, i64 Tq, i64 Tk, i64 Hq, i64 Hkv,     \
      int D, float scale, i64 window, float softcap, const float *sinks) {                                             \
    attention_fwd_impl<T, DPL>(out, lse, q, k, v, seg, Tq, Tk, Hq, Hkv, D, scale, window, softcap, sinks);             \
  }                                                                                                                    \
  extern "C" __global__ void __launch_bounds__(128) lft_attention_bwd_dq_d##DPL##_##sfx(                               \
      T *dq, const T *dout, const float *lse, const float *Dl, const T *q, const T *k, const T *v,                     \
      const int32_t *seg, i64 Tq, i64 Tk, i64 Hq, i64 Hkv, int D, float scale, i64 window, float softcap) {            \
    attention_bwd_dq_impl<T, DPL>(dq, dout, lse, Dl, q, k, v, seg, Tq, Tk, Hq, Hkv, D, scale, window, softcap);        \
  }                                                                                                                    \
  extern "C" __global__ void __launch_bounds__(128) lft_attention_bwd_dkdv_d##DPL##_##sfx(                             \
      T *dk, T *dv, const T *dout, const float *lse, const float *Dl, const T *q, const T *k, const T *v,              \
      const int32_t *seg, i64 Tq, i64 Tk, i64 Hq, i64 Hkv, int D, float scale, i64 window, float softcap) {            \
    attention_bwd_dkdv_impl<T, DPL>(dk, dv, dout, lse, Dl, q, k, v, seg, Tq, Tk, Hq, Hkv, D, scale, window, softcap);  \
  }
#define DEF(sfx, T)                                                                                                    \
  ATT_DEF(sfx, T, 1) ATT_DEF(sfx, T, 2) ATT_DEF(sfx, T, 4) ATT_DEF(sfx, T, 8)                                         \
  extern "C" __global__ void __launch_bounds__(256) lft_attention_bwd_dot_##sfx(float *Dl, const T *dout, const T *out, \
                                                                                i64 B, i64 Tq, i64 Hq, int D) {        \
    attention_bwd_dot_impl(Dl, dout, out, B, Tq, Hq, D);                                                               \
  }
FOR_FLOAT_TYPES(DEF)
#undef DEF
#undef ATT_DEF
