// Mixing several datasets, with Hugging Face's interleave_datasets semantics as LLaMA-Factory uses
// them: `concat` appends; `interleave_under` stops when the first dataset runs out, `interleave_over`
// when every dataset has run out at least once (restarting exhausted ones). Without probabilities the
// sources take turns; with them each draw picks a source at random (seeded Philox, so the draws differ
// from numpy's but follow the same rules).
import type { Philox } from "../random/philox.ts";
import { weightedChoice } from "./random.ts";

export type MixStrategy = "concat" | "interleave_under" | "interleave_over";
export const MIX_STRATEGIES: readonly MixStrategy[] = ["concat", "interleave_under", "interleave_over"];

/** [source, row] pairs in mixed order. */
export function mixOrder(lengths: readonly number[], strategy: MixStrategy, probs: readonly number[] | undefined, rng: Philox): [number, number][] {
  const out: [number, number][] = [];
  if (lengths.length === 1 || strategy === "concat") {
    lengths.forEach((n, s) => {
      for (let i = 0; i < n; i++) out.push([s, i]);
    });
    return out;
  }
  const over = strategy === "interleave_over";
  if (lengths.some((n) => n === 0)) {
    // An empty source is exhausted from the start: under-sampling yields nothing, over-sampling the rest.
    if (!over) return out;
    const kept = lengths.map((n, s) => [n, s] as const).filter(([n]) => n > 0);
    const keptProbs = probs && normalise(kept.map(([, s]) => probs[s]!));
    return mixOrder(
      kept.map(([n]) => n),
      strategy,
      keptProbs,
      rng,
    ).map(([k, i]) => [kept[k]![1], i]);
  }
  if (probs === undefined) {
    const rounds = over ? Math.max(...lengths) : Math.min(...lengths);
    for (let r = 0; r < rounds; r++) {
      for (const [s, n] of lengths.entries()) out.push([s, r % n]);
    }
    return out;
  }
  const next = lengths.map(() => 0);
  const exhausted = lengths.map(() => false);
  const done = () => (over ? exhausted.every(Boolean) : exhausted.some(Boolean));
  while (!done()) {
    const s = weightedChoice(probs, rng);
    out.push([s, next[s]!]);
    next[s]!++;
    if (next[s]! >= lengths[s]!) {
      exhausted[s] = true;
      next[s] = 0;
    }
  }
  return out;
}

function normalise(p: number[]): number[] {
  const sum = p.reduce((a, b) => a + b, 0);
  return p.map((x) => x / sum);
}

/** Lazily mixes async sources (streaming), by the same rules; lengths need not be known. */
export async function* mixStreams<T>(sources: AsyncIterator<T>[], strategy: MixStrategy, probs: readonly number[] | undefined, rng: Philox): AsyncGenerator<T> {
  if (sources.length === 1 || strategy === "concat") {
    for (const s of sources) for (let r = await s.next(); !r.done; r = await s.next()) yield r.value;
    return;
  }
  // Streams cannot restart, so interleave_over keeps cycling only the sources still running (Hugging
  // Face restarts exhausted iterable sources; lft cannot rewind a stream without reading it again).
  const live = sources.map(() => true);
  let turn = 0;
  for (;;) {
    let s: number;
    if (probs === undefined) {
      s = turn++ % sources.length;
      if (!live[s]) {
        if (live.every((x) => !x)) return;
        continue;
      }
    } else s = weightedChoice(probs, rng);
    if (!live[s]) {
      if (live.every((x) => !x)) return;
      continue;
    }
    const r = await sources[s]!.next();
    if (r.done) {
      live[s] = false;
      if (strategy === "interleave_under" || live.every((x) => !x)) return;
      continue;
    }
    yield r.value;
  }
}
