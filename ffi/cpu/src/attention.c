/* Causal grouped-query attention, flash style: an online softmax over key tiles, so no T x T matrix
 * exists; each thread holds one query tile x key tile block of scores plus its accumulators.
 *
 *   q, out, dq, dout [B, Tq, Hq, D]   k, v, dk, dv [B, Tk, Hkv, D]   lse [B, Hq, Tq]   seg [B, Tk] or NULL
 *   Tq <= Tk: the queries are the last Tq positions of the Tk-long sequence (Tq = Tk in training; Tq = 1
 *   when decoding with a KV cache). Query i sits at position p = i + Tk - Tq.
 *   query head h reads kv head h / (Hq / Hkv); element (b, t, h, d) is at ((b*T + t)*H + h)*D + d.
 *   query i sees key j when j <= p, and p - j < window (window > 0), and seg[b,p] == seg[b,j] (seg != NULL).
 *   s_ij = scale * q_i . k_j, then s_ij = softcap * tanh(s_ij / softcap) when softcap > 0.
 *   forward:  out_i = sum_j p_ij v_j,  p_ij = exp(s_ij - lse_i),  lse_i = log sum_j exp(s_ij)  (visible j)
 *   backward: Dl_i = dout_i . out_i,  ds_ij = p_ij (dout_i . v_j - Dl_i) (* (1 - tanh^2) with softcap),
 *             dq_i = scale sum_j ds_ij k_j,  dk_j = scale sum_i ds_ij q_i,  dv_j = sum_i p_ij dout_i.
 * sinks [Hq] (may be NULL; gpt-oss): a learned logit per query head that joins every row's softmax
 * denominator with no value: lse_i = log(exp(sink_h) + sum_j exp(s_ij)), so out_i shrinks by the
 * sink's share. dq/dk/dv keep their form given that lse; d sink_h = -sum_{b,i} exp(sink_h - lse_i) Dl_i.
 * A query with no visible key (possible only with odd segment ids) gets out 0, lse -inf (sink_h with
 * sinks) and zero grads.
 * The backward recomputes p from lse in two race-free passes: dq over (b, h, query tiles), then dk and
 * dv over (b, kv head, key tiles), each key tile gathering from every query head of its group.
 * Every product of tiles runs through tile_matmul.h's register-blocked kernel. The forward keeps its
 * scores transposed (keys x queries), so its query tile is transposed once and the softmax runs along
 * queries in vector lanes; the backward's dk/dv pass transposes each key tile once for all the queries it
 * meets, and its separate dq pass (few kv heads) transposes each query and dout tile once, scores keys x queries. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <omp.h>
#include "lft_cpu.h"
#include "fast_math.h"
#include "tile_matmul.h"

#define BQ 32 /* queries per tile */
#define BK 64 /* keys per tile */

/* yt [D, ld] = rows 0 .. n-1 of y (stride ystride) transposed, zero in columns n .. ld-1. */
static void tile_transpose(float *restrict yt, int64_t ld, const float *restrict y, int64_t ystride, int64_t n, int64_t D) {
  for (int64_t jj = 0; jj < n; jj++) {
    const float *restrict yr = y + jj * ystride;
    for (int64_t d = 0; d < D; d++) yt[d * ld + jj] = yr[d];
  }
  if (n < ld)
    for (int64_t d = 0; d < D; d++) memset(yt + d * ld + n, 0, sizeof(float) * (size_t)(ld - n));
}

/* Keys j in [lo, hi] that query i may see by position (causal + window); lo > hi when none. */
static inline void visible_range(int64_t i, int64_t window, int64_t *lo, int64_t *hi) {
  *lo = window > 0 && i - window + 1 > 0 ? i - window + 1 : 0;
  *hi = i;
}

/* Does any query of [i0, i0+nq) (positions i + off) see any key of [j0, j0+nk)? Lets packed sequences
 * skip whole tiles. */
