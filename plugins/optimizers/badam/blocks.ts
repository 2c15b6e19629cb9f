// BAdam's blocks and their visiting order. A block is one decoder layer: every parameter whose name has
// `layers.<i>.` (or `h.<i>.` / `blocks.<i>.`) in it, as BAdam infers them when no prefix list is given;
// parameters outside every layer (embeddings, final norm, head) belong to no block and stay frozen, as
// BAdam's defaults (include_embedding = include_lm_head = False) leave them. Which block trains at a
// step is a pure function of the step, so a resumed run needs no extra state to pick up the schedule.
import { err, ok, type Result } from "neverthrow";
import { mulberry32 } from "../../../core/index.ts";

export type SwitchMode = "ascending" | "descending" | "random" | "fixed";

const LAYER = /(?:^|\.)(?:layers|h|blocks)\.(\d+)\./;

export interface BlockPartition {
  /** Parameter indices per block, blocks in layer order. */
  readonly blocks: readonly (readonly number[])[];
  /** Layer number of each block (as in the names). */
  readonly layers: readonly number[];
  /** Indices of parameters in no block (never trained). */
  readonly outside: readonly number[];
}

/** Splits parameter names into decoder-layer blocks; fewer than two blocks is an error (nothing to alternate). */
export function partitionBlocks(names: readonly string[]): Result<BlockPartition, Error> {
  const byLayer = new Map<number, number[]>();
  const outside: number[] = [];
  names.forEach((name, i) => {
    const m = LAYER.exec(name);
    if (!m) {
      outside.push(i);
      return;
    }
    const layer = Number(m[1]);
    const list = byLayer.get(layer) ?? [];
    list.push(i);
    byLayer.set(layer, list);
  });
  const layers = [...byLayer.keys()].sort((a, b) => a - b);
  if (layers.length < 2)
    return err(
      new Error(
        `optimizer "badam": mode = layer needs at least 2 blocks (decoder layers named "layers.<i>."), found ${layers.length}; ` +
          "train the whole model with adamw, or use mode = ratio",
      ),
    );
  return ok({ blocks: layers.map((l) => byLayer.get(l)!), layers, outside });
}

/** A seeded integer in [0, n). */
export function randomInt(n: number, seed: number): number {
  return Math.floor(mulberry32(seed)() * n);
}

/** A seeded Fisher–Yates permutation of 0..n-1. */
export function permutation(n: number, seed: number): number[] {
  const next = mulberry32(seed);
  const out = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

export interface Schedule {
  readonly blockCount: number;
  readonly mode: SwitchMode;
  /** First block; null picks BAdam's default (0, or the last block when descending). */
  readonly start: number | null;
  /** Steps per block; -1 never switches. */
  readonly interval: number;
  readonly seed: number;
}

/**
 * The block that trains at optimizer step `step` (from 1). ascending / descending walk the blocks
 * cyclically from the start; fixed stays; random visits every block once per round in a fresh
 * seeded permutation (BAdam's randperm-and-pop), the start block first when one is given.
 */
export function blockAt(s: Schedule, step: number): number {
  const n = s.blockCount;
  const k = s.interval > 0 ? Math.floor((step - 1) / s.interval) : 0;
  const mod = (x: number) => ((x % n) + n) % n;
  switch (s.mode) {
    case "fixed":
      return s.start ?? 0;
    case "ascending":
      return mod((s.start ?? 0) + k);
    case "descending":
      return mod((s.start ?? n - 1) - k);
    case "random": {
      if (s.start !== null) {
        if (k === 0) return s.start;
        return permutation(n, s.seed + Math.floor((k - 1) / n) + 1)[(k - 1) % n]!;
      }
      return permutation(n, s.seed + Math.floor(k / n))[k % n]!;
    }
  }
}
