// `defineSlotTemplate`: a registry entry (the core's ChatTemplate contract, with name, doc and
// options) made from a LLaMA-Factory style slot declaration; every slot template plugin uses it.

import { err, ok } from "neverthrow";
import type { ChatTemplate, OptionSchema } from "../../../core/index.ts";
import { createSlotEncoder } from "./slot-encoder.ts";
import type { SlotTemplateSpec } from "./slot-spec.ts";
import { TOOL_FORMATS, type ToolFormat } from "./tools.ts";

/** Options every slot template accepts (LLaMA-Factory's data arguments of the same names). */
export const slotTemplateOptions = {
  default_system: { type: "string", doc: "replaces the template's default system prompt" },
  tool_format: { type: "enum", values: [...TOOL_FORMATS], doc: "how tools and tool calls are written (default: the template's own)" },
  tool_date: { type: "string", default: "26 Jul 2024", doc: "the 'Today Date' line of the llama3 tool prompt" },
} satisfies OptionSchema;

/** Reasoning templates also take enable_thinking. */
export const reasoningTemplateOptions = {
  ...slotTemplateOptions,
  enable_thinking: { type: "boolean", default: true, doc: "train on the thought (true) or put an empty thought in the prompt (false)" },
} satisfies OptionSchema;

export interface SlotTemplateEntry extends ChatTemplate {
  readonly name: string;
  readonly doc: string;
  readonly options: OptionSchema;
  readonly spec: SlotTemplateSpec;
}

export function defineSlotTemplate(spec: SlotTemplateSpec): SlotTemplateEntry {
  return {
    name: spec.name,
    doc: spec.doc,
    options: spec.reasoning ? reasoningTemplateOptions : slotTemplateOptions,
    spec,
    stopWords: spec.stopWords ?? [],
    supportsSystem: true,
    create(tokenizer, options) {
      const r = createSlotEncoder(spec, tokenizer, {
        defaultSystem: options.default_system as string | undefined,
        toolFormat: options.tool_format as ToolFormat | undefined,
        toolDate: options.tool_date as string | undefined,
        enableThinking: options.enable_thinking as boolean | undefined,
      });
      return r.isOk() ? ok(r.value) : err(`chat template "${spec.name}": ${r.error}`);
    },
  };
}
