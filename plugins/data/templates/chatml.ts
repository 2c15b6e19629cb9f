// LLaMA-Factory's `chatml` template: <|im_start|>role ... <|im_end|>, with <|im_end|> as EOS.
import { definePlugin } from "../../../core/index.ts";
import { defineSlotTemplate } from "./slot-template.ts";

export const chatmlTemplate = defineSlotTemplate({
  name: "chatml",
  doc: "ChatML: <|im_start|>role\\n...<|im_end|>",
  user: ["<|im_start|>user\n{{content}}<|im_end|>\n<|im_start|>assistant\n"],
  assistant: ["{{content}}<|im_end|>\n"],
  system: ["<|im_start|>system\n{{content}}<|im_end|>\n"],
  observation: ["<|im_start|>tool\n{{content}}<|im_end|>\n<|im_start|>assistant\n"],
  stopWords: ["<|im_end|>", "<|im_start|>"],
  replaceEos: true,
});

export default definePlugin({ name: "lft-template-chatml", setup: (api) => api.register.templates(chatmlTemplate) });
