// LLaMA-Factory's Qwen 3.5 / 3.6 templates: Qwen's ChatML slots with the qwen3_5 tool format (XML
// <function=...> / <parameter=...> calls). `qwen3_5` and `qwen3_6` are reasoning templates,
// `qwen3_5_nothink` is not. (Text only: LF's image/video plugin for these is not part of lft.)
import { definePlugin } from "../../../core/index.ts";
import { qwenSlots } from "./qwen.ts";
import type { SlotTemplateSpec } from "./slot-spec.ts";
import { defineSlotTemplate } from "./slot-template.ts";

const qwen35Slots = { ...qwenSlots, toolFormat: "qwen3_5" } satisfies Omit<SlotTemplateSpec, "name" | "doc">;

export const qwen35Template = defineSlotTemplate({
  name: "qwen3_5",
  doc: "Qwen 3.5: ChatML with thinking and XML tool calls",
  ...qwen35Slots,
  reasoning: true,
});

export const qwen35NothinkTemplate = defineSlotTemplate({ name: "qwen3_5_nothink", doc: "Qwen 3.5 without thinking markup", ...qwen35Slots });

export const qwen36Template = defineSlotTemplate({ name: "qwen3_6", doc: "Qwen 3.6: as qwen3_5 (thinking, XML tool calls)", ...qwen35Slots, reasoning: true });

export default definePlugin({
  name: "lft-template-qwen35",
  setup(api) {
    api.register.templates(qwen35Template);
    api.register.templates(qwen35NothinkTemplate);
    api.register.templates(qwen36Template);
  },
});
