// LLaMA-Factory's Qwen templates: `qwen` (Qwen 2 / 2.5, with Qwen's default system prompt), `qwen3`
// (reasoning: an empty <think> block where a response has none) and `qwen3_nothink`.
import { definePlugin } from "../../../core/index.ts";
import type { SlotTemplateSpec } from "./slot-spec.ts";
import { defineSlotTemplate } from "./slot-template.ts";

/** Qwen's ChatML slots, tool format and stop word (mimo and the qwen3_5 family reuse them). */
export const qwenSlots = {
  user: ["<|im_start|>user\n{{content}}<|im_end|>\n<|im_start|>assistant\n"],
  assistant: ["{{content}}<|im_end|>\n"],
  system: ["<|im_start|>system\n{{content}}<|im_end|>\n"],
  function: ["{{content}}<|im_end|>\n"],
  observation: ["<|im_start|>user\n<tool_response>\n{{content}}\n</tool_response><|im_end|>\n<|im_start|>assistant\n"],
  toolFormat: "qwen",
  stopWords: ["<|im_end|>"],
  replaceEos: true,
} satisfies Omit<SlotTemplateSpec, "name" | "doc">;

export const qwenTemplate = defineSlotTemplate({
  name: "qwen",
  doc: "Qwen 2 / 2.5 ChatML with Qwen's default system prompt",
  ...qwenSlots,
  defaultSystem: "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.",
});

export const qwen3Template = defineSlotTemplate({
  name: "qwen3",
  doc: "Qwen3 ChatML with thinking: an empty <think> block where a response has none",
  ...qwenSlots,
  reasoning: true,
});

export const qwen3NothinkTemplate = defineSlotTemplate({
  name: "qwen3_nothink",
  doc: "Qwen3 ChatML without thinking markup (Qwen3 *-Instruct-2507)",
  ...qwenSlots,
});

export default definePlugin({
  name: "lft-template-qwen",
  setup(api) {
    api.register.templates(qwenTemplate);
    api.register.templates(qwen3Template);
    api.register.templates(qwen3NothinkTemplate);
  },
});
