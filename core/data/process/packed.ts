// Packing of token sequences, LLaMA-Factory's PackedSupervisedDatasetProcessor minus the encoding:
// the sequences of one batch (each at most cutoff_len long) are binned by greedy knapsack into
// cutoff_len sequences; positions restart at 0 for each sample. With neat packing each sample gets
// its own segment id (1, 2, ...; padding 0), which the attention kernel honours, so packed samples
// never attend to each other; with plain packing (LLaMA-Factory's `packing`) the samples are only
// concatenated: one segment, positions still restarting. Every block is padded to cutoff_len + 1, as
// LLaMA-Factory pads (its extra token keeps flash-attn from dropping the mask), so the same data
// gives the same sequences; the pad token is never learned.
import type { TokenSeq } from "../types.ts";
import { IGNORE_INDEX } from "../types.ts";
import { repeat } from "./context.ts";
import { greedyKnapsack } from "./knapsack.ts";

export interface PackOptions {
  readonly cutoffLen: number;
  readonly neatPacking: boolean;
  readonly padId: number;
}

/** Sequences (none longer than cutoffLen: the caller drops those) packed into cutoffLen + 1 blocks, in knapsack order. */
export function packSequences(seqs: readonly TokenSeq[], o: PackOptions): TokenSeq[] {
  const { cutoffLen, neatPacking, padId } = o;
  const byLength = new Map<number, number[]>();
  seqs.forEach((seq, i) => {
    const list = byLength.get(seq.inputIds.length) ?? [];
    list.push(i);
    byLength.set(seq.inputIds.length, list);
  });
  const samples: TokenSeq[] = [];
  for (const bin of greedyKnapsack(
    seqs.map((s) => s.inputIds.length),
    cutoffLen,
  )) {
    const inputIds: number[] = [];
    const labels: number[] = [];
    const positionIds: number[] = [];
    const segmentIds: number[] = [];
    bin.forEach((length, i) => {
      const seq = seqs[byLength.get(length)!.pop()!]!;
      inputIds.push(...seq.inputIds);
      labels.push(...seq.labels);
      for (let p = 0; p < length; p++) positionIds.push(p);
      for (let p = 0; p < length; p++) segmentIds.push(neatPacking ? i + 1 : 1);
    });
    const pad = cutoffLen + 1 - inputIds.length;
    inputIds.push(...repeat(padId, pad));
    labels.push(...repeat(IGNORE_INDEX, pad));
    positionIds.push(...repeat(0, pad));
    segmentIds.push(...repeat(neatPacking ? 0 : 1, pad));
    samples.push(neatPacking ? { inputIds, labels, positionIds, segmentIds } : { inputIds, labels, positionIds });
  }
  return samples;
}
