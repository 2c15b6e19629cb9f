// LLaMA-Factory's `phi` template (Phi-3): <|user|> ... <|end|> <|assistant|>, <|end|> as EOS.
import { definePlugin } from "../../../core/index.ts";
import { defineSlotTemplate } from "./slot-template.ts";

export const phiTemplate = defineSlotTemplate({
  name: "phi",
  doc: "Phi-3: <|user|>\\n...<|end|>\\n<|assistant|>",
  user: ["<|user|>\n{{content}}<|end|>\n<|assistant|>\n"],
  assistant: ["{{content}}<|end|>\n"],
  system: ["<|system|>\n{{content}}<|end|>\n"],
  stopWords: ["<|end|>"],
  replaceEos: true,
});

export default definePlugin({ name: "lft-template-phi", setup: (api) => api.register.templates(phiTemplate) });
