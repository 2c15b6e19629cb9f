// The tokenizer contract every part of lft codes against (model loader, data worker, chat, export).
// Implementations live beside this file; `loadTokenizer(dir)` reads a Hugging Face model folder
// (tokenizer.json + tokenizer_config.json) and returns one.

export interface EncodeOptions {
  /** Add the tokenizer's own BOS/EOS as its post-processor says (HF add_special_tokens). Default true. */
  addSpecialTokens?: boolean;
}

export interface DecodeOptions {
  /** Drop special/added-special tokens from the text. Default false. */
  skipSpecialTokens?: boolean;
  /**
   * Transformers' clean_up_tokenization: drop the space before . ? ! , and before 's 'm 've 're n't.
   * Default: the tokenizer's clean_up_tokenization_spaces (tokenizer_config.json), as transformers does.
   */
  cleanUpTokenizationSpaces?: boolean;
}

export interface ChatMessage {
  role: "system" | "user" | "assistant" | "tool" | (string & {});
  content: string;
  /** Tool calls an assistant message makes (OpenAI shape), where the template supports them. */
  tool_calls?: unknown[];
  name?: string;
}

export interface Tokenizer {
  readonly vocabSize: number;
  /** null when the tokenizer defines none. */
  readonly bosId: number | null;
  readonly eosId: number | null;
  readonly padId: number | null;
  /** Text of every special token (added tokens with special: true), for masking and decoding. */
  readonly specialTokens: ReadonlySet<string>;
  encode(text: string, opts?: EncodeOptions): number[];
  decode(ids: readonly number[], opts?: DecodeOptions): string;
  tokenToId(token: string): number | undefined;
  idToToken(id: number): string | undefined;
  /** The model's chat template (tokenizer_config.json `chat_template`), or null. */
  readonly chatTemplate: string | null;
  /**
   * A copy in which these tokens (already in the vocabulary) are special and atomic, with no
   * lstrip / rstrip, as Hugging Face's add_special_tokens leaves them; tokens not in the vocabulary
   * are left out (adding one would need a new embedding row). Chat templates register their stop
   * words this way, as LLaMA-Factory does. Absent: the tokenizer cannot do this.
   */
  withSpecialTokens?(tokens: readonly string[]): Tokenizer;
}