static int tile_visible(int64_t i0, int64_t nq, int64_t j0, int64_t nk, int64_t window, const int32_t *seg,
                        int64_t off) {
  for (int64_t i = i0 + off; i < i0 + off + nq; i++) {
    int64_t lo, hi;
    visible_range(i, window, &lo, &hi);
    if (lo < j0) lo = j0;
    if (hi > j0 + nk - 1) hi = j0 + nk - 1;
    if (lo > hi) continue;
    if (!seg) return 1;
    for (int64_t j = lo; j <= hi; j++)
      if (seg[j] == seg[i]) return 1;
  }
  return 0;
}

/* The element counts of q/out [B, Tq, Hq, D], k/v [B, Tk, Hkv, D] and lse [B, Hq, Tq] fit int64, so
 * no index computed below can overflow (the binding guarantees it; this keeps C safe on its own). */
static int sizes_fit(int64_t B, int64_t Tq, int64_t Tk, int64_t Hq, int64_t Hkv, int64_t D) {
  if (B < 0 || Tq < 0 || Tk < Tq || Hq < 0 || Hkv <= 0 || D < 0) return 0;
  return lft_mul_i64(lft_mul_i64(lft_mul_i64(B, Tq), Hq), D) >= 0 && lft_mul_i64(lft_mul_i64(lft_mul_i64(B, Tk), Hkv), D) >= 0 &&
         lft_mul_i64(lft_mul_i64(B, Hq), Tk) >= 0;
}

/* Called by every thread of a parallel region after its work buffers are allocated: records a failure,
 * waits for the team, and says whether every thread got its buffers (the same answer in every thread,
 * so all or none enter the work-shared loops). */
static int all_allocated(int32_t *status, int ok) {
  if (!ok) {
#pragma omp atomic write
    *status = LFT_ERR_NOMEM;
  }
#pragma omp barrier
  int32_t s;
#pragma omp atomic read
  s = *status;
  return s == LFT_OK;
}

/* The capped logit of a raw dot product; *t gets tanh(.) for the backward (0 when uncapped). */
static inline float logit(float dot, float scale, float softcap, float *t) {
  const float x = scale * dot;
  if (softcap > 0.0f) {
    *t = lft_tanhf(x / softcap);
    return softcap * *t;
  }
  *t = 0.0f;
  return x;
}

/* One key tile of the online softmax for a query tile, scores transposed: st [nk, BQ] holds the raw dots
 * k_j . q_i (row jj = key j0 + jj, column ii = query at position p0 + ii). On return it holds
 * exp(logit - m_i), 0 where masked, and each query's running max m, sum l and accumulator row acc [ii, D]
 * are rescaled to its new max. Columns are queries, so every loop runs along them and vectorises.
 * whole: every key of the tile is visible to every query of it (no mask test). */
static void softmax_tile(float *restrict st, int64_t nk, int64_t nq, float *restrict acc, int64_t D, float *restrict m,
                         float *restrict l, int whole, int64_t p0, int64_t j0, int64_t window, const int32_t *sb,
                         float scale, float softcap) {
  float mx[BQ], alpha[BQ], sum[BQ];
  for (int64_t ii = 0; ii < nq; ii++) mx[ii] = -INFINITY, sum[ii] = 0.0f;
  for (int64_t jj = 0; jj < nk; jj++) {
    float *restrict row = st + jj * BQ;
    const int64_t j = j0 + jj;
    if (softcap > 0.0f)
      for (int64_t ii = 0; ii < nq; ii++) row[ii] = softcap * lft_tanhf(scale * row[ii] / softcap);
    else
      for (int64_t ii = 0; ii < nq; ii++) row[ii] *= scale;
    if (!whole)
      for (int64_t ii = 0; ii < nq; ii++) {
        const int64_t p = p0 + ii;
        const int seen = j <= p && (window <= 0 || p - j < window) && (!sb || sb[j] == sb[p]);
        row[ii] = seen ? row[ii] : -INFINITY;
      }
    for (int64_t ii = 0; ii < nq; ii++) mx[ii] = row[ii] > mx[ii] ? row[ii] : mx[ii];
  }
  for (int64_t ii = 0; ii < nq; ii++) {
    const float mnew = mx[ii] > m[ii] ? mx[ii] : m[ii];
    /* a query that has seen nothing yet keeps m = -inf; shifting by 0 then gives exp(-inf) = 0 */
    alpha[ii] = m[ii] == -INFINITY ? 0.0f : lft_expf(m[ii] - mnew);
    m[ii] = mnew;
    mx[ii] = mnew == -INFINITY ? 0.0f : mnew; /* the shift */
  }
  for (int64_t jj = 0; jj < nk; jj++) {
    float *restrict row = st + jj * BQ;
    for (int64_t ii = 0; ii < nq; ii++) {
      row[ii] = lft_expf(row[ii] - mx[ii]);
      sum[ii] += row[ii];
    }
  }
  for (int64_t ii = 0; ii < nq; ii++) {
    l[ii] = l[ii] * alpha[ii] + sum[ii];
    if (alpha[ii] != 1.0f)
      for (int64_t d = 0; d < D; d++) acc[ii * D + d] *= alpha[ii];
  }
}

