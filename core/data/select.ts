// Row selection before conversion, in LLaMA-Factory's order: a dataset's num_samples (a random
// subset, every row first, then draws with replacement when asked for more rows than exist), then
// max_samples (the first rows).
import type { Philox } from "../random/philox.ts";
import { permutation } from "./random.ts";

export function sampleIndices(length: number, numSamples: number, rng: Philox): number[] {
  const indices = permutation(length, rng).slice(0, numSamples);
  while (indices.length < numSamples && length > 0) indices.push(rng.nextInt(length));
  return indices;
}

export function selectRows<T>(rows: readonly T[], opts: { numSamples?: number; maxSamples?: number; rng: Philox }): T[] {
  let out = opts.numSamples !== undefined ? sampleIndices(rows.length, opts.numSamples, opts.rng).map((i) => rows[i]!) : [...rows];
  if (opts.maxSamples !== undefined) out = out.slice(0, opts.maxSamples);
  return out;
}
