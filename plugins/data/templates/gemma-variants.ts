// LLaMA-Factory's `gemma2` and `gemma3` (text) templates: Gemma's turns, the system text folded into
// the first user turn. gemma2 keeps the tokenizer's <eos> and writes it once at the end
// (efficient_eos); gemma3 ends turns with <end_of_turn> as EOS, as `gemma` does.
import { definePlugin } from "../../../core/index.ts";
import type { SlotTemplateSpec } from "./slot-spec.ts";
import { BOS } from "./slot-spec.ts";
import { defineSlotTemplate } from "./slot-template.ts";

const gemmaSlots = {
  user: ["<start_of_turn>user\n{{content}}<end_of_turn>\n<start_of_turn>model\n"],
  assistant: ["{{content}}<end_of_turn>\n"],
  system: ["{{content}}\n\n"],
  observation: ["<start_of_turn>tool\n{{content}}<end_of_turn>\n<start_of_turn>model\n"],
  prefix: [BOS],
  fuseSystem: true,
} satisfies Omit<SlotTemplateSpec, "name" | "doc">;

export const gemma2Template = defineSlotTemplate({
  name: "gemma2",
  doc: "Gemma 2: <start_of_turn>user ... <end_of_turn>, <eos> once at the end",
  ...gemmaSlots,
  stopWords: ["<eos>", "<end_of_turn>"],
  efficientEos: true,
});

export const gemma3Template = defineSlotTemplate({
  name: "gemma3",
  doc: "Gemma 3 (text): <start_of_turn>user ... <end_of_turn> as EOS",
  ...gemmaSlots,
  stopWords: ["<end_of_turn>"],
  replaceEos: true,
});

export default definePlugin({
  name: "lft-template-gemma-variants",
  setup(api) {
    api.register.templates(gemma2Template);
    api.register.templates(gemma3Template);
  },
});