/* forward: q [B,Tq,Hq,D], k, v [B,Tk,Hkv,D], seg [B,Tk] -> out [B,Tq,Hq,D], lse [B,Hq,Tq] */
int32_t lft_attention_fwd(float *out, float *lse, const float *q, const float *k, const float *v, const int32_t *seg,
                          int64_t B, int64_t Tq, int64_t Tk, int64_t Hq, int64_t Hkv, int64_t D, float scale,
                          int64_t window, float softcap, const float *sinks) {
  if (!sizes_fit(B, Tq, Tk, Hq, Hkv, D)) return LFT_ERR_SIZE;
  const int64_t group = Hq / Hkv, nqt = (Tq + BQ - 1) / BQ, off = Tk - Tq;
  const int64_t qs = Hq * D, ks = Hkv * D; /* row strides between tokens */
  int32_t status = LFT_OK;
#pragma omp parallel
  {
    float *qt_ = lft_malloc_n(D, BQ, sizeof(float)); /* the query tile transposed */
    float *st = lft_malloc_n(BK, BQ, sizeof(float));  /* scores, keys x queries */
    float *acc = lft_malloc_n(BQ, D, sizeof(float));
    float m[BQ], l[BQ];
    const int64_t nb = all_allocated(&status, qt_ && st && acc) ? B : 0;
#pragma omp for collapse(3) schedule(dynamic)
    for (int64_t b = 0; b < nb; b++)
      for (int64_t h = 0; h < Hq; h++)
        for (int64_t qt = 0; qt < nqt; qt++) {
          const int64_t i0 = qt * BQ, nq = Tq - i0 < BQ ? Tq - i0 : BQ, hk = h / group;
          const float *qb = q + (b * Tq * Hq + h) * D, *kb = k + (b * Tk * Hkv + hk) * D, *vb = v + (b * Tk * Hkv + hk) * D;
          const int32_t *sb = seg ? seg + b * Tk : NULL;
          for (int64_t ii = 0; ii < nq; ii++) m[ii] = -INFINITY, l[ii] = 0.0f;
          memset(acc, 0, sizeof(float) * (size_t)(nq * D));
          tile_transpose(qt_, BQ, qb + i0 * qs, qs, nq, D);
          /* score columns computed: nq rounded up to whole vectors (decoding has nq = 1) */
          const int64_t ncols = (nq + LFT_TILE_W - 1) / LFT_TILE_W * LFT_TILE_W < BQ ? (nq + LFT_TILE_W - 1) / LFT_TILE_W * LFT_TILE_W : BQ;
          int64_t jstart, jend;
          visible_range(i0 + off, window, &jstart, &jend);
          jend = i0 + off + nq; /* exclusive */
          for (int64_t j0 = jstart; j0 < jend; j0 += BK) {
            const int64_t nk = jend - j0 < BK ? jend - j0 : BK;
            if (!tile_visible(i0, nq, j0, nk, window, sb, off)) continue;
            if (nq == 1) /* decoding: one query, a dot product per key rather than a vector of columns */
              for (int64_t jj = 0; jj < nk; jj++) st[jj * BQ] = lft_tile_dot(kb + (j0 + jj) * ks, qb + i0 * qs, D);
            else
              lft_tile_matmul(st, BQ, kb + j0 * ks, ks, 1, qt_, BQ, nk, ncols, D, 0); /* k q^T */
            const int whole = !sb && j0 + nk - 1 <= i0 + off && (window <= 0 || i0 + off + nq - 1 - j0 < window);
            softmax_tile(st, nk, nq, acc, D, m, l, whole, i0 + off, j0, window, sb, scale, softcap);
            lft_tile_matmul(acc, D, st, 1, BQ, vb + j0 * ks, ks, nq, D, nk, 1); /* acc += p v */
          }
          for (int64_t ii = 0; ii < nq; ii++) {
            const int64_t i = i0 + ii;
            float *restrict o = out + (b * Tq + i) * qs + h * D;
            float inv = l[ii] > 0.0f ? 1.0f / l[ii] : 0.0f;
            float row_lse = l[ii] > 0.0f ? m[ii] + logf(l[ii]) : -INFINITY;
            if (sinks) { /* the sink joins the denominator: rescale to the larger of m and the sink */
              const float sink = sinks[h], mx = l[ii] > 0.0f && m[ii] > sink ? m[ii] : sink;
              const float keep = l[ii] > 0.0f ? expf(m[ii] - mx) : 0.0f, z = l[ii] * keep + expf(sink - mx);
              inv = keep / z;
              row_lse = mx + logf(z);
            }
            for (int64_t d = 0; d < D; d++) o[d] = acc[ii * D + d] * inv;
            lse[(b * Hq + h) * Tq + i] = row_lse;
          }
        }
    free(qt_);
    free(st);
    free(acc);
  }
  return status;
}

