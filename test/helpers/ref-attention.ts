// Float64 reference for causal grouped-query attention: the full softmax row materialised, the plainest
// reading of the definition in ffi/cpu/src/attention.c, for the kernel tests and finite differences.

export interface AttentionDims {
  B: number;
  T: number;
  Hq: number;
  Hkv: number;
  D: number;
}

export interface RefAttentionOptions {
  scale?: number;
  window?: number;
  softcap?: number;
  /** [B, T] segment ids or null */
  seg?: ArrayLike<number> | null;
  /** [Hq] attention sinks: exp(sink_h) joins every row's softmax denominator (no value) */
  sinks?: ArrayLike<number> | null;
}

/** q [B,T,Hq,D], k/v [B,T,Hkv,D] -> out [B,T,Hq,D] and lse [B,Hq,T] (lse -inf, out 0 for a row that sees no key). */
export function refAttention(
  q: ArrayLike<number>,
  k: ArrayLike<number>,
  v: ArrayLike<number>,
  dims: AttentionDims,
  o: RefAttentionOptions = {},
): { out: Float64Array; lse: Float64Array } {
  const { B, T, Hq, Hkv, D } = dims;
  const scale = o.scale ?? 1 / Math.sqrt(D);
  const window = o.window ?? 0;
  const cap = o.softcap ?? 0;
  const seg = o.seg ?? null;
  const group = Hq / Hkv;
  const out = new Float64Array(B * T * Hq * D);
  const lse = new Float64Array(B * Hq * T);
  const s = new Float64Array(T);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < Hq; h++) {
      const hk = Math.floor(h / group);
      for (let i = 0; i < T; i++) {
        const qo = ((b * T + i) * Hq + h) * D;
        let max = Number.NEGATIVE_INFINITY;
        for (let j = 0; j < T; j++) {
          const visible = j <= i && (window === 0 || i - j < window) && (!seg || seg[b * T + i] === seg[b * T + j]);
          s[j] = Number.NEGATIVE_INFINITY;
          if (!visible) continue;
          const ko = ((b * T + j) * Hkv + hk) * D;
          let dot = 0;
          for (let d = 0; d < D; d++) dot += q[qo + d]! * k[ko + d]!;
          let x = scale * dot;
          if (cap > 0) x = cap * Math.tanh(x / cap);
          s[j] = x;
          max = Math.max(max, x);
        }
        const sink = o.sinks ? o.sinks[h]! : Number.NEGATIVE_INFINITY;
        max = Math.max(max, sink);
        let sum = o.sinks ? Math.exp(sink - max) : 0;
        for (let j = 0; j < T; j++) {
          s[j] = s[j] === Number.NEGATIVE_INFINITY ? 0 : Math.exp(s[j]! - max);
          sum += s[j]!;
        }
        lse[(b * Hq + h) * T + i] = sum > 0 ? max + Math.log(sum) : Number.NEGATIVE_INFINITY;
        if (sum === 0) continue;
        for (let j = 0; j <= i; j++) {
          const p = s[j]! / sum;
          if (p === 0) continue;
          const vo = ((b * T + j) * Hkv + hk) * D;
          for (let d = 0; d < D; d++) out[qo + d] = out[qo + d]! + p * v[vo + d]!;
        }
      }
    }
  }
  return { out, lse };
}

/**
 * The gradients of L = sum(out * R) for refAttention (no sinks), by the softmax's chain rule in float64:
 * ds_ij = p_ij (R_i . v_j - R_i . out_i) times d logit / d dot (scale, or scale (1 - tanh^2) with a cap);
 * dq_i = sum_j ds_ij k_j, dk_j = sum_i ds_ij q_i, dv_j = sum_i p_ij R_i. Checked against finite
 * differences on small shapes, then stands in for them where they would be too slow (wide heads).
 */
export function refAttentionGrad(
  q: ArrayLike<number>,
  k: ArrayLike<number>,
  v: ArrayLike<number>,
  R: ArrayLike<number>,
  dims: AttentionDims,
  o: RefAttentionOptions = {},
): { dq: Float64Array; dk: Float64Array; dv: Float64Array } {
  const { B, T, Hq, Hkv, D } = dims;
  const scale = o.scale ?? 1 / Math.sqrt(D);
  const window = o.window ?? 0;
  const cap = o.softcap ?? 0;
  const seg = o.seg ?? null;
  const group = Hq / Hkv;
  const { out } = refAttention(q, k, v, dims, o);
  const dq = new Float64Array(q.length);
  const dk = new Float64Array(k.length);
  const dv = new Float64Array(v.length);
  const x = new Float64Array(T); // logits
  const slope = new Float64Array(T); // d logit / d dot
  for (let b = 0; b < B; b++)
    for (let h = 0; h < Hq; h++) {
      const hk = Math.floor(h / group);
      for (let i = 0; i < T; i++) {
        const qo = ((b * T + i) * Hq + h) * D;
        const seen: number[] = [];
        let max = Number.NEGATIVE_INFINITY;
        for (let j = 0; j <= i; j++) {
          if ((window > 0 && i - j >= window) || (seg && seg[b * T + i] !== seg[b * T + j])) continue;
          const ko = ((b * T + j) * Hkv + hk) * D;
          let dot = 0;
          for (let d = 0; d < D; d++) dot += q[qo + d]! * k[ko + d]!;
          const t = cap > 0 ? Math.tanh((scale * dot) / cap) : 0;
          x[j] = cap > 0 ? cap * t : scale * dot;
          slope[j] = cap > 0 ? scale * (1 - t * t) : scale;
          max = Math.max(max, x[j]!);
          seen.push(j);
        }
        if (!seen.length) continue;
        let sum = 0;
        for (const j of seen) sum += Math.exp(x[j]! - max);
        let Dl = 0;
        for (let d = 0; d < D; d++) Dl += R[qo + d]! * out[qo + d]!;
        for (const j of seen) {
          const ko = ((b * T + j) * Hkv + hk) * D;
          const p = Math.exp(x[j]! - max) / sum;
          let dp = 0;
          for (let d = 0; d < D; d++) dp += R[qo + d]! * v[ko + d]!;
          const ds = p * (dp - Dl) * slope[j]!;
          for (let d = 0; d < D; d++) {
            dq[qo + d] = dq[qo + d]! + ds * k[ko + d]!;
            dk[ko + d] = dk[ko + d]! + ds * q[qo + d]!;
            dv[ko + d] = dv[ko + d]! + p * R[qo + d]!;
          }
        }
      }
    }
  return { dq, dk, dv };
}
