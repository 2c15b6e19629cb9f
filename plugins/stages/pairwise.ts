// Preference pairs, LLaMA-Factory's PairwiseDatasetProcessor: the prompt and both replies encoded
// one-turn; one cutoff split for both, budgeted on the longer reply; prompts masked.
import { err, ok, type Result } from "neverthrow";
import {
  type BadRow,
  type BatchResult,
  IGNORE_INDEX,
  inferSeqlen,
  type PairwiseExample,
  type PairwiseSample,
  type ProcessContext,
  repeat,
  type SampleProcessor,
  skip,
} from "../../core/index.ts";

export function pairwiseSample(ex: PairwiseExample, ctx: ProcessContext): Result<PairwiseSample, BadRow> {
  const { encoder, options } = ctx;
  const chosen = encoder.encodeOneturn([...ex.prompt, ex.chosen], ex.system, ex.tools);
  if (chosen.isErr()) return err(skip(ex, "template-error", chosen.error));
  const rejected = encoder.encodeOneturn([...ex.prompt, ex.rejected], ex.system, ex.tools);
  if (rejected.isErr()) return err(skip(ex, "template-error", rejected.error));
  let [promptIds, chosenIds] = chosen.value;
  let rejectedIds = rejected.value[1];
  if (encoder.efficientEos) {
    chosenIds = [...chosenIds, encoder.eosId];
    rejectedIds = [...rejectedIds, encoder.eosId];
  }
  const [sourceLen, targetLen] = inferSeqlen(promptIds.length, Math.max(chosenIds.length, rejectedIds.length), options.cutoffLen);
  promptIds = promptIds.slice(0, sourceLen);
  chosenIds = chosenIds.slice(0, targetLen);
  rejectedIds = rejectedIds.slice(0, targetLen);
  if (chosenIds.length === 0 || rejectedIds.length === 0) {
    return err(skip(ex, "empty-after-template", `a reply has no tokens left after cutoff_len ${options.cutoffLen}`));
  }
  const masked = repeat(IGNORE_INDEX, sourceLen);
  return ok({
    chosen: { inputIds: [...promptIds, ...chosenIds], labels: [...masked, ...chosenIds] },
    rejected: { inputIds: [...promptIds, ...rejectedIds], labels: [...masked, ...rejectedIds] },
  });
}

export function processPairwise(examples: readonly PairwiseExample[], ctx: ProcessContext): BatchResult<PairwiseSample> {
  const out: BatchResult<PairwiseSample> = { samples: [], bad: [] };
  for (const ex of examples) {
    const r = pairwiseSample(ex, ctx);
    if (r.isErr()) out.bad.push(r.error);
    else out.samples.push(r.value);
  }
  return out;
}

/** The processor of the pairwise stages (dpo; rm). */
export const pairwiseProcessor: SampleProcessor<"pairwise"> = {
  kind: "pairwise",
  accepts: ["pairwise"],
  needs: 'pairwise (set "ranking": true)',
  build: (examples, ctx) => processPairwise(examples as PairwiseExample[], ctx),
};
