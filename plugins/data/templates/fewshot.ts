// LLaMA-Factory's `fewshot` template: no markup, each answer followed by a blank line, one EOS at
// the very end (efficient_eos); for base models trained on few-shot style text.
import { definePlugin } from "../../../core/index.ts";
import { defineSlotTemplate } from "./slot-template.ts";

export const fewshotTemplate = defineSlotTemplate({
  name: "fewshot",
  doc: "no markup, answers followed by a blank line, one EOS at the end (LLaMA-Factory's fewshot)",
  user: ["{{content}}"],
  assistant: ["{{content}}\n\n"],
  efficientEos: true,
});

export default definePlugin({ name: "lft-template-fewshot", setup: (api) => api.register.templates(fewshotTemplate) });