/* ds for one scores block: S holds q.k, P holds dout.v on entry; on exit S holds p and P holds
 * scale * ds (both 0 where masked). Rows are queries i0.. (positions i0 + off..), columns keys j0... */
static void tile_grads(float *restrict S, float *restrict P, int64_t i0, int64_t nq, int64_t j0, int64_t nk,
                       const float *lse, const float *Dl, const int32_t *sb, int64_t window, float scale,
                       float softcap, int64_t off) {
  for (int64_t ii = 0; ii < nq; ii++) {
    const int64_t i = i0 + ii + off; /* position */
    float *restrict s = S + ii * BK, *restrict dp = P + ii * BK;
    int64_t lo, hi;
    visible_range(i, window, &lo, &hi);
    const float li = lse[i0 + ii], di = Dl[i0 + ii];
    if (li == -INFINITY) { /* the row saw no key: no gradient */
      memset(s, 0, sizeof(float) * BK);
      memset(dp, 0, sizeof(float) * BK);
      continue;
    }
    /* Visibility as a lane mask, then branch-free lanes (selects, not branches), so GCC vectorises:
     * masked lanes may compute exp of anything; the select drops it before it is used. */
    int32_t vis[BK];
    for (int64_t jj = 0; jj < BK; jj++) vis[jj] = jj < nk && j0 + jj >= lo && j0 + jj <= hi;
    if (sb)
      for (int64_t jj = 0; jj < nk; jj++) vis[jj] &= sb[j0 + jj] == sb[i];
    if (softcap > 0.0f) {
      for (int64_t jj = 0; jj < BK; jj++) {
        const float t = lft_tanhf(scale * s[jj] / softcap);
        const float p = vis[jj] ? lft_expf(softcap * t - li) : 0.0f;
        s[jj] = p;
        dp[jj] = scale * p * (dp[jj] - di) * (1.0f - t * t);
      }
    } else {
      for (int64_t jj = 0; jj < BK; jj++) {
        const float p = vis[jj] ? lft_expf(scale * s[jj] - li) : 0.0f;
        s[jj] = p;
        dp[jj] = scale * p * (dp[jj] - di);
      }
    }
  }
}

/* tile_grads on a block stored keys x queries (row jj = key j0 + jj, column ii = query i0 + ii, row stride
 * BQ), so its loops run along queries in vector lanes. */
