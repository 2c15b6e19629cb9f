// Batching: token sequences padded to one length (right padding) into row-major int32 arrays the
// trainer turns into tensors. Padding gets pad ids, label -100 (ignored by the loss), attention
// mask 0, position 0 and segment 0; packed sequences keep their restarting positions and segments.
import type { Philox } from "../random/philox.ts";
import { permutation } from "./random.ts";
import { IGNORE_INDEX, type KtoSample, type PairwiseSample, type TokenSeq } from "./types.ts";

export interface Batch {
  readonly batchSize: number;
  readonly seqLen: number;
  /** [batchSize, seqLen], row-major. */
  readonly inputIds: Int32Array;
  readonly labels: Int32Array;
  /** 1 for real tokens, 0 for padding. */
  readonly attentionMask: Int32Array;
  readonly positionIds: Int32Array;
  /** Per-token sample ids for packed sequences (pass to causalAttention's segmentIds); null when unpacked. */
  readonly segmentIds: Int32Array | null;
  /** KTO batches: 1 where the example is desirable, one per example (the first batchSize / 2 rows). */
  readonly desirable?: Uint8Array;
}

export interface CollateOptions {
  readonly padId: number;
  /** Round the length up to a multiple of this (tensor-core friendly shapes). */
  readonly padToMultipleOf?: number;
  /** Pad to exactly this length (must be >= the longest sequence). */
  readonly length?: number;
}

export function collate(seqs: readonly TokenSeq[], opts: CollateOptions): Batch {
  const longest = seqs.reduce((m, s) => Math.max(m, s.inputIds.length), 0);
  let seqLen = Math.max(opts.length ?? 0, longest);
  const mult = opts.padToMultipleOf ?? 1;
  seqLen = Math.ceil(seqLen / mult) * mult;
  const n = seqs.length * seqLen;
  const inputIds = new Int32Array(n).fill(opts.padId);
  const labels = new Int32Array(n).fill(IGNORE_INDEX);
  const attentionMask = new Int32Array(n);
  const positionIds = new Int32Array(n);
  const packed = seqs.some((s) => s.segmentIds !== undefined);
  const segmentIds = packed ? new Int32Array(n) : null;
  seqs.forEach((s, b) => {
    const at = b * seqLen;
    const len = s.inputIds.length;
    inputIds.set(s.inputIds, at);
    labels.set(s.labels, at);
    for (let t = 0; t < len; t++) attentionMask[at + t] = 1;
    if (s.positionIds) positionIds.set(s.positionIds, at);
    else for (let t = 0; t < len; t++) positionIds[at + t] = t;
    if (segmentIds) {
      if (s.segmentIds) {
        segmentIds.set(s.segmentIds, at);
        for (let t = 0; t < len; t++) if (s.segmentIds[t] === 0) attentionMask[at + t] = 0;
      } else segmentIds.fill(1, at, at + len);
    }
  });
  return { batchSize: seqs.length, seqLen, inputIds, labels, attentionMask, positionIds, segmentIds };
}

/** Chosen rows first, then rejected rows, in one batch of 2B (as LLaMA-Factory's pairwise collator). */
export function collatePairwise(samples: readonly PairwiseSample[], opts: CollateOptions): Batch {
  return collate([...samples.map((s) => s.chosen), ...samples.map((s) => s.rejected)], opts);
}

export function collateKto(samples: readonly KtoSample[], opts: CollateOptions): { batch: Batch; kl: Batch; desirable: Uint8Array } {
  return {
    batch: collate(
      samples.map((s) => s.seq),
      opts,
    ),
    kl: collate(
      samples.map((s) => s.kl),
      opts,
    ),
    desirable: Uint8Array.from(samples.map((s) => (s.desirable ? 1 : 0))),
  };
}

/** A KTO batch as one Batch: the examples' rows, then their KL rows, and the desirable flags. */
export function collateKtoRows(samples: readonly KtoSample[], opts: CollateOptions): Batch {
  const rows = collate([...samples.map((s) => s.seq), ...samples.map((s) => s.kl)], opts);
  return { ...rows, desirable: Uint8Array.from(samples.map((s) => (s.desirable ? 1 : 0))) };
}

/** Sample indices per batch for one epoch; with a seed, a fresh seeded order every epoch. */
export function batchOrder(count: number, batchSize: number, opts: { shuffle?: Philox; dropLast?: boolean } = {}): number[][] {
  const order = opts.shuffle ? permutation(count, opts.shuffle) : Array.from({ length: count }, (_, i) => i);
  const out: number[][] = [];
  for (let i = 0; i < count; i += batchSize) {
    const b = order.slice(i, i + batchSize);
    if (b.length < batchSize && opts.dropLast) break;
    out.push(b);
  }
  return out;
}
