// Choosing the next token from one row of logits, in transformers' order: repetition penalty, then
// temperature, top-k, top-p, then a draw from Philox (seeded, so a generation can be replayed).
import type { Philox } from "../random/philox.ts";

export interface SamplingOptions {
  /** false: greedy (argmax, first index on ties), and the settings below are unused. */
  doSample: boolean;
  /** > 0; divides the logits. */
  temperature: number;
  /** 0 = off; else only the k highest logits (ties with the k-th kept, as transformers). */
  topK: number;
  /** 1 = off; else the smallest high-probability set whose mass reaches topP (transformers' rule). */
  topP: number;
}

/**
 * transformers' RepetitionPenaltyLogitsProcessor, in place: for each distinct seen token, a positive
 * logit is divided by the penalty and a negative one multiplied.
 */
export function applyRepetitionPenalty(logits: Float32Array, seen: Iterable<number>, penalty: number): void {
  if (penalty === 1) return;
  for (const id of new Set(seen)) {
    const v = logits[id]!;
    logits[id] = v < 0 ? v * penalty : v / penalty;
  }
}

export function argmax(logits: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
  return best;
}

/** The distribution a sampled token is drawn from (temperature, top-k, top-p applied), in float64. */
export function tokenProbabilities(logits: ArrayLike<number>, o: SamplingOptions): Float64Array {
  const V = logits.length;
  const scaled = Float64Array.from(logits, (v) => v / o.temperature);
  if (o.topK > 0 && o.topK < V) {
    const kth = Float64Array.from(scaled).sort().reverse()[o.topK - 1]!;
    for (let i = 0; i < V; i++) if (scaled[i]! < kth) scaled[i] = -Infinity;
  }
  const probs = softmax(scaled);
  if (o.topP < 1) {
    // Ascending by probability (stable in id), cumulative mass; drop tokens while the mass is <= 1 - topP,
    // always keeping the most likely one.
    const order = Array.from({ length: V }, (_, i) => i).sort((a, b) => probs[a]! - probs[b]! || a - b);
    let cum = 0;
    for (let n = 0; n < V - 1; n++) {
      cum += probs[order[n]!]!;
      if (cum <= 1 - o.topP) scaled[order[n]!] = -Infinity;
      else break;
    }
    return softmax(scaled);
  }
  return probs;
}

function softmax(x: Float64Array): Float64Array {
  let m = -Infinity;
  for (const v of x) if (v > m) m = v;
  const e = x.map((v) => (v === -Infinity ? 0 : Math.exp(v - m)));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / z);
}

/** Inverse-CDF draw over ids in order, with 53 random bits. */
export function sampleFrom(probs: Float64Array, rng: Philox): number {
  const u = rng.nextDouble();
  let cum = 0;
  let last = 0;
  for (let i = 0; i < probs.length; i++) {
    if (probs[i]! <= 0) continue;
    cum += probs[i]!;
    last = i;
    if (u < cum) return i;
  }
  return last; // rounding left the total a hair under 1
}

export function chooseToken(logits: Float32Array, o: SamplingOptions, rng: Philox): number {
  return o.doSample ? sampleFrom(tokenProbabilities(logits, o), rng) : argmax(logits);
}