static void tile_grads_t(float *restrict ST, float *restrict PT, int64_t i0, int64_t nq, int64_t j0, int64_t nk,
                         const float *lse, const float *Dl, const int32_t *sb, int64_t window, float scale,
                         float softcap, int64_t off) {
  for (int64_t jj = 0; jj < nk; jj++) {
    const int64_t j = j0 + jj;
    float *restrict s = ST + jj * BQ, *restrict dp = PT + jj * BQ;
    int32_t vis[BQ];
    for (int64_t ii = 0; ii < nq; ii++) {
      const int64_t p = i0 + ii + off; /* query position */
      vis[ii] = lse[i0 + ii] != -INFINITY && j <= p && (window <= 0 || p - j < window) && (!sb || sb[j] == sb[p]);
    }
    if (softcap > 0.0f) {
      for (int64_t ii = 0; ii < nq; ii++) {
        const float t = lft_tanhf(scale * s[ii] / softcap);
        const float pr = vis[ii] ? lft_expf(softcap * t - lse[i0 + ii]) : 0.0f;
        s[ii] = pr;
        dp[ii] = scale * pr * (dp[ii] - Dl[i0 + ii]) * (1.0f - t * t);
      }
    } else {
      for (int64_t ii = 0; ii < nq; ii++) {
        const float pr = vis[ii] ? lft_expf(scale * s[ii] - lse[i0 + ii]) : 0.0f;
        s[ii] = pr;
        dp[ii] = scale * pr * (dp[ii] - Dl[i0 + ii]);
      }
    }
  }
}

typedef struct {
  float *dq, *dk, *dv;
  const float *dout, *lse, *Dl, *q, *k, *v;
  const int32_t *seg;
  int64_t Tq, Tk, Hq, Hkv, D;
  float scale;
  int64_t window;
  float softcap;
  int64_t off;
} BwdArgs;

typedef struct {
  float *kt, *vt, *S, *P, *acc;
} Scratch;

/* dk and dv of one key tile of kv head hk, gathering from every query head of its group; with
 * with_dq the caller owns this group's dq rows and they receive this tile's contributions too. */
static void key_tile(const BwdArgs *a, const Scratch *sc, int64_t b, int64_t hk, int64_t kt_i, int with_dq) {
  const int64_t D = a->D, group = a->Hq / a->Hkv, qs = a->Hq * D, ks = a->Hkv * D, off = a->off;
  const int64_t j0 = kt_i * BK, nk = a->Tk - j0 < BK ? a->Tk - j0 : BK;
  const float *kb = a->k + (b * a->Tk * a->Hkv + hk) * D, *vb = a->v + (b * a->Tk * a->Hkv + hk) * D;
  const int32_t *sb = a->seg ? a->seg + b * a->Tk : NULL;
  float *S = sc->S, *P = sc->P, *adk = sc->acc, *adv = sc->acc + BK * D;
  memset(sc->acc, 0, sizeof(float) * (size_t)(2 * BK * D));
  tile_transpose(sc->kt, BK, kb + j0 * ks, ks, nk, D);
  tile_transpose(sc->vt, BK, vb + j0 * ks, ks, nk, D);
  /* queries that can see a key of this tile sit at positions j0 <= p < j0 + nk - 1 + window;
   * as query indices (p - off) clipped to [0, Tq) */
  const int64_t pend = a->window > 0 && j0 + nk - 1 + a->window < a->Tk ? j0 + nk - 1 + a->window : a->Tk;
  const int64_t istart = j0 - off > 0 ? j0 - off : 0, iend = pend - off;
  for (int64_t h = hk * group; h < (hk + 1) * group; h++) {
    const float *qb = a->q + (b * a->Tq * a->Hq + h) * D, *gb = a->dout + (b * a->Tq * a->Hq + h) * D;
    const float *lb = a->lse + (b * a->Hq + h) * a->Tq, *db = a->Dl + (b * a->Hq + h) * a->Tq;
    for (int64_t i0 = istart; i0 < iend; i0 += BQ) {
      const int64_t nq = iend - i0 < BQ ? iend - i0 : BQ;
      if (!tile_visible(i0, nq, j0, nk, a->window, sb, off)) continue;
      lft_tile_matmul(S, BK, qb + i0 * qs, qs, 1, sc->kt, BK, nq, BK, D, 0); /* q k^T */
      lft_tile_matmul(P, BK, gb + i0 * qs, qs, 1, sc->vt, BK, nq, BK, D, 0); /* dout v^T */
      tile_grads(S, P, i0, nq, j0, nk, lb, db, sb, a->window, a->scale, a->softcap, off);
      lft_tile_matmul(adv, D, S, 1, BK, gb + i0 * qs, qs, nk, D, nq, 1); /* dv += p^T dout */
      lft_tile_matmul(adk, D, P, 1, BK, qb + i0 * qs, qs, nk, D, nq, 1); /* dk += ds^T q */
      if (with_dq) /* dq += ds k */
        lft_tile_matmul(a->dq + (b * a->Tq + i0) * qs + h * D, qs, P, BK, 1, kb + j0 * ks, ks, nq, D, nk, 1);
    }
  }
  for (int64_t jj = 0; jj < nk; jj++) {
    memcpy(a->dk + (b * a->Tk + j0 + jj) * ks + hk * D, adk + jj * D, sizeof(float) * (size_t)D);
    memcpy(a->dv + (b * a->Tk + j0 + jj) * ks + hk * D, adv + jj * D, sizeof(float) * (size_t)D);
  }
}

