// The sample-processor contract: what a stage's processor gets (the bound template, the tokenizer,
// the options) and returns (samples plus the rows it had to skip, each with a reason). Stages own
// their processors (StageEntry.processor); the pipelines only call them batch by batch.
import type { Tokenizer } from "../../tokenizer/tokenizer.ts";
import type { ChatEncoder } from "../chat-encoder.ts";
import type { BadRow, SkipReason } from "../problems.ts";
import type { DataKind, Example, ExampleKind, SampleOf } from "../types.ts";
import type { ProcessOptions } from "./options.ts";

export interface ProcessContext {
  readonly encoder: ChatEncoder;
  readonly tokenizer: Tokenizer;
  readonly options: ProcessOptions;
  /** Whether the tokenizer puts a BOS in front by itself (HF add_bos_token). */
  readonly addsBos: boolean;
}

export interface BatchResult<S> {
  readonly samples: S[];
  readonly bad: BadRow[];
}

/** One stage's way from aligned examples to tokenised samples (LLaMA-Factory's DatasetProcessor). */
export interface SampleProcessor<K extends DataKind = DataKind> {
  /** The sample shape it builds: selects the collator and the cache encoding. */
  readonly kind: K;
  /** The example kinds it takes; rows of other kinds are skipped as wrong-type. */
  readonly accepts: readonly ExampleKind[];
  /** What a dataset must give it, for the error when a format cannot (e.g. "sft (prompt and response)"). */
  readonly needs: string;
  /** How it honours `packing`; absent: it never packs. `neat`: it can pack without cross-sample attention. */
  readonly packing?: { readonly byDefault: boolean; readonly neat: boolean };
  /** One batch of examples (each of a kind it accepts) to samples. */
  build(examples: readonly Example[], ctx: ProcessContext): BatchResult<SampleOf[K]>;
}

export const skip = (example: Example, reason: SkipReason, detail: string): BadRow => ({ reason, detail, source: example.source });

export function repeat(value: number, n: number): number[] {
  return n > 0 ? new Array<number>(n).fill(value) : [];
}

/** Whether the tokenizer puts a BOS in front by itself (HF add_bos_token). */
export function addsBos(tokenizer: Tokenizer): boolean {
  return tokenizer.bosId !== null && tokenizer.encode("a")[0] === tokenizer.bosId;
}
