// LLaMA-Factory's `gemma` template: <start_of_turn>user / model turns; Gemma has no system role, so
// the system text is folded into the first user turn.
import { definePlugin } from "../../../core/index.ts";
import { BOS } from "./slot-spec.ts";
import { defineSlotTemplate } from "./slot-template.ts";

export const gemmaTemplate = defineSlotTemplate({
  name: "gemma",
  doc: "Gemma: <start_of_turn>user ... <end_of_turn> <start_of_turn>model",
  user: ["<start_of_turn>user\n{{content}}<end_of_turn>\n<start_of_turn>model\n"],
  assistant: ["{{content}}<end_of_turn>\n"],
  system: ["{{content}}\n\n"],
  observation: ["<start_of_turn>tool\n{{content}}<end_of_turn>\n<start_of_turn>model\n"],
  prefix: [BOS],
  stopWords: ["<end_of_turn>"],
  replaceEos: true,
  fuseSystem: true,
});

export default definePlugin({ name: "lft-template-gemma", setup: (api) => api.register.templates(gemmaTemplate) });
