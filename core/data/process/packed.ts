// Packing of SFT samples, LLaMA-Factory's PackedSupervisedDatasetProcessor: the samples of one batch
// are binned by greedy knapsack into cutoff_len sequences; positions restart at 0 for each sample.
// With neat packing each sample gets its own segment id (1, 2, ...; padding 0), which the attention
// kernel honours, so packed samples never attend to each other. (LLaMA-Factory pads to cutoff_len + 1
// to keep flash-attn from dropping its mask; lft's kernel needs no such token, so blocks are cutoff_len.)

import type { BadRow } from "../problems.ts";
import type { SftExample, TokenSeq } from "../types.ts";
import { IGNORE_INDEX } from "../types.ts";
import { type BatchResult, type ProcessContext, repeat, skip } from "./context.ts";
import { greedyKnapsack } from "./knapsack.ts";
import { supervisedSample } from "./supervised.ts";

export function processPackedSupervised(examples: readonly SftExample[], ctx: ProcessContext): BatchResult<TokenSeq> {
  const { cutoffLen, neatPacking } = ctx.options;
  const bad: BadRow[] = [];
  const kept: TokenSeq[] = [];
  const byLength = new Map<number, number[]>();
  for (const ex of examples) {
    const r = supervisedSample(ex, ctx);
    if (r.isErr()) {
      bad.push(r.error);
      continue;
    }
    const seq = r.value;
    const n = seq.inputIds.length;
    if (n > cutoffLen) {
      // Only efficient_eos can add a token past the budget; LLaMA-Factory drops such samples too.
      bad.push(skip(ex, "too-long", `${n} tokens do not fit cutoff_len ${cutoffLen}`));
      continue;
    }
    const list = byLength.get(n) ?? [];
    list.push(kept.length);
    byLength.set(n, list);
    kept.push(seq);
  }
  const samples: TokenSeq[] = [];
  for (const bin of greedyKnapsack(
    kept.map((s) => s.inputIds.length),
    cutoffLen,
  )) {
    const inputIds: number[] = [];
    const labels: number[] = [];
    const positionIds: number[] = [];
    const segmentIds: number[] = [];
    bin.forEach((length, i) => {
      const seq = kept[byLength.get(length)!.pop()!]!;
      inputIds.push(...seq.inputIds);
      labels.push(...seq.labels);
      for (let p = 0; p < length; p++) positionIds.push(p);
      for (let p = 0; p < length; p++) segmentIds.push(neatPacking ? i + 1 : 1);
    });
    const pad = cutoffLen - inputIds.length;
    inputIds.push(...repeat(ctx.encoder.padId, pad));
    labels.push(...repeat(IGNORE_INDEX, pad));
    positionIds.push(...repeat(0, pad));
    segmentIds.push(...repeat(neatPacking ? 0 : 1, pad));
    samples.push(neatPacking ? { inputIds, labels, positionIds, segmentIds } : { inputIds, labels, positionIds });
  }
  return { samples, bad };
}
