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

/** Query i's logits (b, h): the keys it sees, each logit, and d logit / d (q . k) (scale, or scale (1 - tanh^2) with a cap). */
function rowLogits(q: ArrayLike<number>, k: ArrayLike<number>, dims: AttentionDims, o: RefAttentionOptions, b: number, h: number, i: number) {
  const { T, Hq, Hkv, D } = dims;
  const scale = o.scale ?? 1 / Math.sqrt(D);
  const window = o.window ?? 0;
  const cap = o.softcap ?? 0;
  const seg = o.seg ?? null;
  const hk = Math.floor(h / (Hq / Hkv));
  const qo = ((b * T + i) * Hq + h) * D;
  const keys: number[] = [];
  const logits: number[] = [];
  const slopes: number[] = [];
  for (let j = 0; j <= i; j++) {
    if ((window > 0 && i - j >= window) || (seg && seg[b * T + i] !== seg[b * T + j])) continue;
    const ko = ((b * T + j) * Hkv + hk) * D;
    let dot = 0;
    for (let d = 0; d < D; d++) dot += q[qo + d]! * k[ko + d]!;
    const t = cap > 0 ? Math.tanh((scale * dot) / cap) : 0;
    keys.push(j);
    logits.push(cap > 0 ? cap * t : scale * dot);
    slopes.push(cap > 0 ? scale * (1 - t * t) : scale);
  }
  return { keys, logits, slopes, qo, hk };
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
  const out = new Float64Array(B * T * Hq * D);
  const lse = new Float64Array(B * Hq * T);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < Hq; h++)
      for (let i = 0; i < T; i++) {
        const { keys, logits, qo, hk } = rowLogits(q, k, dims, o, b, h, i);
        const sink = o.sinks ? o.sinks[h]! : Number.NEGATIVE_INFINITY;
        const max = Math.max(sink, ...logits);
        let sum = o.sinks ? Math.exp(sink - max) : 0;
        for (const x of logits) sum += Math.exp(x - max);
        lse[(b * Hq + h) * T + i] = sum > 0 ? max + Math.log(sum) : Number.NEGATIVE_INFINITY;
        keys.forEach((j, n) => {
          const p = Math.exp(logits[n]! - max) / sum;
          const vo = ((b * T + j) * Hkv + hk) * D;
          for (let d = 0; d < D; d++) out[qo + d] = out[qo + d]! + p * v[vo + d]!;
        });
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
  const { out } = refAttention(q, k, v, dims, o);
  const dq = new Float64Array(q.length);
  const dk = new Float64Array(k.length);
  const dv = new Float64Array(v.length);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < Hq; h++)
      for (let i = 0; i < T; i++) {
        const { keys, logits, slopes, qo, hk } = rowLogits(q, k, dims, o, b, h, i);
        if (!keys.length) continue;
        const max = Math.max(...logits);
        let sum = 0;
        for (const x of logits) sum += Math.exp(x - max);
        let Dl = 0;
        for (let d = 0; d < D; d++) Dl += R[qo + d]! * out[qo + d]!;
        keys.forEach((j, n) => {
          const ko = ((b * T + j) * Hkv + hk) * D;
          const p = Math.exp(logits[n]! - max) / sum;
          let dp = 0;
          for (let d = 0; d < D; d++) dp += R[qo + d]! * v[ko + d]!;
          const ds = p * (dp - Dl) * slopes[n]!;
          for (let d = 0; d < D; d++) {
            dq[qo + d] = dq[qo + d]! + ds * k[ko + d]!;
            dk[ko + d] = dk[ko + d]! + ds * q[qo + d]!;
            dv[ko + d] = dv[ko + d]! + p * R[qo + d]!;
          }
        });
      }
  return { dq, dk, dv };
}
