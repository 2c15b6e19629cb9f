// Float64 pieces the glm4, cohere and starcoder2 references share, written from transformers' modeling
// files as plain loops: LayerNorm (nn.LayerNorm and the bias-free CohereLayerNorm), RoPE on interleaved
// pairs (GLM's and Cohere's rotate_half over x[0::2], x[1::2]), causal grouped-query attention with an
// optional sliding window, and the embedding lookup.
import { softmax, type Weights, w } from "./primitives.ts";

/** (x - mean) / sqrt(var + eps) * g (+ b), biased variance, over all of x. */
export function layerNorm(x: Float64Array, g: Float64Array, b: Float64Array | undefined, eps: number): Float64Array {
  const n = x.length;
  let mean = 0;
  for (const v of x) mean += v;
  mean /= n;
  let variance = 0;
  for (const v of x) variance += (v - mean) ** 2;
  variance /= n;
  const r = 1 / Math.sqrt(variance + eps);
  return x.map((v, i) => (v - mean) * r * g[i]! + (b ? b[i]! : 0));
}

/**
 * Interleaved RoPE on one head: dims (2i, 2i+1) rotate by pos * invFreq[i] for i < invFreq.length
 * (cos/sin repeat_interleave'd, rotate_half(x) = stack(-x[1::2], x[0::2])); later dims pass through.
 */
export function ropeInterleaved(x: Float64Array, pos: number, invFreq: number[]): Float64Array {
  const y = Float64Array.from(x);
  invFreq.forEach((f, i) => {
    const [c, s] = [Math.cos(pos * f), Math.sin(pos * f)];
    const [a, b] = [x[2 * i]!, x[2 * i + 1]!];
    y[2 * i] = a * c - b * s;
    y[2 * i + 1] = b * c + a * s;
  });
  return y;
}

/** inv_freq[i] = theta^(-2i / dim), i < dim / 2 (transformers' default RoPE init). */
export function invFreqOf(theta: number, dim: number): number[] {
  return Array.from({ length: dim / 2 }, (_, i) => 1 / theta ** ((2 * i) / dim));
}

/**
 * Causal attention for one sequence: qs[t][head], ks[t][kvHead], vs[t][kvHead] (already rotated) ->
 * out[t] of heads * D; query i sees keys j <= i (and j > i - window when window > 0).
 */
export function attend(qs: Float64Array[][], ks: Float64Array[][], vs: Float64Array[][], scale: number, window = 0): Float64Array[] {
  const heads = qs[0]!.length;
  const groups = heads / ks[0]!.length;
  const D = qs[0]![0]!.length;
  return qs.map((q, i) => {
    const o = new Float64Array(heads * D);
    for (let h = 0; h < heads; h++) {
      const kv = Math.floor(h / groups);
      const keys: number[] = [];
      const scores: number[] = [];
      for (let j = 0; j <= i; j++) {
        if (window > 0 && j <= i - window) continue;
        let s = 0;
        for (let d = 0; d < D; d++) s += q[h]![d]! * ks[j]![kv]![d]!;
        keys.push(j);
        scores.push(s * scale);
      }
      softmax(scores).forEach((p, n) => {
        for (let d = 0; d < D; d++) o[h * D + d] = o[h * D + d]! + p * vs[keys[n]!]![kv]![d]!;
      });
    }
    return o;
  });
}

/** y [n * D] -> n heads of D. */
export function heads(y: Float64Array, n: number): Float64Array[] {
  const D = y.length / n;
  return Array.from({ length: n }, (_, i) => y.slice(i * D, (i + 1) * D));
}

/** The rows of model.embed_tokens.weight for ids. */
export function embed(W: Weights, ids: number[], hidden: number): Float64Array[] {
  const e = w(W, "model.embed_tokens.weight");
  return ids.map((id) => e.slice(id * hidden, (id + 1) * hidden));
}
