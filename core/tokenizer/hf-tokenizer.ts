// A Hugging Face tokenizer (tokenizer.json + tokenizer_config.json) behind lft's Tokenizer contract.
// Built by loadTokenizer (load.ts); encoding is Encoder's, decoding follows HF's Rust `Tokenizer::decode`.
import type { AddedVocabulary } from "./added-tokens.ts";
import type { BpeModel } from "./bpe.ts";
import type { DecodeChain } from "./decoder.ts";
import type { Encoder } from "./encoder.ts";
import type { DecodeOptions, EncodeOptions, Tokenizer } from "./tokenizer.ts";

export interface HfTokenizerParts {
  dir: string;
  encoder: Encoder;
  model: BpeModel;
  added: AddedVocabulary;
  decoder: DecodeChain;
  bosId: number | null;
  eosId: number | null;
  padId: number | null;
  chatTemplate: string | null;
  chatTemplates: Record<string, string>;
  /** tokenizer_config.json's clean_up_tokenization_spaces: decode's default. */
  cleanUpTokenizationSpaces: boolean;
}

export class HfTokenizer implements Tokenizer {
  /** The folder it was loaded from (parallel workers load their own copy from it). */
  readonly dir: string;
  /** Ids run from 0 to vocabSize - 1: the model's vocabulary and the added tokens. */
  readonly vocabSize: number;
  readonly bosId: number | null;
  readonly eosId: number | null;
  readonly padId: number | null;
  readonly specialTokens: ReadonlySet<string>;
  readonly chatTemplate: string | null;
  /** Every named chat template of tokenizer_config.json ("default" for a single string). */
  readonly chatTemplates: Readonly<Record<string, string>>;
  private readonly p: HfTokenizerParts;
  private readonly specialIds: ReadonlySet<number>;

  constructor(parts: HfTokenizerParts) {
    this.p = parts;
    this.dir = parts.dir;
    let max = parts.model.idToToken.length - 1;
    for (const t of parts.added.tokens) max = Math.max(max, t.id);
    this.vocabSize = max + 1;
    this.bosId = parts.bosId;
    this.eosId = parts.eosId;
    this.padId = parts.padId;
    const special = parts.added.tokens.filter((t) => t.special);
    this.specialTokens = new Set(special.map((t) => t.content));
    this.specialIds = new Set(special.map((t) => t.id));
    this.chatTemplate = parts.chatTemplate;
    this.chatTemplates = parts.chatTemplates;
  }

  encode(text: string, opts?: EncodeOptions): number[] {
    return this.p.encoder.encode(text, opts?.addSpecialTokens ?? true);
  }

  /** Encodes each text on this thread (see parallelEncode for several workers). */
  encodeBatch(texts: readonly string[], opts?: EncodeOptions): number[][] {
    const add = opts?.addSpecialTokens ?? true;
    return texts.map((t) => this.p.encoder.encode(t, add));
  }

  /** Words held by the encode cache; clearWordCache() empties it (memory, or a cold benchmark). */
  get cachedWords(): number {
    return this.p.encoder.cachedWords;
  }

  clearWordCache(): void {
    this.p.encoder.clearCache();
  }

  /** Throws a RangeError for an id outside [0, vocabSize): that is a caller's bug, not text to drop. */
  decode(ids: readonly number[], opts?: DecodeOptions): string {
    const skip = opts?.skipSpecialTokens ?? false;
    const tokens: string[] = [];
    for (const id of ids) {
      if (skip && this.specialIds.has(id)) continue;
      const t = this.idToToken(id);
      if (t === undefined) throw new RangeError(`decode: token id ${id} is not in the vocabulary of ${this.dir} (size ${this.vocabSize})`);
      tokens.push(t);
    }
    if (tokens.length === 0) return "";
    const text = this.p.decoder(tokens).join("");
    return (opts?.cleanUpTokenizationSpaces ?? this.p.cleanUpTokenizationSpaces) ? cleanUpTokenization(text) : text;
  }

  /** Tokens of the vocabulary made special and atomic (Hugging Face's add_special_tokens); unknown ones are left out. */
  withSpecialTokens(tokens: readonly string[]): HfTokenizer {
    const { vocabulary } = this.p.added.withSpecial(tokens, (t) => this.p.model.vocab.get(t));
    return new HfTokenizer({ ...this.p, added: vocabulary, encoder: this.p.encoder.withAdded(vocabulary) });
  }

  tokenToId(token: string): number | undefined {
    return this.p.added.byContent.get(token)?.id ?? this.p.model.vocab.get(token);
  }

  idToToken(id: number): string | undefined {
    return this.p.added.byId.get(id)?.content ?? this.p.model.idToToken[id];
  }
}

/** Transformers' PreTrainedTokenizerBase.clean_up_tokenization, replacement for replacement. */
export function cleanUpTokenization(text: string): string {
  return text
    .replaceAll(" .", ".")
    .replaceAll(" ?", "?")
    .replaceAll(" !", "!")
    .replaceAll(" ,", ",")
    .replaceAll(" ' ", "'")
    .replaceAll(" n't", "n't")
    .replaceAll(" 'm", "'m")
    .replaceAll(" 's", "'s")
    .replaceAll(" 've", "'ve")
    .replaceAll(" 're", "'re");
}
