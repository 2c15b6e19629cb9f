// The fuzzer's seeded randomness: mulberry32 (small, fast, the same sequence for the same seed
// everywhere) and a generator with the few draws the input makers need. Every input gets its own
// stream from (run seed, class, index), so one failing input replays alone.

import { mulberry32 } from "../../../core/index.ts";

export { mulberry32 };

/** FNV-1a of a class name, so classes drawn with the same run seed do not share streams. */
function hashName(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export class Gen {
  constructor(readonly random: () => number) {}

  /** The stream for input `index` of `cls` under the run seed `seed`. */
  static forInput(seed: number, cls: string, index: number): Gen {
    return new Gen(mulberry32((Math.imul(seed >>> 0, 0x9e3779b1) ^ hashName(cls) ^ Math.imul(index + 1, 0x85ebca6b)) >>> 0));
  }

  int(n: number): number {
    return Math.floor(this.random() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  chance(p: number): boolean {
    return this.random() < p;
  }
  /** `n` random bytes. */
  bytes(n: number): Uint8Array {
    return Uint8Array.from({ length: n }, () => this.int(256));
  }
}

/** The run seed: `LFT_FUZZ_SEED` when set (a failing run prints the one to replay), else a fixed one. */
export function fuzzSeed(env: Readonly<Record<string, string | undefined>> = process.env): number {
  const raw = env.LFT_FUZZ_SEED?.trim();
  if (raw === undefined || raw === "") return 15;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`LFT_FUZZ_SEED must be a non-negative integer, found "${raw}"`);
  return n >>> 0;
}

/** How many inputs a class tries: its default, or `LFT_FUZZ_COUNT` when set. */
export function fuzzCount(fallback: number, env: Readonly<Record<string, string | undefined>> = process.env): number {
  const raw = env.LFT_FUZZ_COUNT?.trim();
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`LFT_FUZZ_COUNT must be a positive integer, found "${raw}"`);
  return n;
}
