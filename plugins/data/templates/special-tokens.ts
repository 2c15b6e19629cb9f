// LLaMA-Factory's fix_special_tokens, applied to ids rather than to the tokenizer: replace_eos (the
// first stop word becomes the EOS), an EOS fallback, pad = EOS when unset, and the stop ids. Shared by
// the slot templates and the `hf` template.

import { err, ok, type Result } from "neverthrow";
import type { Tokenizer } from "../../../core/index.ts";
import type { SlotTemplateSpec } from "./slot-spec.ts";

export interface SpecialTokenIds {
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
  }
  const stopIds = [eosId];
  for (const word of stopWords) {
    const id = tokenizer.tokenToId(word);
    if (id === undefined) warnings.push(`stop word "${word}" is not a token of this tokenizer; generation will not stop on it`);
    else if (!stopIds.includes(id)) stopIds.push(id);
  }
  return ok({ eosId, padId: tokenizer.padId ?? eosId, stopIds, warnings });
}
