// What every processor gets: the bound template, the tokenizer, the options; and what it returns:
// samples plus the rows it had to skip, each with a reason.
import type { Tokenizer } from "../../tokenizer/tokenizer.ts";
import type { ChatEncoder } from "../chat-encoder.ts";
import type { BadRow, SkipReason } from "../problems.ts";
import type { Example } from "../types.ts";
import type { ProcessOptions } from "./options.ts";

export interface ProcessContext {
  readonly encoder: ChatEncoder;
  readonly tokenizer: Tokenizer;
  readonly options: ProcessOptions;
}

export interface BatchResult<S> {
  readonly samples: S[];
  readonly bad: BadRow[];
}

export const skip = (example: Example, reason: SkipReason, detail: string): BadRow => ({ reason, detail, source: example.source });

export function repeat(value: number, n: number): number[] {
  return n > 0 ? new Array<number>(n).fill(value) : [];
}
