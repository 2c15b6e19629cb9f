// LLaMA-Factory's Phi-3 family templates other than `phi`: `phi_small` (Phi-3-small), `phi4` (Phi-4,
// <|im_sep|> turns), `phi4_mini` (Phi-4-mini) and `starchat` (the <|user|>/<|end|> layout with the tokenizer's own EOS).
import { definePlugin } from "../../../core/index.ts";
import { defineSlotTemplate } from "./slot-template.ts";

export const phiSmallTemplate = defineSlotTemplate({
  name: "phi_small",
  doc: "Phi-3-small: phi's turns (LF's {<|endoftext|>} prefix is a set, which emits nothing)",
  user: ["<|user|>\n{{content}}<|end|>\n<|assistant|>\n"],
  assistant: ["{{content}}<|end|>\n"],
  system: ["<|system|>\n{{content}}<|end|>\n"],
  stopWords: ["<|end|>"],
  replaceEos: true,
});

export const phi4Template = defineSlotTemplate({
  name: "phi4",
  doc: "Phi-4: <|im_start|>role<|im_sep|> ... <|im_end|>",
  user: ["<|im_start|>user<|im_sep|>{{content}}<|im_end|><|im_start|>assistant<|im_sep|>"],
  assistant: ["{{content}}<|im_end|>"],
  system: ["<|im_start|>system<|im_sep|>{{content}}<|im_end|>"],
  stopWords: ["<|im_end|>"],
  replaceEos: true,
});

export const phi4MiniTemplate = defineSlotTemplate({
  name: "phi4_mini",
  doc: "Phi-4-mini: <|user|> ... <|end|><|assistant|>, no newlines between turns",
  user: ["<|user|>{{content}}<|end|><|assistant|>"],
  assistant: ["{{content}}<|end|>"],
  system: ["<|system|>{{content}}<|end|>"],
  stopWords: ["<|end|>"],
  replaceEos: true,
});

export const starchatTemplate = defineSlotTemplate({
  name: "starchat",
  doc: "StarChat: <|user|> ... <|end|> <|assistant|>, the tokenizer's own EOS",
  user: ["<|user|>\n{{content}}<|end|>\n<|assistant|>"],
  assistant: ["{{content}}<|end|>\n"],
  system: ["<|system|>\n{{content}}<|end|>\n"],
  stopWords: ["<|end|>"],
});

export default definePlugin({
  name: "lft-template-phi-variants",
  setup(api) {
    api.register.templates(phiSmallTemplate);
    api.register.templates(phi4Template);
    api.register.templates(phi4MiniTemplate);
    api.register.templates(starchatTemplate);
  },
});
