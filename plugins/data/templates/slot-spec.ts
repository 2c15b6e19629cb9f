// A chat template as LLaMA-Factory declares one with register_template: slots per role, with
// {{content}} where the message goes and bos/eos/token markers for special ids. Slot template plugins
// declare one such object each; `slot-template.ts` makes it a registry entry, `slot-encoder.ts` binds
// it to a tokenizer.
import type { ToolFormat } from "./tools.ts";

/** Text (with {{content}} / {{idx}} placeholders), a token by name, or the tokenizer's BOS/EOS. */
export type Slot = string | { readonly token: string } | { readonly special: "bos" | "eos" };

export const BOS: Slot = { special: "bos" };
export const EOS: Slot = { special: "eos" };

export interface SlotTemplateSpec {
  readonly name: string;
  readonly doc: string;
  readonly user: readonly Slot[];
  /** Default: ["{{content}}", EOS], or ["{{content}}"] with efficientEos. */
  readonly assistant?: readonly Slot[];
  /** Default: ["{{content}}"]. */
  readonly system?: readonly Slot[];
  /** Slots around a function (tool) call; default as the assistant's default. */
  readonly function?: readonly Slot[];
  /** Default: the user slots. */
  readonly observation?: readonly Slot[];
  readonly prefix?: readonly Slot[];
  /** How tools are described and calls written; default "default". */
  readonly toolFormat?: ToolFormat;
  readonly defaultSystem?: string;
  readonly stopWords?: readonly string[];
  /** Reasoning templates: the thought delimiters (default "<think>\n", "\n</think>\n\n"). */
  readonly thoughtWords?: readonly [string, string];
  readonly efficientEos?: boolean;
  /** The first stop word becomes the EOS. */
  readonly replaceEos?: boolean;
  /** Llama 2 style: the system text is put inside the first user turn (LLaMA-Factory's Llama2Template). */
  readonly fuseSystem?: boolean;
  /** Qwen3 style: an empty thought is added where a response has none (LLaMA-Factory's ReasoningTemplate). */
  readonly reasoning?: boolean;
  /** What ends a pre-training document, when not the EOS token's text (llama3: "<|end_of_text|>"). */
  readonly ptEos?: string;
}
