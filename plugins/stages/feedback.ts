// KTO examples, LLaMA-Factory's FeedbackDatasetProcessor: each example is encoded with its own
// response, and with the response of the example mirrored in its batch (row i with row n-1-i) as the
// unrelated pair for the KL estimate; each is cut by the source/target rule separately.
import { err, ok, type Result } from "neverthrow";
import {
  type BadRow,
  type BatchResult,
  IGNORE_INDEX,
  inferSeqlen,
  type KtoExample,
  type KtoSample,
  type Message,
  type ProcessContext,
  repeat,
  type SampleProcessor,
  skip,
  type TokenSeq,
} from "../../core/index.ts";

function encodePair(ex: KtoExample, response: Message, ctx: ProcessContext): Result<TokenSeq, string> {
  const { encoder, options } = ctx;
  const enc = encoder.encodeOneturn([...ex.prompt, response], ex.system, ex.tools);
  if (enc.isErr()) return err(enc.error);
  let [promptIds, responseIds] = enc.value;
  if (encoder.efficientEos) responseIds = [...responseIds, encoder.eosId];
  const [sourceLen, targetLen] = inferSeqlen(promptIds.length, responseIds.length, options.cutoffLen);
  promptIds = promptIds.slice(0, sourceLen);
  responseIds = responseIds.slice(0, targetLen);
  return ok({ inputIds: [...promptIds, ...responseIds], labels: [...repeat(IGNORE_INDEX, sourceLen), ...responseIds] });
}

export function ktoSample(ex: KtoExample, klResponse: Message, ctx: ProcessContext): Result<KtoSample, BadRow> {
  const seq = encodePair(ex, ex.response, ctx);
  if (seq.isErr()) return err(skip(ex, "template-error", seq.error));
  const kl = encodePair(ex, klResponse, ctx);
  if (kl.isErr()) return err(skip(ex, "template-error", kl.error));
  if (!seq.value.labels.some((l) => l !== IGNORE_INDEX)) {
    return err(skip(ex, "empty-after-template", `no response token left after cutoff_len ${ctx.options.cutoffLen}`));
  }
  return ok({ seq: seq.value, kl: kl.value, desirable: ex.desirable });
}

export function processFeedback(examples: readonly KtoExample[], ctx: ProcessContext): BatchResult<KtoSample> {
  const out: BatchResult<KtoSample> = { samples: [], bad: [] };
  const n = examples.length;
  for (let i = 0; i < n; i++) {
    const r = ktoSample(examples[i]!, examples[n - 1 - i]!.response, ctx);
    if (r.isErr()) out.bad.push(r.error);
    else out.samples.push(r.value);
  }
  return out;
}

/** The processor of the kto stage. */
export const feedbackProcessor: SampleProcessor<"kto"> = {
  kind: "kto",
  accepts: ["kto"],
  needs: "kto (set a kto_tag column)",
  build: (examples, ctx) => processFeedback(examples as KtoExample[], ctx),
};
