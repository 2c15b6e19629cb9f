// The chat template contract the data pipeline calls: a template plugin (merged into the registry's
// TemplateEntry) binds itself to a tokenizer and gives a ChatEncoder, which turns messages into token
// ids pair by pair, as LLaMA-Factory's Template.encode_multiturn / encode_oneturn do. The processors
// (label masking, cutoff, packing) work on these pairs and on the few facts below (EOS, efficient EOS,
// stop words) and know nothing of any particular template; the templates live in plugins/data/templates.
import type { Result } from "neverthrow";
import type { ResolvedOptions } from "../registry/options.ts";
import type { Tokenizer } from "../tokenizer/tokenizer.ts";
import type { Message } from "./types.ts";

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
  /** How this template writes tools and tool calls (a tool format name), when it has one. */
  readonly toolFormat?: string;
  /** What ends each pre-training document. */
  readonly eosText: string;
  /** Things the template could not honour with this tokenizer (a stop word that is not a token). */
  readonly warnings: readonly string[];
  /**
   * [prompt ids, response ids] per turn pair; messages alternate and are even in number. With
   * maskHistory only the last turn is learned, which reasoning templates honour as LLaMA-Factory's
   * does: history replies lose their thoughts and only the last turn gets an empty one.
   */
  encodeMultiturn(
    messages: readonly Message[],
    system: string,
    tools: string,
    opts?: { readonly maskHistory?: boolean },
  ): Result<[number[], number[]][], string>;
  /** All turns but the last as the prompt, the last as the response. */
  encodeOneturn(messages: readonly Message[], system: string, tools: string): Result<[number[], number[]], string>;
}

/** What a chat template plugin provides besides its name, doc and option schema. */
export interface ChatTemplate {
  /** Texts that end a reply at generation time. */
  readonly stopWords: readonly string[];
  /** Whether a system prompt can be given (the `hf` template decides per model; see its encoder). */
  readonly supportsSystem: boolean;
  /** Binds the template to a tokenizer; `options` are already validated against the entry's schema. */
  create(tokenizer: Tokenizer, options: ResolvedOptions): Result<ChatEncoder, string>;
}

declare module "../registry/collections.ts" {
  interface TemplateEntry extends ChatTemplate {}
}
