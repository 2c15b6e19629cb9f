// Seeded sampling for the data worker (Philox, so a seed gives the same order on every machine):
// permutations for shuffling and splits, draws with replacement, weighted source choice.
import { Philox } from "../random/philox.ts";

/** Distinct stream per purpose, so shuffling does not change what sampling draws. */
export function dataRng(seed: number, purpose: "shuffle" | "split" | "sample" | "mix"): Philox {
  const salt = { shuffle: 1n, split: 2n, sample: 3n, mix: 4n }[purpose];
  return new Philox((BigInt(Math.trunc(seed)) << 8n) ^ salt);
}

/** A uniformly random ordering of 0..n-1. */
export function permutation(n: number, rng: Philox): number[] {
  return rng.shuffle(Array.from({ length: n }, (_, i) => i));
}

/** Index i with probability probs[i] (probs sum to 1). */
export function weightedChoice(probs: readonly number[], rng: Philox): number {
  const u = rng.nextDouble();
  let acc = 0;
  for (let i = 0; i < probs.length; i++) {
    acc += probs[i]!;
    if (u < acc) return i;
  }
  return probs.length - 1;
}
