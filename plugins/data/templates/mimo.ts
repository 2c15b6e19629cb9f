// LLaMA-Factory's MiMo templates (Xiaomi, Qwen 2 architecture): Qwen's slots and tool format, as
// reasoning templates. `mimo_v2` writes its thoughts as <think>...</think> without newlines.
import { definePlugin } from "../../../core/index.ts";
import { qwenSlots } from "./qwen.ts";
import type { SlotTemplateSpec } from "./slot-spec.ts";
import { defineSlotTemplate } from "./slot-template.ts";

const mimoSlots = { ...qwenSlots, reasoning: true } satisfies Omit<SlotTemplateSpec, "name" | "doc">;

export const mimoTemplate = defineSlotTemplate({
  name: "mimo",
  doc: "MiMo 7B: Qwen ChatML with thinking and a default system",
  ...mimoSlots,
  defaultSystem: "You are a helpful assistant.",
});

export const mimoV2Template = defineSlotTemplate({
  name: "mimo_v2",
  doc: "MiMo V2: Qwen ChatML with <think>...</think> thoughts",
  ...mimoSlots,
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
