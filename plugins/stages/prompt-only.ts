// Prompt-only samples for RL stages (grpo, later ppo), LLaMA-Factory's UnsupervisedDatasetProcessor:
// the prompt is templated as for sft (the generation prompt after the last user turn) and cut to the
// cutoff by the source/target rule; the row's response (e.g. an `answer` column mapped as the response)
// is kept, tokenised without template markup, as the reference that reward functions such as exact_match compare against.
import { err, ok, type Result } from "neverthrow";
import {
  type BadRow,
  type BatchResult,
  IGNORE_INDEX,
  inferSeqlen,
  type ProcessContext,
  type PromptSample,
  repeat,
  type SampleProcessor,
  type SftExample,
  skip,
} from "../../core/index.ts";

export function promptSample(ex: SftExample, ctx: ProcessContext): Result<PromptSample, BadRow> {
  const { encoder, options } = ctx;
  const enc = encoder.encodeOneturn([...ex.prompt, ex.response], ex.system, ex.tools);
  if (enc.isErr()) return err(skip(ex, "template-error", enc.error));
  const [promptAll] = enc.value;
  // The reference is not fed to the model: only the prompt counts against cutoff_len.
  const [promptLen] = inferSeqlen(promptAll.length, 0, options.cutoffLen);
  const prompt = promptAll.slice(promptAll.length - promptLen);
  if (prompt.length === 0) return err(skip(ex, "empty-after-template", `no prompt token left after cutoff_len ${options.cutoffLen}`));
  // The reference is the response text itself, without the template's markup around a reply.
  const reference = ctx.tokenizer.encode(ex.response.content, { addSpecialTokens: false });
  return ok({ prompt: { inputIds: prompt, labels: repeat(IGNORE_INDEX, prompt.length) }, reference: { inputIds: reference, labels: reference } });
}

export function processPromptOnly(examples: readonly SftExample[], ctx: ProcessContext): BatchResult<PromptSample> {
  const out: BatchResult<PromptSample> = { samples: [], bad: [] };
  for (const ex of examples) {
    const r = promptSample(ex, ctx);
    if (r.isErr()) out.bad.push(r.error);
    else out.samples.push(r.value);
  }
  return out;
}

export const promptOnlyProcessor: SampleProcessor<"prompt"> = {
  kind: "prompt",
  accepts: ["sft"],
  needs: "sft (a prompt; its response column is the reference the rewards see)",
  build: (examples, ctx) => processPromptOnly(examples as SftExample[], ctx),
};
