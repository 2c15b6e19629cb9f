// A chat template bound to one tokenizer: turns messages into token ids pair by pair, as
// LLaMA-Factory's Template.encode_multiturn / encode_oneturn do. The processors (label masking,
// cutoff, packing) work on these pairs and know nothing of any particular template.
import type { Result } from "neverthrow";
import type { Message } from "../types.ts";

export interface ChatEncoder {
  readonly name: string;
  /** Texts that end a reply at generation time (besides EOS). */
  readonly stopWords: readonly string[];
  readonly supportsSystem: boolean;
  /** LLaMA-Factory's efficient_eos: the EOS is not in the assistant slot but appended once at the end. */
  readonly efficientEos: boolean;
  /** The EOS id after the template's replace_eos. */
  readonly eosId: number;
  readonly padId: number;
  /** EOS plus every stop word that is a token of this tokenizer. */
  readonly stopIds: readonly number[];
  /** What ends each pre-training document. */
  readonly eosText: string;
  /** Things the template could not honour with this tokenizer (a stop word that is not a token). */
  readonly warnings: readonly string[];
  /** [prompt ids, response ids] per turn pair; messages alternate and are even in number. */
  encodeMultiturn(messages: readonly Message[], system: string, tools: string): Result<[number[], number[]][], string>;
  /** All turns but the last as the prompt, the last as the response. */
  encodeOneturn(messages: readonly Message[], system: string, tools: string): Result<[number[], number[]], string>;
}
