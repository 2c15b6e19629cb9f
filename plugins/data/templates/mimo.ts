// LLaMA-Factory's MiMo templates (Xiaomi, Qwen 2 architecture): Qwen's slots and tool format, as
// reasoning templates. `mimo_v2` writes its thoughts as <think>...</think> without newlines.
import { definePlugin } from "../../../core/index.ts";
import type { SlotTemplateSpec } from "./slot-spec.ts";
import { defineSlotTemplate } from "./slot-template.ts";

const qwenSlots = {
  user: ["<|im_start|>user\n{{content}}<|im_end|>\n<|im_start|>assistant\n"],
  assistant: ["{{content}}<|im_end|>\n"],
  system: ["<|im_start|>system\n{{content}}<|im_end|>\n"],
  function: ["{{content}}<|im_end|>\n"],
  observation: ["<|im_start|>user\n<tool_response>\n{{content}}\n</tool_response><|im_end|>\n<|im_start|>assistant\n"],
  toolFormat: "qwen",
  stopWords: ["<|im_end|>"],
  replaceEos: true,
  reasoning: true,
} satisfies Omit<SlotTemplateSpec, "name" | "doc">;

export const mimoTemplate = defineSlotTemplate({
  name: "mimo",
  doc: "MiMo 7B: Qwen ChatML with thinking and a default system",
  ...qwenSlots,
  defaultSystem: "You are a helpful assistant.",
});

export const mimoV2Template = defineSlotTemplate({
  name: "mimo_v2",
  doc: "MiMo V2: Qwen ChatML with <think>...</think> thoughts",
  ...qwenSlots,
  defaultSystem: "You are MiMo, a helpful AI assistant engineered by Xiaomi.",
  thoughtWords: ["<think>", "</think>"],
});

export default definePlugin({
  name: "lft-template-mimo",
  setup(api) {
    api.register.templates(mimoTemplate);
    api.register.templates(mimoV2Template);
  },
});