/* backward: dout, out, q [B,Tq,Hq,D], lse [B,Hq,Tq], k, v [B,Tk,Hkv,D] -> dq [B,Tq,Hq,D], dk, dv [B,Tk,Hkv,D] */
int32_t lft_attention_bwd(float *dq, float *dk, float *dv, const float *dout, const float *out, const float *lse,
                          const float *q, const float *k, const float *v, const int32_t *seg, int64_t B, int64_t Tq,
                          int64_t Tk, int64_t Hq, int64_t Hkv, int64_t D, float scale, int64_t window, float softcap,
                          const float *sinks, float *dsinks) {
  if (!sizes_fit(B, Tq, Tk, Hq, Hkv, D)) return LFT_ERR_SIZE;
  const int64_t group = Hq / Hkv, nqt = (Tq + BQ - 1) / BQ, nkt = (Tk + BK - 1) / BK, off = Tk - Tq;
  const int64_t qs = Hq * D, ks = Hkv * D;
  float *Dl = lft_malloc_n(B * Hq, Tq, sizeof(float)); /* [B, Hq, Tq] like lse */
  if (!Dl) return LFT_ERR_NOMEM;
  const int fused = B * Hkv >= 2 * (int64_t)omp_get_max_threads();
  int32_t status = LFT_OK;
#pragma omp parallel
  {
    float *kt = lft_malloc_n(D, BK, sizeof(float));
    float *vt = lft_malloc_n(D, BK, sizeof(float));
    float *S = lft_malloc_n(BQ, BK, sizeof(float));
    float *P = lft_malloc_n(BQ, BK, sizeof(float));
    float *acc = lft_malloc_n(2 * BK, D, sizeof(float)); /* dq tile, or the dk and dv tiles */
    const int64_t nb = all_allocated(&status, kt && vt && S && P && acc) ? B : 0;

#pragma omp for collapse(3) schedule(static)
    for (int64_t b = 0; b < nb; b++)
      for (int64_t h = 0; h < Hq; h++)
        for (int64_t i = 0; i < Tq; i++) {
          const float *go = dout + (b * Tq + i) * qs + h * D, *o = out + (b * Tq + i) * qs + h * D;
          float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
          for (int64_t d = 0; d < D; d++) sum += go[d] * o[d];
          Dl[(b * Hq + h) * Tq + i] = sum;
        }

    /* the sinks' gradient: each row's sink probability exp(sink - lse) times -Dl, summed per head */
    if (sinks && dsinks) {
#pragma omp for schedule(static)
      for (int64_t h = 0; h < (nb ? Hq : 0); h++) {
        double g = 0.0;
        for (int64_t b = 0; b < B; b++)
          for (int64_t i = 0; i < Tq; i++) {
            const int64_t r = (b * Hq + h) * Tq + i;
            g -= (double)expf(sinks[h] - lse[r]) * (double)Dl[r];
          }
        dsinks[h] = (float)g;
      }
    }

    /* pass 1: dq, one query tile of one head at a time (skipped when pass 2 is fused) */
#pragma omp for collapse(3) schedule(dynamic)
    for (int64_t b = 0; b < (fused ? 0 : nb); b++)
      for (int64_t h = 0; h < Hq; h++)
        for (int64_t qt = 0; qt < nqt; qt++) {
          const int64_t i0 = qt * BQ, nq = Tq - i0 < BQ ? Tq - i0 : BQ, hk = h / group;
          const float *qb = q + (b * Tq * Hq + h) * D, *gb = dout + (b * Tq * Hq + h) * D;
          const float *kb = k + (b * Tk * Hkv + hk) * D, *vb = v + (b * Tk * Hkv + hk) * D;
          const float *lb = lse + (b * Hq + h) * Tq, *db = Dl + (b * Hq + h) * Tq;
          const int32_t *sb = seg ? seg + b * Tk : NULL;
          memset(acc, 0, sizeof(float) * (size_t)(nq * D));
          /* the query and dout tiles transposed once ([D, BQ] in the key-tile buffers), so each key tile's
           * scores come out keys x queries with no transpose of its own */
          tile_transpose(kt, BQ, qb + i0 * qs, qs, nq, D);
          tile_transpose(vt, BQ, gb + i0 * qs, qs, nq, D);
          const int64_t ncols = (nq + LFT_TILE_W - 1) / LFT_TILE_W * LFT_TILE_W < BQ ? (nq + LFT_TILE_W - 1) / LFT_TILE_W * LFT_TILE_W : BQ;
          int64_t jstart, jend;
          visible_range(i0 + off, window, &jstart, &jend);
          jend = i0 + off + nq;
          for (int64_t j0 = jstart; j0 < jend; j0 += BK) {
            const int64_t nk = jend - j0 < BK ? jend - j0 : BK;
            if (!tile_visible(i0, nq, j0, nk, window, sb, off)) continue;
            lft_tile_matmul(S, BQ, kb + j0 * ks, ks, 1, kt, BQ, nk, ncols, D, 0); /* k q^T */
            lft_tile_matmul(P, BQ, vb + j0 * ks, ks, 1, vt, BQ, nk, ncols, D, 0); /* v dout^T */
            tile_grads_t(S, P, i0, nq, j0, nk, lb, db, sb, window, scale, softcap, off);
            lft_tile_matmul(acc, D, P, 1, BQ, kb + j0 * ks, ks, nq, D, nk, 1); /* dq += ds k */
          }
          for (int64_t ii = 0; ii < nq; ii++) memcpy(dq + (b * Tq + i0 + ii) * qs + h * D, acc + ii * D, sizeof(float) * (size_t)D);
        }

    /* pass 2: dk and dv, one key tile of one kv head at a time, over all query heads of its group.
     * Fused (enough (b, kv head) pairs to keep every thread busy): one thread owns a whole (b, kv head),
     * so it also owns dq of that group's query heads and accumulates it here, and pass 1 is skipped. */
    const BwdArgs a = {dq, dk, dv, dout, lse, Dl, q, k, v, seg, Tq, Tk, Hq, Hkv, D, scale, window, softcap, off};
    const Scratch sc = {kt, vt, S, P, acc};
    if (fused) {
#pragma omp for collapse(2) schedule(dynamic)
      for (int64_t b = 0; b < nb; b++)
        for (int64_t hk = 0; hk < Hkv; hk++) {
          for (int64_t h = hk * group; h < (hk + 1) * group; h++)
            for (int64_t i = 0; i < Tq; i++) memset(dq + (b * Tq + i) * qs + h * D, 0, sizeof(float) * (size_t)D);
          for (int64_t kt_i = 0; kt_i < nkt; kt_i++) key_tile(&a, &sc, b, hk, kt_i, 1);
        }
    } else {
#pragma omp for collapse(3) schedule(dynamic)
      for (int64_t b = 0; b < nb; b++)
        for (int64_t hk = 0; hk < Hkv; hk++)
          for (int64_t kt_i = 0; kt_i < nkt; kt_i++) key_tile(&a, &sc, b, hk, kt_i, 0);
    }
    free(kt);
    free(vt);
    free(S);
    free(P);
    free(acc);
  }
  free(Dl);
  return status;
}
