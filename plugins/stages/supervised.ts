// Supervised (SFT) encoding, LLaMA-Factory's SupervisedDatasetProcessor: each turn pair is cut to the
// remaining budget by the source/target rule; prompts are masked unless train_on_prompt; with
// mask_history only the last turn is learned and turns are budgeted from the last one backwards.
// With packing, the batch's samples go through core's knapsack packing (LLaMA-Factory's
// PackedSupervisedDatasetProcessor). The `sft` stage's processor.
import { err, ok, type Result } from "neverthrow";
import {
  type BadRow,
  type BatchResult,
  IGNORE_INDEX,
  inferSeqlen,
  type ProcessContext,
  packSequences,
  repeat,
  type SampleProcessor,
  type SftExample,
  skip,
  type TokenSeq,
} from "../../core/index.ts";

export function encodeSupervised(ex: SftExample, ctx: ProcessContext): Result<TokenSeq, string> {
  const { encoder, options } = ctx;
  const encoded = encoder.encodeMultiturn([...ex.prompt, ex.response], ex.system, ex.tools, { maskHistory: options.maskHistory });
  if (encoded.isErr()) return err(encoded.error);
  let pairs = encoded.value;
  const eos = encoder.eosId;
  let total = encoder.efficientEos ? 1 : 0;
  if (options.maskHistory) pairs = [...pairs].reverse();
  let inputIds: number[] = [];
  let labels: number[] = [];
  for (let turn = 0; turn < pairs.length; turn++) {
    if (total >= options.cutoffLen) break;
    const [sourceAll, targetAll] = pairs[turn]!;
    const [sourceLen, targetLen] = inferSeqlen(sourceAll.length, targetAll.length, options.cutoffLen - total);
    const source = sourceAll.slice(0, sourceLen);
    const target = targetAll.slice(0, targetLen);
    total += sourceLen + targetLen;
    // efficient_eos: the previous reply's EOS is learned at the start of the next prompt (from the second
    // turn on; the first prompt has no reply before it). (LLaMA-Factory
    // writes [eos] + [-100] * (len - 1), one label too many for an empty source; here it stays aligned.)
    const sourceLabel = options.trainOnPrompt
      ? source
      : encoder.efficientEos && turn !== 0 && sourceLen > 0
        ? [eos, ...repeat(IGNORE_INDEX, sourceLen - 1)]
        : repeat(IGNORE_INDEX, sourceLen);
    const targetLabel = options.maskHistory && turn !== 0 ? repeat(IGNORE_INDEX, targetLen) : target;
    if (options.maskHistory) {
      inputIds = [...source, ...target, ...inputIds];
      labels = [...sourceLabel, ...targetLabel, ...labels];
    } else {
      for (const id of source) inputIds.push(id);
      for (const id of target) inputIds.push(id);
      for (const id of sourceLabel) labels.push(id);
      for (const id of targetLabel) labels.push(id);
    }
  }
  if (encoder.efficientEos) {
    inputIds.push(eos);
    labels.push(eos);
  }
  return ok({ inputIds, labels });
}

/** One example to one sample, or the bad row saying why not. */
export function supervisedSample(ex: SftExample, ctx: ProcessContext): Result<TokenSeq, BadRow> {
  const seq = encodeSupervised(ex, ctx);
  if (seq.isErr()) return err(skip(ex, "template-error", seq.error));
  if (!seq.value.labels.some((l) => l !== IGNORE_INDEX)) {
    return err(skip(ex, "empty-after-template", `no token left to learn after templating and cutoff_len ${ctx.options.cutoffLen}`));
  }
  return ok(seq.value);
}

export function processSupervised(examples: readonly SftExample[], ctx: ProcessContext): BatchResult<TokenSeq> {
  const out: BatchResult<TokenSeq> = { samples: [], bad: [] };
  for (const ex of examples) {
    const r = supervisedSample(ex, ctx);
    if (r.isErr()) out.bad.push(r.error);
    else out.samples.push(r.value);
  }
  return out;
}

/** SFT samples packed into cutoff_len sequences; a sample over the budget (only efficient_eos makes one) is dropped, as LLaMA-Factory does. */
export function processPackedSupervised(examples: readonly SftExample[], ctx: ProcessContext): BatchResult<TokenSeq> {
  const { cutoffLen, neatPacking } = ctx.options;
  const bad: BadRow[] = [];
  const kept: TokenSeq[] = [];
  for (const ex of examples) {
    const r = supervisedSample(ex, ctx);
    if (r.isErr()) bad.push(r.error);
    else if (r.value.inputIds.length > cutoffLen) bad.push(skip(ex, "too-long", `${r.value.inputIds.length} tokens do not fit cutoff_len ${cutoffLen}`));
    else kept.push(r.value);
  }
  return { samples: packSequences(kept, { cutoffLen, neatPacking, padId: ctx.encoder.padId }), bad };
}

export const supervisedProcessor: SampleProcessor<"sft"> = {
  kind: "sft",
  accepts: ["sft"],
  needs: "sft (prompt and response)",
  packing: { byDefault: false, neat: true },
  build: (examples, ctx) => (ctx.options.packing ? processPackedSupervised : processSupervised)(examples as SftExample[], ctx),
};
