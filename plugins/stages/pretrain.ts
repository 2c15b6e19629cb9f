// Pre-training text, LLaMA-Factory's PretrainDatasetProcessor: each document ends with the template's
// EOS text. Without packing a document is one sample cut at cutoff_len; with packing the batch's
// documents are concatenated and cut into cutoff_len blocks, the remainder dropped. A BOS starts each
// sample when the tokenizer adds one by itself (add_bos_token). The `pt` stage's processor.
import type { BatchResult, Example, ProcessContext, SampleProcessor, TokenSeq } from "../../core/index.ts";

/** The text a pre-training sample is made of: the document, or a chat's first prompt turn (as LLaMA-Factory). */
export function pretrainText(ex: Example): string {
  return ex.kind === "text" ? ex.text : (ex.prompt[0]?.content ?? "");
}

export function processPretrain(examples: readonly Example[], ctx: ProcessContext): BatchResult<TokenSeq> {
  const { tokenizer, encoder, options } = ctx;
  const bosId = ctx.addsBos ? tokenizer.bosId : null;
  const docs = examples.map((ex) => tokenizer.encode(pretrainText(ex) + encoder.eosText, { addSpecialTokens: false }));
  if (!options.packing) {
    const samples = docs.map((ids) => {
      const inputIds = (bosId !== null ? [bosId, ...ids] : ids).slice(0, options.cutoffLen);
      return { inputIds, labels: inputIds };
    });
    return { samples, bad: [] };
  }
  const all = docs.flat();
  const block = options.cutoffLen;
  const samples: TokenSeq[] = [];
  for (let i = 0; i + block <= all.length; i += block) {
    const inputIds = all.slice(i, i + block);
    if (bosId !== null) inputIds[0] = bosId;
    samples.push({ inputIds, labels: inputIds });
  }
  return { samples, bad: [] };
}

/** Takes every example kind (text, or a chat's first prompt turn); packs into cutoff_len blocks by default. */
export const pretrainProcessor: SampleProcessor<"pt"> = {
  kind: "pt",
  accepts: ["text", "sft", "pairwise", "kto"],
  needs: "text",
  packing: { byDefault: true, neat: false },
  build: processPretrain,
};
