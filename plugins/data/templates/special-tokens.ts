// LLaMA-Factory's fix_special_tokens: replace_eos (the first stop word becomes the EOS), an EOS
// fallback, pad = EOS when unset, the stop ids, and the stop words (and a fallback EOS) registered as
// special tokens of a tokenizer copy, as its add_special_tokens calls do: atomic, flags reset (phi-3's
// `<|end|>` stops swallowing the newline after it; a Gemma tokenizer without `<end_of_turn>` among its
// added tokens keeps it one id). Shared by the slot templates and the `hf` template.

import { err, ok, type Result } from "neverthrow";
import type { Tokenizer } from "../../../core/index.ts";
import type { SlotTemplateSpec } from "./slot-spec.ts";

export interface SpecialTokenIds {
  /** The tokenizer to encode with: the given one with the stop words made special, where it can. */
  readonly tokenizer: Tokenizer;
  readonly eosId: number;
  readonly padId: number;
  readonly stopIds: number[];
  readonly warnings: string[];
}

/** LLaMA-Factory's fix_special_tokens, as ids: replace_eos, an EOS fallback, pad = EOS when unset. */
export function fixSpecialTokens(spec: Pick<SlotTemplateSpec, "name" | "stopWords" | "replaceEos">, tokenizer: Tokenizer): Result<SpecialTokenIds, string> {
  const stopWords = spec.stopWords ?? [];
  const warnings: string[] = [];
  let eosId = tokenizer.eosId;
  const registered: string[] = [...stopWords];
  if (spec.replaceEos) {
    const word = stopWords[0];
    if (word === undefined) return err(`template "${spec.name}" replaces the EOS but has no stop words`);
    const id = tokenizer.tokenToId(word);
    if (id === undefined) {
      return err(
        `template "${spec.name}" ends turns with "${word}", which is not a token of this tokenizer (LLaMA-Factory would add it and resize the embeddings; lft does not)`,
      );
    }
    eosId = id;
  }
  if (eosId === null) {
    const id = tokenizer.tokenToId("<|endoftext|>");
    if (id === undefined) return err(`the tokenizer has no EOS token and no "<|endoftext|>" to use as one`);
    eosId = id;
    registered.push("<|endoftext|>");
  }
  const stopIds = [eosId];
  for (const word of stopWords) {
    const id = tokenizer.tokenToId(word);
    if (id === undefined) warnings.push(`stop word "${word}" is not a token of this tokenizer; generation will not stop on it`);
    else if (!stopIds.includes(id)) stopIds.push(id);
  }
  const encodeWith = registered.length > 0 && tokenizer.withSpecialTokens ? tokenizer.withSpecialTokens(registered) : tokenizer;
  return ok({ tokenizer: encodeWith, eosId, padId: tokenizer.padId ?? eosId, stopIds, warnings });
}
