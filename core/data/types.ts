// The data worker's common types: the typed example every dataset format converts its rows into, and
// the token sequences the processors make from examples. Formats and templates meet only here.

/** Roles inside a conversation, as LLaMA-Factory names them (`function` = a tool call the assistant makes). */
export type Role = "user" | "assistant" | "observation" | "function";

export interface Message {
  readonly role: Role;
  readonly content: string;
}

/** Where an example came from, for messages about it ("alpaca.json row 17", "c4.jsonl:203"). */
export interface RowSource {
  readonly dataset: string;
  readonly file: string;
  /** 1-based index of the record within its file. */
  readonly row: number;
  /** 1-based line, for line-oriented files (JSONL, CSV, text). */
  readonly line?: number;
}

export function formatSource(s: RowSource): string {
  return s.line !== undefined ? `${s.file}:${s.line}` : `${s.file} row ${s.row}`;
}

interface ChatBase {
  /** Prompt turns, odd in number: user/observation and assistant/function alternate, starting with user. */
  readonly prompt: readonly Message[];
  /** "" when the row has none (the template's default system applies). */
  readonly system: string;
  /** Tool definitions as JSON text (a list), "" when none. */
  readonly tools: string;
  readonly source: RowSource;
}

/** One supervised example: a prompt and the response to learn. */
export interface SftExample extends ChatBase {
  readonly kind: "sft";
  readonly response: Message;
}

/** A preference pair for reward modelling and DPO-style losses. */
export interface PairwiseExample extends ChatBase {
  readonly kind: "pairwise";
  readonly chosen: Message;
  readonly rejected: Message;
}

/** A KTO example: one response, tagged desirable or not. */
export interface KtoExample extends ChatBase {
  readonly kind: "kto";
  readonly response: Message;
  readonly desirable: boolean;
}

/** Plain text for pre-training. */
export interface TextExample {
  readonly kind: "text";
  readonly text: string;
  readonly source: RowSource;
}

export type Example = SftExample | PairwiseExample | KtoExample | TextExample;
export type ExampleKind = Example["kind"];

/** The shape of samples a stage's processor builds (StageEntry.processor.kind): selects collation and cache encoding. */
export type DataKind = "pt" | "sft" | "pairwise" | "kto" | "prompt";

/** Labels equal to this are ignored by the loss (cross-entropy ignoreIndex). */
export const IGNORE_INDEX = -100;

/** One token sequence with its labels. Packed sequences also carry position and segment ids. */
export interface TokenSeq {
  readonly inputIds: number[];
  readonly labels: number[];
  /** Positions restart at 0 for each packed sample (neat packing); absent means 0..n-1. */
  readonly positionIds?: number[];
  /** 1.. per packed sample, 0 for padding; absent means one sample. The attention kernel honours these. */
  readonly segmentIds?: number[];
}

export interface PairwiseSample {
  readonly chosen: TokenSeq;
  readonly rejected: TokenSeq;
}

export interface KtoSample {
  readonly seq: TokenSeq;
  /** An unrelated prompt/response pair for the KL estimate (LLaMA-Factory pairs row i with row n-1-i of its batch). */
  readonly kl: TokenSeq;
  readonly desirable: boolean;
}

/** A prompt to sample completions for (RL stages), with the row's reference response for reward functions. */
export interface PromptSample {
  /** The templated prompt; its labels are all IGNORE_INDEX (nothing is learned from it directly). */
  readonly prompt: TokenSeq;
  /** The row's response column encoded (inputIds = labels); empty when the row has none. */
  readonly reference: TokenSeq;
}

/** The tokenised sample type for each data kind. */
export interface SampleOf {
  pt: TokenSeq;
  sft: TokenSeq;
  pairwise: PairwiseSample;
  kto: KtoSample;
  prompt: PromptSample;
}
export type Sample = SampleOf[DataKind];
