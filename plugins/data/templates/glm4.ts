// LLaMA-Factory's `glm4` template (GLM-4, GLM-4-0414): a [gMASK]<sop> prefix, <|role|> headers with no
// end-of-turn marker, the reply after a newline, GLM-4's tool prompt and one-call replies; EOS only at
// the very end of a conversation (efficient_eos).
import { definePlugin } from "../../../core/index.ts";
import { defineSlotTemplate } from "./slot-template.ts";

export const glm4Template = defineSlotTemplate({
  name: "glm4",
  doc: "GLM-4: [gMASK]<sop><|system|>\\n...<|user|>\\n...<|assistant|>\\n...",
  user: ["<|user|>\n{{content}}<|assistant|>"],
  assistant: ["\n{{content}}"],
  system: ["<|system|>\n{{content}}"],
  function: ["{{content}}"],
  observation: ["<|observation|>\n{{content}}<|assistant|>"],
  toolFormat: "glm4",
  prefix: ["[gMASK]<sop>"],
  stopWords: ["<|user|>", "<|observation|>"],
  efficientEos: true,
});

export default definePlugin({ name: "lft-template-glm4", setup: (api) => api.register.templates(glm4Template) });
