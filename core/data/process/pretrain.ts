// Pre-training text, LLaMA-Factory's PretrainDatasetProcessor: each document ends with the template's
// EOS text. Without packing a document is one sample cut at cutoff_len; with packing the batch's
// documents are concatenated and cut into cutoff_len blocks, the remainder dropped. A BOS starts each
// sample when the tokenizer adds one by itself (add_bos_token).
import type { Tokenizer } from "../../tokenizer/tokenizer.ts";
import type { Example, TokenSeq } from "../types.ts";
import type { BatchResult, ProcessContext } from "./context.ts";

/** The text a pre-training sample is made of: the document, or a chat's first prompt turn (as LLaMA-Factory). */
export function pretrainText(ex: Example): string {
  return ex.kind === "text" ? ex.text : (ex.prompt[0]?.content ?? "");
}

/** Whether the tokenizer puts a BOS in front by itself (HF add_bos_token). */
export function addsBos(tokenizer: Tokenizer): boolean {
  return tokenizer.bosId !== null && tokenizer.encode("a")[0] === tokenizer.bosId;
}

export function processPretrain(examples: readonly Example[], ctx: ProcessContext, bos: boolean): BatchResult<TokenSeq> {
  const { tokenizer, encoder, options } = ctx;
  const bosId = bos ? tokenizer.bosId : null;
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
